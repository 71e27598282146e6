/**
 * `--format md|html` for analyze and diff: builds the shareable report (analysis/report.ts) from what the command
 * computed and renders it. Warnings go inside the report, not after it.
 */
import * as path from 'node:path';
import type { Finding } from '../../analysis/finding';
import type { HeapDiff } from '../../analysis/heap-diff';
import type { Report, ReportChart } from '../../analysis/report';
import { renderHtml } from '../../analysis/report-html';
import { renderMarkdown } from '../../analysis/report-markdown';
import { UsageError } from '../../errors';
import type { Session } from '../session';
import { dominatorsCommand } from './dominators';

/** A report format. */
export type ReportFormat = 'md' | 'html';

/** Parses the value of `--format` (`md`, `markdown`, `html`; `text` means none). @throws UsageError. */
export function parseFormat(command: string, value: string | undefined): ReportFormat | undefined {
  if (value === undefined || value === 'text') return undefined;
  const v = value.toLowerCase();
  if (v === 'md' || v === 'markdown') return 'md';
  if (v === 'html') return 'html';
  throw new UsageError(`${command}: unknown --format "${value}" (md, html or text)`);
}

/** Renders a report in a format. */
export function renderReport(report: Report, format: ReportFormat): string {
  return format === 'md' ? renderMarkdown(report) : renderHtml(report);
}

/** The analyze report of a session: facts about the dump, the findings, top types and top retainers. */
export function analyzeReport(session: Session, findings: readonly Finding[], extraFacts: readonly (readonly [string, string])[], command: string): Report {
  const dom = dominatorsCommand.run(session, ['-limit', '10']).json as {
    liveObjects: number;
    liveBytes: number;
    objects: { address: string; type: string; size: number; retained: number }[];
    types: { type: string; count: number; retained: number }[];
  };
  const charts: ReportChart[] = [
    { title: 'Top types by retained size', heads: ['Type', 'Retained bytes', 'Objects'], bars: dom.types.map((t) => ({ label: t.type, value: t.retained, note: t.count.toLocaleString('en-US') })) },
    { title: 'Top retainers (objects by retained size)', heads: ['Object', 'Retained bytes', 'Own size'], bars: dom.objects.map((o) => ({ label: `${o.type} ${o.address}`, value: o.retained, note: o.size.toLocaleString('en-US') })) },
  ];
  return {
    title: `dumpsleuth analyze: ${path.basename(session.dump.path)}`,
    facts: [...dumpFacts(session), ['Live heap', `${dom.liveObjects.toLocaleString('en-US')} objects, ${dom.liveBytes.toLocaleString('en-US')} bytes`], ...extraFacts],
    findings,
    noFindings: 'No rule found a leak or waste in this dump.',
    charts,
    warnings: session.takeWarnings(),
    command,
  };
}

/** The diff report: both dumps, the growth findings, and the growth chart by type. */
export function diffReport(diff: HeapDiff, findings: readonly Finding[], warnings: readonly string[], command: string): Report {
  const t = diff.totals;
  const sign = (n: number) => (n > 0 ? '+' : '') + n.toLocaleString('en-US');
  const grown = diff.types.filter((r) => r.sizeDelta !== 0).slice(0, 15);
  return {
    title: `dumpsleuth diff: ${path.basename(diff.old.path)} → ${path.basename(diff.new.path)}`,
    facts: [
      ['Old dump', `${diff.old.path} (${diff.old.processName} pid ${diff.old.processId ?? '?'}, .NET ${diff.old.runtimeVersion ?? '?'})`],
      ['New dump', `${diff.new.path} (${diff.new.processName} pid ${diff.new.processId ?? '?'}, .NET ${diff.new.runtimeVersion ?? '?'})`],
      ['Objects', `${t.oldCount.toLocaleString('en-US')} → ${t.newCount.toLocaleString('en-US')} (${sign(t.newCount - t.oldCount)})`],
      ['Bytes', `${t.oldSize.toLocaleString('en-US')} → ${t.newSize.toLocaleString('en-US')} (${sign(t.newSize - t.oldSize)})`],
    ],
    findings,
    noFindings: 'No growth: no retention path gained 100 or more objects of one type between the dumps.',
    charts: [{ title: 'Growth by type (bytes)', heads: ['Type', 'Size delta', 'Count delta'], bars: grown.map((r) => ({ label: r.name, value: r.sizeDelta, note: sign(r.countDelta) })) }],
    warnings,
    command,
  };
}

function dumpFacts(session: Session): [string, string][] {
  const d = session.dump;
  return [
    ['Dump', d.path],
    ['Process', `${d.processName || '?'}${d.processId !== undefined ? ` pid ${d.processId}` : ''}`],
    ['Runtime', `.NET ${session.runtime.version ?? 'unknown'}`],
  ];
}
