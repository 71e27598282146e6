/**
 * The external tier's dumps: programs this project did not write, started from what the SDK ships offline.
 * - `web`: an ASP.NET Core app from `dotnet new web` (test/external/web adds endpoints that cache, serialize JSON
 *   and await), under a bounded loopback load, dumped while requests are in flight (server GC with DATAS, as ASP.NET
 *   Core defaults);
 * - `vbcscompiler` and `msbuild`: the Roslyn compiler server and an MSBuild worker node that `dotnet build -m:2
 *   -nodeReuse:true` of test/external/solution leaves alive (shared compilation and node reuse forced on).
 * The build runs with a private compiler pipe name, MSBuild handshake salt and TMPDIR, so its compiler server and
 * nodes are ours alone and found by those marks; every process we started is killed by pid.
 * Dumps are cached like the debuggees' (keyed by the sources, the SDK and the runtime).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDebuggees, CaptureError, dumpCacheDir, cacheRoot, findDotnet, findRepoRoot, findRuntime, hashKey, hashSources, runProcess, runProcessChecked, tail, withFileLock, runtimeAt } from '../../src/capture';

/** One dump of an external program. */
export interface ExternalDump {
  readonly program: 'web' | 'vbcscompiler' | 'msbuild';
  readonly dumpType: 'heap' | 'full';
  readonly dumpPath: string;
  readonly pid: number;
  /** Server GC as the program's runtimeconfig asks (the web app: yes, set by the Web SDK). */
  readonly serverGc: boolean;
  readonly sizeBytes: number;
}

interface ExternalMeta {
  readonly dumps: ExternalDump[];
  readonly captureMs: number;
}

export const EXTERNAL_PLAN: readonly { program: ExternalDump['program']; dumpType: ExternalDump['dumpType'] }[] = [
  { program: 'web', dumpType: 'heap' },
  { program: 'web', dumpType: 'full' },
  { program: 'vbcscompiler', dumpType: 'heap' },
  { program: 'vbcscompiler', dumpType: 'full' },
  { program: 'msbuild', dumpType: 'heap' },
];

let memo: Promise<ExternalDump[]> | undefined;

/** The external tier's dumps (cached, else captured: about 3 minutes); throws CaptureError when one cannot be made. */
export function getExternalDumps(log: (line: string) => void = () => undefined): Promise<ExternalDump[]> {
  memo ??= captureExternal(log);
  memo.catch(() => (memo = undefined));
  return memo;
}

