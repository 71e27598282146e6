/**
 * `dumpsleuth diff <old> <new>`: what grew between two dumps of one program — per-type count and size deltas (the
 * difference of the two `dumpheap -stat` tables), growth attributed to owners (the retention paths that gained
 * objects, with chain and culprit), and a warning when the dumps do not come from the same program.
 * It takes two sessions, so it is not a one-dump Command; `analyze --baseline` reuses it.
 */
import * as path from 'node:path';
import { diffHeaps, growthAsFinding, type DiffSide, type DumpIdentity, type GrowthFinding, type HeapDiff, type TypeDelta } from '../../analysis/heap-diff';
import { chainStepJson } from '../../analysis/finding';
import { UsageError } from '../../errors';
import { parseArgs } from '../args';
import type { CommandResult } from '../command';
import { hexJson, n0, right } from '../format';
import type { Session } from '../session';
import { analysisContextOf } from './analyze';
import { dumpheapCommand } from './dumpheap';
import { diffReport, parseFormat, renderReport } from './report-format';

/** Usage of the diff command. */
export const DIFF_USAGE = 'diff <old-dump> <new-dump> [-stat] [-limit <n>] [--format md|html]';

/** The sides of a diff: identity and `dumpheap -stat` histogram, and (unless `statOnly`) the analysis context. */
export function diffSide(session: Session, statOnly: boolean): DiffSide {
  const stat = dumpheapCommand.run(session, ['-stat']).json as { types: { name: string; count: number; totalSize: number }[] };
  return { identity: identityOf(session), types: stat.types, ...(statOnly ? {} : { ctx: analysisContextOf(session) }) };
}

/** Runs the diff on two open sessions; `args` are the options after the two paths. @throws UsageError. */
export function runDiff(oldSession: Session, newSession: Session, args: readonly string[]): CommandResult & { diff: HeapDiff; warnings: string[] } {
  const opts = parseArgs('diff', args, ['stat'], ['limit', 'format']);
  const format = parseFormat('diff', opts.values.get('format'));
  if (opts.positional.length > 0) throw new UsageError(`diff: unexpected argument "${opts.positional[0]}" (usage: ${DIFF_USAGE})`);
  const statOnly = opts.flags.has('stat');
  const limit = opts.values.has('limit') ? Number(opts.values.get('limit')) : 20;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new UsageError(`diff: -limit needs a count`);
  const diff = diffHeaps(diffSide(oldSession, statOnly), diffSide(newSession, statOnly));
  const tag = (label: string, s: Session) => s.takeWarnings().map((w) => `${label} dump: ${w}`);
  const warnings = [...diff.warnings, ...tag('old', oldSession), ...tag('new', newSession)];
  for (const s of [oldSession, newSession]) if (s.dump.truncation !== undefined) warnings.unshift(`${s.dump.path}: ${s.dump.truncation}`);
  if (format !== undefined) {
    const report = diffReport(diff, diff.growth.map(growthAsFinding), warnings, ['diff', oldSession.dump.path, newSession.dump.path, ...args].join(' '));
    // The report holds the warnings; none are printed after it.
    return { diff, warnings: [], text: renderReport(report, format), json: diffJson(diff) };
  }
  return { diff, warnings, text: diffText(diff, statOnly, limit), json: diffJson(diff) };
}

/** What identifies the program of a dump: process, runtime, and the managed assemblies outside the runtime folder. */
export function identityOf(session: Session): DumpIdentity {
  const dump = session.dump;
  const runtimeDir = path.dirname(session.runtime.coreclrPath);
  const appAssemblies = dump.modules
    .map((m) => m.path)
    .filter((p) => /\.(dll|exe)$/i.test(p) && !p.startsWith(runtimeDir + '/') && !p.includes('/shared/Microsoft.'))
    .map((p) => path.basename(p))
    .sort();
  return { path: dump.path, processId: dump.processId, processName: dump.processName, runtimeVersion: session.runtime.version, appAssemblies: [...new Set(appAssemblies)] };
}

function sign(n: number): string {
  return n > 0 ? `+${n0(n)}` : n0(n);
}

function describe(id: DumpIdentity): string {
  return `${id.path} (${id.processName || 'process'}${id.processId !== undefined ? ` pid ${id.processId}` : ''}, .NET ${id.runtimeVersion ?? 'unknown'})`;
}

