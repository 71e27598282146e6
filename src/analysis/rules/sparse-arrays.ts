/**
 * Waste: large live arrays of references that are mostly null (dotMemory's "sparse arrays"): over-allocated
 * collections and pools whose slots cost memory and hold nothing.
 */
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { bytesText, hex, plural, typeName } from './rule-support';

/** Arrays shorter than this are never reported. */
export const SPARSE_MIN_LENGTH = 1024;
/** Share of null slots from which an array counts as sparse. */
export const SPARSE_NULL_SHARE = 0.9;
/** Bytes of null slots all sparse arrays together must waste before the rule reports them. */
export const SPARSE_MIN_BYTES = 256 * 1024;

const POINTER = 8;

/** Reports large, mostly-null reference arrays. */
export const sparseArraysRule: LeakRule<RuleContext> = {
  id: 'sparse-arrays',
  description: `Live reference arrays of at least ${SPARSE_MIN_LENGTH} elements that are at least ${SPARSE_NULL_SHARE * 100}% null`,
  run(ctx: RuleContext): Finding[] {
    const g = ctx.graph;
    const m = ctx.runtime.memory;
    const isRefArray = new Map<number, boolean>();
    let wasted = 0;
    const arrays: { index: number; length: number; used: number }[] = [];
    for (let i = 0; i < g.count; i++) {
      if (!ctx.live[i]) continue;
      const mt = g.mtOf(i);
      let refs = isRefArray.get(mt);
      if (refs === undefined) {
        const info = ctx.objects.tryReadMethodTable(mt);
        // Element size 8 with GC pointers and no value-type elements: an array of references.
        refs = info !== undefined && info.isArray && info.componentSize === POINTER && info.containsGCPointers && !ctx.objects.readArray({ address: g.addresses[i]!, mt: info, size: g.sizes[i]! }).elementIsValueType;
        isRefArray.set(mt, refs);
      }
      if (!refs) continue;
      const length = m.readU32(g.addresses[i]! + POINTER);
      if (length < SPARSE_MIN_LENGTH) continue;
      // Each non-null element that points at a heap object is one outgoing edge.
      const used = g.edgeStart[i + 1]! - g.edgeStart[i]!;
      if (used > (1 - SPARSE_NULL_SHARE) * length) continue;
      arrays.push({ index: i, length, used });
      wasted += (length - used) * POINTER;
    }
    if (wasted < SPARSE_MIN_BYTES) return [];
    arrays.sort((a, b) => b.length - b.used - (a.length - a.used));
    const first = arrays[0]!;
    return [
      {
        rule: sparseArraysRule.id,
        title: `${plural(arrays.length, 'sparse array')} waste ${bytesText(wasted)}`,
        severity: 'info',
        verdict: `${plural(arrays.length, 'large reference array')} are mostly empty (the largest: ${typeName(ctx, g.mtOf(first.index))} with ${first.used} of ${first.length} slots used); their null slots take ${bytesText(wasted)}.`,
        objectCount: arrays.length,
        retainedBytes: wasted,
        chain: [],
        examples: arrays.slice(0, 5).map((a) => g.addresses[a.index]!),
        verify: [`dumparray ${hex(g.addresses[first.index]!)}`, `gcroot ${hex(g.addresses[first.index]!)}`],
        confidence: 'high',
        details: { arrays: arrays.slice(0, 10).map((a) => ({ address: hex(g.addresses[a.index]!), type: typeName(ctx, g.mtOf(a.index)), length: a.length, used: a.used })) },
      },
    ];
  },
};
