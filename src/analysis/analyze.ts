/**
 * `analyze`: runs every leak rule over one analysis context and orders the findings by impact. The two symptom rules
 * of this module run first (finished-but-alive claims the pending operations it explains, so never-completed-async
 * does not report them twice); the rules of `rules/index.ts` follow.
 */
import { DumpsleuthError, UsageError } from '../errors';
import type { AnalysisContext } from './analysis-context';
import { sortFindings, type Finding } from './finding';
import type { LeakRule } from './leak-rule';
import { finishedButAliveRule } from './rules/finished-but-alive';
import { neverCompletedAsyncRule } from './rules/never-completed-async';
import { RULES } from './rules';
import { throwIfCancelled } from '../heap/walk-progress';

/** The rules this module owns, in the order they must run. */
export const CORE_RULES: readonly LeakRule<AnalysisContext>[] = [finishedButAliveRule, neverCompletedAsyncRule];

/** What one analyze run produced. */
export interface AnalyzeResult {
  readonly findings: Finding[];
  /** Ids of the rules that ran, in order. */
  readonly rules: readonly string[];
  /** Rules that failed on this dump (id and reason); their findings are missing. */
  readonly failures: readonly { rule: string; reason: string }[];
  readonly elapsedMs: number;
}

/** Every rule: the two symptom rules first, then the leak and waste rules of `rules/index.ts` (AnalysisContext
 * satisfies their RuleContext). */
export function allRules(): LeakRule<AnalysisContext>[] {
  return [...CORE_RULES, ...RULES];
}

/** Runs the rules (all, or the one named `ruleId`) and sorts the findings. @throws UsageError for an unknown rule id. */
export function analyze(ctx: AnalysisContext, options: { ruleId?: string } = {}): AnalyzeResult {
  const t0 = Date.now();
  let rules = allRules();
  if (options.ruleId !== undefined) {
    const wanted = rules.filter((r) => r.id === options.ruleId);
    if (wanted.length === 0) throw new UsageError(`analyze: unknown rule "${options.ruleId}" (rules: ${rules.map((r) => r.id).join(', ')})`);
    rules = wanted;
  }
  const findings: Finding[] = [];
  const failures: { rule: string; reason: string }[] = [];
  for (const rule of rules) {
    // Ctrl-C in the prompt stops between rules (heap walks inside a rule stop on their own).
    throwIfCancelled();
    try {
      findings.push(...rule.run(ctx));
    } catch (e) {
      // A rule that cannot read what it needs on this dump must not hide the other rules' findings.
      if (!(e instanceof DumpsleuthError)) throw e;
      failures.push({ rule: rule.id, reason: e.message });
      ctx.warn(`rule ${rule.id} failed: ${e.message}`);
    }
  }
  return { findings: sortFindings(findings), rules: rules.map((r) => r.id), failures, elapsedMs: Date.now() - t0 };
}