/** The text report. */
export function diffText(d: HeapDiff, statOnly: boolean, limit: number): string {
  const lines: string[] = [];
  lines.push(`Old: ${describe(d.old)}`, `New: ${describe(d.new)}`);
  const same = d.old.processId !== undefined && d.old.processId === d.new.processId && d.old.processName === d.new.processName;
  if (d.warnings.length === 0 || same) lines.push(`Same program: ${same ? 'yes, the same process' : 'yes'} (${d.new.appAssemblies.slice(0, 3).join(', ') || d.new.processName})`);
  const t = d.totals;
  lines.push(`Heap: ${n0(t.oldCount)} → ${n0(t.newCount)} objects (${sign(t.newCount - t.oldCount)}), ${n0(t.oldSize)} → ${n0(t.newSize)} bytes (${sign(t.newSize - t.oldSize)})`);
  if (!statOnly) {
    lines.push('');
    if (d.growth.length === 0) lines.push('Growth by owner: none (no retention path gained ' + '100 or more objects of one type)');
    else lines.push(`Growth by owner: ${d.growth.length} finding${d.growth.length === 1 ? '' : 's'}`);
    d.growth.forEach((g, k) => lines.push(...growthText(g, k + 1)));
    lines.push('');
  }
  const changed = d.types.filter((r) => r.countDelta !== 0 || r.sizeDelta !== 0);
  const shown = statOnly ? changed : changed.slice(0, limit);
  lines.push(statOnly ? 'Statistics (new − old, every type that changed):' : `Type growth (${shown.length} of ${changed.length} changed types, by size delta; -stat for all):`);
  lines.push(...deltaTable(shown));
  return lines.join('\n');
}

function growthText(g: GrowthFinding, n: number): string[] {
  const lines = [''];
  const how = g.status === 'new' ? 'new since the first dump' : `already there, grew from ${n0(g.clusterOldCount)}`;
  lines.push(`${n}. ${g.type} ${sign(g.countDelta)} (${n0(g.oldCount)} → ${n0(g.newCount)}) held by ${g.owner}`);
  lines.push(`   This path holds ${n0(g.clusterNewCount)} (${how}); retained ${n0(g.oldRetained)} → ${n0(g.newRetained)} bytes (${sign(g.newRetained - g.oldRetained)})`);
  if (g.alsoGrew.length > 0) lines.push(`   Grew with it: ${g.alsoGrew.map((a) => `${a.type} ${sign(a.countDelta)}`).join(', ')}`);
  if (g.culprit) {
    lines.push(`   Culprit: ${g.culprit.method}`);
    lines.push(`            type ${g.culprit.type}, module ${g.culprit.module}`);
    lines.push(`            ${g.culprit.evidence}`);
  } else if (g.culpritNote) lines.push(`   Culprit: none named: ${g.culpritNote}`);
  lines.push('   Chain (root → growing type):');
  lines.push(`      ${g.root.kind === 'stack' ? 'stack root' : g.root.kind === 'finalizer' ? 'finalizer queue' : `${g.root.kind} handle`} ${hexJson(g.root.address)}`);
  for (const s of g.chain) lines.push(`      ${s.field !== undefined ? `.${s.field} → ` : ''}${s.type}${s.address !== undefined ? ` ${hexJson(s.address)}` : ''}`);
  lines.push('   Verify:');
  for (const v of g.verify) lines.push(`      ${v}`);
  return lines;
}

function deltaTable(rows: readonly TypeDelta[]): string[] {
  const cells = rows.map((r) => [n0(r.oldCount), n0(r.newCount), sign(r.countDelta), n0(r.oldSize), n0(r.newSize), sign(r.sizeDelta)]);
  const heads = ['Old Count', 'New Count', 'Delta', 'Old TotalSize', 'New TotalSize', 'Delta'];
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[], name: string) => `${c.map((x, i) => right(x, widths[i]!)).join(' ')} ${name}`;
  return [line(heads, 'Class Name'), ...rows.map((r, k) => line(cells[k]!, r.name))];
}

/** The JSON document (addresses as hex strings). */
export function diffJson(d: HeapDiff): Record<string, unknown> {
  const id = (x: DumpIdentity) => ({ ...x, processId: x.processId ?? null, runtimeVersion: x.runtimeVersion ?? null });
  return {
    old: id(d.old),
    new: id(d.new),
    sameProgram: d.warnings.every((w) => !w.startsWith('the dumps')),
    totals: d.totals,
    types: d.types,
    growth: d.growth.map(growthJson),
  };
}

/** One growth finding as JSON. */
export function growthJson(g: GrowthFinding): Record<string, unknown> {
  return {
    ...g,
    root: { kind: g.root.kind, address: hexJson(g.root.address) },
    chain: g.chain.map(chainStepJson),
    culprit: g.culprit ?? null,
    culpritNote: g.culpritNote ?? null,
    culpritKind: g.culpritKind ?? null,
    examples: g.examples.map(hexJson),
  };
}
