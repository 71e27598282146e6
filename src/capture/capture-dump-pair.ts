import { spawn, type ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { buildDebuggees } from './build-debuggees';
import { CaptureError } from './capture-error';
import { killAndWait, removeStaleTemps, runtimeOfProcess, track, type CapturedDump, type DumpType } from './capture-dump';
import { withFileLock } from './file-lock';
import { findDotnet, findRuntime } from './find-dotnet';
import { dumpCacheDir } from './paths';
import { runProcess, tail } from './run-process';
import { hashKey } from './source-hash';

/** What to capture twice from one process. */
export interface CapturePairOptions {
  /** A two-phase debuggee scenario ("grow", "grow-churn"): READY, a stdin line, more work, READY again. */
  readonly scenario: string;
  readonly args?: readonly string[];
  readonly dumpType: DumpType;
  /** How long to wait for each READY line (default 60 s). */
  readonly readyTimeoutMs?: number;
}

/** The two dumps of one process: `first` at its first READY, `second` after it was told to go on. */
export interface CapturedDumpPair {
  readonly first: CapturedDump;
  readonly second: CapturedDump;
}

type Debuggee = ChildProcessByStdio<Writable, Readable, Readable>;

/**
 * Returns the cached pair, or runs a two-phase scenario: dump at its first READY, write "next" to its stdin, dump at
 * its second READY, kill it. Both dumps come from the same process (same pid), which is what `diff` is for.
 * Throws CaptureError on any failure (the debuggee is always killed).
 */
export async function captureDumpPair(options: CapturePairOptions): Promise<CapturedDumpPair> {
  const args = [...(options.args ?? [])];
  const build = await buildDebuggees();
  const runtime = await findRuntime(10);
  const key = hashKey({ v: 1, pair: true, sources: build.sourceHash, scenario: options.scenario, args, dumpType: options.dumpType, runtime: runtime.version });
  const cacheDir = dumpCacheDir();
  // scenario-args-dumpN-type-wks-hash.dmp: the prepare step's pruning of stale dumps recognises the shape.
  const slug = (n: number): string => [options.scenario, ...args, `dump${n}`, options.dumpType, 'wks', key.slice(0, 16)].join('-').replace(/[^A-Za-z0-9._-]/g, '_');
  const dumpPaths = [path.join(cacheDir, `${slug(1)}.dmp`), path.join(cacheDir, `${slug(2)}.dmp`)] as const;
  fs.mkdirSync(cacheDir, { recursive: true });

  const fromCache = (): CapturedDumpPair | undefined => {
    try {
      const [first, second] = dumpPaths.map((p) => {
        const meta = JSON.parse(fs.readFileSync(`${p}.json`, 'utf8')) as CapturedDump;
        return { ...meta, dumpPath: p, sizeBytes: fs.statSync(p).size, cached: true };
      });
      return { first: first!, second: second! };
    } catch {
      return undefined;
    }
  };
  const hit = fromCache();
  if (hit !== undefined) return hit;
  return withFileLock(`${dumpPaths[0]}.lock`, async () => {
    const again = fromCache();
    if (again !== undefined) return again;
    for (const p of dumpPaths) removeStaleTemps(p);
    const dotnet = await findDotnet();
    const env: NodeJS.ProcessEnv = { ...process.env, DOTNET_gcServer: '0', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DUMPSLEUTH_EXIT_ON_STDIN_EOF: '1' };
    delete env.DOTNET_DbgEnableMiniDump;
    delete env.DOTNET_GCDynamicAdaptationMode;
    const what = [options.scenario, ...args].join(' ');
    const started = Date.now();
    const child: Debuggee = spawn(dotnet, [build.assemblyPath, options.scenario, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    track(child);
    const lines = readyLines(child, what);
    try {
      const metas: CapturedDump[] = [];
      for (let phase = 0; phase < 2; phase++) {
        if (phase === 1) child.stdin.write('next\n');
        const pid = await lines.next(options.readyTimeoutMs ?? 60_000);
        if (pid !== child.pid) throw new CaptureError(`debuggee ${what} reported pid ${pid} but was started as pid ${child.pid}`);
        const readyMs = Date.now() - started;
        const dumpRuntime = runtimeOfProcess(pid) ?? runtime;
        const dumpPath = dumpPaths[phase]!;
        const tempPath = `${dumpPath}.tmp-${process.pid}-${Date.now()}`;
        const flag = options.dumpType === 'full' ? '--full' : '--withheap';
        const dumpStarted = Date.now();
        const result = await runProcess(dumpRuntime.createdumpPath, [flag, '-f', tempPath, String(pid)], { timeoutMs: 10 * 60_000 });
        if (result.code !== 0 || !fs.existsSync(tempPath)) {
          fs.rmSync(tempPath, { force: true });
          throw new CaptureError(`createdump ${flag} of pid ${pid} (dump ${phase + 1} of 2) failed (exit code ${result.code})`, tail(`${result.stdout}\n${result.stderr}`));
        }
        const meta: CapturedDump = {
          dumpPath,
          pid,
          scenario: options.scenario,
          args,
          dumpType: options.dumpType,
          serverGc: false,
          datas: true,
          runtimeVersion: dumpRuntime.version,
          runtimeDir: dumpRuntime.directory,
          sizeBytes: fs.statSync(tempPath).size,
          cached: false,
          readyMs,
          createdumpMs: Date.now() - dumpStarted,
          capturedAt: new Date().toISOString(),
        };
        metas.push(meta);
        fs.renameSync(tempPath, `${dumpPath}.part`);
      }
      // Commit both only when both exist: the metadata files are the cache's marker, written last.
      for (const meta of metas) {
        fs.renameSync(`${meta.dumpPath}.part`, meta.dumpPath);
        fs.writeFileSync(`${meta.dumpPath}.json.tmp`, JSON.stringify(meta, null, 2));
        fs.renameSync(`${meta.dumpPath}.json.tmp`, `${meta.dumpPath}.json`);
      }
      return { first: metas[0]!, second: metas[1]! };
    } finally {
      for (const p of dumpPaths) fs.rmSync(`${p}.part`, { force: true });
      await killAndWait(child);
    }
  });
}

/** Yields the pid of each `READY <pid>` line in turn; rejects when the debuggee exits or stays silent too long. */
function readyLines(child: Debuggee, what: string): { next(timeoutMs: number): Promise<number> } {
  const pids: number[] = [];
  let output = '';
  let stderr = '';
  let ended: CaptureError | undefined;
  let waiter: (() => void) | undefined;
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    pending += text;
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const line of parts) {
      const m = /^READY (\d+)\s*$/.exec(line);
      if (m !== null) pids.push(Number(m[1]));
    }
    waiter?.();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.on('error', (error) => {
    ended = new CaptureError(`cannot start debuggee ${what}: ${error.message}`);
    waiter?.();
  });
  child.on('exit', (code, signal) => {
    ended ??= new CaptureError(`debuggee ${what} exited (code ${code}, signal ${signal}) before printing READY`, tail(`${output}\n${stderr}`));
    waiter?.();
  });
  return {
    next(timeoutMs: number): Promise<number> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new CaptureError(`debuggee ${what} printed no READY line within ${timeoutMs} ms`, tail(`${output}\n${stderr}`)));
        }, timeoutMs);
        const check = (): void => {
          if (pids.length > 0) {
            clearTimeout(timer);
            waiter = undefined;
            resolve(pids.shift()!);
          } else if (ended !== undefined) {
            clearTimeout(timer);
            waiter = undefined;
            reject(ended);
          }
        };
        waiter = check;
        check();
      });
    },
  };
}
