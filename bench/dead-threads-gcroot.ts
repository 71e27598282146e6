/**
 * Issue 4's bench figure: on the seed-apm heap dump, the time to build the reference index and answer `gcroot` for
 * every dead thread's Thread object, dumpsleuth (one prompt session) against dotnet-dump (one process, one `-c` each).
 */
import { captureDump } from '../src/capture';
import { findDotnet } from '../src/capture';
import { findDotnetDump } from './find-dotnet-dump';
import { measureProcess } from './measure-process';

/** One tool's median over the repeats. */
export interface DeadThreadsGcrootRow {
  readonly tool: string;
  readonly medianWallMs: number;
  readonly peakRssBytes: number;
  readonly rootsFound: string;
}

/** Runs both tools `repeat` times on the seed-apm heap dump and checks they report the same root count per thread.
 * @throws Error when the dump cannot be made or the answers differ. */
export async function benchDeadThreadsGcroot(cli: string, repeat: number): Promise<{ dumpPath: string; threads: number; rows: DeadThreadsGcrootRow[] }> {
  const dump = await captureDump({ scenario: 'seed-apm', dumpType: 'heap' });
  const threadsRun = await measureProcess(process.execPath, [cli, '--json', dump.dumpPath, 'clrthreads']);
  const doc = JSON.parse(threadsRun.stdout) as { threads: { isDead: boolean; exposedObject: string | null }[] };
  const targets = doc.threads.filter((t) => t.isDead && t.exposedObject !== null).map((t) => t.exposedObject!.replace(/^0x/, ''));
  if (targets.length === 0) throw new Error('seed-apm dump has no dead threads');
  const dotnet = await findDotnet();
  const sos = await findDotnetDump();
  const tools = [
    { tool: 'dumpsleuth', command: process.execPath, args: [cli, dump.dumpPath], stdin: `${targets.map((a) => `gcroot ${a}`).join('\n')}\nexit\n` },
    {
      tool: 'dotnet-dump (SOS)',
      command: dotnet,
      args: [sos.assemblyPath, 'analyze', dump.dumpPath, '-c', 'setsymbolserver --disable', ...targets.flatMap((a) => ['-c', `gcroot ${a}`]), '-c', 'exit'],
      stdin: undefined,
    },
  ];
  const rows: DeadThreadsGcrootRow[] = [];
  for (const t of tools) {
    const walls: number[] = [];
    let peak = 0;
    let found = '';
    for (let r = 0; r < repeat; r++) {
      const run = await measureProcess(t.command, t.args, t.stdin === undefined ? {} : { stdin: t.stdin });
      walls.push(run.wallMs);
      peak = Math.max(peak, run.peakRssBytes);
      found = [...run.stdout.matchAll(/Found (\d+) unique roots/g)].map((m) => m[1]).join(',');
    }
    walls.sort((a, b) => a - b);
    rows.push({ tool: t.tool, medianWallMs: walls[Math.floor(walls.length / 2)]!, peakRssBytes: peak, rootsFound: found });
  }
  if (rows[0]!.rootsFound !== rows[1]!.rootsFound) {
    throw new Error(`gcroot of the dead threads: dumpsleuth found ${rows[0]!.rootsFound} roots, dotnet-dump ${rows[1]!.rootsFound}`);
  }
  return { dumpPath: dump.dumpPath, threads: targets.length, rows };
}

/** The markdown table of the figure. */
export function formatDeadThreadsGcroot(result: { dumpPath: string; threads: number; rows: readonly DeadThreadsGcrootRow[] }): string {
  const base = result.rows[0]!.medianWallMs;
  const lines = [
    `### gcroot of the ${result.threads} dead threads (seed-apm heap dump, index build included)`,
    '',
    '| tool | median wall s | × dumpsleuth | peak RSS MiB |',
    '|---|---:|---:|---:|',
    ...result.rows.map((r) => `| ${r.tool} | ${(r.medianWallMs / 1000).toFixed(3)} | ${(r.medianWallMs / base).toFixed(2)} | ${(r.peakRssBytes / 1048576).toFixed(1)} |`),
    '',
    `Both tools found the same number of roots for each thread (${result.rows[0]!.rootsFound}).`,
  ];
  return lines.join('\n');
}
