import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDotnetProject, CaptureError, findDotnet, findRepoRoot, hashKey, runProcess, tail, type BuiltProject } from '../../src/capture';
import { readOracleCache, writeOracleCache } from './oracle-cache';

/** The modes of the ClrMD oracle program (test/oracles/clrmd). */
export type ClrmdMode = 'threads' | 'heapstat' | 'objects' | 'segments' | 'handles' | 'roots' | 'live' | 'refs';

let built: Promise<BuiltProject> | undefined;

/** Builds the ClrMD oracle (once per process, skipped when the same sources are already built); throws CaptureError on failure. */
export function buildClrmdOracle(): Promise<BuiltProject> {
  built ??= buildDotnetProject(path.join(findRepoRoot(), 'test', 'oracles', 'clrmd'), 'ClrmdOracle').catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}

/** Runs the ClrMD oracle in `mode` on a dump and returns its parsed JSON, cached on disk next to the dump; throws CaptureError when the oracle fails. */
export async function runClrmd(dumpPath: string, mode: ClrmdMode, ...args: string[]): Promise<unknown> {
  const oracle = await buildClrmdOracle();
  const name = `clrmd-${mode}-${hashKey({ oracle: oracle.sourceHash, mode, args }).slice(0, 20)}.json`;
  const cached = readOracleCache(dumpPath, name);
  if (cached !== undefined) return JSON.parse(cached) as unknown;
  if (!fs.existsSync(dumpPath)) throw new CaptureError(`dump ${dumpPath} does not exist`);
  const dotnet = await findDotnet();
  const result = await runProcess(dotnet, [oracle.assemblyPath, mode, dumpPath, ...args], { timeoutMs: 15 * 60_000 });
  if (result.code !== 0) {
    throw new CaptureError(`ClrMD oracle ${mode} on ${dumpPath} failed (exit code ${result.code})`, tail(`${result.stderr}\n${result.stdout}`));
  }
  const parsed = JSON.parse(result.stdout) as unknown;
  writeOracleCache(dumpPath, name, result.stdout);
  return parsed;
}
