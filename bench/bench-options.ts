// The command line of `npm run bench -- [options]`.

/** What the bench was asked to do. */
export interface BenchOptions {
  /** N for the `many` debuggee scenario (ignored with `dump`). */
  readonly objects: number;
  /** An existing dump to use instead of capturing one. */
  readonly dump?: string;
  /** Timed runs per command; the median is reported. */
  readonly repeat: number;
  /** Also run dumpsleuth's dumpheap -stat once under `node --cpu-prof` and summarize it. */
  readonly profile: boolean;
  readonly help: boolean;
}

/** The usage text printed by `--help` and after a bad option. */
export const BENCH_USAGE = `usage: npm run bench -- [--objects N] [--dump PATH] [--repeat R] [--profile]
  --objects N   objects for the "many" debuggee heap dump (default 5000000; captured once, then cached)
  --dump PATH   time an existing dump instead of capturing one
  --repeat R    timed runs per command, median reported (default 3)
  --profile     also profile dumpsleuth's dumpheap -stat once with node --cpu-prof and list the top self-time functions`;

/** Parses the bench's arguments; throws an Error naming the bad option. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let objects = 5_000_000;
  let dump: string | undefined;
  let repeat = 3;
  let profile = false;
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
      case '--dump':
        dump = value();
        break;
      case '--repeat':
        repeat = positiveInteger(arg, value());
        break;
      case '--profile':
        profile = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}`);
    }
  }
  return { objects, dump, repeat, profile, help };
}

function positiveInteger(option: string, text: string): number {
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${option} needs a positive integer, not ${JSON.stringify(text)}`);
  return value;
}
