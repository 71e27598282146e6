import { captureCrashDump, captureDump, captureDumpPair, type CapturedDump, type CapturedDumpPair, type DumpType } from '../../src/capture';

/** Which dump of a scenario a test wants. */
export interface DumpRequest {
  /** Default 'heap'. */
  readonly dumpType?: DumpType;
  /** Default false (workstation GC). */
  readonly serverGc?: boolean;
  /** Server GC only: keep DATAS on (one heap at start); default false (one heap per core). */
  readonly datas?: boolean;
  readonly args?: readonly string[];
  /** Run on this runtime pack, published self-contained (test/support/extra-runtime-dumps.ts); default the SDK's runtime. */
  readonly runtimePack?: string;
  readonly publishKind?: 'self-contained' | 'single-file';
}

/** The small N of the `many` scenario in the standard (test) dump set. */
export const MANY_TEST_COUNT = 200_000;

/** One entry of the standard dump set. */
export interface StandardDump {
  readonly scenario: string;
  readonly args: readonly string[];
  readonly dumpType: DumpType;
  readonly serverGc: boolean;
}

/** The dumps the tests use, captured together by `prepareAll()`. */
export const STANDARD_DUMPS: readonly StandardDump[] = [
  ...['seed-apm', 'seed-apm-overlapped', 'types'].flatMap((scenario) =>
    (['heap', 'full'] as const).flatMap((dumpType) => [false, true].map((serverGc) => ({ scenario, args: [], dumpType, serverGc }))),
  ),
  { scenario: 'many', args: [String(MANY_TEST_COUNT)], dumpType: 'heap', serverGc: false },
  // The leak rules' scenarios (test/debuggees/Leaks*.cs) and, in one process, their no-leak controls.
  ...['leak-event', 'leak-timer', 'leak-pinned', 'leak-cache', 'leak-finalizer', 'leak-tcs', 'leak-controls'].map((scenario) => ({ scenario, args: [], dumpType: 'heap' as const, serverGc: false })),
  { scenario: 'leak-finalizer', args: [], dumpType: 'heap', serverGc: true },
  // Hangs (test/debuggees/Hang.cs): one process holds every hang shape; a heap dump and a full server-GC one.
  { scenario: 'hang', args: [], dumpType: 'heap', serverGc: false },
  { scenario: 'hang', args: [], dumpType: 'full', serverGc: true },
  // Every pool worker blocked with work in its local queue (test/debuggees/HangPool.cs): threadpool -wi's local queues.
  { scenario: 'hang-pool', args: [], dumpType: 'heap', serverGc: false },
  { scenario: 'hang-pool', args: [], dumpType: 'full', serverGc: true },
];

/** The scenario that dies of an unhandled exception (test/debuggees/Crash.cs); not in STANDARD_DUMPS, whose
 * commands assume a live process's dump. */
export const CRASH_SCENARIO = 'crash';

const memo = new Map<string, Promise<CapturedDump>>();

/** Returns the (cached, else freshly captured) dump of a debuggee scenario, memoized per process; throws CaptureError when it cannot be made. */
export function getDump(scenario: string, request: DumpRequest = {}): Promise<CapturedDump> {
  const options = {
    scenario,
    args: request.args ?? [],
    dumpType: request.dumpType ?? 'heap',
    serverGc: request.serverGc ?? false,
    datas: request.datas ?? false,
    ...(request.runtimePack === undefined ? {} : { runtimePack: request.runtimePack, publishKind: request.publishKind ?? 'self-contained' }),
  };
  const key = JSON.stringify(options);
  let promise = memo.get(key);
  if (promise === undefined) {
    // The crash scenario is dumped by the runtime itself when it dies (heap dump, workstation GC).
    promise = scenario === CRASH_SCENARIO ? captureCrashDump({ scenario, args: options.args }) : captureDump(options);
    memo.set(key, promise);
    promise.catch(() => memo.delete(key));
  }
  return promise;
}

/** The two-phase scenarios dumped twice from one process (issue 13's diff), captured by `prepareAll()`. */
export const STANDARD_DUMP_PAIRS: readonly string[] = ['grow', 'grow-churn'];

const pairMemo = new Map<string, Promise<CapturedDumpPair>>();

/** Returns the (cached, else freshly captured) pair of heap dumps of a two-phase scenario; throws CaptureError. */
export function getDumpPair(scenario: string): Promise<CapturedDumpPair> {
  let promise = pairMemo.get(scenario);
  if (promise === undefined) {
    promise = captureDumpPair({ scenario, dumpType: 'heap' });
    pairMemo.set(scenario, promise);
    promise.catch(() => pairMemo.delete(scenario));
  }
  return promise;
}
