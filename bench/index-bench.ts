// Issue 16's index rows: for gcroot, retained and analyze on one dump, the process without the index (--no-index),
// the first process with an empty index folder (computes, then writes the index), and the second process (reads
// it); every answer must equal the --no-index one. Also the index's size on disk, and gcroot --no-index with the
// graph's references resolved on 2 threads (the worker scaling row; the --no-index row is the 1-thread one). `npm run bench` includes these
// rows; `node dist/bench/index-bench.js [--scenario many|large | --dump PATH] [--repeat R]` runs only them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheRoot, captureDump, findRepoRoot } from '../src/capture';
import { median } from './median';
import { clearNodeExtraCaCerts, KEEP_NODE_EXTRA_CA_CERTS } from './node-start-env';
import { measureProcess, type MeasuredRun } from './measure-process';

/** One timed case, shaped like bench.ts's BenchCase (structurally compatible). */
export interface IndexBenchCase {
  readonly id: string;
  readonly tool: string;
  readonly command: string;
  readonly question: 'gcroot' | 'dominators';
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Runs before each timed run (empties the index folder of a "first process" case). */
  readonly before?: () => void;
  readonly check: (run: MeasuredRun) => void;
}

/** The index folders the cases use (under `<cache>/bench/index`), for the size figures. */
export function indexBenchDir(): string {
  return path.join(cacheRoot(), 'bench', 'index');
}

/** Three cases per command (without the index, first and second process with it); answers are checked equal to
 * the --no-index answer. `target` is an object address for gcroot and retained. */
export function indexCases(cli: string, dumpPath: string, target: string): IndexBenchCase[] {
  const commands: { name: string; words: string[]; question: 'gcroot' | 'dominators' }[] = [
    { name: 'gcroot', words: ['gcroot', target], question: 'gcroot' },
    { name: 'retained', words: ['retained', target], question: 'dominators' },
    { name: 'analyze', words: ['analyze'], question: 'dominators' },
  ];
  const out: IndexBenchCase[] = [];
  for (const c of commands) {
    const dir = path.join(indexBenchDir(), c.name);
    const env: NodeJS.ProcessEnv = { ...process.env, DUMPSLEUTH_INDEX_DIR: dir };
    delete env.DUMPSLEUTH_INDEX;
    let reference: string | undefined;
    const same = (label: string) => (run: MeasuredRun) => {
      if (reference === undefined) throw new Error(`${label}: no --no-index answer to compare with`);
      if (run.stdout !== reference) throw new Error(`${label} answered differently from --no-index:\n${run.stdout.slice(0, 2000)}\n---\n${reference.slice(0, 2000)}`);
    };
    const command = c.words.join(' ').replace(target, '<addr>');
    out.push(
      {
        id: `index-${c.name}-none`,
        tool: 'dumpsleuth',
        command: `${command} --no-index (every process)`,
        question: c.question,
        argv: [process.execPath, cli, '--no-index', dumpPath, ...c.words],
        check: (run) => {
          reference ??= run.stdout;
          same(`${c.name} --no-index`)(run);
        },
      },
      ...(c.name === 'gcroot'
        ? [
            {
              id: 'workers-gcroot-2',
              tool: 'dumpsleuth',
              command: `${command} --no-index --workers 2 (graph references on 2 threads)`,
              question: c.question,
              argv: [process.execPath, cli, '--no-index', '--workers', '2', dumpPath, ...c.words],
              check: same('gcroot --workers 2'),
            },
          ]
        : []),
      {
        id: `index-${c.name}-first`,
        tool: 'dumpsleuth',
        command: `${command}, 1st process (builds, writes the index)`,
        question: c.question,
        argv: [process.execPath, cli, dumpPath, ...c.words],
        env,
        before: () => fs.rmSync(dir, { recursive: true, force: true }),
        check: same(`${c.name} first process`),
      },
      {
        id: `index-${c.name}-second`,
        tool: 'dumpsleuth',
        command: `${command}, 2nd process (reads the index)`,
        question: c.question,
        argv: [process.execPath, cli, dumpPath, ...c.words],
        env,
        check: same(`${c.name} second process`),
      },
    );
  }
  return out;
}

