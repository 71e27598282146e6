/**
 * Accumulation points (Eclipse MAT's leak suspects): an object whose dominator-tree retained size is a large share of
 * the live heap. From each such object the rule walks down the dominator tree while one child retains nearly all of
 * its parent ("pass-through" holders: the static slot, the cache object, the dictionary) and stops where the retained
 * size splits into many small children — the collection storage where objects accumulate — and names the type that
 * accumulates and how many of it there are.
 */
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { bytesText, hex, isUserType, plural, retentionChain, typeName } from './rule-support';

/** Share of the live heap an object must retain to be a suspect. */
export const ACCUMULATION_SHARE = 0.2;
/** … and never less than this many bytes: on a small heap any cache is a large share. */
export const ACCUMULATION_MIN_BYTES = 1 << 20;
/** Elements of one type below the accumulation point from which on the rule warns (else it is one big object: info). */
export const MIN_ACCUMULATED = 100;

// A child retaining this share of its parent is a pass-through: the accumulation is further down.
const PASS_THROUGH = 0.8;
// The accumulated type must account for this share of what the accumulation point retains.
const ELEMENT_SHARE = 0.5;
const OWNER_STEPS = 12;

interface ChildStats {
  max: number;
  maxChild: number;
}

/** Finds objects that retain a large share of the live heap and the collection where the objects accumulate. */
export const accumulationPointRule: LeakRule<RuleContext> = {
  id: 'accumulation-point',
  description: `One object retaining at least ${ACCUMULATION_SHARE * 100}% of the live heap (and ${bytesText(ACCUMULATION_MIN_BYTES)}); the collection where objects accumulate below it`,
  run(ctx: RuleContext): Finding[] {
    const g = ctx.graph;
    const { idom } = ctx.dominators;
    let liveBytes = 0;
    for (let i = 0; i < g.count; i++) if (ctx.live[i]) liveBytes += g.sizes[i]!;
    const threshold = Math.max(ACCUMULATION_SHARE * liveBytes, ACCUMULATION_MIN_BYTES);
    const candidates = new Map<number, ChildStats>();
    for (let i = 0; i < g.count; i++) if (ctx.live[i] && ctx.retained[i]! >= threshold) candidates.set(i, { max: 0, maxChild: -1 });
    if (candidates.size === 0) return [];
    for (let i = 0; i < g.count; i++) {
      const d = idom[i]!;
      if (d < 0) continue;
      const s = candidates.get(d);
      if (s && ctx.retained[i]! > s.max) {
        s.max = ctx.retained[i]!;
        s.maxChild = i;
      }
    }
    const points = new Set<number>();
    for (const top of candidates.keys()) {
      const d = idom[top]!;
      if (d >= 0 && candidates.has(d)) continue;
      let v = top;
      for (;;) {
        const s = candidates.get(v);
        if (!s || s.maxChild < 0 || s.max < PASS_THROUGH * ctx.retained[v]!) break;
        v = s.maxChild;
      }
      points.add(v);
    }
    // What each accumulation point's children are, by type.
    const elements = new Map<number, Map<number, { count: number; retained: number; first: number }>>();
    for (const p of points) elements.set(p, new Map());
    for (let i = 0; i < g.count; i++) {
      const d = idom[i]!;
      const byType = d >= 0 ? elements.get(d) : undefined;
      if (!byType) continue;
      const e = byType.get(g.mtOf(i));
      if (e) {
        e.count++;
        e.retained += ctx.retained[i]!;
      } else byType.set(g.mtOf(i), { count: 1, retained: ctx.retained[i]!, first: i });
    }
    const findings: Finding[] = [];
    for (const p of points) findings.push(pointFinding(ctx, p, elements.get(p)!, liveBytes));
    return findings;
  },
};

function pointFinding(ctx: RuleContext, point: number, byType: Map<number, { count: number; retained: number; first: number }>, liveBytes: number): Finding {
  const g = ctx.graph;
  const { idom } = ctx.dominators;
  let top: [number, { count: number; retained: number; first: number }] | undefined;
  for (const entry of byType) if (!top || entry[1].retained > top[1].retained) top = entry;
  const isArray = ctx.objects.tryReadMethodTable(g.mtOf(point))?.isArray ?? false;
  // An array's holder is the collection whose storage it is (Dictionary._entries, List._items).
  const holder = isArray && idom[point]! >= 0 ? idom[point]! : point;
  const retainedBytes = ctx.retained[holder]!;
  const share = Math.round((100 * retainedBytes) / liveBytes);
  let owner = -1;
  for (let v = holder, k = 0; v >= 0 && k < OWNER_STEPS; v = idom[v]!, k++) {
    if (isUserType(ctx, g.mtOf(v))) {
      owner = v;
      break;
    }
  }
  const holderType = typeName(ctx, g.mtOf(holder));
  const accumulated = top !== undefined && top[1].count >= MIN_ACCUMULATED && top[1].retained >= ELEMENT_SHARE * (ctx.retained[point]! - g.sizes[point]!);
  const elementType = top ? typeName(ctx, top[0]) : undefined;
  const count = accumulated ? top![1].count : 1;
  const examples = accumulated ? [g.addresses[holder]!, g.addresses[top![1].first]!] : [g.addresses[holder]!];
  const ownerText = owner >= 0 && owner !== holder ? ` owned by ${typeName(ctx, g.mtOf(owner))} ${hex(g.addresses[owner]!)}` : '';
  const path = retentionChain(ctx, holder);
  return {
    rule: accumulationPointRule.id,
    title: accumulated ? `${plural(count, elementType! + ' object')} accumulate in ${holderType}` : `${holderType} retains ${share}% of the heap`,
    severity: accumulated ? 'warning' : 'info',
    verdict: accumulated
      ? `${holderType} ${hex(g.addresses[holder]!)}${ownerText} holds ${plural(count, elementType!)} and retains ${bytesText(retainedBytes)} (${share}% of the live heap): a collection that only grows is the usual cause.`
      : `${holderType} ${hex(g.addresses[holder]!)}${ownerText} retains ${bytesText(retainedBytes)} (${share}% of the live heap).`,
    objectCount: count,
    retainedBytes,
    chain: path.chain,
    examples,
    verify: [`do ${hex(g.addresses[holder]!)}`, `gcroot ${hex(g.addresses[holder]!)}`, `objsize ${hex(g.addresses[holder]!)}`, ...(accumulated ? [`dumpheap -stat -type ${elementType}`] : [])],
    confidence: accumulated ? 'medium' : 'low',
    details: {
      ...(path.root ? { root: path.root } : {}),
      holder: hex(g.addresses[holder]!),
      holderType,
      accumulationPoint: hex(g.addresses[point]!),
      accumulationPointType: typeName(ctx, g.mtOf(point)),
      ...(accumulated ? { elementType, elementCount: count, elementRetainedBytes: top![1].retained } : {}),
      ...(owner >= 0 ? { owner: hex(g.addresses[owner]!), ownerType: typeName(ctx, g.mtOf(owner)) } : {}),
      heapShare: retainedBytes / liveBytes,
      liveHeapBytes: liveBytes,
    },
  };
}
