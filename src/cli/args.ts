/**
 * A small option parser for SOS-style command arguments (`-stat`, `-type Foo`, `-mt 7f12...`).
 */
import { UsageError } from '../errors';
import { parseAddress } from './format';

/** Parsed options: flags present, option values, and the remaining positional words. */
export interface ParsedArgs {
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
  readonly positional: readonly string[];
}

/** Parses `args` given which options are flags and which take a value. Option names are case-insensitive,
 * as in SOS. @throws UsageError for an unknown option or a missing value. */
export function parseArgs(command: string, args: readonly string[], flags: readonly string[], valued: readonly string[]): ParsedArgs {
  const f = new Set<string>();
  const v = new Map<string, string>();
  const pos: string[] = [];
  const flagSet = new Set(flags.map((x) => x.toLowerCase()));
  const valSet = new Set(valued.map((x) => x.toLowerCase()));
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const name = a.replace(/^--?/, '').toLowerCase();
      if (flagSet.has(name)) f.add(name);
      else if (valSet.has(name)) {
        const val = args[++i];
        if (val === undefined) throw new UsageError(`${command}: option -${name} needs a value`);
        v.set(name, val);
      } else throw new UsageError(`${command}: unknown option ${a}`);
    } else pos.push(a);
  }
  return { flags: f, values: v, positional: pos };
}

/** Parses an address argument. @throws UsageError when it is not hex. */
export function addressArg(command: string, text: string | undefined, what = 'address'): number {
  if (text === undefined) throw new UsageError(`${command}: missing ${what}`);
  const a = parseAddress(text);
  if (a === undefined) throw new UsageError(`${command}: "${text}" is not a hex ${what}`);
  return a;
}

/** Parses a decimal size or count argument (SOS accepts hex with 0x). @throws UsageError. */
export function numberArg(command: string, text: string, what: string): number {
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? parseInt(text, 10) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${command}: "${text}" is not a valid ${what}`);
  return n;
}
