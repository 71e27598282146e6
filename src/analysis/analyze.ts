/**
 * `analyze`: runs every leak rule over one analysis context and orders the findings by impact. The two symptom rules
 * of this module run first (finished-but-alive claims the pending operations it explains, so never-completed-async
 * does not report them twice); the rules of `rules/index.ts` follow when that module exists.
 */
import { DumpsleuthError, UsageError } from '../errors';
import type { AnalysisContext } from './analysis-context';
import { sortFindings, type Finding } from './finding';
import type { LeakRule } from './leak-rule';
import { finishedButAliveRule } from './rules/finished-but-alive';
import { neverCompletedAsyncRule } from './rules/never-completed-async';

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

/** Every known rule: ours first, then the ones `rules/index.ts` exports (any exported rule or array of rules),
 * each id once. */
export function allRules(): LeakRule<AnalysisContext>[] {
  const out = [...CORE_RULES];
  for (const r of externalRules()) if (!out.some((o) => o.id === r.id)) out.push(r);
  return out;
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

/** The rules exported by `rules/index.ts` (owned by the rule authors), or none when that module does not exist. */
function externalRules(): LeakRule<AnalysisContext>[] {
  let mod: Record<string, unknown>;
  try {
    // Loaded at run time: the module may not exist yet, and a static import would not compile without it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require('./rules/index') as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes('rules/index')) return [];
    throw e;
  }
  const out: LeakRule<AnalysisContext>[] = [];
  const add = (v: unknown) => {
    if (isRule(v) && !out.some((o) => o.id === v.id)) out.push(v);
  };
  for (const value of Object.values(mod)) {
    if (Array.isArray(value)) value.forEach(add);
    else add(value);
  }
  return out;
}

function isRule(v: unknown): v is LeakRule<AnalysisContext> {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' && typeof (v as { run?: unknown }).run === 'function';
}
