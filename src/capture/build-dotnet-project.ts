import * as fs from 'node:fs';
import * as path from 'node:path';
import { CaptureError } from './capture-error';
import { withFileLock } from './file-lock';
import { findDotnet } from './find-dotnet';
import { runProcessChecked } from './run-process';
import { hashSources } from './source-hash';

/** A built C# project. */
export interface BuiltProject {
  /** The main assembly, run as `dotnet <assemblyPath>`. */
  readonly assemblyPath: string;
  readonly outputDir: string;
  /** Hash of the project sources the build came from. */
  readonly sourceHash: string;
  /** False when an earlier build of the same sources was reused. */
  readonly built: boolean;
  readonly elapsedMs: number;
}

const STAMP = '.dumpsleuth-source-hash';

/** Builds `<projectDir>/<assemblyName>.csproj` with `dotnet build -c Release` into `<projectDir>/bin/dumpsleuth` unless that folder already holds a build of the same sources; throws CaptureError when the build fails. */
export async function buildDotnetProject(projectDir: string, assemblyName: string): Promise<BuiltProject> {
  const started = Date.now();
  const projectFile = path.join(projectDir, `${assemblyName}.csproj`);
  if (!fs.existsSync(projectFile)) throw new CaptureError(`project file ${projectFile} not found`);
  const outputDir = path.join(projectDir, 'bin', 'dumpsleuth');
  const assemblyPath = path.join(outputDir, `${assemblyName}.dll`);
  const stampPath = path.join(outputDir, STAMP);
  const isCurrent = (hash: string): boolean => fs.existsSync(assemblyPath) && readText(stampPath) === hash;
  const sourceHash = hashSources(projectDir);
  if (isCurrent(sourceHash)) return { assemblyPath, outputDir, sourceHash, built: false, elapsedMs: Date.now() - started };
  const dotnet = await findDotnet();
  return withFileLock(path.join(projectDir, 'bin', '.dumpsleuth-build.lock'), async () => {
    if (isCurrent(sourceHash)) return { assemblyPath, outputDir, sourceHash, built: false, elapsedMs: Date.now() - started };
    fs.rmSync(stampPath, { force: true });
    await runProcessChecked(dotnet, ['build', projectFile, '-c', 'Release', '-o', outputDir, '--nologo', '-v', 'quiet'], {
      cwd: projectDir,
      env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', DOTNET_SKIP_FIRST_TIME_EXPERIENCE: '1' },
      timeoutMs: 10 * 60_000,
    });
    if (!fs.existsSync(assemblyPath)) throw new CaptureError(`dotnet build succeeded but ${assemblyPath} is missing`);
    fs.writeFileSync(stampPath, sourceHash);
    return { assemblyPath, outputDir, sourceHash, built: true, elapsedMs: Date.now() - started };
  });
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
