// The Windows test tier: the debuggee published for win-x64 (self-contained) runs under Wine and dumps itself with
// the runtime's own createdump.exe (test/debuggees/SelfDump.cs); the ClrMD oracle, also published for win-x64, runs
// under Wine with the app's Windows DAC (mscordaccore.dll) on the same dump. Wine is installed here when absent and
// this process may (root with apt-get); otherwise the tier is skipped with the reason, never passed silently.
// Everything is cached under <cache>/win and <cache>/dumps, keyed by the sources' hash.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CaptureError, cacheRoot, dumpCacheDir, findDotnet, findRepoRoot, hashKey, hashSources, runProcess, runProcessChecked,
  tail, withFileLock,
} from '../../src/capture';
import { Minidump } from '../../src/dump/minidump';

/** The leak scenarios dumped on Windows (all of them, controls included): analyze must find on each what it finds on Linux. */
export const WINDOWS_LEAK_SCENARIOS = ['leak-event', 'leak-timer', 'leak-pinned', 'leak-cache', 'leak-finalizer', 'leak-tcs', 'leak-controls'] as const;

/** The scenarios dumped on Windows (each dump costs ~15–60 s under Wine: one dump per scenario, full). */
export const WINDOWS_SCENARIOS = ['seed-apm', 'types', ...WINDOWS_LEAK_SCENARIOS] as const;

/** A Windows dump of a scenario with the ClrMD-under-Wine answers on it. */
export interface WindowsDump {
  readonly scenario: string;
  readonly dumpPath: string;
  /** The oracle's JSON document (test/oracles/clrmd-win/Program.cs). */
  readonly oraclePath: string;
  /** The debuggee's win-x64 publish folder (its runtimeconfig.json names the runtime version it carries). */
  readonly publishDir: string;
  readonly cached: boolean;
  readonly captureMs: number;
}

/** Why the Windows tier cannot run here, or undefined when it can. Installs Wine when absent and possible. */
export async function windowsTierSkipReason(): Promise<string | undefined> {
  skipReason ??= findSkipReason();
  return skipReason;
}
let skipReason: Promise<string | undefined> | undefined;

/** Why the Windows tier cannot run now (without installing anything: the test setup installs Wine before the tests
 * run), or undefined when it can. */
export function windowsTierSkipReasonNow(): string | undefined {
  if (process.env.DUMPSLEUTH_WINDOWS === '0') return 'DUMPSLEUTH_WINDOWS=0';
  if (process.platform !== 'linux' || process.arch !== 'x64') return `Windows dumps are made under Wine on x64 Linux, not ${process.platform}-${process.arch}`;
  if (onPath('wine') === undefined) return 'Wine is not installed (the test setup installs it as root with apt-get: see its log)';
  return undefined;
}

async function findSkipReason(): Promise<string | undefined> {
  const now = windowsTierSkipReasonNow();
  if (now === undefined || !now.startsWith('Wine is not installed')) return now;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0 || onPath('apt-get') === undefined) {
    return 'Wine is not installed and cannot be installed here (needs root and apt-get: apt-get install wine64 wine)';
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await runProcess('apt-get', ['update', '-qq'], { env, timeoutMs: 10 * 60_000 });
  const install = await runProcess('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wine64', 'wine'], { env, timeoutMs: 15 * 60_000 });
  if (install.code !== 0 || onPath('wine') === undefined) {
    return `Wine could not be installed (apt-get update exit ${update.code}, install exit ${install.code}): ${tail(install.stderr || install.stdout, 3).replace(/\s+/g, ' ')}`;
  }
  return undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function winDir(): string {
  return path.join(cacheRoot(), 'win');
}

/** The environment Wine runs the .NET programs in: a prefix of our own, quiet, and W^X
 * off (the runtime's double-mapped executable memory does not work under Wine). */
function wineEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env, WINEPREFIX: path.join(winDir(), 'prefix'), WINEDEBUG: '-all',
    DOTNET_EnableWriteXorExecute: '0', DOTNET_CLI_TELEMETRY_OPTOUT: '1', DISPLAY: '',
  };
}