async function captureExternal(log: (line: string) => void): Promise<ExternalDump[]> {
  const sources = path.join(findRepoRoot(), 'test', 'external');
  const runtime = await findRuntime(10);
  const dotnet = await findDotnet();
  const sdk = (await runProcessChecked(dotnet, ['--version'])).stdout.trim();
  const key = hashKey({ v: 1, sources: hashSources(sources), runtime: runtime.version, sdk }).slice(0, 16);
  const dir = dumpCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const metaPath = path.join(dir, `external-${key}.json`);
  const cached = (): ExternalDump[] | undefined => {
    try {
      const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as ExternalMeta;
      // The dumps lie next to the metadata: a cache copied or linked elsewhere ($DUMPSLEUTH_CACHE) keeps its own paths.
      const dumps = meta.dumps.map((d) => ({ ...d, dumpPath: path.join(dir, path.basename(d.dumpPath)) }));
      return dumps.every((d) => fs.existsSync(d.dumpPath)) ? dumps : undefined;
    } catch {
      return undefined;
    }
  };
  const hit = cached();
  if (hit) return hit;
  return withFileLock(`${metaPath}.lock`, async () => {
    const again = cached();
    if (again) return again;
    const started = Date.now();
    const work = path.join(cacheRoot(), 'external-work', key);
    fs.rmSync(work, { recursive: true, force: true });
    fs.cpSync(sources, work, { recursive: true });
    const tmp = path.join(work, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    // The compiler server's pipe name and MSBuild's node handshake do not depend on TMPDIR: a private id and
    // handshake salt keep this build from talking to (and us from dumping) another build's server or nodes.
    const privateId = `dumpsleuth-${key}-${process.pid}`;
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, MSBUILDNODEHANDSHAKESALT: privateId, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1' };
    for (const k of ['DOTNET_gcServer', 'DOTNET_GCDynamicAdaptationMode', 'DOTNET_DbgEnableMiniDump', 'MSBUILDDISABLENODEREUSE', 'DOTNET_CLI_USE_MSBUILD_SERVER', 'UseSharedCompilation']) delete env[k];
    const dumps: ExternalDump[] = [];
    const target = (program: string, dumpType: string) => path.join(dir, `external-${program}-${dumpType}-${key}.dmp`);
    const dumpAll = async (program: ExternalDump['program'], pid: number, serverGc: boolean) => {
      for (const p of EXTERNAL_PLAN.filter((x) => x.program === program)) {
        const dumpPath = target(program, p.dumpType);
        await createdump(pid, p.dumpType, dumpPath);
        dumps.push({ program, dumpType: p.dumpType, dumpPath, pid, serverGc, sizeBytes: fs.statSync(dumpPath).size });
        log(`external ${program} ${p.dumpType}: ${(fs.statSync(dumpPath).size / 1048576).toFixed(1)} MiB (${Math.round((Date.now() - started) / 1000)} s since start)`);
      }
    };

    // 1. The web app under load.
    const webOut = path.join(work, 'web', 'out');
    await runProcessChecked(dotnet, ['build', path.join(work, 'web', 'Web.csproj'), '-c', 'Release', '-o', webOut, '-v', 'quiet', '-p:UseSharedCompilation=false', '-nodeReuse:false'], { cwd: work, env, timeoutMs: 10 * 60_000 });
    const port = await freePort();
    const web = spawn(dotnet, [path.join(webOut, 'Web.dll')], { env: { ...env, ASPNETCORE_URLS: `http://127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    const ours: number[] = [];
    try {
      const pid = await waitForLine(web, /^READY (\d+)/, 60_000);
      ours.push(pid);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
      // Bounded load: 400 cache and JSON requests over 10 keep-alive connections, then 6 requests left in flight.
      for (let round = 0; round < 40; round++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => get(agent, port, (round + i) % 2 === 0 ? `/cache/${round * 10 + i}` : '/json')));
      }
      const inflight = Array.from({ length: 6 }, () => get(agent, port, '/slow').catch(() => ''));
      await sleep(1500);
      await dumpAll('web', pid, true);
      agent.destroy();
      void Promise.all(inflight);
    } finally {
      web.kill('SIGKILL');
    }

    // 2. A build that leaves the compiler server and a worker node alive.
    const buildStarted = Date.now();
    // Under nice, MSBuild's worker nodes exit after the build unless the build says it runs at low priority too.
    const lowPriority = os.getPriority() > 0 ? ['-lowPriority:true'] : [];
    const build = await runProcess(dotnet, ['build', path.join(work, 'solution', 'App', 'App.csproj'), '-m:2', '-nodeReuse:true', ...lowPriority, '-p:UseSharedCompilation=true', `-p:SharedCompilationId=${privateId}`, '-v', 'quiet'], { cwd: work, env, timeoutMs: 10 * 60_000 });
    if (build.code !== 0) throw new CaptureError('dotnet build of test/external/solution failed', tail(`${build.stdout}\n${build.stderr}`));
    try {
      let procs = processesWithTmp(tmp);
      for (let i = 0; i < 10 && !procs.some((p) => p.cmdline.some((a) => /nodemode:1\b/i.test(a))); i++) {
        await sleep(500);
        procs = processesWithTmp(tmp);
      }
      ours.push(...procs.map((p) => p.pid));
      const compiler = procs.find((p) => p.cmdline.some((a) => a === `-pipename:${privateId}`));
      const node = procs.find((p) => p.cmdline.some((a) => a.endsWith('MSBuild.dll')) && p.cmdline.some((a) => /nodemode:1\b/i.test(a)));
      if (!compiler) throw new CaptureError(`no VBCSCompiler process is alive after the build (${Date.now() - buildStarted} ms); processes with our TMPDIR: ${procs.map((p) => p.cmdline.join(' ')).join(' | ')}`);
      if (!node) throw new CaptureError(`no MSBuild worker node is alive after the build; processes with our TMPDIR: ${procs.map((p) => p.cmdline.join(' ')).join(' | ')}`);
      await dumpAll('vbcscompiler', compiler.pid, true);
      await dumpAll('msbuild', node.pid, false);
    } finally {
      for (const p of processesWithTmp(tmp)) ours.push(p.pid);
      for (const pid of new Set(ours)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    fs.rmSync(work, { recursive: true, force: true });
    const meta: ExternalMeta = { dumps, captureMs: Date.now() - started };
    fs.writeFileSync(metaPath, JSON.stringify(meta, null, 2));
    log(`external tier captured in ${Math.round(meta.captureMs / 1000)} s`);
    return dumps;
  });
}

async function createdump(pid: number, dumpType: 'heap' | 'full', dumpPath: string): Promise<void> {
  const runtime = runtimeOfProcess(pid) ?? (await findRuntime(10));
  const temp = `${dumpPath}.tmp-${process.pid}`;
  const r = await runProcess(runtime.createdumpPath, [dumpType === 'full' ? '--full' : '--withheap', '-f', temp, String(pid)], { timeoutMs: 10 * 60_000 });
  if (r.code !== 0 || !fs.existsSync(temp)) {
    fs.rmSync(temp, { force: true });
    throw new CaptureError(`createdump of pid ${pid} failed (exit code ${r.code})`, tail(`${r.stdout}\n${r.stderr}`));
  }
  fs.renameSync(temp, dumpPath);
}

function runtimeOfProcess(pid: number): ReturnType<typeof runtimeAt> | undefined {
  try {
    const match = /\s(\/\S*\/libcoreclr\.so)\s*$/m.exec(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
    return match === null ? undefined : runtimeAt(path.dirname(match[1]!));
  } catch {
    return undefined;
  }
}

/** Processes of this user whose environment has TMPDIR=`tmp`: the ones our build started. */
function processesWithTmp(tmp: string): { pid: number; cmdline: string[] }[] {
  const out: { pid: number; cmdline: string[] }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = fs.readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (!environ.includes(`TMPDIR=${tmp}`)) continue;
      out.push({ pid: Number(name), cmdline: fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter((a) => a !== '') });
    } catch {
      // gone, or not ours
    }
  }
  return out.filter((p) => p.pid !== process.pid);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function get(agent: http.Agent, port: number, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new CaptureError(`GET ${urlPath}: HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new CaptureError(`GET ${urlPath} timed out`)));
    req.on('error', reject);
  });
}

function waitForLine(child: ReturnType<typeof spawn>, pattern: RegExp, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new CaptureError(`no ${pattern.source} line within ${timeoutMs} ms`, tail(text))), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      text += c.toString('utf8');
      const m = pattern.exec(text.split('\n').find((l) => pattern.test(l)) ?? '');
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (c: Buffer) => (text += c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new CaptureError(`the external program exited (code ${code}) before it was ready`, tail(text)));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (require.main === module) {
  const t0 = Date.now();
  getExternalDumps((l) => console.log(l))
    .then((d) => console.log(`${d.length} external dumps in ${Date.now() - t0} ms`))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? `${e.message}\n${(e as { details?: string }).details ?? ''}` : String(e));
      process.exitCode = 1;
    });
}

