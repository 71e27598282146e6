/**
 * Issue 13's bench figure: `diff` of two heap dumps of one growing process with more than 20 M objects each (the
 * `large-grow` debuggee: the `large` heap plus an audit list that grows by 800,000 entries between the dumps), time
 * and peak memory of `diff -stat` and of the full `diff` (growth by owner), next to dotnet-dump's two
 * `dumpheap -stat` runs (what a person compares by hand). Before timing, the answers are checked: every per-type
 * delta of `diff -stat --json` equals the difference of SOS's two tables, and the full diff names the audit list.
 */
import { captureDumpPair, findDotnet } from '../src/capture';
import { findDotnetDump } from './find-dotnet-dump';
import { measureProcess, type MeasuredRun } from './measure-process';

/** The debuggee's arguments: N objects of the large heap, G audit entries in all (G / 5 before the first dump). */
export const DIFF_LARGE_ARGS = ['21000000', '1000000'] as const;
const MIN_OBJECTS = 20_000_000;
const GROWING_TYPE = 'Debuggees.AuditEntry';
const GROWING_OWNER = 'static Debuggees.AuditLog.s_entries';
const AUDIT_DELTA = 800_000;

/** One timed command's median over the repeats. */
export interface DiffLargeRow {
  readonly tool: string;
  readonly command: string;
  readonly medianWallMs: number;
  readonly peakRssBytes: number;
}

/** What the diff case measured. */
export interface DiffLargeResult {
  readonly dumps: readonly [string, string];
  readonly dumpBytes: readonly [number, number];
  readonly objects: readonly [number, number];
  readonly rows: readonly DiffLargeRow[];
  readonly agreement: readonly string[];
}

interface DiffJson {
  totals: { oldCount: number; newCount: number; oldSize: number; newSize: number };
  types: { name: string; oldCount: number; newCount: number; oldSize: number; newSize: number }[];
  growth: { type: string; countDelta: number; owner: string; culprit: { method: string } | null }[];
  warnings: string[];
}

/** Captures (or reuses) the pair, checks the answers, then times each command `repeat` times.
 * @throws Error when a capture fails, a command fails or the answers differ. */
export async function benchDiffLarge(cli: string, repeat: number, timeoutSeconds: number, log: (m: string) => void): Promise<DiffLargeResult> {
  log(`capturing (or reusing the cached) heap dump pair of "large-grow ${DIFF_LARGE_ARGS.join(' ')}"`);
  const pair = await captureDumpPair({ scenario: 'large-grow', args: [...DIFF_LARGE_ARGS], dumpType: 'heap', readyTimeoutMs: 30 * 60_000 });
  const dumps = [pair.first.dumpPath, pair.second.dumpPath] as const;
  const dotnet = await findDotnet();
  const sos = await findDotnetDump();
  const env: NodeJS.ProcessEnv = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };
  const timeoutMs = timeoutSeconds * 1000;
  const run = async (what: string, command: string, args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<MeasuredRun> => {
    const r = await measureProcess(command, args, { timeoutMs, ...(extraEnv ? { env: extraEnv } : {}) });
    if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${(r.stderr || r.stdout).slice(-2000)}`);
    log(`${what}: ${(r.wallMs / 1000).toFixed(1)} s, ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    return r;
  };
  const sosArgs = (dump: string): string[] => [sos.assemblyPath, 'analyze', dump, '-c', 'setsymbolserver --disable', '-c', 'dumpheap -stat', '-c', 'exit'];

  // The answers first: diff -stat equals SOS's two tables; the full diff finds the audit list.
  const statJson = JSON.parse((await run('dumpsleuth --json diff -stat', process.execPath, [cli, '--json', 'diff', dumps[0], dumps[1], '-stat'])).stdout) as DiffJson;
  const sosTables = [];
  for (const d of dumps) sosTables.push(parseSosStat((await run(`dotnet-dump dumpheap -stat ${d}`, dotnet, sosArgs(d), env)).stdout));
  const agreement = [checkAgainstSos(statJson, sosTables[0]!, sosTables[1]!)];
  const objects = [statJson.totals.oldCount, statJson.totals.newCount] as const;
  if (objects[0] < MIN_OBJECTS || objects[1] < MIN_OBJECTS) throw new Error(`the large-grow dumps hold ${objects[0]} and ${objects[1]} objects, fewer than ${MIN_OBJECTS}`);
  const fullJson = JSON.parse((await run('dumpsleuth --json diff', process.execPath, [cli, '--json', 'diff', dumps[0], dumps[1]])).stdout) as DiffJson;
  const audit = fullJson.growth.find((g) => g.type === GROWING_TYPE);
  if (!audit || audit.countDelta !== AUDIT_DELTA || audit.owner !== GROWING_OWNER) {
    throw new Error(`the full diff does not report ${GROWING_TYPE} +${AUDIT_DELTA} held by ${GROWING_OWNER}: ${JSON.stringify(fullJson.growth.slice(0, 3))} ${JSON.stringify(fullJson.warnings)}`);
  }
  agreement.push(`the full diff's first findings: ${fullJson.growth.slice(0, 3).map((g) => `${g.type} +${g.countDelta.toLocaleString('en-US')} held by ${g.owner}${g.culprit ? ` (culprit ${g.culprit.method})` : ''}`).join('; ')}`);
  if (fullJson.warnings.length > 0) agreement.push(`warnings: ${fullJson.warnings.join(' | ')}`);

  const cases = [
    { tool: 'dumpsleuth', command: 'diff -stat', argv: [process.execPath, cli, 'diff', dumps[0], dumps[1], '-stat'] },
    { tool: 'dumpsleuth', command: 'diff (growth by owner)', argv: [process.execPath, cli, 'diff', dumps[0], dumps[1]] },
    { tool: 'dotnet-dump (SOS)', command: 'dumpheap -stat, first dump', argv: [dotnet, ...sosArgs(dumps[0])], env },
    { tool: 'dotnet-dump (SOS)', command: 'dumpheap -stat, second dump', argv: [dotnet, ...sosArgs(dumps[1])], env },
  ];
  const walls = new Map<string, number[]>(cases.map((c) => [c.command, []]));
  const peaks = new Map<string, number>();
  for (let r = 1; r <= repeat; r++) {
    for (const c of cases) {
      const m = await run(`run ${r}/${repeat}: ${c.tool} ${c.command}`, c.argv[0]!, c.argv.slice(1), c.env);
      walls.get(c.command)!.push(m.wallMs);
      peaks.set(c.command, Math.max(peaks.get(c.command) ?? 0, m.peakRssBytes));
    }
  }
  const rows = cases.map((c) => {
    const w = [...walls.get(c.command)!].sort((a, b) => a - b);
    return { tool: c.tool, command: c.command, medianWallMs: w[Math.floor(w.length / 2)]!, peakRssBytes: peaks.get(c.command)! };
  });
  return { dumps, dumpBytes: [pair.first.sizeBytes, pair.second.sizeBytes], objects, rows, agreement };
}

