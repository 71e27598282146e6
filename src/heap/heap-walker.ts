/**
 * Walks every object of the GC heap, segment by segment, skipping allocation contexts, the way the GC lays them out:
 * object = MethodTable* (+ length for arrays/strings); size = BaseSize + length * ComponentSize, aligned.
 */
import type { MemoryReader } from '../dump/memory-reader';
import type { AllocContext, GcHeap, HeapSegment } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';
import { MethodTableIndex, WALK_CACHE_SLOTS } from './method-table-index';
import { startParallelWalk, type ParallelWalk } from './parallel-walk';
import { throwIfCancelled, walkProgressSink } from './walk-progress';

/** An object the walk could not read. Without `resumedAt` the rest of its segment was skipped; with it, the walk
 * found the next object (`resumedAt`) and only the bytes in between were skipped. */
export interface WalkProblem {
  readonly address: number;
  readonly segment: HeapSegment;
  readonly reason: string;
  /** Where the walk went on after skipping the bad bytes (absent when it gave up on the segment). */
  readonly resumedAt?: number;
}

/** Called once per object; `mt` is the MethodTable with the mark bits cleared, `size` its size in bytes as SOS
 * reports it (BaseSize + length × ComponentSize, not rounded up to the alignment), `mtIndex` the MethodTable's dense
 * index in the walk's `MethodTableIndex` (first-seen order). */
export type ObjectVisitor = (address: number, mt: number, size: number, segment: HeapSegment, mtIndex: number) => void;

const POINTER = 8;
/** @internal */
export const MIN_OBJECT_SIZE = 3 * POINTER;
/** Bytes read from the dump at once into one reused buffer: large reads amortise the system call, and reuse keeps
 * the walk free of allocation. */
const WINDOW = 8 << 20;
const TWO32 = 4294967296;
/** SOH objects align to the pointer size; LOH/POH always to 8, which is the same on 64-bit. */
/** @internal */
export const ALIGNMENT = 8;
/** Bytes read at once in the large object heap: its objects are 85,000 bytes or more and the walk reads only their
 * headers, so a full window there would copy megabytes of array bodies per object. */
const LOH_READ = 64 << 10;

/** @internal How many bytes a walk reads at `obj` in `segment` (ending at `end`): the rest of the segment (up to a
 * window, plus the 16 bytes the last header needs), or LOH_READ in the large object heap. */
export function readAt(segment: HeapSegment, obj: number, end: number): number {
  return segment.kind === 'loh' ? Math.min(LOH_READ, end - obj + 16) : end - obj + 16;
}
/** How far past a bad object the walk looks for the next object before it gives up on the segment. */
const MAX_RESYNC_BYTES = 1 << 20;
/** @internal Bad objects a segment may skip before the walk gives up on it (a segment that is mostly garbage is not walked). */
export const MAX_RESYNCS_PER_SEGMENT = 64;

/** Walks the whole heap (segments in address order) and returns the problems met. Pass `index` to keep the
 * MethodTable numbering (e.g. to map `mtIndex` back to addresses); `parallel` to split it (same visits). */
export function forEachObject(
  heap: GcHeap,
  mts: MethodTableReader,
  memory: MemoryReader,
  visit: ObjectVisitor,
  filter?: (segment: HeapSegment) => boolean,
  index: MethodTableIndex = new MethodTableIndex(),
  parallel?: ParallelWalk,
): WalkProblem[] {
  const problems: WalkProblem[] = [];
  const window = new WalkWindow(memory);
  const segments = filter ? heap.segments.filter(filter) : heap.segments;
  const sink = walkProgressSink();
  const total = sink ? segments.reduce((a, s) => a + (s.end - s.start), 0) : 0;
  let done = 0;
  // Each refill is the walk's cancellation safe point: it falls between two objects and comes once per 8 MiB, so
  // polling costs nothing measurable and the throw never leaves a visitor half-way through an object.
  window.onFill = sink
    ? () => {
        sink.update(done + (window.start - window.segmentStart), total, 0);
        throwIfCancelled();
      }
    : throwIfCancelled;
  const walkHere = (seg: HeapSegment): void => {
    window.segmentStart = seg.start;
    walkSegment(heap.allocContexts, mts, window, seg, index, visit, problems);
    done += seg.end - seg.start;
  };
  try {
    const parts = parallel !== undefined && parallel.workers > 1 ? startParallelWalk(parallel, heap, segments) : undefined;
    if (parts === undefined) for (const seg of segments) walkHere(seg);
    else {
      parts.run(walkHere, (seg) => {
        done += seg.end - seg.start;
        sink?.update(done, total, 0);
      }, index, visit, problems);
    }
  } finally {
    sink?.done();
  }
  return problems;
}

