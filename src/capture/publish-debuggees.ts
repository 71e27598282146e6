import * as fs from 'node:fs';
import * as path from 'node:path';
import { debuggeesDir } from './build-debuggees';
import { CaptureError } from './capture-error';
import { withFileLock } from './file-lock';
import { findDotnet } from './find-dotnet';
import { cacheRoot } from './paths';
import { runProcessChecked } from './run-process';
import { hashSources } from './source-hash';

/** How the debuggee is published against a runtime pack. */
export type PublishKind = 'self-contained' | 'single-file';

/** The debuggee published self-contained against one runtime pack: its own libcoreclr, DAC and createdump. */
export interface PublishedDebuggee {
  /** The runtime pack version, e.g. "11.0.0". */
  readonly runtimePack: string;
  readonly kind: PublishKind;
  /** The app's native host (`<appDir>/Debuggees`), run directly. */
  readonly executablePath: string;
  /** The publish folder. */
  readonly appDir: string;
  /** The folder with this runtime's DAC and createdump (`setclrpath` for SOS): the app folder when self-contained;
   * for a single-file app, which bundles the runtime and ships neither, the self-contained publish of the same pack. */
  readonly runtimeDir: string;
  readonly createdumpPath: string;
  readonly sourceHash: string;
  readonly built: boolean;
  readonly elapsedMs: number;
}

const STAMP = '.dumpsleuth-source-hash';

/** The runtime packs the tests publish against when nothing narrows them (NuGet serves both). */
export const DEFAULT_EXTRA_RUNTIME_PACKS: readonly string[] = ['10.0.15', '11.0.0'];

/**
 * Publishes test/debuggees self-contained for linux-x64 against Microsoft.NETCore.App.Runtime `runtimePack` (a copy
 * of the sources under `<cache>/runtimes/<pack>-<kind>/src`, so the checkout's own build is untouched), unless that
 * folder already holds a publish of the same sources. The packs come from NuGet through the SDK's ordinary restore.
 * @throws CaptureError when the publish fails or leaves no app or createdump.
 */
export async function publishDebuggees(runtimePack: string, kind: PublishKind = 'self-contained'): Promise<PublishedDebuggee> {
  if (!/^\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?$/.test(runtimePack)) throw new CaptureError(`runtime pack version ${JSON.stringify(runtimePack)} is not a version`);
  const started = Date.now();
  const companion = kind === 'single-file' ? await publishDebuggees(runtimePack, 'self-contained') : undefined;
  const source = debuggeesDir();
  const sourceHash = hashSources(source);
  const root = path.join(cacheRoot(), 'runtimes', `${runtimePack}-${kind}`);
  const appDir = path.join(root, 'app');
  const executablePath = path.join(appDir, 'Debuggees');
  const runtimeDir = companion?.appDir ?? appDir;
  const createdumpPath = path.join(runtimeDir, 'createdump');
  const result = (built: boolean): PublishedDebuggee => ({ runtimePack, kind, executablePath, appDir, runtimeDir, createdumpPath, sourceHash, built, elapsedMs: Date.now() - started });
  const isCurrent = (): boolean => fs.existsSync(executablePath) && fs.existsSync(createdumpPath) && readText(path.join(appDir, STAMP)) === sourceHash;
  if (isCurrent()) return result(false);
  const dotnet = await findDotnet();
  fs.mkdirSync(root, { recursive: true });
  return withFileLock(path.join(root, '.publish.lock'), async () => {
    if (isCurrent()) return result(false);
    const srcDir = path.join(root, 'src');
    fs.rmSync(srcDir, { recursive: true, force: true });
    fs.rmSync(appDir, { recursive: true, force: true });
    copySources(source, srcDir);
    const args = [
      'publish', path.join(srcDir, 'Debuggees.csproj'), '-c', 'Release', '-r', 'linux-x64', '--self-contained', 'true',
      `-p:RuntimeFrameworkVersion=${runtimePack}`, '-o', appDir, '--nologo', '-v', 'quiet',
    ];
    if (kind === 'single-file') args.push('-p:PublishSingleFile=true');
    await runProcessChecked(dotnet, args, {
      cwd: srcDir,
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1' },
      timeoutMs: 15 * 60_000,
    });
    if (!fs.existsSync(executablePath) || !fs.existsSync(createdumpPath)) {
      throw new CaptureError(`dotnet publish against runtime pack ${runtimePack} (${kind}) left no ${fs.existsSync(executablePath) ? createdumpPath : executablePath}`);
    }
    fs.writeFileSync(path.join(appDir, STAMP), sourceHash);
    return result(true);
  });
}

/** The extra runtime packs the tests use: `$DUMPSLEUTH_RUNTIME_PACK` alone when set, none when
 * `$DUMPSLEUTH_EXTRA_RUNTIMES=0`, else DEFAULT_EXTRA_RUNTIME_PACKS. */
export function extraRuntimePacks(): readonly string[] {
  const single = process.env.DUMPSLEUTH_RUNTIME_PACK;
  if (single !== undefined && single !== '') return [single];
  if (process.env.DUMPSLEUTH_EXTRA_RUNTIMES === '0') return [];
  return DEFAULT_EXTRA_RUNTIME_PACKS;
}

function copySources(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) continue;
    if (/\.(cs|csproj|props|targets|json)$/.test(entry.name)) fs.copyFileSync(path.join(from, entry.name), path.join(to, entry.name));
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