/** SOS's `dumpheap -stat` rows summed by type name, and its total line. */
function parseSosStat(text: string): { rows: Map<string, { count: number; size: number }>; totalCount: number; totalSize: number } {
  const rows = new Map<string, { count: number; size: number }>();
  let totalCount = -1;
  let totalSize = -1;
  for (const line of text.split('\n')) {
    const row = /^\s*[0-9a-f]{8,16}\s+([\d,]+)\s+([\d,]+)\s+(\S.*?)\s*$/.exec(line);
    if (row) {
      const name = row[3]!;
      const r = rows.get(name) ?? { count: 0, size: 0 };
      r.count += Number(row[1]!.replace(/,/g, ''));
      r.size += Number(row[2]!.replace(/,/g, ''));
      rows.set(name, r);
      continue;
    }
    const total = /^Total ([\d,]+) objects, ([\d,]+) bytes/.exec(line.trim());
    if (total) {
      totalCount = Number(total[1]!.replace(/,/g, ''));
      totalSize = Number(total[2]!.replace(/,/g, ''));
    }
  }
  if (totalCount < 0 || rows.size === 0) throw new Error(`dotnet-dump dumpheap -stat printed no table:\n${text.slice(-2000)}`);
  return { rows, totalCount, totalSize };
}

/** Throws unless every type's counts and sizes in `diff -stat --json` equal SOS's two tables; returns the summary. */
function checkAgainstSos(json: DiffJson, a: ReturnType<typeof parseSosStat>, b: ReturnType<typeof parseSosStat>): string {
  const names = new Set([...a.rows.keys(), ...b.rows.keys()]);
  const ours = new Map(json.types.map((t) => [t.name, t]));
  const bad: string[] = [];
  if (ours.size !== names.size) bad.push(`${ours.size} type names in diff -stat, ${names.size} in SOS's two tables`);
  for (const name of names) {
    const o = a.rows.get(name) ?? { count: 0, size: 0 };
    const n = b.rows.get(name) ?? { count: 0, size: 0 };
    const t = ours.get(name);
    if (!t || t.oldCount !== o.count || t.newCount !== n.count || t.oldSize !== o.size || t.newSize !== n.size) bad.push(`${name}: ours ${JSON.stringify(t)}, SOS ${o.count}/${o.size} → ${n.count}/${n.size}`);
  }
  const totals = json.totals;
  if (totals.oldCount !== a.totalCount || totals.newCount !== b.totalCount || totals.oldSize !== a.totalSize || totals.newSize !== b.totalSize) bad.push(`totals ${JSON.stringify(totals)} vs SOS ${a.totalCount}/${a.totalSize} → ${b.totalCount}/${b.totalSize}`);
  if (bad.length > 0) throw new Error(`diff -stat and the difference of dotnet-dump's two dumpheap -stat differ:\n${bad.slice(0, 20).join('\n')}`);
  return `diff -stat: all ${names.size} types' counts and sizes equal dotnet-dump's two dumpheap -stat tables (totals ${a.totalCount.toLocaleString('en-US')} → ${b.totalCount.toLocaleString('en-US')} objects)`;
}

/** The markdown table of the figure. */
export function formatDiffLarge(result: DiffLargeResult): string {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
  const sosTotal = result.rows.filter((r) => r.tool !== 'dumpsleuth').reduce((s, r) => s + r.medianWallMs, 0);
  return [
    `### diff of two dumps of one growing process (large-grow ${DIFF_LARGE_ARGS.join(' ')}: ${result.objects[0].toLocaleString('en-US')} → ${result.objects[1].toLocaleString('en-US')} objects, ${mib(result.dumpBytes[0])} + ${mib(result.dumpBytes[1])} MiB)`,
    '',
    '| tool | command | median wall s | peak RSS MiB |',
    '|---|---|---:|---:|',
    ...result.rows.map((r) => `| ${r.tool} | ${r.command} | ${(r.medianWallMs / 1000).toFixed(1)} | ${mib(r.peakRssBytes)} |`),
    `| dotnet-dump (SOS) | both dumpheap -stat (sum) | ${(sosTotal / 1000).toFixed(1)} | |`,
    '',
    ...result.agreement.map((a) => `- ${a}`),
  ].join('\n');
}
