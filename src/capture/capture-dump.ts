import { spawn, type ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { buildDebuggees } from './build-debuggees';
import { CaptureError } from './capture-error';
import { withFileLock } from './file-lock';
import { findDotnet, findRuntime, runtimeAt } from './find-dotnet';
import { dumpCacheDir } from './paths';
import { runProcess, tail } from './run-process';
import { hashKey } from './source-hash';
import { publishDebuggees, type PublishKind } from './publish-debuggees';

/** The kind of dump createdump writes: `heap` (--withheap: all anonymous rw memory, no image files) or `full` (--full: every readable mapping). */
export type DumpType = 'heap' | 'full';

/** What to capture. */
export interface CaptureOptions {
  /** The debuggee scenario (its first argument), e.g. "seed-apm". */
  readonly scenario: string;
  /** Further debuggee arguments, e.g. ["200000"] for "many". */
  readonly args?: readonly string[];
  readonly dumpType: DumpType;
  /** Run the debuggee with DOTNET_gcServer=1 (default: workstation GC). */
  readonly serverGc?: boolean;
  /** With server GC, keep .NET 10's default DATAS (dynamic adaptation, which starts with one heap); default false: DOTNET_GCDynamicAdaptationMode=0 gives one heap per core. */
  readonly datas?: boolean;
  /** How long to wait for the debuggee's READY line (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** Capture again even when the cache holds this dump. */
  readonly force?: boolean;
  /** Run the debuggee published self-contained against this Microsoft.NETCore.App runtime pack (e.g. "11.0.0")
   * instead of on the SDK's shared runtime. */
  readonly runtimePack?: string;
  /** With `runtimePack`: a plain self-contained folder (default) or a single-file app. */
  readonly publishKind?: PublishKind;
}

/** A dump in the cache and how it was made. */
export interface CapturedDump {
  readonly dumpPath: string;
  /** Process id of the debuggee that was dumped. */
  readonly pid: number;
  readonly scenario: string;
  readonly args: readonly string[];
  readonly dumpType: DumpType;
  readonly serverGc: boolean;
  /** Whether DATAS was left on (always true for workstation GC, where it does not apply). */
  readonly datas: boolean;
  readonly runtimeVersion: string;
  /** The runtime folder of the dumped process (holds libcoreclr.so and the DAC). */
  readonly runtimeDir: string;
  readonly sizeBytes: number;
  /** True when the dump came from the cache, not from this call. */
  readonly cached: boolean;
  /** Milliseconds from starting the debuggee to its READY line, at capture time. */
  readonly readyMs: number;
  /** Milliseconds createdump took, at capture time. */
  readonly createdumpMs: number;
  readonly capturedAt: string;
  /** Set when the debuggee ran self-contained on a runtime pack (its runtime folder is the app folder). */
  readonly runtimePack?: string;
  readonly publishKind?: PublishKind;
}

type Debuggee = ChildProcessByStdio<Writable, Readable, Readable>;

const READY_PATTERN = /^READY (\d+)\s*$/;

// Debuggees still running; killed on process exit too, so an interrupted capture leaves no sleeper behind.
const liveDebuggees = new Set<Debuggee>();
let exitHookInstalled = false;

export function track(child: Debuggee): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const live of liveDebuggees) live.kill('SIGKILL');
    });
  }
  liveDebuggees.add(child);
  child.once('exit', () => liveDebuggees.delete(child));
}

