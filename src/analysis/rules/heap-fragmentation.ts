/**
 * Waste: free space per generation — the GC's free objects between live ones, which the process has committed but
 * cannot use for new objects of any size (pinned objects and the large object heap, which is not compacted by default,
 * are the usual causes).
 */
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { bytesText } from './rule-support';

/** Free bytes in one generation from which on it is reported … */
export const FRAGMENTATION_MIN_BYTES = 1 << 20;
/** … when they are at least this share of the generation's bytes. */
export const FRAGMENTATION_MIN_SHARE = 0.25;

const GENERATIONS = ['gen0', 'gen1', 'gen2', 'loh', 'poh'] as const;

/** Reports generations whose free space is a large share of their bytes. */
export const heapFragmentationRule: LeakRule<RuleContext> = {
  id: 'heap-fragmentation',
  description: `Generations where free space is at least ${FRAGMENTATION_MIN_SHARE * 100}% of their bytes (and ${bytesText(FRAGMENTATION_MIN_BYTES)})`,
  run(ctx: RuleContext): Finding[] {
    const g = ctx.graph;
    const freeMt = ctx.heap.freeObjectMethodTable;
    const total = new Map<string, number>();
    const free = new Map<string, number>();
    const segments = [...ctx.heap.segments].sort((a, b) => a.start - b.start);
    let s = 0;
    for (let i = 0; i < g.count; i++) {
      const a = g.addresses[i]!;
      while (s < segments.length && a >= segments[s]!.end) s++;
      const seg = segments[s];
      if (!seg || a < seg.start) continue;
      total.set(seg.kind, (total.get(seg.kind) ?? 0) + g.sizes[i]!);
      if (g.mtOf(i) === freeMt) free.set(seg.kind, (free.get(seg.kind) ?? 0) + g.sizes[i]!);
    }
    const rows = GENERATIONS.map((gen) => ({ generation: gen, bytes: total.get(gen) ?? 0, freeBytes: free.get(gen) ?? 0 })).filter(
      (r) => r.freeBytes >= FRAGMENTATION_MIN_BYTES && r.freeBytes >= FRAGMENTATION_MIN_SHARE * r.bytes,
    );
    if (rows.length === 0) return [];
    const freeBytes = rows.reduce((n, r) => n + r.freeBytes, 0);
    const text = rows.map((r) => `${r.generation} ${bytesText(r.freeBytes)} of ${bytesText(r.bytes)} (${Math.round((100 * r.freeBytes) / r.bytes)}%)`).join(', ');
    return [
      {
        rule: heapFragmentationRule.id,
        title: `Heap fragmentation: ${bytesText(freeBytes)} free`,
        severity: 'info',
        verdict: `Free space the GC cannot hand out whole: ${text}.`,
        objectCount: 0,
        retainedBytes: freeBytes,
        chain: [],
        examples: [],
        verify: ['eeheap -gc', 'dumpheap -stat -type Free'],
        confidence: 'high',
        details: { generations: Object.fromEntries(GENERATIONS.map((gen) => [gen, { bytes: total.get(gen) ?? 0, freeBytes: free.get(gen) ?? 0 }])) },
      },
    ];
  },
};
