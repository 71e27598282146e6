// Issue 16's persistent per-dump index on real dumps.
// 1. Answers with and without the index are identical: on every standard test dump, one session runs `dominators`,
//    `retained` and `gcroot` (two objects: the top retainer and a small one) and `analyze` with --json three times —
//    with --no-index, with an empty index folder (the answers are computed and the index written), and again (the
//    answers come from the index: stderr says which parts were read) — and the three outputs are byte for byte equal.
//    Then gcroot and retained of both objects in a session that has not loaded the graph, answered from index pages
//    read on demand, equal to --no-index in JSON and text. Then `analyze` alone (as a process's first command its answer is stored, and the next process prints the stored
//    answer): the stored answer equals a fresh --no-index one, in JSON and in text.
// 2. An index that does not check out is detected and rebuilt, never read: a flipped byte in a section or in the
//    header, a corrupt page of the reverse edges found by the paged read of a gcroot, a truncated file, a touched dump (mtime), a dump edited in place with its size and mtime restored, a
//    part derived from another graph; plus the size cap, --no-index, and that nothing is written beside the dump.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { fileStamp, runCli, type CliRun } from '../support/cli-runner';

const TIMEOUT = 20 * 60_000;
const RUN_TIMEOUT_MS = 180_000;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-index-test-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function env(indexDir: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, DUMPSLEUTH_INDEX_DIR: indexDir, DUMPSLEUTH_INDEX_LOG: '1' };
  delete e.DUMPSLEUTH_INDEX;
  delete e.DUMPSLEUTH_INDEX_MAX_SIZE;
  return e;
}

async function run(args: readonly string[], indexDir: string, input?: string): Promise<CliRun> {
  const r = await runCli(args, { env: env(indexDir), timeoutMs: RUN_TIMEOUT_MS, ...(input !== undefined ? { input } : {}) });
  assert.equal(r.timedOut, false, `dumpsleuth ${args.join(' ')} finished`);
  assert.equal(r.code, 0, `dumpsleuth ${args.join(' ')} succeeded:\n${r.stderr}`);
  return r;
}

/** The stderr lines that say which index parts a run read or wrote. */
function indexLines(r: CliRun): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('dumpsleuth: index: '));
}

/** Where section `name` of an index file lies (index-file.ts's layout: prefix, header JSON, page table, sections). */
function sectionAt(file: Buffer, name: string): { start: number; bytes: number } {
  const headerLength = file.readUInt32LE(8);
  const header = JSON.parse(file.subarray(48, 48 + headerLength).toString('utf8')) as { sections: { name: string; offset: number; bytes: number }[] };
  const dataStart = Math.ceil((48 + headerLength + file.readUInt32LE(12)) / 8) * 8;
  const s = header.sections.find((x) => x.name === name)!;
  return { start: dataStart + s.offset, bytes: s.bytes };
}

function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.dsi')).sort();
}

