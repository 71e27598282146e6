// The command line end to end on a real dump (the seed-apm heap workstation dump, which `demo` uses too): the
// one-shot grammar, `!` names, --json anywhere with exactly one JSON document, the interactive prompt over a pipe,
// help/usage exit codes, a closed stdout, and `demo` with and without a dotnet. Numbers are checked against SOS and
// ClrMD on the same dump, and against what the seed-apm scenario builds (25 dead threads).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { runClrmd } from '../support/clrmd';
import { assertNoStackTrace, assertOneErrorLine, fileStamp, openFilesOf, REPO_ROOT, runCli, startCli, type CliRun } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { runSos } from '../support/sos';
import { parseClrThreads, parseDumpHeapStat, type ClrThreads, type DumpHeapStat } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;
/** What the seed-apm scenario builds: 25 threads that ended while sockets kept them reachable. */
const SEED_DEAD_THREADS = 25;

interface ThreadsJson {
  summary: { threadCount: number; dead: number };
  threads: { managedId: number; osId: number; address: string; isDead: boolean }[];
  warnings: unknown;
}

interface HeapJson {
  types: { mt: string; name: string; count: number; totalSize: number }[];
  objects?: { address: string; mt: string; name: string; size: number }[];
  totalCount: number;
  totalSize: number;
  warnings: unknown;
}

/** Asserts a clean successful run and returns stdout parsed as exactly one JSON document. */
function oneJsonDocument<T>(run: CliRun, label: string): T {
  assertOk(run, label);
  let doc: unknown;
  assert.doesNotThrow(() => (doc = JSON.parse(run.stdout)), `${label}: stdout is one JSON document, got:\n${run.stdout.slice(0, 400)}`);
  assert.ok(typeof doc === 'object' && doc !== null && !Array.isArray(doc), `${label}: a JSON object`);
  assert.ok(Array.isArray((doc as { warnings?: unknown }).warnings), `${label}: has a warnings array`);
  return doc as T;
}

function assertOk(run: CliRun, label: string): void {
  assert.equal(run.timedOut, false, `${label}: finished`);
  assertNoStackTrace(run, label);
  assert.equal(run.code, 0, `${label}: exit code 0 (stderr: ${run.stderr})`);
  assert.equal(run.stderr, '', `${label}: nothing on stderr`);
}

/** Rows of the threads table whose DBG column is XXXX (a thread with no OS thread in the dump). */
function deadRows(text: string): string[] {
  return text.split('\n').filter((l) => /^\s*XXXX\s+\d+\s/.test(l));
}