/** Returns a cached dump of a debuggee scenario, or builds the debuggees, runs the scenario to its READY line, dumps it with the runtime's createdump and kills it; throws CaptureError on any failure (the debuggee is always killed). */
export async function captureDump(options: CaptureOptions): Promise<CapturedDump> {
  const args = [...(options.args ?? [])];
  const serverGc = options.serverGc ?? false;
  const datas = !serverGc || (options.datas ?? false);
  const pack = options.runtimePack;
  const publishKind = options.publishKind ?? 'self-contained';
  const published = pack === undefined ? undefined : await publishDebuggees(pack, publishKind);
  const build = published === undefined ? await buildDebuggees() : undefined;
  const runtime = published === undefined ? await findRuntime(10) : { version: pack!, directory: published.runtimeDir, createdumpPath: published.createdumpPath, dacPath: path.join(published.runtimeDir, 'libmscordaccore.so') };
  const sourceHash = published?.sourceHash ?? build!.sourceHash;
  const keyParts = { v: 1, sources: sourceHash, scenario: options.scenario, args, dumpType: options.dumpType, serverGc, datas, runtime: runtime.version };
  const key = hashKey(published === undefined ? keyParts : { ...keyParts, publishKind });
  const cacheDir = dumpCacheDir();
  const packTag = pack === undefined ? [] : [`rt${pack}${publishKind === 'single-file' ? '-single' : ''}`];
  const slug = [options.scenario, ...args, options.dumpType, serverGc ? (datas ? 'svr-datas' : 'svr') : 'wks', ...packTag, key.slice(0, 16)].join('-').replace(/[^A-Za-z0-9._-]/g, '_');
  const dumpPath = path.join(cacheDir, `${slug}.dmp`);
  const metaPath = `${dumpPath}.json`;
  if (dumpPath.includes('%')) throw new CaptureError(`dump path ${dumpPath} contains '%', which createdump would expand`);
  fs.mkdirSync(cacheDir, { recursive: true });

  const fromCache = (): CapturedDump | undefined => (options.force === true ? undefined : readCachedDump(dumpPath));
  const hit = fromCache();
  if (hit !== undefined) return hit;
  return withFileLock(`${dumpPath}.lock`, async () => {
    const again = fromCache();
    if (again !== undefined) return again;
    removeStaleTemps(dumpPath);
    const dotnet = await findDotnet();
    const env: NodeJS.ProcessEnv = { ...process.env, DOTNET_gcServer: serverGc ? '1' : '0', DOTNET_CLI_TELEMETRY_OPTOUT: '1' };
    // The debuggee blocks reading this pipe and exits when it closes, even if this process dies.
    env.DUMPSLEUTH_EXIT_ON_STDIN_EOF = '1';
    delete env.DOTNET_DbgEnableMiniDump;
    if (serverGc && !datas) env.DOTNET_GCDynamicAdaptationMode = '0';
    else delete env.DOTNET_GCDynamicAdaptationMode;
    const started = Date.now();
    const child: Debuggee =
      published === undefined
        ? spawn(dotnet, [build!.assemblyPath, options.scenario, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
        : spawn(published.executablePath, [options.scenario, ...args], { env, cwd: published.appDir, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    track(child);
    try {
      const pid = await waitForReady(child, options.readyTimeoutMs ?? 60_000, `${options.scenario} ${args.join(' ')}`.trim());
      const readyMs = Date.now() - started;
      const dumpRuntime = published === undefined ? (runtimeOfProcess(pid) ?? runtime) : runtime;
      const tempPath = `${dumpPath}.tmp-${process.pid}-${Date.now()}`;
      const flag = options.dumpType === 'full' ? '--full' : '--withheap';
      const dumpStarted = Date.now();
      const result = await runProcess(dumpRuntime.createdumpPath, [flag, '-f', tempPath, String(pid)], { timeoutMs: 10 * 60_000 });
      const createdumpMs = Date.now() - dumpStarted;
      if (result.code !== 0 || !fs.existsSync(tempPath)) {
        fs.rmSync(tempPath, { force: true });
        throw new CaptureError(
          `createdump ${flag} of pid ${pid} failed (exit code ${result.code}); it needs ptrace rights over the debuggee (root, CAP_SYS_PTRACE or Yama ptrace_scope 0)`,
          tail(`${result.stdout}\n${result.stderr}`),
        );
      }
      const meta: CapturedDump = {
        dumpPath,
        pid,
        scenario: options.scenario,
        args,
        dumpType: options.dumpType,
        serverGc,
        datas,
        runtimeVersion: dumpRuntime.version,
        runtimeDir: dumpRuntime.directory,
        sizeBytes: fs.statSync(tempPath).size,
        cached: false,
        readyMs,
        createdumpMs,
        capturedAt: new Date().toISOString(),
        ...(pack === undefined ? {} : { runtimePack: pack, publishKind }),
      };
      fs.writeFileSync(`${metaPath}.tmp`, JSON.stringify(meta, null, 2));
      fs.renameSync(`${metaPath}.tmp`, metaPath);
      // The dump's final name is the commit marker: it appears only once complete, after its metadata.
      fs.renameSync(tempPath, dumpPath);
      return meta;
    } finally {
      await killAndWait(child);
    }
  });
}

function waitForReady(child: Debuggee, timeoutMs: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (error: Error | undefined, pid?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.removeListener('data', onStdout);
      if (error !== undefined) reject(error);
      else resolve(pid as number);
    };
    const onStdout = (chunk: Buffer): void => {
      stdout += chunk.toString('utf8');
      for (const line of stdout.split('\n')) {
        const match = READY_PATTERN.exec(line);
        if (match !== null) {
          const pid = Number(match[1]);
          if (pid !== child.pid) {
            finish(new CaptureError(`debuggee ${what} reported pid ${pid} but was started as pid ${child.pid}`));
          } else {
            finish(undefined, pid);
          }
          return;
        }
      }
    };
    const timer = setTimeout(() => {
      finish(new CaptureError(`debuggee ${what} printed no READY line within ${timeoutMs} ms`, tail(`${stdout}\n${stderr}`)));
    }, timeoutMs);
    child.stdout.on('data', onStdout);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', (error) => finish(new CaptureError(`cannot start debuggee ${what}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      finish(new CaptureError(`debuggee ${what} exited (code ${code}, signal ${signal}) before printing READY`, tail(`${stdout}\n${stderr}`)));
    });
  });
}

export function killAndWait(child: Debuggee): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

// Half-written dumps of captures whose process died (the temp name carries the writer's pid).
export function removeStaleTemps(dumpPath: string): void {
  const dir = path.dirname(dumpPath);
  const prefix = `${path.basename(dumpPath)}.tmp-`;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const owner = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(owner) && owner !== process.pid && !isAlive(owner)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

// The runtime the debuggee actually loaded (roll-forward may pick another patch than `--list-runtimes` suggests).
export function runtimeOfProcess(pid: number): ReturnType<typeof runtimeAt> | undefined {
  try {
    const maps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8');
    const match = /\s(\/\S*\/libcoreclr\.so)\s*$/m.exec(maps);
    return match === null ? undefined : runtimeAt(path.dirname(match[1]));
  } catch {
    return undefined;
  }
}

/** A cached dump and its metadata (`<dump>.json`), or undefined when either is missing or unreadable. */
export function readCachedDump(dumpPath: string): CapturedDump | undefined {
  if (!fs.existsSync(dumpPath)) return undefined;
  try {
    const meta = JSON.parse(fs.readFileSync(`${dumpPath}.json`, 'utf8')) as CapturedDump;
    return { ...meta, dumpPath, sizeBytes: fs.statSync(dumpPath).size, cached: true };
  } catch {
    return undefined;
  }
}