/** @internal A walker of runs of segments on this thread with one window of its own, reused from run to run (a
 * worker's chunks of a parallel walk): no progress, no cancellation polling. */
export function segmentWalker(
  allocContexts: readonly AllocContext[],
  mts: MethodTableReader,
  memory: MemoryReader,
): (segments: readonly HeapSegment[], index: MethodTableIndex, visit: ObjectVisitor, problems: WalkProblem[], afterSegment: (segment: HeapSegment) => void) => void {
  const window = new WalkWindow(memory);
  return (segments, index, visit, problems, afterSegment) => {
    for (const seg of segments) {
      window.segmentStart = seg.start;
      walkSegment(allocContexts, mts, window, seg, index, visit, problems);
      afterSegment(seg);
    }
  };
}

/**
 * After an object with a bad MethodTable, the first later address that starts an object the walk can trust: its
 * MethodTable is one the walk already met and validated, and the object after it also starts with such a MethodTable
 * (or is the segment end or the next allocation context). Two agreeing objects in a row make a false start inside
 * some object's data unlikely. Failing that, the next allocation context; undefined when neither lies within
 * MAX_RESYNC_BYTES. @internal
 */
export function findNextObject(window: WalkWindow, index: MethodTableIndex, bad: number, end: number, nextContext: number): number | undefined {
  const limit = Math.min(end, bad + MAX_RESYNC_BYTES, nextContext);
  const sizeAt = (a: number): number | undefined => {
    if (a < window.start || a + 16 > window.end) {
      if (window.fill(a, Math.min(WINDOW, end - a + 16)) < 16) return undefined;
    }
    const word = (a - window.start) / 4;
    const lo = window.u32[word]!;
    const mtIndex = index.find(lo - (lo & 7), window.u32[word + 1]!);
    if (mtIndex < 0) return undefined;
    let size = index.baseSizes[mtIndex]!;
    const component = index.componentSizes[mtIndex]!;
    if (component !== 0) size += window.u32[word + 2]! * component;
    return objectStep(size);
  };
  for (let a = bad + POINTER; a + MIN_OBJECT_SIZE <= limit; a += POINTER) {
    const step = sizeAt(a);
    if (step === undefined || a + step > end) continue;
    const after = a + step;
    if (after === end || after === nextContext || sizeAt(after) !== undefined) return a;
  }
  // An allocation context is a known place where objects start again after it.
  return nextContext > bad && nextContext < end && nextContext <= bad + MAX_RESYNC_BYTES ? nextContext : undefined;
}

const WALK_CACHE_MASK = WALK_CACHE_SLOTS - 1;

/** @internal How far the next object is from one of `size` bytes (SOS's unaligned size): at least the GC's minimum
 * object, rounded up to the alignment. Integer operations below 2^30 (a double `%` is a call into C); plain
 * arithmetic above, where LOH objects can exceed 2^31 bytes, beyond JavaScript's 32-bit bitwise operators. */
export function objectStep(size: number): number {
  if (size < MIN_OBJECT_SIZE) return MIN_OBJECT_SIZE;
  if (size < 0x40000000) return (size + ALIGNMENT - 1) & -ALIGNMENT;
  const rem = size % ALIGNMENT;
  return rem === 0 ? size : size + ALIGNMENT - rem;
}

/** @internal One reusable buffer over the dump, refilled at the walk's position; u32 reads through an aligned view. */
export class WalkWindow {
  readonly bytes = new Uint8Array(WINDOW);
  readonly u32 = new Uint32Array(this.bytes.buffer);
  start = 0;
  end = 0;
  /** Start of the segment being walked, for progress. */
  segmentStart = 0;
  /** Called after each refill: progress reporting and the cancellation safe point. */
  onFill: () => void = () => {};
  constructor(private readonly memory: MemoryReader) {}

  /** Refills from `address` (8-aligned); returns the number of bytes now available from it. */
  fill(address: number, wanted: number): number {
    const length = Math.min(WINDOW, Math.max(16, wanted));
    let n: number;
    try {
      if (this.memory.readUpToInto) n = this.memory.readUpToInto(address, this.bytes, 0, length);
      else {
        const got = this.memory.readUpTo(address, length);
        this.bytes.set(got);
        n = got.length;
      }
    } catch {
      n = 0;
    }
    this.start = address;
    this.end = address + n;
    this.onFill();
    return n;
  }
}

