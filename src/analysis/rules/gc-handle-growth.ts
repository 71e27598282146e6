/**
 * GC handle growth (GCHandle.Alloc without Free): many strong or pinned handles to objects of one type. Handles are
 * roots the GC never drops on its own, so each forgotten one keeps its object — and, when pinned, blocks compaction
 * around it. The runtime's own handles (each thread's Thread object and last exception) are not counted. A group is a
 * warning when nothing but the handles references the objects (no code can use them any more); when other objects
 * reference them too (a buffer pool, I/O in flight) it is only info.
 */
import { NO_OBJECT } from '../../heap/object-graph';
import type { GcHandle } from '../../runtime/gc/handle-table';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { bytesText, hex, isUserType, plural, retainedOfSet, retentionChain, typeName } from './rule-support';

/** Handles of one kind to objects of one type from which on the rule warns. */
export const MIN_HANDLES_PER_TYPE = 20;

const KINDS = new Set(['strong', 'pinned']);

interface Group {
  readonly kind: string;
  readonly mt: number;
  readonly handles: GcHandle[];
  readonly targets: Set<number>;
}

/** Finds many strong or pinned GC handles to objects of one type. */
export const gcHandleGrowthRule: LeakRule<RuleContext> = {
  id: 'gc-handle-growth',
  description: 'Many strong or pinned GC handles to objects of one type (GCHandle.Alloc without Free), pinned bytes and the free space around them',
  run(ctx: RuleContext): Finding[] {
    const g = ctx.graph;
    const runtimeOwned = new Set<number>();
    for (const t of ctx.threads) {
      if (t.exposedObjectHandle !== 0) runtimeOwned.add(t.exposedObjectHandle);
      if (t.lastThrownObjectHandle !== 0) runtimeOwned.add(t.lastThrownObjectHandle);
    }
    const groups = new Map<string, Group>();
    for (const h of ctx.handles) {
      if (!KINDS.has(h.kind) || runtimeOwned.has(h.address)) continue;
      const t = g.indexOf(h.target);
      if (t === NO_OBJECT || isClaimed(ctx, t)) continue;
      const key = `${h.kind}:${g.mtOf(t)}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { kind: h.kind, mt: g.mtOf(t), handles: [], targets: new Set() }));
      group.handles.push(h);
      group.targets.add(t);
    }
    const findings: Finding[] = [];
    for (const group of groups.values()) {
      if (group.handles.length >= MIN_HANDLES_PER_TYPE) findings.push(groupFinding(ctx, group));
    }
    return findings;
  },
};

/** True when an earlier finding explains the object: it is claimed, or a claimed object references it (the buffer a
 * pending overlapped operation pinned). */
function isClaimed(ctx: RuleContext, index: number): boolean {
  const claimed = ctx.claimed;
  if (!claimed || claimed.size === 0) return false;
  if (claimed.has(index)) return true;
  const rev = ctx.graph.reverse();
  for (let k = rev.start[index]!; k < rev.start[index + 1]!; k++) if (claimed.has(rev.source[k]!)) return true;
  return false;
}

function groupFinding(ctx: RuleContext, group: Group): Finding {
  const g = ctx.graph;
  const type = typeName(ctx, group.mt);
  const n = group.handles.length;
  const targets = [...group.targets];
  const retainedBytes = retainedOfSet(ctx, targets);
  let ownBytes = 0;
  let orphans = 0;
  const rev = g.reverse();
  for (const t of targets) {
    ownBytes += g.sizes[t]!;
    // No object references it: only the handle does, so no code can reach the object (or, usually, the handle) any more.
    if (rev.start[t + 1] === rev.start[t]) orphans++;
  }
  const pinned = group.kind === 'pinned';
  const holes = pinned ? freeSpaceAroundPins(ctx, targets) : undefined;
  const examples = targets.slice(0, 5).map((t) => g.addresses[t]!);
  const orphanText =
    orphans === targets.length ? 'nothing else references them' : orphans === 0 ? 'other objects reference them too' : `${orphans} of them are referenced by nothing else`;
  const verdict = pinned
    ? `${plural(n, 'pinned GC handle')} hold ${type} objects (${bytesText(ownBytes)} pinned; ${orphanText}): GCHandle.Alloc(…, Pinned) without Free.` +
      (holes && holes.freeBytes > 0 ? ` The heap around them holds ${bytesText(holes.freeBytes)} of free space it cannot compact.` : '')
    : `${plural(n, 'strong GC handle')} hold ${type} objects (${bytesText(retainedBytes)} retained; ${orphanText}): GCHandle.Alloc without Free.`;
  const path = retentionChain(ctx, targets[0]!);
  return {
    rule: gcHandleGrowthRule.id,
    title: `GC handle growth: ${plural(n, `${group.kind} handle`)} to ${type}`,
    // Handles to objects something else also references are usually a pool or in-flight I/O; only orphans are leaks.
    severity: orphans === targets.length ? 'warning' : 'info',
    verdict,
    objectCount: n,
    retainedBytes,
    chain: path.chain,
    examples,
    verify: [`gchandles -stat`, `gcroot ${hex(examples[0]!)}`, `do ${hex(examples[0]!)}`, ...(pinned ? ['eeheap -gc'] : [])],
    confidence: orphans === targets.length ? 'high' : 'medium',
    details: {
      ...(path.root ? { root: path.root } : {}),
      kind: group.kind,
      targetType: type,
      userType: isUserType(ctx, group.mt),
      objectBytes: ownBytes,
      orphanedTargets: orphans,
      handles: group.handles.slice(0, 5).map((h) => hex(h.address)),
      ...(holes ? { pinnedSegments: holes.segments, freeBytesBetweenPins: holes.freeBytes } : {}),
    },
  };
}

/** Free space (the GC's free objects) lying between the first and last pinned object of each segment that holds pins. */
function freeSpaceAroundPins(ctx: RuleContext, pinned: readonly number[]): { segments: number; freeBytes: number } {
  const g = ctx.graph;
  const freeMt = ctx.heap.freeObjectMethodTable;
  const bySegment = new Map<number, { lo: number; hi: number }>();
  for (const t of pinned) {
    const a = g.addresses[t]!;
    const seg = ctx.heap.segments.find((s) => a >= s.start && a < s.end);
    if (!seg) continue;
    const r = bySegment.get(seg.start);
    if (!r) bySegment.set(seg.start, { lo: t, hi: t });
    else {
      r.lo = Math.min(r.lo, t);
      r.hi = Math.max(r.hi, t);
    }
  }
  let freeBytes = 0;
  for (const { lo, hi } of bySegment.values()) {
    // Graph indexes follow addresses, so the objects between two pins are the indexes between them.
    for (let i = lo + 1; i < hi; i++) if (g.mtOf(i) === freeMt) freeBytes += g.sizes[i]!;
  }
  return { segments: bySegment.size, freeBytes };
}
