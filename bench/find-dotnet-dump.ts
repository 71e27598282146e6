// Finds the pinned dotnet-dump's main assembly so the bench can run it as `dotnet <dll>` — what the installed
// `dotnet-dump` command does — instead of through `dotnet tool run`, whose SDK start-up (~0.4 s) would be charged
// to dotnet-dump's time.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaptureError } from '../src/capture';
import { dotnetDumpVersion, restoreDotnetTools } from '../test/support/sos';

/** Where the pinned dotnet-dump lives. */
export interface DotnetDumpTool {
  /** The version pinned in .config/dotnet-tools.json. */
  readonly version: string;
  /** dotnet-dump.dll inside the NuGet package folder. */
  readonly assemblyPath: string;
}

/** Restores the repository's dotnet tools and returns the pinned dotnet-dump's assembly; throws CaptureError when the package folder lacks it. */
export async function findDotnetDump(): Promise<DotnetDumpTool> {
  await restoreDotnetTools();
  const version = dotnetDumpVersion();
  const packages = process.env.NUGET_PACKAGES !== undefined && process.env.NUGET_PACKAGES !== '' ? process.env.NUGET_PACKAGES : path.join(os.homedir(), '.nuget', 'packages');
  const toolsDir = path.join(packages, 'dotnet-dump', version.toLowerCase(), 'tools');
  const candidates: string[] = [];
  if (fs.existsSync(toolsDir)) {
    // tools/<tfm>/any/dotnet-dump.dll; prefer the newest target framework.
    for (const tfm of fs.readdirSync(toolsDir).sort().reverse()) {
      const dll = path.join(toolsDir, tfm, 'any', 'dotnet-dump.dll');
      if (fs.existsSync(dll)) candidates.push(dll);
    }
  }
  if (candidates.length === 0) throw new CaptureError(`dotnet-dump ${version} is not in ${toolsDir} after dotnet tool restore (set NUGET_PACKAGES?)`);
  return { version, assemblyPath: candidates[0]! };
}