describe('per-dump index: the same answers with and without it, on every standard dump', { timeout: TIMEOUT }, () => {
  for (const d of STANDARD_DUMPS) {
    const label = `${d.scenario} ${d.args.join(' ')} ${d.dumpType} ${d.serverGc ? 'svr' : 'wks'}`.replace(/\s+/g, ' ');
    it(label, { timeout: TIMEOUT }, async () => {
      const dump = await getDump(d.scenario, { args: d.args, dumpType: d.dumpType, serverGc: d.serverGc });
      const indexDir = path.join(scratch, label.replace(/[^a-z0-9]+/gi, '-'));
      // Targets from an index-free run: the largest retainer and the smallest of the top 20.
      const top = JSON.parse((await run(['--no-index', '--json', dump.dumpPath, 'dominators', '-limit', '20'], indexDir)).stdout) as { objects: { address: string }[] };
      assert.ok(top.objects.length > 0, 'the dump has live objects');
      const a = top.objects[0]!.address;
      const b = top.objects[top.objects.length - 1]!.address;
      const session = ['dominators', `retained ${a}`, `retained ${b}`, `gcroot ${a}`, `gcroot ${b}`, 'analyze', 'exit', ''].join('\n');
      const without = await run(['--no-index', '--json', dump.dumpPath], indexDir, session);
      assert.deepEqual(files(indexDir), [], '--no-index writes nothing');
      assert.deepEqual(indexLines(without), []);
      const first = await run(['--json', dump.dumpPath], indexDir, session);
      assert.deepEqual(
        indexLines(first).map((l) => l.replace(/ \(.*\)$/, '')),
        ['dumpsleuth: index: wrote graph', 'dumpsleuth: index: wrote roots', 'dumpsleuth: index: wrote dominators', 'dumpsleuth: index: wrote reverse'],
        'the first run builds and writes every part',
      );
      const second = await run(['--json', dump.dumpPath], indexDir, session);
      const read = indexLines(second).map((l) => l.replace(/ \(.*\)$/, ''));
      assert.deepEqual(read, ['dumpsleuth: index: read graph', 'dumpsleuth: index: read roots', 'dumpsleuth: index: read dominators', 'dumpsleuth: index: read reverse edges'], 'the second run reads every part and writes none');
      assert.ok(without.stdout.length > 0);
      assert.equal(first.stdout, without.stdout, 'the run that writes the index answers as --no-index');
      assert.equal(second.stdout, without.stdout, 'the run that reads the index answers as --no-index');

      // One-object answers before the session holds the whole graph come from index pages (PagedGraph): gcroot and
      // retained of both objects, in JSON and in text, equal the --no-index session's, and read no whole part.
      const oneObject = [`gcroot ${a}`, `gcroot ${b}`, `retained ${a}`, `retained ${b}`, 'exit', ''].join('\n');
      for (const mode of [['--json'], []]) {
        const plain = await run(['--no-index', ...mode, dump.dumpPath], indexDir, oneObject);
        const paged = await run([...mode, dump.dumpPath], indexDir, oneObject);
        const lines = indexLines(paged);
        assert.deepEqual(
          lines.filter((l) => !l.startsWith('dumpsleuth: index: read roots (')).map((l) => l.replace(/ \(\d+ pages read\)$/, '')),
          ['gcroot', 'gcroot', 'retained', 'retained'].map((c) => `dumpsleuth: index: ${c} answered from index pages`),
          `every answer from index pages:\n${lines.join('\n')}`,
        );
        assert.equal(paged.stdout, plain.stdout, `answers from index pages equal --no-index ones (${mode.join('') || 'text'})`);
      }

      // analyze as a process's only command: the process that computes it stores its answer, the next one prints the
      // stored answer (reading nothing else), in JSON and in text, and both equal a fresh --no-index answer.
      const json = ['--json', dump.dumpPath, 'analyze'];
      const fresh = await run(['--no-index', ...json], indexDir);
      const computes = await run(json, indexDir);
      assert.ok(indexLines(computes).some((l) => l.startsWith('dumpsleuth: index: wrote answers (')), indexLines(computes).join('\n'));
      const replays = await run(json, indexDir);
      assert.deepEqual(indexLines(replays), ['dumpsleuth: index: read analyze answer'], 'the stored answer, nothing else');
      assert.equal(computes.stdout, fresh.stdout, 'the process that stores the answer prints a fresh one');
      assert.equal(replays.stdout, fresh.stdout, 'the stored analyze answer equals a fresh one (JSON)');
      const text = await run([dump.dumpPath, 'analyze'], indexDir);
      assert.deepEqual(indexLines(text), ['dumpsleuth: index: read analyze answer']);
      assert.equal(text.stdout, (await run(['--no-index', dump.dumpPath, 'analyze'], indexDir)).stdout, 'the stored analyze answer equals a fresh one (text)');
    });
  }
});

