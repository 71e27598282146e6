// `npm run bench`: times dumpsleuth against dotnet-dump (SOS) and the ClrMD oracle on one large heap dump of the
// `many` debuggee, after checking that they give the same answer. Prints a markdown table and writes the same
// data as JSON under <cache>/bench/. Never part of `npm test`: the dump (hundreds of MB) is captured on demand
// and cached. Usage: see BENCH_USAGE in bench-options.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheRoot, captureDump, findDotnet, findRepoRoot, runProcess, type CapturedDump } from '../src/capture';
import { buildClrmdOracle } from '../test/support/clrmd';
import { indexCases, indexSizeNotes } from './index-bench';
import { clearNodeExtraCaCerts } from './node-start-env';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from './bench-options';
import { formatBenchMarkdown, type BenchReport, type CaseResult, type Question, type RunTiming, type TargetResult } from './bench-report';
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
import { benchDeadThreadsGcroot, formatDeadThreadsGcroot } from './dead-threads-gcroot';
import { benchDiffLarge, formatDiffLarge } from './diff-large';
import { findDotnetDump } from './find-dotnet-dump';
import { median } from './median';
import { defaultRssMethod, measureProcess, type MeasuredRun } from './measure-process';
import { timeSequentialRead } from './time-sequential-read';
import { checkSingleObjectAnswers, pickSingleObjectTargets, singleObjectCommands } from './single-object';

/** One command under test: how to run it and how to check what it printed. */
interface BenchCase {
  readonly id: string;
  readonly tool: string;
  readonly command: string;
  readonly question: Question;
  readonly argv: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the process's stdin (the interactive prompt's commands). */
  readonly stdin?: string;
  /** Runs before each timed run (e.g. empties an index folder). */
  readonly before?: () => void;
  /** Throws AnswerMismatchError (or a parse error) when the output is not the agreed answer. */
  readonly check: (run: MeasuredRun) => void;
  /** A failed run is reported (and the case not timed further) instead of stopping the bench: dotnet-dump crashes
   * (SIGSEGV, exit code 139) on `dumpobj` of a debuggee type in the bench's heap dumps. */
  readonly allowFailure?: boolean;
}

/** The types the commands ask about, per scenario: one rare type for `dumpheap -type`, one common type whose
 * objects `gcroot` looks up. */