describe('the dumpsleuth command line', { timeout: TIMEOUT }, () => {
  let dumpPath: string;
  let sosThreads: ClrThreads;
  let sosHeap: DumpHeapStat;

  before(async () => {
    dumpPath = (await getDump('seed-apm', { dumpType: 'heap', serverGc: false })).dumpPath;
    sosThreads = parseClrThreads(await runSos(dumpPath, 'clrthreads'));
    sosHeap = parseDumpHeapStat(await runSos(dumpPath, 'dumpheap -stat'));
    assert.equal(sosThreads.summary.dead, SEED_DEAD_THREADS, 'SOS sees the scenario\'s dead threads');
  });

  it('clrthreads prints SOS\'s table: summary, one row per managed thread, XXXX for the dead', async () => {
    const run = await runCli([dumpPath, 'clrthreads']);
    assertOk(run, 'clrthreads');
    assert.match(run.stdout, new RegExp(`^ThreadCount:\\s+${sosThreads.summary.threadCount}$`, 'm'));
    assert.match(run.stdout, new RegExp(`^DeadThread:\\s+${sosThreads.summary.dead}$`, 'm'));
    assert.match(run.stdout, /^ DBG\s+ID\s+OSID ThreadOBJ\s+State GC Mode/m);
    assert.equal(deadRows(run.stdout).length, sosThreads.threads.filter((t) => t.dbgIndex === null).length);
    assert.equal(deadRows(run.stdout).length, SEED_DEAD_THREADS);
  });

  it('!clrthreads (WinDbg spelling) is the same command', async () => {
    const [plain, bang] = await Promise.all([runCli([dumpPath, 'clrthreads']), runCli([dumpPath, '!clrthreads'])]);
    assertOk(bang, '!clrthreads');
    assert.equal(bang.stdout, plain.stdout);
  });

  it('--json before the dump and after the command print the same single JSON document', async () => {
    const first = oneJsonDocument<ThreadsJson>(await runCli(['--json', dumpPath, 'clrthreads']), '--json clrthreads');
    const last = oneJsonDocument<ThreadsJson>(await runCli([dumpPath, 'clrthreads', '--json']), 'clrthreads --json');
    assert.deepEqual(last, first);
    assert.equal(first.summary.threadCount, sosThreads.summary.threadCount);
    assert.equal(first.summary.dead, SEED_DEAD_THREADS);
    assert.equal(first.threads.filter((t) => t.isDead).length, sosThreads.threads.filter((t) => t.isDead).length);
    assert.deepEqual(first.warnings, [], 'no warnings on a healthy dump');
  });

  it('dumpheap -stat --json has types and totals (equal to SOS) and no objects', async () => {
    const doc = oneJsonDocument<HeapJson>(await runCli([dumpPath, 'dumpheap', '-stat', '--json']), 'dumpheap -stat --json');
    assert.ok(Array.isArray(doc.types) && doc.types.length > 0, 'types');
    assert.equal(doc.totalCount, sosHeap.totalCount);
    assert.equal(doc.totalSize, sosHeap.totalSize);
    assert.equal('objects' in doc, false, 'no objects list with -stat');
    for (const t of doc.types) assert.match(t.mt, /^0x[0-9a-f]+$/, 'MethodTables are hex strings');
  });

  it('dumpheap -type System.Threading.Thread --json lists the Thread objects (equal to ClrMD) with hex addresses', async () => {
    const doc = oneJsonDocument<HeapJson>(await runCli([dumpPath, 'dumpheap', '-type', 'System.Threading.Thread', '--json']), 'dumpheap -type --json');
    const clrmd = (await runClrmd(dumpPath, 'objects', 'System.Threading.Thread')) as { address: string }[];
    assert.ok(Array.isArray(doc.objects), 'objects');
    for (const o of doc.objects) {
      assert.equal(typeof o.address, 'string');
      assert.match(o.address, /^0x[0-9a-f]+$/, 'addresses are hex strings');
    }
    const norm = (a: string) => BigInt(a).toString(16);
    assert.deepEqual(doc.objects.map((o) => norm(o.address)).sort(), clrmd.map((o) => norm(o.address)).sort());
    assert.equal(doc.totalCount, doc.objects.length);
  });

  it('info --json names the runtime that made the dump', async () => {
    const captured = await getDump('seed-apm', { dumpType: 'heap', serverGc: false });
    const doc = oneJsonDocument<{ runtimeVersion: string; architecture: string; dump: string }>(await runCli(['--json', dumpPath, 'info']), 'info --json');
    assert.equal(doc.runtimeVersion, captured.runtimeVersion);
    assert.equal(doc.architecture, os.arch() === 'arm64' ? 'arm64' : 'x64');
    assert.equal(doc.dump, dumpPath);
  });

  it('the interactive prompt over a pipe: answers in order, errors keep the session, exit ends it, the exit code tells of the failure', async () => {
    const run = await runCli([dumpPath], { input: 'clrthreads\ndumpheap -stat\nbogus\nexit\nclrthreads\n' });
    assert.equal(run.timedOut, false);
    assertNoStackTrace(run, 'prompt');
    assert.equal(run.code, 2, `exit code 2, the failed command's usage error (stderr: ${run.stderr})`);
    assert.ok(run.stdout.startsWith('ThreadCount:'), `no prompt or banner in piped output, got: ${JSON.stringify(run.stdout.slice(0, 40))}`);
    const threadsAt = run.stdout.indexOf('ThreadCount:');
    const statsAt = run.stdout.indexOf('Statistics:');
    assert.ok(statsAt > threadsAt, 'dumpheap -stat answered after threads');
    const total = sosHeap.totalCount.toLocaleString('en-US');
    assert.match(run.stdout, new RegExp(`^Total ${total} objects, `, 'm'), 'the heap totals equal SOS');
    assert.equal(run.stdout.indexOf('ThreadCount:', threadsAt + 1), -1, 'nothing ran after exit');
    assert.deepEqual(run.stderr.split('\n').filter((l) => l !== ''), ['dumpsleuth: unknown command "bogus" (try "help")']);
  });

  it('the dump is opened read-only and left unchanged', async () => {
    const stamp = fileStamp(dumpPath);
    const cli = startCli([dumpPath]);
    cli.write('dumpheap -stat\n');
    await cli.waitForStdout(/^Total \S+ objects/m);
    // While the session is open: every descriptor on the dump file is O_RDONLY (O_ACCMODE 0).
    const onDump = openFilesOf(cli.pid).filter((f) => f.target === fs.realpathSync(dumpPath));
    cli.write('exit\n');
    cli.end();
    const run = await cli.done;
    assertOk(run, 'prompt');
    assert.ok(onDump.length > 0, 'the session holds the dump open');
    for (const f of onDump) assert.equal(f.flags % 4, 0, `fd ${f.fd} on the dump is read-only (flags 0${f.flags.toString(8)})`);
    assert.deepEqual(fileStamp(dumpPath), stamp, 'size and mtime unchanged');
  });

  it('the interactive prompt with --json prints one JSON document per command and nothing else', async () => {
    const run = await runCli(['--json', dumpPath], { input: 'clrthreads\ndumpheap -stat\n' });
    assertOk(run, 'prompt --json');
    // Each document is pretty-printed and ends with a "}" line of its own.
    const docs = run.stdout.split(/^}\n/m).filter((s) => s.trim() !== '').map((s) => JSON.parse(s + '}') as Record<string, unknown>);
    assert.equal(docs.length, 2);
    assert.ok('threads' in docs[0]! && Array.isArray(docs[0]!.warnings));
    assert.equal((docs[1] as unknown as HeapJson).totalCount, sosHeap.totalCount);
  });

  it('a reader that closes the pipe early ends the run quietly (no EPIPE stack trace)', async () => {
    const run = await runCli([dumpPath], { input: 'clrthreads\n'.repeat(20), closeStdout: true });
    assert.equal(run.timedOut, false);
    assertNoStackTrace(run, 'closed stdout');
    assert.equal(run.stderr, '', 'nothing on stderr');
    assert.equal(run.code, 0);
  });

  it('--help prints the usage and the commands and exits 0', async () => {
    const run = await runCli(['--help']);
    assertOk(run, '--help');
    assert.match(run.stdout, /^usage: dumpsleuth /);
    for (const name of ['threads', 'clrthreads', 'dumpheap', 'eeheap', 'info']) assert.match(run.stdout, new RegExp(`\\b${name}\\b`));
  });

  it('--version prints the package version', async () => {
    const run = await runCli(['--version']);
    assertOk(run, '--version');
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(run.stdout.trim(), `dumpsleuth ${pkg.version}`);
  });

  it('no arguments prints the usage on stderr and exits 2', async () => {
    const run = await runCli([]);
    assert.equal(run.timedOut, false);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '', 'an error is not an answer: nothing on stdout');
    assert.match(run.stderr, /^usage: dumpsleuth /);
  });

  it('an unknown global option is a usage error', async () => {
    const run = await runCli(['--jsn', dumpPath, 'clrthreads']);
    const line = assertOneErrorLine(run, '--jsn');
    assert.equal(run.code, 2);
    assert.match(line, /unknown option --jsn/);
  });

  it('demo runs end to end and shows the 25 dead threads', async () => {
    const stamp = fileStamp(dumpPath);
    const run = await runCli(['demo'], { timeoutMs: 8 * 60_000 });
    assert.equal(run.timedOut, false);
    assertNoStackTrace(run, 'demo');
    assert.equal(run.code, 0, `demo exit code (stderr: ${run.stderr})`);
    // The demo runs info, clrthreads, then analyze; take the clrthreads answer.
    const threadsSection = run.stdout.split(/^> dumpsleuth .* /m).find((s) => s.startsWith('clrthreads\n'));
    assert.ok(threadsSection !== undefined, 'the demo ran clrthreads');
    assert.equal(deadRows(threadsSection).length, SEED_DEAD_THREADS);
    assert.equal(deadRows(threadsSection).length, sosThreads.threads.filter((t) => t.dbgIndex === null).length);
    assert.deepEqual(fileStamp(dumpPath), stamp, 'the cached dump is unchanged');
  });

  it('demo without a dotnet prints one clear line and fails', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/usr/bin:/bin', DUMPSLEUTH_DOTNET: '/nonexistent/dotnet' };
    delete env.DOTNET_ROOT;
    delete env.DOTNET_HOST_PATH;
    const run = await runCli(['demo'], { env, timeoutMs: 60_000 });
    const line = assertOneErrorLine(run, 'demo without dotnet');
    assert.match(line, /`dotnet` was not found/);
    assert.equal(run.stdout, '', 'nothing on stdout');
  });
});
