/**
 * `analyze`: from symptom to culprit in one command — every leak rule over the dump, findings ordered by impact,
 * each with its verdict, counts, retained bytes, the chain root → … → symptom with field names, the culprit, a
 * confidence, and the SOS-style commands that prove each link. `--json` prints issue 6's `{"findings": [...]}`.
 * Also the place the session's analysis context is built (dominators and retained share it).
 */
import { AnalysisContext } from '../../analysis/analysis-context';
import { allRules, analyze } from '../../analysis/analyze';
import { chainStepText, findingJson, type Finding } from '../../analysis/finding';
import { rootLine } from '../../analysis/report';
import { UsageError } from '../../errors';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { readThreads } from '../../runtime/thread-store';
import { numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { n0 } from '../format';
import type { Session } from '../session';
import { analyzeWithBaseline } from './analyze-baseline';
import { walkManagedThread } from './clrstack';
import { delegateReaderOf } from './dumpdelegate';
import { referenceNamer } from './gcroot';
import { objectReaderOf } from './object-text';
import { rootCache } from './root-cache';
import { sessionIndexOf } from '../index/session-index';
import { analyzeReport, parseFormat, renderReport } from './report-format';

const contexts = new WeakMap<Session, Map<string, AnalysisContext>>();

/** The session's analysis context for a set of user assemblies (built on first use, then reused). */
export function analysisContextOf(session: Session, userAssemblies: readonly string[] = []): AnalysisContext {
  let byKey = contexts.get(session);
  if (!byKey) contexts.set(session, (byKey = new Map()));
  const key = userAssemblies.join('\n').toLowerCase();
  let ctx = byKey.get(key);
  if (!ctx) {
    const other = [...byKey.values()][0];
    if (other) ctx = other.withUserAssemblies(userAssemblies);
    else {
      const cache = rootCache(session);
      ctx = new AnalysisContext({
        runtime: session.runtime,
        heap: session.heap,
        handles: cache.handles,
        finalizeQueues: cache.finalizeQueues,
        walkThread: (t) => walkManagedThread(session, t),
        methodTables: session.methodTables,
        modules: session.modules,
        names: session.names,
        graph: cache.graph,
        roots: cache.roots(true),
        threads: readThreads(session.runtime),
        objects: objectReaderOf(session),
        delegates: delegateReaderOf(session),
        code: codeResolverOf(session),
        namer: referenceNamer(session),
        userAssemblies,
        warn: (m) => session.warn(m),
      }, sessionIndexOf(session)?.heavyParts());
    }
    byKey.set(key, ctx);
  }
  // A reused context still answers from a graph and handles that may have skipped objects: each command says so.
  void rootCache(session).graph;
  void rootCache(session).handles;
  if (rootCache(session).stackRoots.some((r) => !r.precise)) {
    session.warn('stack roots come from a conservative scan of each thread stack (possible roots, not GC-info exact)');
  }
  return ctx;
}

/** The analyze command. */
export const analyzeCommand: Command = {
  name: 'analyze',
  aliases: ['leaks'],
  summary: 'Run the leak rules: findings by impact, each with its retention chain, culprit method and the commands that prove it',
  usage: 'analyze [-rule <id>] [--user-assembly <name>[,<name>...]] [-limit <n>] [-list] [--baseline <earlier-dump>] [--format md|html]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('analyze', args, ['list'], ['rule', 'user-assembly', 'limit', 'baseline', 'format']);
    const format = parseFormat('analyze', opts.values.get('format'));
    const command = ['analyze', ...args].join(' ');
    if (opts.positional.length > 0) throw new UsageError(`analyze: unexpected argument "${opts.positional[0]}"`);
    if (opts.flags.has('list')) {
      const rules = allRules();
      return { text: rules.map((r) => `${r.id.padEnd(28)} ${r.description}`).join('\n'), json: { rules: rules.map((r) => ({ id: r.id, description: r.description })) } };
    }
    const limit = opts.values.has('limit') ? numberArg('analyze', opts.values.get('limit')!, 'limit') : undefined;
    const users = (opts.values.get('user-assembly') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const baseline = opts.values.get('baseline');
    // The first command of a process may answer from the per-dump index: the answer a process that ran it first
    // computed, stored with its warnings (another dump's baseline is not part of the index's key: never stored).
    const index = baseline === undefined && session.commandCount === 1 ? sessionIndexOf(session) : undefined;
    // The report formats print the dump's path as given: part of the key.
    const answerArgs = format !== undefined ? [session.dump.path, ...args] : args;
    const stored = index?.storedAnswer('analyze', answerArgs);
    if (stored !== undefined) {
      for (const w of stored.warnings) session.warn(w);
      rootCache(session).rootsGatheredByStoredAnswer();
      return { text: stored.text, json: stored.json };
    }
    const ctx = analysisContextOf(session, users);
    const ruleId = opts.values.get('rule');
    if (baseline !== undefined) return analyzeWithBaseline(session, baseline, users, ruleId, limit, format, command);
    const result = analyze(ctx, ruleId !== undefined ? { ruleId } : {});
    const shown = limit !== undefined ? result.findings.slice(0, limit) : result.findings;
    const gaps = incompleteBecause(session);
    const text = format !== undefined ? renderReport(analyzeReport(session, shown, [], command), format) : reportText(ctx, shown, result.findings.length, result.rules, gaps);
    const json = { findings: shown.map(findingJson), complete: gaps.length === 0, incomplete: gaps };
    // Stored as JSON text prints it: a round trip through JSON changes nothing in the printed document.
    index?.answerComputed('analyze', answerArgs, { text, json: JSON.parse(JSON.stringify(json)) as unknown, warnings: session.peekWarnings() });
    return { text, json };
  },
};

/** What the dump lacked while analyzing (the command's warnings so far, but the note that stack roots come from a
 * conservative scan, which adds possible roots rather than losing any): findings and root counts may be missing. */
function incompleteBecause(session: Session): string[] {
  return session.peekWarnings().filter((w) => !w.startsWith('stack roots come from a conservative scan'));
}

/** The text report; `gaps` (what could not be read) marks it incomplete. */
export function reportText(ctx: AnalysisContext, findings: readonly Finding[], total: number, rules: readonly string[], gaps: readonly string[] = []): string {
  const bySeverity = (s: string) => findings.filter((f) => f.severity === s).length;
  const lines: string[] = [];
  lines.push(
    `${n0(ctx.graph.count)} objects, ${n0(ctx.roots.length)} strong roots; rules: ${rules.join(', ')}`,
    `${total} finding${total === 1 ? '' : 's'}: ${bySeverity('error')} error, ${bySeverity('warning')} warning, ${bySeverity('info')} info${findings.length < total ? ` (showing ${findings.length})` : ''}`,
  );
  if (gaps.length > 0) {
    lines.push(`Incomplete: ${gaps.length} problem${gaps.length === 1 ? '' : 's'} reading the dump (the warnings below): findings, roots and counts may be missing`);
  }
  findings.forEach((f, k) => {
    lines.push('', `${k + 1}. [${f.severity}] ${f.title}`);
    lines.push(`   ${f.verdict}`);
    lines.push(`   Objects: ${n0(f.objectCount)}   Retained: ${n0(f.retainedBytes)} bytes   Confidence: ${f.confidence}   Rule: ${f.rule}`);
    const since = f.details?.baseline as { status: string; baselineObjectCount: number } | undefined;
    if (since) lines.push(`   Since the baseline: ${since.status === 'new' ? 'new' : `${since.status} (${n0(since.baselineObjectCount)} objects then)`}`);
    if (f.culprit) {
      lines.push(`   Culprit: ${f.culprit.method}`);
      lines.push(`            type ${f.culprit.type}, module ${f.culprit.module}`);
      lines.push(`            ${f.culprit.evidence}`);
    }
    if (f.chain.length > 0) {
      lines.push('   Chain (root → symptom):');
      const root = rootLine(f);
      if (root !== undefined) lines.push(`      ${root}`);
      for (const step of f.chain) lines.push(`      ${chainStepText(step)}`);
    }
    const ops = f.details?.operations as { address: string; type: string; state: string; label: string; pending: boolean | null }[] | undefined;
    if (ops && ops.length > 0) {
      lines.push('   Async operations on the chain:');
      for (const o of ops) lines.push(`      ${o.address} ${o.label}: ${o.state}${o.pending === true ? ' (pending)' : o.pending === false ? ' (done)' : ''}`);
    }
    const state = f.details?.stateObject as { address: string; type: string; field: string } | undefined;
    if (state) lines.push(`   State object: ${state.address} ${state.type} (its ${state.field} holds the same callback)`);
    if (f.examples.length > 0) lines.push(`   Examples: ${f.examples.map((a) => '0x' + a.toString(16)).join(' ')}`);
    if (f.verify.length > 0) {
      lines.push('   Verify:');
      for (const v of f.verify) lines.push(`      ${v}`);
    }
  });
  return lines.join('\n');
}