/** A mini dump (`createdump --normal`: the runtime's structures, no GC heap) of the `types` debuggee, cached by the
 * debuggee sources and the runtime; for the "no GC heap" message. */
export async function getMiniDump(): Promise<string> {
  const build = await buildDebuggees();
  const runtime = await findRuntime(10);
  const key = hashKey({ v: 1, sources: build.sourceHash, runtime: runtime.version, kind: 'mini' }).slice(0, 16);
  const dir = dumpCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const dumpPath = path.join(dir, `external-mini-types-${key}.dmp`);
  if (fs.existsSync(dumpPath)) return dumpPath;
  return withFileLock(`${dumpPath}.lock`, async () => {
    if (fs.existsSync(dumpPath)) return dumpPath;
    const dotnet = await findDotnet();
    const child = spawn(dotnet, [build.assemblyPath, 'types'], { env: { ...process.env, DUMPSLEUTH_EXIT_ON_STDIN_EOF: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const pid = await waitForLine(child, /^READY (\d+)/, 60_000);
      const rt = runtimeOfProcess(pid) ?? runtime;
      const temp = `${dumpPath}.tmp-${process.pid}`;
      const r = await runProcess(rt.createdumpPath, ['--normal', '-f', temp, String(pid)], { timeoutMs: 5 * 60_000 });
      if (r.code !== 0 || !fs.existsSync(temp)) throw new CaptureError(`createdump --normal of pid ${pid} failed`, tail(`${r.stdout}\n${r.stderr}`));
      fs.renameSync(temp, dumpPath);
      return dumpPath;
    } finally {
      child.kill('SIGKILL');
    }
  });
}
