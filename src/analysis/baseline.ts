/**
 * `analyze --baseline`: the findings of a later dump set against those of an earlier dump of the same program. A
 * finding is matched by what it is about — rule, culprit method, chain types — never by addresses or counts, which
 * change between dumps; then it is new, grew, shrank or unchanged by its object count.
 */
import type { Finding } from './finding';

/** How a finding of the later dump compares with the earlier dump. */
export type BaselineStatus = 'new' | 'grew' | 'unchanged' | 'shrank';

/** One finding of the later dump and its state at the baseline. */
export interface BaselineFinding {
  readonly finding: Finding;
  readonly status: BaselineStatus;
  /** The matched finding's object count at the baseline (0 when new). */
  readonly baselineObjectCount: number;
}

/** What identifies a finding across dumps. */
export function findingIdentity(f: Finding): string {
  return [f.rule, f.culprit?.method ?? '', ...f.chain.map((s) => `${s.field?.replace(/\[\d+\]/g, '[]') ?? ''}:${s.type}`)].join('|');
}

/** Pairs each later finding with the earlier finding of the same identity (each earlier finding used once). */
export function compareWithBaseline(baseline: readonly Finding[], later: readonly Finding[]): BaselineFinding[] {
  const pool = new Map<string, Finding[]>();
  for (const f of baseline) {
    const k = findingIdentity(f);
    const list = pool.get(k);
    if (list) list.push(f);
    else pool.set(k, [f]);
  }
  return later.map((finding) => {
    const match = pool.get(findingIdentity(finding))?.shift();
    if (!match) return { finding, status: 'new' as const, baselineObjectCount: 0 };
    const d = finding.objectCount - match.objectCount;
    return { finding, status: d > 0 ? ('grew' as const) : d < 0 ? ('shrank' as const) : ('unchanged' as const), baselineObjectCount: match.objectCount };
  });
}
