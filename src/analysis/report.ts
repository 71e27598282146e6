/**
 * A shareable report (issue 13): what `--format md` and `--format html` render for `analyze` and `diff`. One model
 * for both formats, built by the CLI from the same findings and tables the text output shows.
 */
import { chainStepText, type Finding } from './finding';

/** One bar of a chart: a label and a value (bytes or a count), with a note printed beside it. */
export interface ReportBar {
  readonly label: string;
  readonly value: number;
  readonly note: string;
}

/** A table of bars (top types, top retainers, growth). */
export interface ReportChart {
  readonly title: string;
  /** Column heads: label column, then the value's unit, then the note's. */
  readonly heads: readonly [string, string, string];
  readonly bars: readonly ReportBar[];
}

/** What a report holds. */
export interface Report {
  readonly title: string;
  /** Label/value lines about the dump(s): path, runtime, heap size... */
  readonly facts: readonly (readonly [string, string])[];
  readonly findings: readonly Finding[];
  /** A sentence shown when there are no findings. */
  readonly noFindings: string;
  readonly charts: readonly ReportChart[];
  readonly warnings: readonly string[];
  /** The command that made the report (printed at the end). */
  readonly command: string;
}

/** The root line of a finding's chain ("strong handle 0x…"), when its details name the root. */
export function rootLine(f: Finding): string | undefined {
  const root = f.details?.root as RootDetails | undefined;
  return root?.kind ? rootText(root) : undefined;
}

/** A finding's `details.root`: the root kind, its handle/slot address, and for a stack root the thread and register. */
export interface RootDetails {
  readonly kind: string;
  readonly address?: string;
  readonly thread?: string;
  readonly register?: string;
}

/** `strong handle 0x…`, `stack root 0x… (thread 0x…)`, `register rax (thread 0x…)`, `finalizer queue 0x…`. */
export function rootText(root: RootDetails): string {
  const thread = root.thread !== undefined ? ` (thread ${root.thread})` : '';
  if (root.kind === 'stack') return root.register !== undefined ? `register ${root.register}${thread}` : `stack root ${root.address ?? ''}${thread}`;
  const what = root.kind === 'finalizer' ? 'finalizer queue' : `${root.kind} handle`;
  return `${what} ${root.address ?? ''}`.trimEnd();
}

/** The chain's links as lines: `.field → Type 0xaddress`. */
export function chainLines(f: Finding): string[] {
  return f.chain.map((s) => `${chainStepText(s)}${s.address !== undefined ? ` 0x${s.address.toString(16)}` : ''}`);
}

/** Thousands separators. */
export function n0(n: number): string {
  return n.toLocaleString('en-US');
}
