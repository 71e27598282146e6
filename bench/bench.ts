// `npm run bench`: times dumpsleuth against dotnet-dump (SOS) and the ClrMD oracle on one large heap dump of the
// `many` debuggee, after checking that they give the same answer. Prints a markdown table and writes the same
// data as JSON under <cache>/bench/. Never part of `npm test`: the dump (hundreds of MB) is captured on demand
// and cached. Usage: see BENCH_USAGE in bench-options.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheRoot, captureDump, findDotnet, findRepoRoot, runProcess, type CapturedDump } from '../src/capture';
import { buildClrmdOracle } from '../test/support/clrmd';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from './bench-options';
import { formatBenchMarkdown, type BenchReport, type CaseResult, type Question, type RunTiming } from './bench-report';
import {
  AnswerMismatchError,
  diffHeapAnswers,
  diffThreadsAnswers,
  heapAnswerFromClrmdJson,
  heapAnswerFromDumpsleuthJson,
  heapAnswerFromSosText,
  threadsAnswerFromText,
  type HeapAnswer,
  type ThreadsAnswer,
} from './check-answers';
import { summarizeCpuProfile } from './cpu-profile-summary';
import { findDotnetDump } from './find-dotnet-dump';
import { median } from './median';
import { defaultRssMethod, measureProcess, type MeasuredRun } from './measure-process';
import { timeSequentialRead } from './time-sequential-read';

/** One command under test: how to run it and how to check what it printed. */
interface BenchCase {
  readonly id: string;
  readonly tool: string;
  readonly command: string;
  readonly question: Question;
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Throws AnswerMismatchError (or a parse error) when the output is not the agreed answer. */
  readonly check: (run: MeasuredRun) => void;
}

