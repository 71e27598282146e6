import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDotnetProject, CaptureError, findDotnet, findRepoRoot, hashKey, runProcess, tail, type BuiltProject } from '../../src/capture';
import { oracleCacheDir, readOracleCache, writeOracleCache } from './oracle-cache';

/** A root handed to the oracle on top of ClrMD's own: the object, and where known the root's address and kind. */
export interface ExtraRoot {
  readonly object: number;
  readonly address?: number;
  readonly kind?: string;
}

/** ClrMD's live walk from its roots plus the extra ones. */
export interface ClrmdLive {
  readonly roots: number;
  readonly totalCount: number;
  readonly types: readonly { readonly mt: string; readonly count: number; readonly totalSize: number }[];
}

/** Per target (hex), every root from which it is reachable. */
export type ClrmdRootSets = Record<string, readonly { readonly kind: string; readonly address: string; readonly object: string }[]>;

let built: Promise<BuiltProject> | undefined;

/** Builds test/oracles/clrmd-external once per process; throws CaptureError on failure. */
export function buildClrmdExternalOracle(): Promise<BuiltProject> {
  built ??= buildDotnetProject(path.join(findRepoRoot(), 'test', 'oracles', 'clrmd-external'), 'ClrmdExternalOracle').catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** Runs the external-tier ClrMD oracle (`live` or `gcroot`) with extra roots, cached next to the dump. */
export async function runClrmdExternal(dumpPath: string, mode: 'live', extra: readonly ExtraRoot[]): Promise<ClrmdLive>;
export async function runClrmdExternal(dumpPath: string, mode: 'gcroot', extra: readonly ExtraRoot[], targets: readonly number[]): Promise<ClrmdRootSets>;
export async function runClrmdExternal(dumpPath: string, mode: 'live' | 'gcroot', extra: readonly ExtraRoot[], targets: readonly number[] = []): Promise<unknown> {
  const oracle = await buildClrmdExternalOracle();
  const rootsText = extra.map((r) => `${r.object.toString(16)}${r.address !== undefined ? ` ${r.address.toString(16)} ${r.kind ?? 'extra'}` : ''}`).join('\n');
  const targetsText = targets.map((t) => t.toString(16)).join('\n');
  const key = hashKey({ oracle: oracle.sourceHash, mode, rootsText, targetsText }).slice(0, 20);
  const name = `clrmd-external-${mode}-${key}.json`;
  const cached = readOracleCache(dumpPath, name);
  if (cached !== undefined) return JSON.parse(cached) as unknown;
  const dir = oracleCacheDir(dumpPath);
  fs.mkdirSync(dir, { recursive: true });
  const rootsFile = path.join(dir, `extra-roots-${key}.txt`);
  const targetsFile = path.join(dir, `targets-${key}.txt`);
  fs.writeFileSync(rootsFile, rootsText);
  fs.writeFileSync(targetsFile, targetsText);
  const dotnet = await findDotnet();
  const args = [oracle.assemblyPath, mode, dumpPath, rootsFile, ...(mode === 'gcroot' ? [targetsFile] : [])];
  const result = await runProcess(dotnet, args, { timeoutMs: 15 * 60_000 });
  fs.rmSync(rootsFile, { force: true });
  fs.rmSync(targetsFile, { force: true });
  if (result.code !== 0) throw new CaptureError(`ClrMD external oracle ${mode} on ${dumpPath} failed (exit code ${result.code})`, tail(`${result.stderr}\n${result.stdout}`));
  writeOracleCache(dumpPath, name, result.stdout);
  return JSON.parse(result.stdout) as unknown;
}