/** The size on disk of each command's index (parts and total), for the bench's notes. */
export function indexSizeNotes(): string[] {
  const notes: string[] = [];
  for (const name of ['gcroot', 'retained', 'analyze']) {
    const dir = path.join(indexBenchDir(), name);
    if (!fs.existsSync(dir)) continue;
    const parts = new Map<string, number>();
    for (const f of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.dsi')) parts.set(path.basename(f, '.dsi'), fs.statSync(path.join(dir, f)).size);
    }
    const total = [...parts.values()].reduce((a, b) => a + b, 0);
    notes.push(`index after ${name}: ${mib(total)} on disk (${[...parts].map(([p, b]) => `${p} ${mib(b)}`).join(', ')})`);
  }
  return notes;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Standalone: only the index rows, as a markdown table. */
async function main(argv: readonly string[]): Promise<number> {
  let dumpPath: string | undefined;
  let scenario: 'many' | 'large' = 'many';
  let repeat = 3;
  let keepCaCerts = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === KEEP_NODE_EXTRA_CA_CERTS) keepCaCerts = true;
    else if (argv[i] === '--dump') dumpPath = path.resolve(argv[++i]!);
    else if (argv[i] === '--scenario') scenario = argv[++i] === 'large' ? 'large' : 'many';
    else if (argv[i] === '--repeat') repeat = Number(argv[++i]);
    else throw new Error(`unknown option ${argv[i]}`);
  }
  dumpPath ??= (await captureDump({ scenario, args: [scenario === 'large' ? '22000000' : '5000000'], dumpType: 'heap', readyTimeoutMs: 20 * 60_000 })).dumpPath;
  const caCertsNote = clearNodeExtraCaCerts(keepCaCerts);
  const cli = path.join(findRepoRoot(), 'bin', 'dumpsleuth.js');
  const type = scenario === 'large' ? 'Debuggees.LargeOrder' : 'Debuggees.ManyPair';
  const listing = await measureProcess(process.execPath, [cli, '--no-index', dumpPath, 'dumpheap', '-short', '-type', type]);
  const first = listing.stdout.split('\n').map((l) => l.trim()).find((l) => /^[0-9a-f]+$/i.test(l));
  if (first === undefined) throw new Error(`no ${type} object in ${dumpPath}`);
  const cases = indexCases(cli, dumpPath, `0x${first}`);
  const times = new Map<string, MeasuredRun[]>(cases.map((c) => [c.id, []]));
  // CPU seconds (user + system) too: on a shared machine they move less with the load than wall time.
  const cpu = new Map<string, number[]>(cases.map((c) => [c.id, []]));
  const cpuFile = path.join(os.tmpdir(), `dumpsleuth-index-bench-${process.pid}.cpu`);
  for (let round = 1; round <= repeat; round++) {
    for (const c of cases) {
      c.before?.();
      const run = await measureProcess('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, ...c.argv], { env: c.env ?? { ...process.env, DUMPSLEUTH_INDEX: 'off' } });
      if (run.code !== 0) throw new Error(`${c.command} failed: ${run.stderr}`);
      c.check(run);
      times.get(c.id)!.push(run);
      const [user, system] = fs.readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
      cpu.get(c.id)!.push(user! + system!);
      process.stderr.write(`index-bench: run ${round}/${repeat}: ${c.command}: ${(run.wallMs / 1000).toFixed(3)} s, CPU ${(user! + system!).toFixed(2)} s\n`);
    }
  }
  fs.rmSync(cpuFile, { force: true });
  const lines = [
    `dump: ${dumpPath} (${mib(fs.statSync(dumpPath).size)}); load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`,
    '',
    '| command | median wall | median CPU (user+sys) | peak RSS |',
    '|---|---:|---:|---:|',
  ];
  for (const c of cases) {
    const runs = times.get(c.id)!;
    lines.push(
      `| ${c.command} | ${(median(runs.map((r) => r.wallMs)) / 1000).toFixed(2)} s | ${median(cpu.get(c.id)!).toFixed(2)} s | ${(Math.max(...runs.map((r) => r.peakRssBytes)) / 2 ** 20).toFixed(0)} MiB |`,
    );
  }
  lines.push('', ...indexSizeNotes().map((n) => `- ${n}`), ...(caCertsNote !== undefined ? [`- ${caCertsNote}`] : []));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`index-bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
