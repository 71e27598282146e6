/**
 * `analyze --baseline <earlier-dump>`: analyze focused on growth. The diff's growth findings come first (what grew,
 * who holds it, the culprit), then the findings that are new or grew since the earlier dump; findings that were
 * already there unchanged are listed by title only.
 */
import { analyze } from '../../analysis/analyze';
import { compareWithBaseline } from '../../analysis/baseline';
import { findingJson, type Finding } from '../../analysis/finding';
import { diffHeaps, growthAsFinding } from '../../analysis/heap-diff';
import type { CommandResult } from '../command';
import { Session } from '../session';
import { analysisContextOf, reportText } from './analyze';
import { diffSide, growthJson } from './diff';
import { analyzeReport, renderReport, type ReportFormat } from './report-format';

/** Runs analyze on `session` against the earlier dump at `baselinePath`. @throws what opening or reading it throws. */
export function analyzeWithBaseline(
  session: Session,
  baselinePath: string,
  users: readonly string[],
  ruleId: string | undefined,
  limit: number | undefined,
  format: ReportFormat | undefined,
  command: string,
): CommandResult {
  const old = Session.open(baselinePath);
  try {
    const diff = diffHeaps(diffSide(old, false), diffSide(session, false));
    for (const w of diff.warnings) session.warn(w);
    const ctx = analysisContextOf(session, users);
    const oldCtx = analysisContextOf(old, users);
    const options = ruleId !== undefined ? { ruleId } : {};
    const now = analyze(ctx, options);
    const then = analyze(oldCtx, options);
    for (const w of old.takeWarnings()) session.warn(`baseline dump: ${w}`);
    const compared = compareWithBaseline(then.findings, now.findings);
    const focused: Finding[] = [
      ...diff.growth.map(growthAsFinding),
      ...compared
        .filter((c) => c.status === 'new' || c.status === 'grew')
        .map((c) => ({ ...c.finding, details: { ...c.finding.details, baseline: { status: c.status, baselineObjectCount: c.baselineObjectCount } } })),
    ];
    const unchanged = compared.filter((c) => c.status === 'unchanged' || c.status === 'shrank');
    const shown = limit !== undefined ? focused.slice(0, limit) : focused;
    const lines = [
      `Baseline: ${baselinePath} (${diff.old.processName}${diff.old.processId !== undefined ? ` pid ${diff.old.processId}` : ''}); heap ${diff.totals.oldCount.toLocaleString('en-US')} → ${diff.totals.newCount.toLocaleString('en-US')} objects, ${diff.totals.oldSize.toLocaleString('en-US')} → ${diff.totals.newSize.toLocaleString('en-US')} bytes`,
      reportText(ctx, shown, focused.length, ['growth', ...now.rules]),
    ];
    if (unchanged.length > 0) {
      lines.push('', `Already there at the baseline (${unchanged.length}, not grown):`);
      for (const c of unchanged) lines.push(`   - [${c.finding.severity}] ${c.finding.title} (${c.status}; ${c.baselineObjectCount.toLocaleString('en-US')} objects then)`);
    }
    const facts: [string, string][] = [
      ['Baseline', `${baselinePath} (${diff.old.processName} pid ${diff.old.processId ?? '?'})`],
      ['Heap since the baseline', `${lines[0]!.slice(lines[0]!.indexOf('heap ') + 5)}`],
      ['Unchanged findings', unchanged.length === 0 ? 'none' : unchanged.map((c) => c.finding.title).join('; ')],
    ];
    return {
      text: format !== undefined ? renderReport(analyzeReport(session, shown, facts, command), format) : lines.join('\n'),
      json: {
        baseline: { path: baselinePath, processId: diff.old.processId ?? null, totals: diff.totals },
        growth: diff.growth.map(growthJson),
        findings: shown.map(findingJson),
        unchanged: unchanged.map((c) => ({ ...findingJson(c.finding), baseline: { status: c.status, baselineObjectCount: c.baselineObjectCount } })),
      },
    };
  } finally {
    old.close();
  }
}