/** `Z:\…`: how Wine's programs name a path of the Linux file system. */
function winePath(p: string): string {
  return `Z:${path.resolve(p).split('/').join('\\')}`;
}

let prefixReady: Promise<void> | undefined;
function ensurePrefix(): Promise<void> {
  prefixReady ??= withFileLock(path.join(winDir(), '.prefix.lock'), async () => {
    const marker = path.join(winDir(), 'prefix', '.dumpsleuth-ready');
    if (fs.existsSync(marker)) return;
    await runProcessChecked('wineboot', ['-i'], { env: wineEnv(), timeoutMs: 5 * 60_000 });
    await runProcess('wineserver', ['-w'], { env: wineEnv(), timeoutMs: 60_000 });
    fs.writeFileSync(marker, '');
  });
  return prefixReady;
}

const published = new Map<string, Promise<{ dir: string; hash: string }>>();

/** Publishes `<projectDir>/<name>.csproj` for win-x64, self-contained, into <cache>/win/<name>-<hash> (once per sources). */
function publishWin(projectDir: string, name: string): Promise<{ dir: string; hash: string }> {
  let p = published.get(name);
  if (p === undefined) {
    p = (async () => {
      const hash = hashSources(projectDir).slice(0, 16);
      const dir = path.join(winDir(), `${name}-${hash}`);
      const exe = path.join(dir, `${name}.exe`);
      if (fs.existsSync(path.join(dir, '.dumpsleuth-published'))) return { dir, hash };
      return withFileLock(path.join(winDir(), `.${name}.lock`), async () => {
        if (fs.existsSync(path.join(dir, '.dumpsleuth-published'))) return { dir, hash };
        // Publish a copy of the sources: the Linux build of the same project keeps its restore (another runtime)
        // and generated sources in obj/, which a second build in place would mix up.
        const src = path.join(winDir(), `${name}-src`);
        fs.rmSync(src, { recursive: true, force: true });
        fs.mkdirSync(src, { recursive: true });
        for (const entry of fs.readdirSync(projectDir, { withFileTypes: true })) {
          if (entry.isFile() && /\.(cs|csproj|props|targets|json)$/.test(entry.name)) fs.copyFileSync(path.join(projectDir, entry.name), path.join(src, entry.name));
        }
        fs.rmSync(dir, { recursive: true, force: true });
        await runProcessChecked(await findDotnet(), [
          'publish', path.join(src, `${name}.csproj`), '-c', 'Release', '-r', 'win-x64', '--self-contained', '-o', dir, '--nologo', '-v', 'quiet',
        ], { env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' }, timeoutMs: 15 * 60_000 });
        if (!fs.existsSync(exe)) throw new CaptureError(`dotnet publish succeeded but ${exe} is missing`);
        fs.writeFileSync(path.join(dir, '.dumpsleuth-published'), hash);
        return { dir, hash };
      });
    })();
    p.catch(() => published.delete(name));
    published.set(name, p);
  }
  return p;
}

const memo = new Map<string, Promise<WindowsDump>>();

/** The Windows dump of `scenario` and ClrMD's answers on it, made (under Wine) when not cached; throws CaptureError. */
export function getWindowsDump(scenario: string): Promise<WindowsDump> {
  let p = memo.get(scenario);
  if (p === undefined) {
    p = captureWindowsDump(scenario);
    p.catch(() => memo.delete(scenario));
    memo.set(scenario, p);
  }
  return p;
}

async function captureWindowsDump(scenario: string): Promise<WindowsDump> {
  const started = Date.now();
  const repo = findRepoRoot();
  const debuggees = await publishWin(path.join(repo, 'test', 'debuggees'), 'Debuggees');
  const oracle = await publishWin(path.join(repo, 'test', 'oracles', 'clrmd-win'), 'ClrmdWinOracle');
  const key = hashKey({ debuggees: debuggees.hash, scenario, rid: 'win-x64' }).slice(0, 16);
  const dumpPath = path.join(dumpCacheDir(), `win-${scenario}-full-${key}.dmp`);
  const oraclePath = `${dumpPath}.clrmd-win-${oracle.hash}.json`;
  if (fs.existsSync(dumpPath) && fs.existsSync(oraclePath)) return { scenario, dumpPath, oraclePath, publishDir: debuggees.dir, cached: true, captureMs: 0 };
  await ensurePrefix();
  return withFileLock(`${dumpPath}.lock`, async () => {
    if (!fs.existsSync(dumpPath)) {
      const partial = `${dumpPath}.partial`;
      fs.mkdirSync(path.dirname(dumpPath), { recursive: true });
      // One retry: Wine occasionally fails a first start in a fresh prefix.
      for (let attempt = 1; ; attempt++) {
        fs.rmSync(partial, { force: true });
        let run: { code: number | null; stdout: string; stderr: string } | undefined;
        let failure: string | undefined;
        try {
          run = await runProcess('wine', [path.join(debuggees.dir, 'Debuggees.exe'), scenario], {
            env: { ...wineEnv(), DUMPSLEUTH_SELF_DUMP: winePath(partial) }, timeoutMs: 5 * 60_000,
          });
        } catch (e) {
          failure = e instanceof Error ? e.message : String(e);
        }
        // createdump.exe under Wine may fault while exiting after a complete dump: the dump itself is the judge.
        const problem = failure ?? checkMinidump(partial);
        if (problem === undefined) break;
        // Whatever still runs in our prefix (a hung debuggee or createdump) goes with its wineserver.
        await runProcess('wineserver', ['-k'], { env: wineEnv(), timeoutMs: 60_000 }).catch(() => undefined);
        fs.rmSync(partial, { force: true });
        if (attempt === 2) {
          throw new CaptureError(`Windows dump of ${scenario} under Wine failed (${problem}; exit code ${run?.code ?? 'none'})`, tail(`${run?.stdout ?? ''}\n${run?.stderr ?? ''}`));
        }
      }
      fs.renameSync(partial, dumpPath);
    }
    if (!fs.existsSync(oraclePath)) {
      const out = `${oraclePath}.partial`;
      const run = await runProcess('wine', [
        path.join(oracle.dir, 'ClrmdWinOracle.exe'), winePath(path.join(debuggees.dir, 'mscordaccore.dll')), winePath(dumpPath), winePath(out),
      ], { env: wineEnv(), timeoutMs: 5 * 60_000 });
      if (run.code !== 0 || !fs.existsSync(out)) {
        throw new CaptureError(`ClrMD under Wine failed on ${dumpPath} (exit code ${run.code})`, tail(`${run.stdout}\n${run.stderr}`));
      }
      JSON.parse(fs.readFileSync(out, 'utf8'));
      fs.renameSync(out, oraclePath);
    }
    return { scenario, dumpPath, oraclePath, publishDir: debuggees.dir, cached: false, captureMs: Date.now() - started };
  });
}

/** Undefined when `file` is a complete minidump with threads and coreclr.dll, else what is wrong. */
function checkMinidump(file: string): string | undefined {
  if (!fs.existsSync(file)) return 'no dump was written';
  try {
    const md = Minidump.open(file);
    try {
      if (md.truncation !== undefined) return md.truncation;
      if (md.threads.length === 0) return 'the dump has no threads';
      if (!md.modules.some((m) => /coreclr\.dll$/i.test(m.name))) return 'the dump has no coreclr.dll';
      return undefined;
    } finally {
      md.close();
    }
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Prepares the Windows tier (Wine, publishes, dumps, oracle answers), logging one line per dump or the skip reason. */
export async function prepareWindows(log: (line: string) => void): Promise<void> {
  const reason = await windowsTierSkipReason();
  if (reason !== undefined) {
    log(`windows dumps: SKIPPED (${reason})`);
    return;
  }
  for (const scenario of WINDOWS_SCENARIOS) {
    const d = await getWindowsDump(scenario);
    log(`windows ${scenario} full: ${(fs.statSync(d.dumpPath).size / 1048576).toFixed(1)} MiB, ${d.cached ? 'cached' : `made with its ClrMD answers in ${d.captureMs} ms`}: ${d.dumpPath}`);
  }
}