const SCENARIO_TYPES = {
  many: { rare: 'Debuggees.ManyRoot', common: 'Debuggees.ManyPair' },
  large: { rare: 'Debuggees.LargeSession', common: 'Debuggees.LargeOrder' },
  linked: { rare: 'Debuggees.LinkedRoot', common: 'Debuggees.LinkedItem' },
} as const;

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
  // Rows time whole computations unless they say otherwise: the per-dump index only where a row asks for it.
  process.env.DUMPSLEUTH_INDEX = 'off';
  const caCertsNote = clearNodeExtraCaCerts(options.keepNodeExtraCaCerts === true);
  if (caCertsNote !== undefined) log(caCertsNote);
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
  const scenarioTypes = SCENARIO_TYPES[options.scenario];
  const types = { rare: scenarioTypes.rare, common: options.commonType ?? scenarioTypes.common };
  const targets = options.interactive || options.hangs === true ? [] : await pickObjects(cli, dumpPath, types.common, options.gcroots);
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

  const sosMany = (commands: readonly string[]): string[] => [dotnet, dotnetDump.assemblyPath, 'analyze', dumpPath, '-c', 'setsymbolserver --disable', ...commands.flatMap((c) => ['-c', c]), '-c', 'exit'];
  const totals = new Map<string, { label: string; total: string }>();
  const notesFromChecks = new Set<string>();
  // `dumpheap -type` must agree exactly; `-live` may differ where the tools' root sets differ (reported, not fatal).
  const checkTotal = (label: string, key: 'type' | 'live', stdout: string): void => {
    const match = /Total ([\d,]+) objects, ([\d,]+) bytes/.exec(stdout);
    if (match === null) throw new Error(`${label} printed no "Total N objects, M bytes" line:\n${tail(stdout)}`);
    const total = `${match[1]} objects, ${match[2]} bytes`;
    const first = totals.get(key);
    if (first === undefined) totals.set(key, { label, total });
    else if (first.total !== total) {
      if (key === 'type') throw new AnswerMismatchError(`${first.label} and ${label}`, [`${first.total} ≠ ${total}`]);
      notesFromChecks.add(`${first.label}: ${first.total}; ${label}: ${total} (the tools' root sets differ)`);
    } else if (first.label !== label) agreement.add(`${label}: Total ${total}, as ${first.label}`);
  };
  const gcrootFound = new Map<string, string>();
  const checkGcroot = (label: string, stdout: string): void => {
    const found = [...stdout.matchAll(/Found (\d+) unique roots/g)].map((m) => m[1]!);
    if (found.length !== targets.length) throw new Error(`${label} answered ${found.length} of ${targets.length} gcroot commands:\n${tail(stdout)}`);
    gcrootFound.set(label, found.join(','));
    const [a, b] = [...gcrootFound.entries()];
    if (a !== undefined && b !== undefined) {
      if (a[1] === b[1]) agreement.add(`${b[0]}: the same number of unique roots as ${a[0]} for each of the ${targets.length} objects`);
      else notesFromChecks.add(`gcroot: ${a[0]} and ${b[0]} found different root counts for some objects (${a[1].split(',').filter((x, k) => x !== b[1].split(',')[k]).length} of ${targets.length})`);
    }
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
      command: 'clrthreads',
      question: 'threads',
      argv: [process.execPath, cli, dumpPath, 'clrthreads'],
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
      id: 'dumpsleuth-dumpheap-type',
      tool: 'dumpsleuth',
      command: `dumpheap -type ${types.rare}`,
      question: 'type',
      argv: [process.execPath, cli, dumpPath, 'dumpheap', '-type', types.rare],
      check: (run) => checkTotal('dumpsleuth dumpheap -type', 'type', run.stdout),
    },
    {
      id: 'dotnet-dump-dumpheap-type',
      tool: 'dotnet-dump (SOS)',
      command: `dumpheap -type ${types.rare}`,
      question: 'type',
      argv: sos(`dumpheap -type ${types.rare}`),
      env: dotnetEnv,
      check: (run) => {
        checkSosRun(run);
        checkTotal('dotnet-dump dumpheap -type', 'type', run.stdout);
      },
    },
    {
      id: 'dumpsleuth-gcroot',
      tool: 'dumpsleuth',
      command: `gcroot × ${targets.length} (one session, prompt on stdin)`,
      question: 'gcroot',
      argv: [process.execPath, cli, dumpPath],
      stdin: `${targets.map((a) => `gcroot ${a}`).join('\n')}\nexit\n`,
      check: (run) => checkGcroot('dumpsleuth gcroot', run.stdout),
    },
    {
      id: 'dumpsleuth-gcroot-one',
      tool: 'dumpsleuth',
      command: 'gcroot (one object: graph, reverse index, roots, search)',
      question: 'gcroot',
      argv: [process.execPath, cli, dumpPath, 'gcroot', targets[0]!],
      check: (run) => {
        if (!/Found \d+ unique roots/.test(run.stdout)) throw new Error(`dumpsleuth gcroot ${targets[0]!} printed no "Found N unique roots":\n${tail(run.stdout)}`);
      },
    },
    {
      id: 'dotnet-dump-gcroot',
      tool: 'dotnet-dump (SOS)',
      command: `gcroot × ${targets.length} (one process, -c each)`,
      question: 'gcroot',
      argv: sosMany(targets.map((a) => `gcroot ${a}`)),
      env: dotnetEnv,
      check: (run) => {
        checkSosRun(run);
        checkGcroot('dotnet-dump gcroot', run.stdout);
      },
    },
    {
      id: 'dumpsleuth-live',
      tool: 'dumpsleuth',
      command: 'dumpheap -live -stat',
      question: 'live',
      argv: [process.execPath, cli, dumpPath, 'dumpheap', '-live', '-stat'],
      check: (run) => checkTotal('dumpsleuth dumpheap -live -stat', 'live', run.stdout),
    },
    {
      id: 'dotnet-dump-live',
      tool: 'dotnet-dump (SOS)',
      command: 'dumpheap -live -stat',
      question: 'live',
      argv: sos('dumpheap -live -stat'),
      env: dotnetEnv,
      check: (run) => {
        checkSosRun(run);
        checkTotal('dotnet-dump dumpheap -live -stat', 'live', run.stdout);
      },
    },
    {
      id: 'dumpsleuth-dominators',
      tool: 'dumpsleuth',
      command: 'dominators (graph, roots, dominator tree, retained sizes)',
      question: 'dominators',
      argv: [process.execPath, cli, dumpPath, 'dominators'],
      check: () => undefined,
    },
    {
      id: 'dumpsleuth-analyze',
      tool: 'dumpsleuth',
      command: 'analyze (all leak rules)',
      question: 'dominators',
      argv: [process.execPath, cli, dumpPath, 'analyze'],
      check: () => undefined,
    },
    {
      id: 'dumpsleuth-info',
      tool: 'dumpsleuth',
      command: 'info (first answer)',
      question: 'first',
      argv: [process.execPath, cli, dumpPath, 'info'],
      check: () => undefined,
    },
    // Hangs (issue 12): the async chains and the merged stacks, each checked line for line against dotnet-dump's.
    ...(['dumpasync', 'parallelstacks'] as const).flatMap((command): BenchCase[] => {
      const question = command === 'dumpasync' ? 'dumpasync' : 'pstacks';
      const answers = new Map<string, string>();
      const agree = (tool: string, stdout: string) => {
        answers.set(tool, stdout.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '' && !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store')).join('\n'));
        const [a, b] = [...answers.values()];
        if (a !== undefined && b !== undefined) {
          if (a !== b) throw new AnswerMismatchError(`dumpsleuth ${command} and dotnet-dump ${command}`, firstDifference(a, b));
          agreement.add(`dotnet-dump ${command}: the same ${a.split('\n').length} lines as dumpsleuth ${command}${hangSummary(command, a)}`);
        }
      };
      return [
        {
          id: `dumpsleuth-${command}`,
          tool: 'dumpsleuth',
          command,
          question,
          argv: [process.execPath, cli, dumpPath, command],
          check: (run) => agree('dumpsleuth', run.stdout),
        },
        {
          id: `dotnet-dump-${command}`,
          tool: 'dotnet-dump (SOS)',
          command,
          question,
          argv: sos(command),
          env: dotnetEnv,
          check: (run) => {
            checkSosRun(run);
            agree('dotnet-dump', run.stdout);
          },
        },
      ];
    }),
    {
      id: 'node-startup',
      tool: 'baseline',
      command: 'node -e 0 (Node start-up)',
      question: 'baseline',
      argv: [process.execPath, '-e', '0'],
      check: () => undefined,
    },
    ...indexCases(cli, dumpPath, targets[0]!),
  ];

  if (options.hangs === true) {
    // Issue 12's rows only: the async chains and the merged stacks, and the Node start-up floor.
    const keep = new Set(['dumpsleuth-dumpasync', 'dotnet-dump-dumpasync', 'dumpsleuth-parallelstacks', 'dotnet-dump-parallelstacks', 'node-startup']);
    cases.splice(0, cases.length, ...cases.filter((c) => keep.has(c.id)));
  }

  if (options.interactive) {
    // Issue 16's rows only: the heap-sized questions (gcroot, -live, dominators, analyze) and ClrMD are left out.
    const keep = new Set(['dumpsleuth-dumpheap-stat', 'dotnet-dump-dumpheap-stat', 'dumpsleuth-threads', 'dotnet-dump-clrthreads', 'dumpsleuth-info', 'node-startup']);
    cases.splice(0, cases.length, ...cases.filter((c) => keep.has(c.id)));
    log('picking the single-object targets');
    const single = await pickSingleObjectTargets(cli, dumpPath, types.common);
    log(`single-object targets: ${JSON.stringify(single)}`);
    for (const command of singleObjectCommands(single)) {
      let mine: MeasuredRun | undefined;
      let theirs: MeasuredRun | undefined;
      // Each tool's run of a round is checked against the other's latest run of the same command.
      const both = (): void => {
        if (mine !== undefined && theirs !== undefined) {
          checkSingleObjectAnswers(command, mine, theirs);
          agreement.add(`${command.command}: dotnet-dump prints the same ${command.keys.length > 0 ? command.keys.join(', ') : 'target methods'}`);
        }
      };
      const id = command.command.split(' ')[0]!;
      cases.push(
        {
          id: `dumpsleuth-${id}`,
          tool: 'dumpsleuth',
          command: command.command,
          question: 'single',
          argv: [process.execPath, cli, dumpPath, ...command.command.split(' ')],
          check: (run) => {
            mine = run;
            both();
          },
        },
        {
          id: `dotnet-dump-${id}`,
          tool: 'dotnet-dump (SOS)',
          command: command.command,
          question: 'single',
          argv: sos(command.command),
          env: dotnetEnv,
          allowFailure: true,
          check: (run) => {
            checkSosRun(run);
            theirs = run;
            both();
          },
        },
      );
    }
  }

  const loadBefore = os.loadavg()[0]!;
  // Round-robin over the cases, so drift (thermal, page cache, neighbours) spreads over all tools alike.
  const timings = new Map<string, RunTiming[]>(cases.map((c) => [c.id, []]));
  const timedOut = new Set<string>();
  const failed = new Set<string>();
  const readRuns: RunTiming[] = [];
  let readBytes = 0;
  for (let round = 1; round <= options.repeat; round++) {
    for (const c of cases) {
      if (timedOut.has(c.id) || failed.has(c.id)) continue;
      let run: MeasuredRun;
      c.before?.();
      try {
        run = await measureProcess(c.argv[0]!, c.argv.slice(1), { env: c.env, cwd: repoRoot, stdin: c.stdin, timeoutMs: options.timeoutSeconds * 1000 });
      } catch (error) {
        if (!/timed out/.test((error as Error).message)) throw error;
        timedOut.add(c.id);
        log(`run ${round}/${options.repeat}: ${c.tool} ${c.command}: timed out after ${options.timeoutSeconds} s`);
        continue;
      }
      if (run.code !== 0 && c.allowFailure === true) {
        failed.add(c.id);
        const how = run.signal !== null ? `signal ${run.signal}` : `exit code ${run.code}`;
        notesFromChecks.add(`${c.tool} \`${c.command}\` failed (${how}) on this dump: no time and no answer to compare`);
        log(`run ${round}/${options.repeat}: ${c.tool} ${c.command}: failed (${how})`);
        continue;
      }
      requireSuccess(`${c.tool} ${c.command}`, run);
      c.check(run);
      timings.get(c.id)!.push({ wallMs: run.wallMs, peakRssBytes: run.peakRssBytes, ...(run.cpuMs !== undefined ? { cpuMs: run.cpuMs } : {}) });
      log(`run ${round}/${options.repeat}: ${c.tool} ${c.command}: ${(run.wallMs / 1000).toFixed(3)} s, ${(run.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    }
    const read = timeSequentialRead(dumpPath);
    readBytes = read.bytes;
    readRuns.push({ wallMs: read.wallMs });
    log(`run ${round}/${options.repeat}: read ${dumpPath} in 8 MiB chunks: ${(read.wallMs / 1000).toFixed(3)} s`);
  }

  const medianOf = (id: string): number => {
    const runs = timings.get(id) ?? [];
    return runs.length > 0 ? median(runs.map((t) => t.wallMs)) : NaN;
  };
  const reference: Record<Question, number> = {
    heap: medianOf('dumpsleuth-dumpheap-stat'),
    type: medianOf('dumpsleuth-dumpheap-type'),
    gcroot: medianOf('dumpsleuth-gcroot'),
    live: medianOf('dumpsleuth-live'),
    dominators: medianOf('dumpsleuth-dominators'),
    first: medianOf('dumpsleuth-threads'),
    threads: medianOf('dumpsleuth-threads'),
    baseline: medianOf('dumpsleuth-dumpheap-stat'),
    dumpasync: medianOf('dumpsleuth-dumpasync'),
    pstacks: medianOf('dumpsleuth-parallelstacks'),
    single: NaN,
  };
  const results: CaseResult[] = cases.map((c) => {
    const runs = timings.get(c.id)!;
    const medianWallMs = runs.length > 0 ? median(runs.map((r) => r.wallMs)) : NaN;
    const walks = c.question === 'heap' || c.question === 'type' || c.question === 'live' || c.question === 'dominators';
    return {
      id: c.id,
      tool: c.tool,
      command: c.command,
      question: c.question,
      argv: c.argv,
      runs,
      medianWallMs,
      ...(runs.length > 0 && runs.every((r) => r.cpuMs !== undefined) ? { medianCpuMs: median(runs.map((r) => r.cpuMs!)) } : {}),
      peakRssBytes: Math.max(0, ...runs.map((r) => r.peakRssBytes ?? 0)),
      ratioVsDumpsleuth: medianWallMs / (c.question === 'single' ? medianOf(`dumpsleuth-${c.command.split(' ')[0]!}`) : reference[c.question]),
      objectsPerSecond: walks && runs.length > 0 ? heapReference.totalCount / (medianWallMs / 1000) : undefined,
      ...(timedOut.has(c.id) ? { timedOut: true } : {}),
      ...(failed.has(c.id) ? { failed: true } : {}),
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

  const profiled = options.interactive ? cases.find((c) => c.id === 'dumpsleuth-dumpobj')!.command.split(' ') : ['dumpheap', '-stat'];
  const profile = options.profile ? await profileCommand(cli, dumpPath, repoRoot, profiled) : undefined;
  const startup = medianOf('node-startup');
  const heapReadMs = (heapReference.totalSize / readBytes) * readMedian;
  const notes = [
    // (No dumpheap -stat row with --hangs.)
    ...(Number.isNaN(reference.heap) ? [] : [`dumpsleuth dumpheap -stat takes ${(reference.heap / readMedian).toFixed(2)}× the warm read of the whole dump file (${(reference.heap / heapReadMs).toFixed(2)}× the time to read just the heap's ${(heapReference.totalSize / 2 ** 20).toFixed(0)} MiB of objects at that rate; ${((reference.heap - startup) / heapReadMs).toFixed(2)}× after subtracting Node start-up).`]),
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
  notes.push(...notesFromChecks);
  if (caCertsNote !== undefined) notes.push(caCertsNote);
  if (!options.interactive && options.hangs !== true) {
    notes.push(
      `gcroot targets: ${targets.length} \`${types.common}\` objects spread evenly over the heap; dumpsleuth answers them at one prompt (stdin), dotnet-dump in one process with one -c per object.`,
      'dominators/analyze have no SOS or ClrMD equivalent (neither computes dominators): absolute time and peak bytes per object only; analyze includes every leak rule (the rules engineers\' code), dominators only the graph, roots, dominator tree and retained sizes.',
    );
  }
  const targetResults = [...issueTargets(results, heapReference.totalCount, heapReadMs, dumpSize), ...interactiveTargets(results, startup + heapReadMs)];
  if (jsonWarnings.length > 0) notes.push(`dumpsleuth warned: ${jsonWarnings.map(String).join('; ')}`);
  notes.push(...indexSizeNotes());

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
    targets: targetResults,
    notes,
  };
  process.stdout.write(`${formatBenchMarkdown(report)}\n`);
  const outDir = path.join(cacheRoot(), 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const outPath = path.join(outDir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${outPath}\n`);
  if (!options.interactive && options.hangs !== true) {
    const dead = await benchDeadThreadsGcroot(cli, options.repeat);
    process.stdout.write(`\n${formatDeadThreadsGcroot(dead)}\n`);
    const diffLarge = await benchDiffLarge(cli, options.repeat, options.timeoutSeconds, log);
    process.stdout.write(`\n${formatDiffLarge(diffLarge)}\n`);
  }
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
  const free = fs.statfsSync(cacheRoot());
  log(`capturing (or reusing the cached) heap dump of "${options.scenario} ${options.objects}" (${((free.bavail * free.bsize) / 2 ** 30).toFixed(0)} GiB free)`);
  const captured = await captureDump({ scenario: options.scenario, args: [String(options.objects)], dumpType: 'heap', readyTimeoutMs: 20 * 60_000 });
  log(`${captured.cached ? 'cached' : 'captured'} ${captured.dumpPath} (${(captured.sizeBytes / 2 ** 20).toFixed(0)} MiB)`);
  return { dumpPath: captured.dumpPath, captured };
}

function describeCapture(c: CapturedDump): string {
  return `\`${[c.scenario, ...c.args].join(' ')}\` (${c.dumpType} dump, ${c.serverGc ? 'server' : 'workstation'} GC)`;
}

async function profileCommand(cli: string, dumpPath: string, repoRoot: string, command: readonly string[]): Promise<ReturnType<typeof summarizeCpuProfile>> {
  const dir = path.join(cacheRoot(), 'bench', 'profiles', `${command[0]!}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  log(`profiling dumpsleuth ${command.join(' ')} with node --cpu-prof into ${dir}`);
  const run = await measureProcess(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, cli, dumpPath, ...command], { cwd: repoRoot });
  requireSuccess(`dumpsleuth ${command.join(' ')} under --cpu-prof`, run);
  const profiles = fs.readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (profiles.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${profiles.length}`);
  return { ...summarizeCpuProfile(path.join(dir, profiles[0]!), repoRoot), command: command.join(' ') };
}

/** `count` addresses of `type` objects spread evenly over the heap (from dumpsleuth's `dumpheap -short -type`). */
async function pickObjects(cli: string, dumpPath: string, type: string, count: number): Promise<string[]> {
  const run = await measureProcess(process.execPath, [cli, dumpPath, 'dumpheap', '-short', '-type', type]);
  requireSuccess(`dumpsleuth dumpheap -short -type ${type}`, run);
  const all = run.stdout.split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f]+$/i.test(l));
  if (all.length === 0) throw new Error(`no ${type} objects on the heap`);
  const step = all.length / Math.min(count, all.length);
  return Array.from({ length: Math.min(count, all.length) }, (_, k) => `0x${all[Math.floor(k * step)]!}`);
}

/** The issue-7 targets, each measured from this run's medians (dumpsleuth rows). */
function issueTargets(results: readonly CaseResult[], objects: number, heapReadMs: number, dumpSize: number): TargetResult[] {
  const row = (id: string): CaseResult | undefined => results.find((r) => r.id === id);
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const out: TargetResult[] = [];
  const stat = row('dumpsleuth-dumpheap-stat');
  const sosStat = row('dotnet-dump-dumpheap-stat');
  if (stat && sosStat && !sosStat.timedOut) {
    const ratio = sosStat.medianWallMs / stat.medianWallMs;
    out.push({ target: 'dumpheap -stat ≥ 5× faster than dotnet-dump', measured: `${ratio.toFixed(1)}× (${s(stat.medianWallMs)} vs ${s(sosStat.medianWallMs)})`, met: ratio >= 5 });
  }
  if (stat) {
    const ratio = stat.medianWallMs / heapReadMs;
    out.push({ target: 'dumpheap -stat within 2× of reading the heap bytes', measured: `${ratio.toFixed(2)}× (${s(stat.medianWallMs)} vs ${s(heapReadMs)} warm read)`, met: ratio <= 2 });
  }
  const first = [row('dumpsleuth-info'), row('dumpsleuth-threads')].filter((r): r is CaseResult => r !== undefined && !r.timedOut);
  if (first.length > 0) {
    const best = Math.max(...first.map((r) => r.medianWallMs));
    out.push({ target: `first answer (info, threads) < 1 s (dump ${(dumpSize / 2 ** 30).toFixed(2)} GiB)`, measured: first.map((r) => `${r.command.split(' ')[0]} ${s(r.medianWallMs)}`).join(', '), met: best < 1000 });
  }
  const gc = row('dumpsleuth-gcroot-one');
  if (gc && !gc.timedOut) {
    out.push({ target: `gcroot for one object < 5 s incl. index (${(objects / 1e6).toFixed(1)} M objects)`, measured: `${s(gc.medianWallMs)} (whole process: open, graph, reverse index, roots, search)`, met: gc.medianWallMs < 5000 });
  }
  const live = row('dumpsleuth-live');
  if (live && !live.timedOut) out.push({ target: 'all-roots mark (dumpheap -live -stat) < 20 s', measured: s(live.medianWallMs), met: live.medianWallMs < 20_000 });
  const dom = row('dumpsleuth-dominators');
  if (dom && !dom.timedOut) {
    const perObject = (dom.peakRssBytes ?? 0) / objects;
    out.push({ target: 'dominators < 60 s', measured: `${s(dom.medianWallMs)} (${(objects / 1e6).toFixed(1)} M objects)`, met: dom.medianWallMs < 60_000 });
    out.push({ target: 'dominators ≤ 64 bytes/object peak', measured: `${perObject.toFixed(1)} B/object (peak RSS ${((dom.peakRssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB, process included)`, met: perObject <= 64 });
  }
  const an = row('dumpsleuth-analyze');
  if (an && !an.timedOut) {
    const perObject = (an.peakRssBytes ?? 0) / objects;
    out.push({ target: 'analyze ≤ 64 bytes/object peak (goal)', measured: `${perObject.toFixed(1)} B/object, ${s(an.medianWallMs)}`, met: perObject <= 64 });
  }
  if (stat) out.push({ target: 'dumpheap -stat peak memory independent of dump size', measured: `${((stat.peakRssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB (compare across the many/large runs)`, met: (stat.peakRssBytes ?? 0) < 256 * 2 ** 20 });
  return out;
}

/** Issue 16's targets: single-object answers, the first answers, dumpheap -stat against dotnet-dump and the floor
 * (Node start-up + reading the heap's bytes from the page cache, both measured in this run). */
function interactiveTargets(results: readonly CaseResult[], floorMs: number): TargetResult[] {
  const out: TargetResult[] = [];
  const s = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
  const mib = (b: number | undefined): string => `${((b ?? 0) / 2 ** 20).toFixed(0)} MiB`;
  for (const mine of results.filter((r) => r.question === 'single' && r.tool === 'dumpsleuth')) {
    const theirs = results.find((r) => r.question === 'single' && r.tool !== 'dumpsleuth' && r.command === mine.command);
    if (theirs === undefined || mine.timedOut || theirs.timedOut || theirs.failed) {
      if (theirs?.failed === true && !mine.timedOut) out.push({ target: `${mine.command.split(' ')[0]!} ≤ 0.25 s (dotnet-dump failed here)`, measured: s(mine.medianWallMs), met: mine.medianWallMs <= 250 });
      continue;
    }
    const ratio = mine.medianWallMs / theirs.medianWallMs;
    const name = mine.command.split(' ')[0]!;
    out.push({ target: `${name} ≤ 0.25 s and ≤ 0.4× dotnet-dump`, measured: `${s(mine.medianWallMs)}, ${ratio.toFixed(2)}× (dotnet-dump ${s(theirs.medianWallMs)})`, met: mine.medianWallMs <= 250 && ratio <= 0.4 });
    out.push({ target: `${name} peak RSS ≤ dotnet-dump's`, measured: `${mib(mine.peakRssBytes)} vs ${mib(theirs.peakRssBytes)}`, met: (mine.peakRssBytes ?? Infinity) <= (theirs.peakRssBytes ?? 0) });
  }
  for (const id of ['dumpsleuth-info', 'dumpsleuth-threads']) {
    const r = results.find((x) => x.id === id);
    if (r !== undefined && !r.timedOut && results.some((x) => x.question === 'single')) out.push({ target: `${r.command.split(' ')[0]!} ≤ 0.2 s`, measured: s(r.medianWallMs), met: r.medianWallMs <= 200 });
  }
  const stat = results.find((r) => r.id === 'dumpsleuth-dumpheap-stat');
  if (stat !== undefined && !stat.timedOut && Number.isFinite(floorMs)) {
    const ratio = stat.medianWallMs / floorMs;
    out.push({ target: 'dumpheap -stat within 2× of the floor (Node start-up + reading the heap bytes)', measured: `${ratio.toFixed(2)}× (${s(stat.medianWallMs)} vs ${s(floorMs)})`, met: ratio <= 2 });
  }
  return out;
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

/** The first line where two outputs differ, both sides shown (for a mismatch report). */
function firstDifference(a: string, b: string): string[] {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return [`line ${i + 1}: dumpsleuth ${JSON.stringify(x[i] ?? '(end)')}`, `line ${i + 1}: dotnet-dump ${JSON.stringify(y[i] ?? '(end)')}`];
  }
  return ['the outputs differ'];
}

/** What an agreed hang answer holds: dumpasync's state machines, parallelstacks' threads. */
function hangSummary(command: 'dumpasync' | 'parallelstacks', text: string): string {
  if (command === 'dumpasync') {
    const boxes = text.split('\n').filter((l) => /^\s*[0-9a-f]{16} [0-9a-f]{16} \(/.test(l)).length;
    return ` (${boxes} task/state machine rows in ${(text.match(/^STACK \d+$/gm) ?? []).length} stacks)`;
  }
  const threads = new Set([...text.matchAll(/^\s*~~~~ (.+)$/gm)].flatMap((m) => m[1]!.split(',').map((t) => t.trim())));
  return ` (${threads.size} thread ids on the ~~~~ lines)`;
}
