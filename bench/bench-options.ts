// The command line of `npm run bench -- [options]`.

/** The debuggee scenarios the bench can capture. */
export type BenchScenario = 'many' | 'large' | 'linked';

/** What the bench was asked to do. */
export interface BenchOptions {
  /** Which debuggee to dump (ignored with `dump`, except to pick the types the commands ask about). */
  readonly scenario: BenchScenario;
  /** N for the debuggee scenario (ignored with `dump`). */
  readonly objects: number;
  /** Objects whose roots `gcroot` looks for, in one session. */
  readonly gcroots: number;
  /** Per-process time limit, seconds (a tool that takes longer is reported as timed out). */
  readonly timeoutSeconds: number;
  /** An existing dump to use instead of capturing one. */
  readonly dump?: string;
  /** Timed runs per command; the median is reported. */
  readonly repeat: number;
  /** Also run dumpsleuth's dumpheap -stat once under `node --cpu-prof` and summarize it. */
  readonly profile: boolean;
  /** Only the interactive-speed rows (issue 16): single-object commands, info, clrthreads, dumpheap -stat and the floor. */
  readonly interactive: boolean;
  /** Only the hang rows (issue 12): dumpasync and parallelstacks against dotnet-dump, answers checked equal. */
  readonly hangs?: boolean;
  /** The type whose objects the object commands read (for a --dump that is not a bench scenario's). */
  readonly commonType?: string;
  /** Keep NODE_EXTRA_CA_CERTS for the timed processes (the bench clears it: see node-start-env.ts). */
  readonly keepNodeExtraCaCerts?: boolean;
  readonly help: boolean;
}

/** The usage text printed by `--help` and after a bad option. */
export const BENCH_USAGE = `usage: npm run bench -- [--scenario many|large] [--objects N] [--dump PATH] [--repeat R] [--gcroots K] [--timeout S] [--profile]
  --scenario S  debuggee to dump: many (small objects), large (service-shaped heap, ~2 GB at 22000000) or linked (small
                linked objects with strings in 4096-slot arrays, ~370 MB at 6000000: issue 16's shape); default many
  --objects N   objects for the debuggee heap dump (default 5000000 for many, 22000000 for large, 6000000 for linked;
                captured once, cached)
  --gcroots K   gcroot this many objects in one session of each tool (default 100)
  --timeout S   give up on one process after S seconds (default 1800)
  --dump PATH   time an existing dump instead of capturing one
  --repeat R    timed runs per command, median reported (default 3)
  --profile     also profile dumpsleuth's dumpheap -stat once with node --cpu-prof and list the top self-time functions
  --interactive only the interactive-speed rows: single-object commands (dumpobj, dumpmt, dumparray, dumpdelegate,
                ip2md, dumpmd), info, clrthreads and dumpheap -stat against dotnet-dump, and the floor (Node start-up,
                reading the heap's bytes); with --profile, profiles dumpobj instead of dumpheap -stat
  --hangs       only the hang rows: dumpasync and parallelstacks against dotnet-dump (outputs checked equal line for
                line) and the Node start-up floor, on the scenario's dump or --dump
  --common-type T  the type whose objects dumpobj and gcroot read (default: the scenario's; needed with a --dump of
                another program, e.g. System.String)
  --keep-node-extra-ca-certs  time every process with NODE_EXTRA_CA_CERTS as set (by default the bench clears it:
                Node parses that bundle at every start, and neither tool needs it)`;

/** Parses the bench's arguments; throws an Error naming the bad option. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let scenario: BenchScenario = 'many';
  let objects: number | undefined;
  let gcroots = 100;
  let timeoutSeconds = 1800;
  let dump: string | undefined;
  let repeat = 3;
  let profile = false;
  let interactive = false;
  let commonType: string | undefined;
  let hangs = false;
  let keepNodeExtraCaCerts = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    switch (arg) {
      case '--objects':
        objects = positiveInteger(arg, value());
        break;
      case '--scenario': {
        const v = value();
        if (v !== 'many' && v !== 'large' && v !== 'linked') throw new Error(`--scenario must be many, large or linked, not ${JSON.stringify(v)}`);
        scenario = v;
        break;
      }
      case '--gcroots':
        gcroots = positiveInteger(arg, value());
        break;
      case '--timeout':
        timeoutSeconds = positiveInteger(arg, value());
        break;
      case '--dump':
        dump = value();
        break;
      case '--repeat':
        repeat = positiveInteger(arg, value());
        break;
      case '--profile':
        profile = true;
        break;
      case '--interactive':
        interactive = true;
        break;
      case '--hangs':
        hangs = true;
        break;
      case '--common-type':
        commonType = value();
        break;
      case '--keep-node-extra-ca-certs':
        keepNodeExtraCaCerts = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return { scenario, objects: objects ?? (scenario === 'large' ? 22_000_000 : scenario === 'linked' ? 6_000_000 : 5_000_000), gcroots, timeoutSeconds, dump, repeat, profile, interactive, ...(hangs ? { hangs } : {}), ...(commonType !== undefined ? { commonType } : {}), ...(keepNodeExtraCaCerts ? { keepNodeExtraCaCerts } : {}), help };
}

function positiveInteger(option: string, text: string): number {
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${option} needs a positive integer, not ${JSON.stringify(text)}`);
  return value;
}
