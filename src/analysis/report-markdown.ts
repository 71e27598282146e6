/**
 * The Markdown report (`--format md`): for a GitHub issue or pull request — headings, tables, code blocks, no line
 * longer than 120 characters (long names are shortened in tables and wrapped in code blocks).
 */
import type { Finding } from './finding';
import { chainLines, n0, rootLine, type Report, type ReportChart } from './report';

/** The longest line the Markdown report writes. */
export const MARKDOWN_LINE_LIMIT = 120;

/** Renders a report as GitHub-flavoured Markdown. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [`# ${fit(report.title, MARKDOWN_LINE_LIMIT - 2)}`, ''];
  for (const [label, value] of report.facts) out.push(...wrap(`- **${label}:** ${value}`, '  '));
  out.push('');
  if (report.warnings.length > 0) {
    out.push('> **Warnings**', '>');
    for (const w of report.warnings) out.push(...wrap(`> - ${w}`, '>   '));
    out.push('');
  }
  out.push(`## Findings (${report.findings.length})`, '');
  if (report.findings.length === 0) out.push(...wrap(report.noFindings, ''), '');
  report.findings.forEach((f, k) => out.push(...findingMarkdown(f, k + 1)));
  for (const chart of report.charts) out.push(...chartMarkdown(chart));
  out.push('---', ...wrap(`Made by dumpsleuth: \`${report.command}\``, ''));
  return out.join('\n');
}

function findingMarkdown(f: Finding, n: number): string[] {
  const out: string[] = [];
  out.push(...wrap(`### ${n}. [${f.severity}] ${escapeInline(f.title)}`, ''), '');
  out.push(...wrap(escapeInline(f.verdict), ''), '');
  out.push('| Objects | Retained bytes | Confidence | Rule |', '|---:|---:|---|---|', `| ${n0(f.objectCount)} | ${n0(f.retainedBytes)} | ${f.confidence} | ${f.rule} |`, '');
  if (f.culprit) {
    out.push(...wrap(`**Culprit:** \`${f.culprit.method}\` (type \`${f.culprit.type}\`, module \`${f.culprit.module}\`)`, ''));
    out.push(...wrap(`_${escapeInline(f.culprit.evidence)}_`, ''), '');
  }
  if (f.chain.length > 0) {
    out.push('Chain (root → symptom):', '', '```');
    const root = rootLine(f);
    if (root) out.push(root);
    for (const line of chainLines(f)) out.push(...wrapCode(line));
    out.push('```', '');
  }
  if (f.verify.length > 0) {
    out.push('Verify:', '', '```');
    for (const v of f.verify) out.push(...wrapCode(v));
    out.push('```', '');
  }
  return out;
}

function chartMarkdown(chart: ReportChart): string[] {
  if (chart.bars.length === 0) return [];
  const max = Math.max(...chart.bars.map((b) => Math.abs(b.value)), 1);
  const out = [`## ${chart.title}`, '', `| ${chart.heads[0]} | ${chart.heads[1]} | ${chart.heads[2]} | |`, '|---|---:|---:|---|'];
  for (const b of chart.bars) {
    const bar = '█'.repeat(Math.max(b.value > 0 ? 1 : 0, Math.round((20 * Math.abs(b.value)) / max)));
    const rest = ` | ${n0(b.value)} | ${escapeCell(b.note)} | ${bar} |`;
    // Shorten the raw name until its escaped form fits the line.
    let budget = MARKDOWN_LINE_LIMIT - rest.length - 2;
    let cell = escapeCell(fit(b.label, budget));
    while (cell.length > MARKDOWN_LINE_LIMIT - rest.length - 2 && budget > 8) cell = escapeCell(fit(b.label, --budget));
    out.push(`| ${cell}${rest}`);
  }
  out.push('');
  return out;
}

/** Shortens `s` to `max` characters, keeping its end (the type's own name) after an ellipsis. */
function fit(s: string, max: number): string {
  return s.length <= max ? s : `…${s.slice(s.length - Math.max(1, max - 1))}`;
}

function escapeInline(s: string): string {
  return s.replace(/([<>*_`|[\]])/g, '\\$1');
}

function escapeCell(s: string): string {
  return escapeInline(s);
}

/** Wraps prose at spaces to the line limit; continuation lines start with `indent`. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > MARKDOWN_LINE_LIMIT) {
      lines.push(line);
      line = indent + word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.flatMap((l) => (l.length > MARKDOWN_LINE_LIMIT ? hardWrap(l, indent) : [l]));
}

/** Wraps a code line after ` → ` or `, ` (then anywhere) with a four-space continuation indent. */
function wrapCode(line: string): string[] {
  if (line.length <= MARKDOWN_LINE_LIMIT) return [line];
  const pieces = line.split(/(?<= → |, )/);
  const lines: string[] = [];
  let cur = '';
  for (const piece of pieces) {
    if (cur.trim() !== '' && cur.length + piece.length > MARKDOWN_LINE_LIMIT) {
      lines.push(cur.trimEnd());
      cur = '    ' + piece;
    } else cur += piece;
  }
  lines.push(cur);
  return lines.flatMap((l) => (l.length > MARKDOWN_LINE_LIMIT ? hardWrap(l, '    ') : [l]));
}

function hardWrap(line: string, indent: string): string[] {
  const out = [line.slice(0, MARKDOWN_LINE_LIMIT)];
  for (let i = MARKDOWN_LINE_LIMIT; i < line.length; i += MARKDOWN_LINE_LIMIT - indent.length) out.push(indent + line.slice(i, i + MARKDOWN_LINE_LIMIT - indent.length));
  return out;
}