describe('per-dump index: what does not check out is rebuilt, never read', { timeout: TIMEOUT }, () => {
  it('corrupt, truncated and stale parts, a touched or edited dump, the size cap, --no-index', { timeout: TIMEOUT }, async () => {
    const original = (await getDump('seed-apm', { dumpType: 'heap' })).dumpPath;
    const originalStamp = fileStamp(original);
    const dumpDir = path.join(scratch, 'dumps');
    fs.mkdirSync(dumpDir);
    const dump = path.join(dumpDir, 'copy.dmp');
    fs.copyFileSync(original, dump);
    const indexDir = path.join(scratch, 'stale');
    const top = JSON.parse((await run(['--no-index', '--json', dump, 'dominators', '-limit', '1'], indexDir)).stdout) as { objects: { address: string }[] };
    const target = top.objects[0]!.address;
    const session = ['dominators -limit 5', `retained ${target}`, `gcroot ${target}`, 'exit', ''].join('\n');
    let expected = (await run(['--no-index', '--json', dump], indexDir, session)).stdout;

    /** Runs the session with the index; checks the answer and returns the index lines (size details dropped). */
    const withIndex = async (what: string, extra: readonly string[] = []): Promise<string[]> => {
      const r = await run(['--json', ...extra, dump], indexDir, session);
      assert.equal(r.stdout, expected, `${what}: the answer equals the --no-index answer`);
      return indexLines(r).map((l) => l.replace(/^dumpsleuth: index: /, '').replace(/ \([\d.]+ MiB\)$/, ''));
    };
    const wroteAll = ['wrote graph', 'wrote roots', 'wrote dominators', 'wrote reverse'];
    const readAll = (lines: string[]): boolean => ['read graph', 'read roots', 'read dominators', 'read reverse edges'].every((p) => lines.some((l) => l.startsWith(p)));
    const part = (name: string): string => path.join(indexDir, files(indexDir).find((f) => f.endsWith(`${name}.dsi`))!);
    const edit = (file: string, change: (bytes: Buffer) => Buffer): void => fs.writeFileSync(file, change(fs.readFileSync(file)));
    const flip = (at: (b: Buffer) => number) => (b: Buffer): Buffer => {
      const c = Buffer.from(b);
      c[at(c)]! ^= 0x40;
      return c;
    };

    assert.deepEqual(await withIndex('first run'), wroteAll);
    assert.deepEqual(files(indexDir).map((f) => path.basename(f)), ['dominators.dsi', 'graph.dsi', 'reverse.dsi', 'roots.dsi']);
    assert.ok(readAll(await withIndex('second run')), 'the second run reads every part');

    // A flipped byte inside the graph's sections (the last 8 bytes are alignment padding or data: take the middle).
    edit(part('graph'), flip((b) => b.length >> 1));
    let lines = await withIndex('corrupt graph section');
    assert.match(lines[0]!, /^graph rebuilt: .*checksum mismatch \(corrupt\)$/, lines.join('\n'));
    assert.deepEqual(lines.slice(1), wroteAll, 'the rebuilt graph and its derived parts are written again');
    assert.ok(readAll(await withIndex('after the rebuild')));

    edit(part('graph'), flip(() => 60)); // inside the header JSON
    lines = await withIndex('corrupt graph header');
    assert.match(lines[0]!, /^graph rebuilt: .*header checksum mismatch$/, lines.join('\n'));

    edit(part('graph'), (b) => b.subarray(0, b.length - 100));
    lines = await withIndex('truncated graph');
    assert.match(lines[0]!, /^graph rebuilt: .*has \d+ bytes, its header says \d+ \(truncated or extended\)$/, lines.join('\n'));

    // A flipped byte in the middle of the section the whole tree is loaded from (idom; the sections `retained <addr>`
    // reads page by page are checked on those reads, below for the reverse edges).
    edit(part('dominators'), flip((b) => sectionAt(b, 'idom').start + (sectionAt(b, 'idom').bytes >> 1)));
    lines = await withIndex('corrupt dominators');
    assert.ok(lines.some((l) => l.startsWith('read graph (')), `the graph is still read:\n${lines.join('\n')}`);
    assert.ok(lines.some((l) => /^dominators rebuilt: .*checksum mismatch \(corrupt\)$/.test(l)), lines.join('\n'));
    assert.ok(lines.includes('wrote dominators'), lines.join('\n'));

    // A corrupt page in the middle of the reverse edges: the open still succeeds (header and page table are intact),
    // and a gcroot answered from index pages finds it on the read that touches it, then answers from the whole graph
    // (which rebuilds the reverse edges). Every page of the sources is flipped, so whichever the search reads is bad.
    // An object with incoming edges (one the top retainer dominates), so the search reads reverse sources.
    const inner = (JSON.parse((await run(['--no-index', '--json', dump, 'retained', target], indexDir)).stdout) as { children: { address: string }[] }).children[0]!.address;
    const oneGcroot = [`gcroot ${inner}`, 'exit', ''].join('\n');
    const plainGcroot = (await run(['--no-index', '--json', dump], indexDir, oneGcroot)).stdout;
    edit(part('reverse'), (b) => {
      const c = Buffer.from(b);
      const source = sectionAt(c, 'source');
      for (let at = 0; at < source.bytes; at += 65536) c[source.start + at + Math.min(100, source.bytes - at - 1)]! ^= 0x01;
      return c;
    });
    const afterCorruption = await run(['--json', dump], indexDir, oneGcroot);
    assert.equal(afterCorruption.stdout, plainGcroot, 'the answer after a corrupt page equals the --no-index one');
    lines = indexLines(afterCorruption).map((l) => l.replace(/^dumpsleuth: index: /, ''));
    assert.ok(lines.some((l) => /^reverse rebuilt: index section source of .*: page \d+ checksum mismatch \(corrupt\)$/.test(l)), `the corrupt page is found on the paged read:\n${lines.join('\n')}`);
    assert.ok(!lines.some((l) => l.includes('answered from index pages')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('wrote reverse (')), `the reverse edges are rebuilt and written again:\n${lines.join('\n')}`);
    const repaired = await run(['--json', dump], indexDir, oneGcroot);
    assert.equal(repaired.stdout, plainGcroot);
    assert.ok(indexLines(repaired).some((l) => l.includes('gcroot answered from index pages')), indexLines(repaired).join('\n'));

    edit(part('reverse'), (b) => b.subarray(0, b.length - 8));
    lines = await withIndex('truncated reverse edges');
    assert.ok(lines.some((l) => /^reverse rebuilt: .*truncated or extended/.test(l)), lines.join('\n'));
    assert.ok(lines.includes('wrote reverse'), lines.join('\n'));

    // The dump changes: a newer mtime, then an edit of its last bytes with the size and mtime put back.
    const later = new Date(Date.now() + 10_000);
    fs.utimesSync(dump, later, later);
    lines = await withIndex('touched dump');
    assert.match(lines[0]!, /^graph rebuilt: .*another dump or version \(stale\)$/, lines.join('\n'));
    assert.deepEqual(lines.slice(1), wroteAll);
    const stamp = fs.statSync(dump);
    const fd = fs.openSync(dump, 'r+');
    const tail = Buffer.alloc(16);
    fs.readSync(fd, tail, 0, 16, stamp.size - 16);
    for (let i = 0; i < tail.length; i++) tail[i]! ^= 0xff;
    fs.writeSync(fd, tail, 0, 16, stamp.size - 16);
    fs.closeSync(fd);
    fs.utimesSync(dump, stamp.atime, stamp.mtime);
    assert.equal(fs.statSync(dump).mtimeMs, stamp.mtimeMs);
    assert.equal(fs.statSync(dump).size, stamp.size);
    expected = (await run(['--no-index', '--json', dump], indexDir, session)).stdout;
    lines = await withIndex('dump edited in place, same size and mtime');
    assert.match(lines[0]!, /^graph rebuilt: .*another dump or version \(stale\)$/, lines.join('\n'));

    // The size cap: nothing is written, and the run says so.
    const capped = path.join(scratch, 'capped');
    const r = await runCli(['--json', '--index-max-size', '1K', dump], { env: env(capped), timeoutMs: RUN_TIMEOUT_MS, input: session });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, expected);
    assert.match(r.stderr, /index: graph not written: it would take [\d.]+ MiB for this dump, over the index size cap of 0\.0 MiB/);
    assert.deepEqual(files(capped), []);
    // Turned off: nothing read or written.
    const off = await runCli(['--json', dump], { env: { ...env(capped), DUMPSLEUTH_INDEX: 'off' }, timeoutMs: RUN_TIMEOUT_MS, input: session });
    assert.equal(off.stdout, expected);
    assert.deepEqual(indexLines(off), []);
    assert.deepEqual(files(capped), []);
    // A bad cap is a usage error.
    const bad = await runCli(['--index-max-size', 'lots', dump, 'dominators'], { env: env(capped) });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^dumpsleuth: --index-max-size lots: expected a size such as 500M or 2G\n$/);

    // Nothing was written beside the dump, and the cached original was never touched.
    assert.deepEqual(fs.readdirSync(dumpDir), ['copy.dmp']);
    assert.deepEqual(fileStamp(original), originalStamp);
  });
});
