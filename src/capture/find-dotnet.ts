import * as fs from 'node:fs';
import * as path from 'node:path';
import { CaptureError } from './capture-error';
import { runProcess } from './run-process';

/** A shared .NET runtime installed next to the `dotnet` host. */
export interface DotnetRuntime {
  /** e.g. "10.0.12" */
  readonly version: string;
  /** The folder holding libcoreclr.so, libmscordaccore.so and createdump. */
  readonly directory: string;
  readonly createdumpPath: string;
  readonly dacPath: string;
}

let dotnetMemo: Promise<string> | undefined;
const runtimeMemo = new Map<number, Promise<DotnetRuntime>>();

/** Finds the `dotnet` host ($DUMPSLEUTH_DOTNET alone when set, else $DOTNET_HOST_PATH, $DOTNET_ROOT/dotnet, PATH and the usual install folders); throws CaptureError when it is missing or does not run. */
export function findDotnet(): Promise<string> {
  dotnetMemo ??= locateDotnet().catch((error: unknown) => {
    dotnetMemo = undefined;
    throw error;
  });
  return dotnetMemo;
}

async function locateDotnet(): Promise<string> {
  // An explicit choice replaces the search, so a test (or a user with several SDKs) can pin the host or rule it out.
  const pinned = process.env.DUMPSLEUTH_DOTNET;
  const candidates: string[] = [];
  let searched: string;
  if (pinned !== undefined && pinned !== '') {
    candidates.push(pinned);
    searched = `$DUMPSLEUTH_DOTNET (${pinned})`;
  } else {
    if (process.env.DOTNET_HOST_PATH) candidates.push(process.env.DOTNET_HOST_PATH);
    if (process.env.DOTNET_ROOT) candidates.push(path.join(process.env.DOTNET_ROOT, 'dotnet'));
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (dir !== '') candidates.push(path.join(dir, 'dotnet'));
    }
    candidates.push('/usr/share/dotnet/dotnet', '/usr/lib/dotnet/dotnet', path.join(process.env.HOME ?? '/root', '.dotnet', 'dotnet'));
    searched = '$DOTNET_HOST_PATH, $DOTNET_ROOT, $PATH, /usr/share/dotnet, /usr/lib/dotnet and ~/.dotnet';
  }
  const found = candidates.find((candidate) => isExecutable(candidate));
  if (found === undefined) {
    throw new CaptureError(`the .NET SDK host \`dotnet\` was not found (looked at ${searched}); install the .NET 10 SDK to build and dump the debuggees`);
  }
  return probeDotnet(fs.realpathSync(found));
}

async function probeDotnet(resolved: string): Promise<string> {
  const probe = await runProcess(resolved, ['--version'], { timeoutMs: 60_000 });
  if (probe.code !== 0) {
    throw new CaptureError(`${resolved} --version failed (exit code ${probe.code}); is an SDK installed?`, probe.stderr);
  }
  return resolved;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Finds the newest installed Microsoft.NETCore.App runtime with the given major version (from `dotnet --list-runtimes`); throws CaptureError when there is none or it lacks createdump. */
export function findRuntime(major = 10): Promise<DotnetRuntime> {
  let memo = runtimeMemo.get(major);
  if (memo === undefined) {
    memo = locateRuntime(major).catch((error: unknown) => {
      runtimeMemo.delete(major);
      throw error;
    });
    runtimeMemo.set(major, memo);
  }
  return memo;
}

async function locateRuntime(major: number): Promise<DotnetRuntime> {
  const dotnet = await findDotnet();
  const listed = await runProcess(dotnet, ['--list-runtimes'], { timeoutMs: 60_000 });
  const runtimes: { version: string; directory: string }[] = [];
  for (const line of listed.stdout.split('\n')) {
    const match = /^Microsoft\.NETCore\.App (\S+) \[(.+)\]\s*$/.exec(line.trim());
    if (match !== null && match[1].split('.')[0] === String(major) && !match[1].includes('-')) {
      runtimes.push({ version: match[1], directory: path.join(match[2], match[1]) });
    }
  }
  runtimes.sort((a, b) => compareVersions(b.version, a.version));
  const newest = runtimes[0];
  if (newest === undefined) {
    throw new CaptureError(`no Microsoft.NETCore.App ${major}.x runtime found by \`${dotnet} --list-runtimes\``, listed.stdout);
  }
  return runtimeAt(newest.directory, newest.version);
}

/** Describes the runtime in `directory` (createdump and DAC paths); throws CaptureError when createdump is not there. */
export function runtimeAt(directory: string, version = path.basename(directory)): DotnetRuntime {
  const createdumpPath = path.join(directory, 'createdump');
  if (!isExecutable(createdumpPath)) {
    throw new CaptureError(`the runtime folder ${directory} has no executable createdump`);
  }
  return { version, directory, createdumpPath, dacPath: path.join(directory, 'libmscordaccore.so') };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
