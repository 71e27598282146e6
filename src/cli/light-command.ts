/**
 * V8 settings for a process that runs one short command (`dumpobj`, `dumpmt`, `clrthreads`...): peak RSS, not time,
 * is what such a process could still lose to dotnet-dump (issue 16). Measured on the bench's heap dumps, the first
 * TurboFan compilation alone adds ~4 MiB of peak RSS (the optimizing compiler's own code pages and zones) and a short
 * command gains nothing from optimized code; the young generation doubling its semi-space adds ~3 MiB more.
 *
 * So bin/dumpsleuth.js starts every process with TurboFan off and the semi-space kept small (before the bundle loads:
 * loading runs hot loops of its own), and `main` keeps that only for a light command: any other command, the prompt,
 * diff, demo and mcp get V8's defaults at once. A light command that meets long work after all (a heap walk's first
 * safe point, a big array) gets full speed from there on. A node flag of the user's own for these settings wins: then
 * nothing is changed.
 */
import * as v8 from 'node:v8';
import { setCancellationSource } from '../heap/walk-progress';

/** Commands whose work is bounded by one object, one type or method, or one small runtime table. */
const LIGHT_COMMANDS: ReadonlySet<string> = new Set([
  'dumpobj', 'do', 'dumpmt', 'dumpmd', 'ip2md', 'dumpdelegate', 'dumparray', 'dumpvc', 'gcwhere',
  'info', 'eeversion', 'clrthreads', 'threads', 'dumpclass', 'dumpmodule',
]);

/** The flags of the light settings (also in bin/dumpsleuth.js, which applies them first) and V8's defaults in Node 20. */
export const LIGHT_V8_FLAGS: readonly string[] = ['--no-turbofan', '--semi-space-growth-factor=1'];
const DEFAULT_V8_FLAGS: readonly string[] = ['--turbofan', '--semi-space-growth-factor=2'];

let light = false;

/** True when `name` (a command name or alias, any case, WinDbg's `!` allowed) is a light command. */
export function isLightCommand(name: string): boolean {
  return LIGHT_COMMANDS.has(name.replace(/^!/, '').toLowerCase());
}

/**
 * Chooses the V8 settings for the command line `words` (global options removed): light for `<dump> <light command>`
 * and for help and --version, V8's defaults for everything else. Returns what restores V8's defaults afterwards
 * (bin/dumpsleuth.js sets its own flags again before it saves the code cache, which V8 keys by the flags in force).
 */
export function enterV8Mode(words: readonly string[]): () => void {
  if (userGaveV8Flags()) return () => undefined;
  const [first, second] = words;
  const isLight = first === undefined || ['help', '--help', '-h', '--version'].includes(first) || (!['diff', 'demo', 'mcp'].includes(first) && second !== undefined && isLightCommand(second));
  if (!isLight) {
    setFlags(DEFAULT_V8_FLAGS);
    return () => undefined;
  }
  light = true;
  setFlags(LIGHT_V8_FLAGS);
  // A heap walk asks this at its safe points: the first one means the command walks after all, so full speed.
  setCancellationSource(() => {
    fullSpeed();
    return false;
  });
  return fullSpeed;
}

/** Back to V8's defaults (TurboFan on): for long work found inside a light command. A no-op otherwise. */
export function fullSpeed(): void {
  if (!light) return;
  light = false;
  setCancellationSource(undefined);
  setFlags(DEFAULT_V8_FLAGS);
}

function setFlags(flags: readonly string[]): void {
  for (const f of flags) v8.setFlagsFromString(f);
}

/** True when node was started with flags of its own for what the light settings change. */
export function userGaveV8Flags(): boolean {
  return /--(no-)?(turbofan|opt\b|semi-space|max-opt)/.test([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' '));
}
