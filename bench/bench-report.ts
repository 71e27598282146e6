// The bench's result as data (written as JSON) and as the markdown the bench prints.
import type { ProfileSummary } from './cpu-profile-summary';
import type { RssMethod } from './measure-process';

/** Which question a row answers: rows are compared with dumpsleuth's answer to the same question. */
export type Question = 'heap' | 'type' | 'gcroot' | 'live' | 'dominators' | 'first' | 'threads' | 'baseline' | 'dumpasync' | 'pstacks' | 'single';

/** One timed run of a command. */
export interface RunTiming {
  readonly wallMs: number;
  /** User + system CPU of the process (GNU time), when measured. */
  readonly cpuMs?: number;
  /** Undefined for in-process baselines. */
  readonly peakRssBytes?: number;
}

/** One command timed `repeat` times. */
export interface CaseResult {
  readonly id: string;
  readonly tool: string;
  readonly command: string;
  readonly question: Question;
  /** The command line that was run (empty for in-process baselines). */
  readonly argv: readonly string[];
  readonly runs: readonly RunTiming[];
  readonly medianWallMs: number;
  /** Median user + system CPU time of the runs, when measured. */
  readonly medianCpuMs?: number;
  /** The largest peak RSS over the runs, in bytes. */
  readonly peakRssBytes?: number;
  /** medianWallMs ÷ dumpsleuth's median for the same question (baselines: ÷ dumpsleuth's dumpheap -stat). */
  readonly ratioVsDumpsleuth: number;
  /** Heap objects ÷ median wall seconds, for heap walks. */
  readonly objectsPerSecond?: number;
  /** Bytes ÷ median wall seconds, for the file-read baseline. */
  readonly bytesPerSecond?: number;
  /** Runs that did not finish within the time limit (their rows show no time). */
  readonly timedOut?: boolean;
  /** The tool failed on this dump (allowed for the other tools' single-object rows): no time. */
  readonly failed?: boolean;
}

/** One issue-7 target, measured. */
export interface TargetResult {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Everything one bench run measured. */
export interface BenchReport {
  readonly date: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly totalMemoryBytes: number;
    readonly os: string;
    /** 1-minute load average before and after the timed runs (other work on the machine skews the times). */
    readonly loadAverage: readonly [number, number];
  };
  readonly nodeVersion: string;
  readonly dotnetDumpVersion: string;
  readonly dump: {
    readonly path: string;
    readonly sizeBytes: number;
    /** e.g. "many 5000000 (heap dump, workstation GC)", when the bench captured it. */
    readonly description?: string;
    readonly runtimeVersion?: string;
    /** Heap objects (free objects included), as all tools agreed. */
    readonly objects: number;
    /** Their total size in bytes, as all tools agreed. */
    readonly objectBytes: number;
  };
  readonly repeat: number;
  readonly rssMethod: RssMethod;
  readonly cases: readonly CaseResult[];
  /** What was checked before anything was timed. */
  readonly agreement: readonly string[];
  readonly profile?: ProfileSummary;
  readonly targets?: readonly TargetResult[];
  readonly notes: readonly string[];
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** Renders the report as markdown: a header, the timing table, the agreement checks, notes and the profile. */
export function formatBenchMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  const m = report.machine;
  const d = report.dump;
  lines.push(`## dumpsleuth bench — ${report.date}`);
  lines.push('');
  lines.push(`- Dump: \`${d.path}\` — ${mib(d.sizeBytes)} MiB${d.description !== undefined ? `, ${d.description}` : ''}${d.runtimeVersion !== undefined ? `, .NET ${d.runtimeVersion}` : ''}`);
  lines.push(`- Heap: ${d.objects.toLocaleString('en-US')} objects, ${mib(d.objectBytes)} MiB of objects (free objects included; all tools agree)`);
  lines.push(`- Machine: ${m.cpus} × ${m.cpuModel}, ${(m.totalMemoryBytes / GIB).toFixed(1)} GiB, ${m.os}; load average ${m.loadAverage[0].toFixed(2)} before, ${m.loadAverage[1].toFixed(2)} after`);
  lines.push(`- Node ${report.nodeVersion}, dotnet-dump ${report.dotnetDumpVersion}; ${report.repeat} timed runs per command, median shown; peak RSS = max over runs (${report.rssMethod === 'time' ? 'GNU time %M' : 'VmHWM polled'})`);
  lines.push('');
  lines.push('| tool | command | median wall s | × dumpsleuth | median CPU s | objects/s | peak RSS MiB | RSS B/object |');
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const c of report.cases) {
    const rate = c.objectsPerSecond !== undefined ? `${(c.objectsPerSecond / 1e6).toFixed(2)} M` : c.bytesPerSecond !== undefined ? `(${(c.bytesPerSecond / GIB).toFixed(2)} GiB/s)` : '—';
    const perObject = c.peakRssBytes !== undefined && c.peakRssBytes > 0 ? (c.peakRssBytes / d.objects).toFixed(1) : '—';
    const wall = c.timedOut ? 'timed out' : c.failed ? 'failed' : (c.medianWallMs / 1000).toFixed(3);
    const ratio = c.timedOut || c.failed ? '—' : c.ratioVsDumpsleuth.toFixed(2);
    const cpu = c.medianCpuMs !== undefined && !c.timedOut && !c.failed ? (c.medianCpuMs / 1000).toFixed(3) : '—';
    lines.push(`| ${c.tool} | \`${c.command}\` | ${wall} | ${ratio} | ${cpu} | ${rate} | ${c.peakRssBytes !== undefined ? mib(c.peakRssBytes) : '—'} | ${perObject} |`);
  }
  lines.push('');
  lines.push('× dumpsleuth = this row\'s median ÷ dumpsleuth\'s median for the same question (same command; first answer: `threads`;');
  lines.push('baseline rows: `dumpheap -stat`; single-object rows: the same command). Above 1 means dumpsleuth is faster. Every wall time is a');
  lines.push('whole process, start-up included.');
  if (report.targets !== undefined && report.targets.length > 0) {
    lines.push('');
    lines.push('| issue-7 target | measured | met |');
    lines.push('|---|---|---|');
    for (const t of report.targets) lines.push(`| ${t.target} | ${t.measured} | ${t.met ? 'met' : 'not met'} |`);
  }
  lines.push('');
  lines.push('Answers checked (every timed run is checked; any difference stops the bench with exit code 1):');
  for (const a of report.agreement) lines.push(`- ${a}`);
  if (report.notes.length > 0) {
    lines.push('');
    lines.push('Notes:');
    for (const n of report.notes) lines.push(`- ${n}`);
  }
  if (report.profile !== undefined) {
    const p = report.profile;
    lines.push('');
    lines.push(`Top self time of \`dumpsleuth ${p.command ?? 'dumpheap -stat'}\` under \`node --cpu-prof\` (${(p.totalMs / 1000).toFixed(3)} s sampled; ${p.profilePath}):`);
    lines.push('');
    lines.push('| self ms | % | function | location |');
    lines.push('|---:|---:|---|---|');
    for (const e of p.top) lines.push(`| ${e.selfMs.toFixed(1)} | ${e.selfPercent.toFixed(1)} | ${e.functionName} | ${e.location} |`);
  }
  return lines.join('\n');
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}
