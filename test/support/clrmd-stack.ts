import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDotnetProject, CaptureError, findDotnet, findRepoRoot, hashKey, runProcess, tail, type BuiltProject } from '../../src/capture';
import assert from 'node:assert/strict';
import type { StackRoot, StackRootsResult } from '../../src/runtime/code/stack-roots';
import { readOracleCache, writeOracleCache } from './oracle-cache';

/** One stack root as the DAC reports it (IAbstractThreadHelpers.EnumerateStackRoots), hex strings for addresses. */
export interface ClrmdRawStackRoot {
  readonly ip: string;
  readonly sp: string;
  readonly internalFrame: string;
  /** The slot's address; "0x0" for a register. */
  readonly address: string;
  /** The slot's raw value. */
  readonly object: string;
  readonly interior: boolean;
  readonly pinned: boolean;
  readonly register: string | null;
  readonly registerOffset: number;
  readonly methodDesc: string;
  readonly method: string | null;
}

/** One stack root as ClrThread.EnumerateStackRoots reports it (interior pointers resolved to their object). */
export interface ClrmdResolvedStackRoot {
  readonly address: string;
  readonly object: string;
  readonly interior: boolean;
  readonly pinned: boolean;
  readonly register: string | null;
  readonly frameSp: string;
  readonly frameIp: string;
}

/** The oracle's answer: every live managed thread's stack roots. */
export interface ClrmdStackRoots {
  readonly threads: readonly { readonly osId: number; readonly managedId: number; readonly raw: readonly ClrmdRawStackRoot[]; readonly resolved: readonly ClrmdResolvedStackRoot[] }[];
}

let built: Promise<BuiltProject> | undefined;

/** Builds the stack-root oracle (test/oracles/clrmd-stack) once per process; throws CaptureError on failure. */
export function buildClrmdStackOracle(): Promise<BuiltProject> {
  built ??= buildDotnetProject(path.join(findRepoRoot(), 'test', 'oracles', 'clrmd-stack'), 'ClrmdStackOracle').catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** Runs the stack-root oracle on a dump (cached next to the dump); throws CaptureError when it fails. */
export async function runClrmdStackRoots(dumpPath: string): Promise<ClrmdStackRoots> {
  const oracle = await buildClrmdStackOracle();
  const name = `clrmd-stack-roots-${hashKey({ oracle: oracle.sourceHash }).slice(0, 20)}.json`;
  const cached = readOracleCache(dumpPath, name);
  if (cached !== undefined) return JSON.parse(cached) as ClrmdStackRoots;
  if (!fs.existsSync(dumpPath)) throw new CaptureError(`dump ${dumpPath} does not exist`);
  const dotnet = await findDotnet();
  const result = await runProcess(dotnet, [oracle.assemblyPath, dumpPath], { timeoutMs: 15 * 60_000 });
  if (result.code !== 0) throw new CaptureError(`ClrMD stack-root oracle on ${dumpPath} failed (exit code ${result.code})`, tail(`${result.stderr}\n${result.stdout}`));
  const parsed = JSON.parse(result.stdout) as ClrmdStackRoots;
  writeOracleCache(dumpPath, name, result.stdout);
  return parsed;
}

/** The comparison key of one of dumpsleuth's stack roots: frame SP, slot (stack address or register name), value,
 * interior, pinned — the fields ClrMD's raw roots carry. */
export function stackRootKey(r: StackRoot): string {
  const hex = (n: number) => '0x' + n.toString(16);
  return [hex(r.frameSp), r.location.kind === 'stack' ? hex(r.location.address) : r.location.name, hex(r.value), r.interior, r.pinned].join('|');
}

/** The keys of ClrMD's raw roots of one thread, without the null slots the DAC reports (the GC skips them); a register
 * root has no address, so its register names it. */
export function clrmdStackRootKeys(raw: readonly ClrmdRawStackRoot[]): string[] {
  return raw
    .filter((r) => r.object !== '0x0')
    .map((r) => [r.sp, r.address === '0x0' ? r.register : r.address, r.object, r.interior, r.pinned].join('|'))
    .sort();
}

/** The slot addresses a walk handed to the conservative scan because a Frame's argument roots are not decoded. */
function inArgumentRange(result: StackRootsResult, slot: number): boolean {
  return result.undecoded.some((u) => u.reason.includes('argument roots') && slot >= u.spLow && (u.spHigh === undefined || slot < u.spHigh));
}

/**
 * Our precise roots of one thread against the DAC's raw ones: equal, except that a DAC root in the argument area of
 * a transition Frame (the prestub's, a stub dispatch's; reported by signature, which we leave to the conservative
 * scan and say so in `undecoded`) may be missing. Nothing else may be undecoded, and nothing may be extra.
 * Returns the slot addresses so excused, for the resolved-object comparison.
 */
export function assertStackRootsMatchClrmd(result: StackRootsResult, raw: readonly ClrmdRawStackRoot[], label: string): Set<string> {
  for (const u of result.undecoded) assert.ok(u.reason.includes('argument roots'), `${label}: only a Frame's argument area may be undecoded (${u.reason})`);
  const ours = result.roots.map(stackRootKey).sort();
  const theirs = clrmdStackRootKeys(raw);
  const mine = new Set(ours);
  const excused = new Set<string>();
  const expected = theirs.filter((k) => {
    if (mine.has(k)) return true;
    const slot = k.split('|')[1]!;
    if (!slot.startsWith('0x') || !inArgumentRange(result, Number.parseInt(slot, 16))) return true;
    excused.add(slot);
    return false;
  });
  assert.deepEqual(ours, expected, label);
  return excused;
}
