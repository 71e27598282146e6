import * as fs from 'node:fs';
import * as path from 'node:path';
import { CaptureError, findDotnet, findRepoRoot, hashKey, runProcess, runProcessChecked, tail } from '../../src/capture';
import { readOracleCache, writeOracleCache } from './oracle-cache';

/** The text `help exit` prints; runSosMany runs it between commands to split their outputs (batch mode does not echo commands). */
export const SOS_DELIMITER = 'Description:\n  Exits interactive mode.\n\nUsage:\n  > exit\n';

let restored: Promise<void> | undefined;

/** The dotnet-dump version pinned in .config/dotnet-tools.json; throws when the manifest lacks it. */
export function dotnetDumpVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(findRepoRoot(), '.config', 'dotnet-tools.json'), 'utf8')) as {
    tools?: Record<string, { version?: string }>;
  };
  const version = manifest.tools?.['dotnet-dump']?.version;
  if (version === undefined) throw new CaptureError('.config/dotnet-tools.json does not pin dotnet-dump');
  return version;
}

/** Runs `dotnet tool restore` in the repository once per process (installs the pinned dotnet-dump); throws CaptureError on failure. */
export function restoreDotnetTools(): Promise<void> {
  restored ??= (async () => {
    const dotnet = await findDotnet();
    await runProcessChecked(dotnet, ['tool', 'restore'], { cwd: findRepoRoot(), timeoutMs: 10 * 60_000 });
  })().catch((error: unknown) => {
    restored = undefined;
    throw error;
  });
  return restored;
}

/** Runs one SOS command on a dump with `dotnet-dump analyze` (symbol server off) and returns its raw output, cached on disk next to the dump; throws CaptureError when dotnet-dump fails. */
export async function runSos(dumpPath: string, command: string): Promise<string> {
  const [output] = await runSosMany(dumpPath, [command]);
  return output;
}

/** Runs several SOS commands in one dotnet-dump process and returns each command's raw output (split at `help exit` delimiters), cached per command; throws CaptureError when dotnet-dump fails or the split is ambiguous. */
export async function runSosMany(dumpPath: string, commands: readonly string[]): Promise<string[]> {
  const version = dotnetDumpVersion();
  const names = commands.map((command) => `sos-${hashKey({ version, command }).slice(0, 20)}.txt`);
  const outputs = names.map((name) => readOracleCache(dumpPath, name));
  const missing = commands.filter((_, i) => outputs[i] === undefined);
  if (missing.length > 0) {
    const fresh = await runDotnetDump(dumpPath, missing);
    let next = 0;
    for (let i = 0; i < commands.length; i++) {
      if (outputs[i] === undefined) {
        outputs[i] = fresh[next++];
        writeOracleCache(dumpPath, names[i], outputs[i] as string);
      }
    }
  }
  return outputs as string[];
}

async function runDotnetDump(dumpPath: string, commands: readonly string[]): Promise<string[]> {
  if (!fs.existsSync(dumpPath)) throw new CaptureError(`dump ${dumpPath} does not exist`);
  await restoreDotnetTools();
  const dotnet = await findDotnet();
  const args = ['tool', 'run', 'dotnet-dump', 'analyze', dumpPath, '-c', 'setsymbolserver --disable'];
  // A self-contained app's runtime (and DAC) is in the app folder, which SOS does not search by itself.
  const clrPath = selfContainedRuntimeDir(dumpPath);
  if (clrPath !== undefined) args.push('-c', `setclrpath ${clrPath}`);
  for (const command of commands) {
    if (command.includes(SOS_DELIMITER)) throw new CaptureError(`SOS command ${JSON.stringify(command)} contains the delimiter`);
    args.push('-c', 'help exit', '-c', command);
  }
  args.push('-c', 'exit');
  const result = await runProcess(dotnet, args, {
    cwd: findRepoRoot(),
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
    timeoutMs: 15 * 60_000,
  });
  if (result.code !== 0 || !result.stdout.startsWith('Loading core dump:')) {
    throw new CaptureError(`dotnet-dump analyze ${dumpPath} failed (exit code ${result.code})`, tail(`${result.stdout}\n${result.stderr}`));
  }
  const parts = result.stdout.split(SOS_DELIMITER);
  if (parts.length !== commands.length + 1) {
    throw new CaptureError(`dotnet-dump output for ${dumpPath} has ${parts.length - 1} delimiters, expected ${commands.length}`);
  }
  return parts.slice(1);
}

/** The app folder of a dump of a self-contained debuggee (from the capture metadata), else undefined. */
function selfContainedRuntimeDir(dumpPath: string): string | undefined {
  try {
    const meta = JSON.parse(fs.readFileSync(`${dumpPath}.json`, 'utf8')) as { runtimePack?: string; runtimeDir?: string };
    return meta.runtimePack !== undefined ? meta.runtimeDir : undefined;
  } catch {
    return undefined;
  }
}

/** The non-empty lines of a command's text with trailing blanks removed: the form both SOS's and dumpsleuth's answers
 * take for a line-for-line comparison. */
export function sosLines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
}