/** Runs the bench with `argv` (the arguments after `node dist/bench/bench.js`) and returns the exit code. */
export async function runBench(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n${BENCH_USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${BENCH_USAGE}\n`);
    return 0;
  }
  const repoRoot = findRepoRoot();
  const cli = path.join(repoRoot, 'bin', 'dumpsleuth.js');
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run bench` (it compiles first)');

  const { dumpPath, captured } = await obtainDump(options);
  const dumpSize = fs.statSync(dumpPath).size;
  const dotnet = await findDotnet();
  const dotnetDump = await findDotnetDump();
  const clrmd = await buildClrmdOracle();
  const dotnetEnv: NodeJS.ProcessEnv = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };
  const versionRun = await runProcess(dotnet, [dotnetDump.assemblyPath, '--version'], { env: dotnetEnv, timeoutMs: 120_000 });
  const dotnetDumpVersion = versionRun.stdout.trim().split('\n')[0]?.split('+')[0] ?? dotnetDump.version;
  if (versionRun.code !== 0 || dotnetDumpVersion !== dotnetDump.version) {
    throw new Error(`${dotnetDump.assemblyPath} --version printed ${JSON.stringify(versionRun.stdout.trim())}, expected ${dotnetDump.version}`);
  }

  // The reference answer: dumpsleuth's JSON, checked against every other tool's output below.
  log(`checking dumpsleuth --json dumpheap -stat on ${dumpPath}`);
  const jsonRun = await measureProcess(process.execPath, [cli, '--json', dumpPath, 'dumpheap', '-stat']);
  requireSuccess('dumpsleuth --json dumpheap -stat', jsonRun);
  const heapReference = heapAnswerFromDumpsleuthJson(jsonRun.stdout);
  const jsonWarnings = (JSON.parse(jsonRun.stdout) as { warnings?: unknown[] }).warnings ?? [];
  let threadsReference: ThreadsAnswer | undefined;
  const agreement = new Set<string>();

  const sos = (command: string): string[] => [dotnet, dotnetDump.assemblyPath, 'analyze', dumpPath, '-c', 'setsymbolserver --disable', '-c', command, '-c', 'exit'];
  const checkHeap = (label: string, answer: HeapAnswer, perMt: boolean): void => {
    const differences = diffHeapAnswers(heapReference, answer);
    if (differences.length > 0) throw new AnswerMismatchError(`dumpsleuth --json dumpheap -stat and ${label}`, differences);
    agreement.add(
      `${label}: Total ${answer.totalCount.toLocaleString('en-US')} objects, ${answer.totalSize.toLocaleString('en-US')} bytes = dumpsleuth --json totalCount/totalSize${perMt ? `, and all ${heapReference.byMt?.size ?? 0} per-MethodTable rows equal` : ''}`,
    );
  };
  // dumpsleuth's `threads` runs first in each round; its first answer is the one the others must equal.
  const checkThreads = (label: string, answer: ThreadsAnswer): void => {
    if (threadsReference === undefined) {
      threadsReference = answer;
      return;
    }
    const differences = diffThreadsAnswers(threadsReference, answer);
    if (differences.length > 0) throw new AnswerMismatchError(`dumpsleuth threads and ${label}`, differences);
    if (label !== 'dumpsleuth threads') agreement.add(`${label}: the same ${answer.threads.length} threads (managed id, OS id, ThreadOBJ) and summary counts as dumpsleuth threads`);
  };
  const checkSosRun = (run: MeasuredRun): void => {
    if (!run.stdout.startsWith('Loading core dump:')) throw new Error(`dotnet-dump did not load the dump:\n${tail(run.stdout + run.stderr)}`);
  };

  const cases: BenchCase[] = [
    {
      id: 'dumpsleuth-dumpheap-stat',
      tool: 'dumpsleuth',
      command: 'dumpheap -stat',
      question: 'heap',
      argv: [process.execPath, cli, dumpPath, 'dumpheap', '-stat'],
      check: (run) => checkHeap('dumpsleuth dumpheap -stat (text)', heapAnswerFromSosText(run.stdout), true),
    },
    {
      id: 'dotnet-dump-dumpheap-stat',
      tool: 'dotnet-dump (SOS)',
      command: 'dumpheap -stat',
      question: 'heap',
      argv: sos('dumpheap -stat'),
      env: dotnetEnv,
      check: (run) => {
        checkSosRun(run);
        checkHeap('dotnet-dump dumpheap -stat', heapAnswerFromSosText(run.stdout), true);
      },
    },
    {
      id: 'clrmd-heapstat',
      tool: 'ClrMD oracle',
      command: 'heapstat (EnumerateObjects)',
      question: 'heap',
      argv: [dotnet, clrmd.assemblyPath, 'heapstat', dumpPath],
      env: dotnetEnv,
      check: (run) => checkHeap('ClrMD heapstat', heapAnswerFromClrmdJson(run.stdout), false),
    },
    {
      id: 'dumpsleuth-threads',
      tool: 'dumpsleuth',
      command: 'threads',
      question: 'threads',
      argv: [process.execPath, cli, dumpPath, 'threads'],
      check: (run) => checkThreads('dumpsleuth threads', threadsAnswerFromText(run.stdout)),
    },
    {
      id: 'dotnet-dump-clrthreads',
      tool: 'dotnet-dump (SOS)',
      command: 'clrthreads',
      question: 'threads',
      argv: sos('clrthreads'),
      env: dotnetEnv,
      check: (run) => {
        checkSosRun(run);
        checkThreads('dotnet-dump clrthreads', threadsAnswerFromText(run.stdout));
      },
    },
    {
      id: 'node-startup',
      tool: 'baseline',
      command: 'node -e 0 (Node start-up)',
      question: 'baseline',
      argv: [process.execPath, '-e', '0'],
      check: () => undefined,
    },
  ];

  const loadBefore = os.loadavg()[0]!;
  // Round-robin over the cases, so drift (thermal, page cache, neighbours) spreads over all tools alike.
  const timings = new Map<string, RunTiming[]>(cases.map((c) => [c.id, []]));
  const readRuns: RunTiming[] = [];
  let readBytes = 0;
  for (let round = 1; round <= options.repeat; round++) {
    for (const c of cases) {
      const run = await measureProcess(c.argv[0]!, c.argv.slice(1), { env: c.env, cwd: repoRoot });
      requireSuccess(`${c.tool} ${c.command}`, run);
      c.check(run);
      timings.get(c.id)!.push({ wallMs: run.wallMs, peakRssBytes: run.peakRssBytes });
      log(`run ${round}/${options.repeat}: ${c.tool} ${c.command}: ${(run.wallMs / 1000).toFixed(3)} s, ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const read = timeSequentialRead(dumpPath);
    readBytes = read.bytes;
    readRuns.push({ wallMs: read.wallMs });
    log(`run ${round}/${options.repeat}: read ${dumpPath} in 8 MiB chunks: ${(read.wallMs / 1000).toFixed(3)} s`);
  }

  const medianOf = (id: string): number => median(timings.get(id)!.map((t) => t.wallMs));
  const reference: Record<Question, number> = {
    heap: medianOf('dumpsleuth-dumpheap-stat'),
    threads: medianOf('dumpsleuth-threads'),
    baseline: medianOf('dumpsleuth-dumpheap-stat'),
  };
  const results: CaseResult[] = cases.map((c) => {
    const runs = timings.get(c.id)!;
    const medianWallMs = median(runs.map((r) => r.wallMs));
    return {
      id: c.id,
      tool: c.tool,
      command: c.command,
      question: c.question,
      argv: c.argv,
      runs,
      medianWallMs,
      peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes ?? 0)),
      ratioVsDumpsleuth: medianWallMs / reference[c.question],
      objectsPerSecond: c.question === 'heap' ? heapReference.totalCount / (medianWallMs / 1000) : undefined,
    };
  });
  const readMedian = median(readRuns.map((r) => r.wallMs));
  results.push({
    id: 'read-dump-file',
    tool: 'baseline',
    command: 'fs.readSync whole dump, 8 MiB chunks (warm)',
    question: 'baseline',
    argv: [],
    runs: readRuns,
    medianWallMs: readMedian,
    ratioVsDumpsleuth: readMedian / reference.baseline,
    bytesPerSecond: readBytes / (readMedian / 1000),
  });

  const profile = options.profile ? await profileDumpheap(cli, dumpPath, repoRoot) : undefined;
  const startup = medianOf('node-startup');
  const heapReadMs = (heapReference.totalSize / readBytes) * readMedian;
  const notes = [
    `dumpsleuth dumpheap -stat takes ${(reference.heap / readMedian).toFixed(2)}× the warm read of the whole dump file (${(reference.heap / heapReadMs).toFixed(2)}× the time to read just the heap's ${(heapReference.totalSize / 2 ** 20).toFixed(0)} MiB of objects at that rate; ${((reference.heap - startup) / heapReadMs).toFixed(2)}× after subtracting Node start-up).`,
    'The read baseline is warm: the dump is in the page cache (dropping it needs root), so it measures kernel copy bandwidth, not the disk.',
    `dotnet-dump runs as \`dotnet ${dotnetDump.assemblyPath} analyze <dump> -c "setsymbolserver --disable" -c "<command>" -c exit\`, as the installed command does; \`dotnet tool run dotnet-dump\` would add the SDK's start-up to its time.`,
    'The ClrMD oracle (test/oracles/clrmd) is a straightforward EnumerateObjects loop with the DAC, not a tuned tool; it is a second reference.',
  ];
  const busy = Math.max(loadBefore, os.loadavg()[0]!);
  if (busy > os.cpus().length / 2) {
    notes.push(
      `The machine was busy (1-minute load average up to ${busy.toFixed(2)} on ${os.cpus().length} CPUs): absolute times are inflated and noisy; the ratios between tools, timed round-robin, are the more robust figure.`,
    );
  }
  if (jsonWarnings.length > 0) notes.push(`dumpsleuth warned: ${jsonWarnings.map(String).join('; ')}`);

  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      totalMemoryBytes: os.totalmem(),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverage: [loadBefore, os.loadavg()[0]!],
    },
    nodeVersion: process.version,
    dotnetDumpVersion,
    dump: {
      path: dumpPath,
      sizeBytes: dumpSize,
      description: captured !== undefined ? describeCapture(captured) : undefined,
      runtimeVersion: captured?.runtimeVersion,
      objects: heapReference.totalCount,
      objectBytes: heapReference.totalSize,
    },
    repeat: options.repeat,
    rssMethod: defaultRssMethod(),
    cases: results,
    agreement: [...agreement],
    profile,
    notes,
  };
  process.stdout.write(`${formatBenchMarkdown(report)}\n`);
  const outDir = path.join(cacheRoot(), 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const outPath = path.join(outDir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${outPath}\n`);
  return 0;
}

async function obtainDump(options: BenchOptions): Promise<{ dumpPath: string; captured?: CapturedDump }> {
  if (options.dump !== undefined) {
    const dumpPath = path.resolve(options.dump);
    if (!fs.existsSync(dumpPath)) throw new Error(`dump ${dumpPath} does not exist`);
    // A dump from the capture cache has its metadata next to it.
    try {
      return { dumpPath, captured: JSON.parse(fs.readFileSync(`${dumpPath}.json`, 'utf8')) as CapturedDump };
    } catch {
      return { dumpPath };
    }
  }
  log(`capturing (or reusing the cached) heap dump of "many ${options.objects}"`);
  const captured = await captureDump({ scenario: 'many', args: [String(options.objects)], dumpType: 'heap', readyTimeoutMs: 10 * 60_000 });
  log(`${captured.cached ? 'cached' : 'captured'} ${captured.dumpPath} (${(captured.sizeBytes / 2 ** 20).toFixed(0)} MiB)`);
  return { dumpPath: captured.dumpPath, captured };
}

function describeCapture(c: CapturedDump): string {
  return `\`${[c.scenario, ...c.args].join(' ')}\` (${c.dumpType} dump, ${c.serverGc ? 'server' : 'workstation'} GC)`;
}

async function profileDumpheap(cli: string, dumpPath: string, repoRoot: string): Promise<ReturnType<typeof summarizeCpuProfile>> {
  const dir = path.join(cacheRoot(), 'bench', 'profiles', `dumpheap-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  log(`profiling dumpsleuth dumpheap -stat with node --cpu-prof into ${dir}`);
  const run = await measureProcess(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, cli, dumpPath, 'dumpheap', '-stat'], { cwd: repoRoot });
  requireSuccess('dumpsleuth dumpheap -stat under --cpu-prof', run);
  const profiles = fs.readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (profiles.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${profiles.length}`);
  return summarizeCpuProfile(path.join(dir, profiles[0]!), repoRoot);
}

function requireSuccess(what: string, run: MeasuredRun): void {
  if (run.code !== 0) {
    throw new Error(`${what} failed (${run.signal !== null ? `signal ${run.signal}` : `exit code ${run.code}`}):\n${tail(`${run.stdout}\n${run.stderr}`)}`);
  }
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-20).join('\n');
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

if (require.main === module) {
  runBench(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const failed = error instanceof AnswerMismatchError ? 'ANSWERS DISAGREE, nothing timed is valid' : 'failed';
      process.stderr.write(`bench: ${failed}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