function walkSegment(
  contexts: readonly AllocContext[],
  mts: MethodTableReader,
  window: WalkWindow,
  seg: HeapSegment,
  index: MethodTableIndex,
  visit: ObjectVisitor,
  problems: WalkProblem[],
): void {
  const skipContexts = seg.kind !== 'loh' && seg.kind !== 'frozen';
  let ctxIndex = 0;
  // The next allocation context at or after the walk position: one comparison per object in the common case.
  let nextContext = Infinity;
  if (skipContexts) {
    while (ctxIndex < contexts.length && contexts[ctxIndex]!.pointer < seg.start) ctxIndex++;
    if (ctxIndex < contexts.length) nextContext = contexts[ctxIndex]!.pointer;
  }
  const u32 = window.u32;
  let obj = seg.start;
  const end = seg.end;
  let resyncs = 0;
  window.end = 0;
  // A direct-mapped cache (MethodTable address bits 3..10 → number) answers most objects without a hash probe: the
  // few types a heap alternates (a node, its string, an array, Free) each keep their slot.
  const cache = index.walkCache;
  while (obj < end) {
    if (obj >= nextContext) {
      if (obj === nextContext) {
        // The allocator leaves a minimum object's worth of space after the limit (GC.md).
        obj = contexts[ctxIndex]!.limit + MIN_OBJECT_SIZE;
      }
      while (ctxIndex < contexts.length && contexts[ctxIndex]!.pointer < obj) ctxIndex++;
      nextContext = ctxIndex < contexts.length ? contexts[ctxIndex]!.pointer : Infinity;
      continue;
    }
    if (obj < window.start || obj + 16 > window.end) {
      if (window.fill(obj, readAt(seg, obj, end)) < 12) {
        problems.push({ address: obj, segment: seg, reason: 'object memory is not in the dump' });
        return;
      }
    }
    // The window is at most 8 MiB: the offset is a small integer.
    const word = (obj - window.start) >>> 2;
    const lo = u32[word]!;
    const hi = u32[word + 1]!;
    // The low bits of the MethodTable pointer are GC mark/pin bits.
    const loClean = lo - (lo & 7);
    const key = lo >>> 3;
    const slot = (key & WALK_CACHE_MASK) * 3;
    let mtIndex: number;
    if (cache[slot] === key && cache[slot + 1] === hi) mtIndex = cache[slot + 2]!;
    else {
      mtIndex = index.find(loClean, hi);
      if (mtIndex < 0) {
        const mt = hi * TWO32 + loClean;
        const info = mt === 0 ? undefined : mts.tryRead(mt);
        if (!info) {
          const next = resyncs < MAX_RESYNCS_PER_SEGMENT ? findNextObject(window, index, obj, end, nextContext) : undefined;
          problems.push({ address: obj, segment: seg, reason: `bad MethodTable 0x${mt.toString(16)}`, ...(next !== undefined ? { resumedAt: next } : {}) });
          if (next === undefined) return;
          resyncs++;
          obj = next;
          window.end = 0;
          continue;
        }
        mtIndex = index.add(loClean, hi, mt, info.baseSize, info.componentSize);
      }
      // Only a high half below 2^31 fits the Int32Array; others always take the probe.
      if (hi <= 0x7fffffff) {
        cache[slot] = key;
        cache[slot + 1] = hi;
        cache[slot + 2] = mtIndex;
      }
    }
    let size = index.baseSizes[mtIndex]!;
    const component = index.componentSizes[mtIndex]!;
    if (component !== 0) {
      if (obj + 12 > window.end) {
        window.end = 0; // refill from obj and retry
        continue;
      }
      size += u32[word + 2]! * component;
    }
    // The object's size is what SOS reports (unaligned); the next object starts at the aligned size.
    const step = objectStep(size);
    // No object is smaller than the GC's minimum; SOS reports the empty string (22 bytes) as 24.
    if (size < MIN_OBJECT_SIZE) size = MIN_OBJECT_SIZE;
    if (obj + step > end) {
      problems.push({ address: obj, segment: seg, reason: `object of ${size} bytes runs past the segment end` });
      return;
    }
    visit(obj, index.addresses[mtIndex]!, size, seg, mtIndex);
    obj += step;
  }
}
