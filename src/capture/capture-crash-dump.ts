import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDebuggees } from './build-debuggees';
import { CaptureError } from './capture-error';
import { readCachedDump, type CapturedDump } from './capture-dump';
import { withFileLock } from './file-lock';
import { findDotnet, findRuntime } from './find-dotnet';
import { dumpCacheDir } from './paths';
import { runProcess, tail } from './run-process';
import { hashKey } from './source-hash';

/** What to capture when a debuggee scenario crashes. */
export interface CrashCaptureOptions {
  /** A scenario that dies of an unhandled exception (it never prints READY). */
  readonly scenario: string;
  readonly args?: readonly string[];
  /** How long the crash (and the runtime's own createdump) may take (default 120 s). */
  readonly timeoutMs?: number;
}

/**
 * Returns the cached, else a fresh, crash dump of a scenario: the debuggee runs with `DOTNET_DbgEnableMiniDump=1`,
 * `DOTNET_DbgMiniDumpType=2` (heap) and `DOTNET_DbgMiniDumpName`, so the runtime itself runs createdump when the
 * unhandled exception ends the process. Throws CaptureError when the process does not crash or writes no dump.
 */
export async function captureCrashDump(options: CrashCaptureOptions): Promise<CapturedDump> {
  const args = [...(options.args ?? [])];
  const build = await buildDebuggees();
  const runtime = await findRuntime(10);
  const key = hashKey({ v: 1, crash: true, sources: build.sourceHash, scenario: options.scenario, args, dumpType: 'heap', runtime: runtime.version });
  const cacheDir = dumpCacheDir();
  const slug = [options.scenario, ...args, 'crash-heap-wks', key.slice(0, 16)].join('-').replace(/[^A-Za-z0-9._-]/g, '_');
  const dumpPath = path.join(cacheDir, `${slug}.dmp`);
  const metaPath = `${dumpPath}.json`;
  if (dumpPath.includes('%')) throw new CaptureError(`dump path ${dumpPath} contains '%', which createdump would expand`);
  fs.mkdirSync(cacheDir, { recursive: true });
  const fromCache = (): CapturedDump | undefined => readCachedDump(dumpPath);
  const hit = fromCache();
  if (hit !== undefined) return hit;
  return withFileLock(`${dumpPath}.lock`, async () => {
    const again = fromCache();
    if (again !== undefined) return again;
    const dotnet = await findDotnet();
    const tempPath = `${dumpPath}.tmp-${process.pid}-${Date.now()}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOTNET_gcServer: '0',
      DOTNET_CLI_TELEMETRY_OPTOUT: '1',
      DOTNET_DbgEnableMiniDump: '1',
      DOTNET_DbgMiniDumpType: '2',
      DOTNET_DbgMiniDumpName: tempPath,
    };
    delete env.DOTNET_GCDynamicAdaptationMode;
    const started = Date.now();
    const result = await runProcess(dotnet, [build.assemblyPath, options.scenario, ...args], { env, timeoutMs: options.timeoutMs ?? 120_000 });
    const elapsed = Date.now() - started;
    if (result.code === 0 || !fs.existsSync(tempPath)) {
      fs.rmSync(tempPath, { force: true });
      throw new CaptureError(
        `debuggee ${options.scenario} ${result.code === 0 ? 'exited normally' : `ended (code ${result.code}, signal ${result.signal})`} without a crash dump at ${tempPath}`,
        tail(`${result.stdout}\n${result.stderr}`),
      );
    }
    const pidMatch = /\b(?:pid|process) (\d+)/i.exec(result.stdout + result.stderr);
    const meta: CapturedDump = {
      dumpPath,
      pid: pidMatch ? Number(pidMatch[1]) : 0,
      scenario: options.scenario,
      args,
      dumpType: 'heap',
      serverGc: false,
      datas: true,
      runtimeVersion: runtime.version,
      runtimeDir: runtime.directory,
      sizeBytes: fs.statSync(tempPath).size,
      cached: false,
      readyMs: elapsed,
      createdumpMs: 0,
      capturedAt: new Date().toISOString(),
    };
    fs.writeFileSync(`${metaPath}.tmp`, JSON.stringify(meta, null, 2));
    fs.renameSync(`${metaPath}.tmp`, metaPath);
    fs.renameSync(tempPath, dumpPath);
    return meta;
  });
}
