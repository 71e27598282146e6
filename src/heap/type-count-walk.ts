/**
 * The counting walk behind an unfiltered `dumpheap -stat`: the same objects, sizes, MethodTable numbering, problems
 * and fragmentation blocks as `forEachObject` with dumpheap's visitor, but counted inside the loop into typed arrays
 * by MethodTable number. `forEachObject` calls one shared visitor per object (a megamorphic call that boxes the
 * object's address); at six million objects that call and its visitor cost as much as the walk itself.
 *
 * The loop is split in two: `fastRun` counts the common object (its MethodTable cached, its header inside the
 * window, before the next allocation context, no fragmentation bookkeeping) in a small loop whose every branch runs
 * early, so V8 optimizes it once; anything else goes one object at a time through `slowStep`, the full rules of
 * `walkSegment`. One big loop holding both kept being deoptimized by branches first taken late (V8 had no type
 * feedback for them), and ran in the interpreter until it was optimized again.
 */
import type { MemoryReader } from '../dump/memory-reader';
import type { GcHeap, HeapSegment } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';
import { ALIGNMENT, findNextObject, MAX_RESYNCS_PER_SEGMENT, MIN_OBJECT_SIZE, objectStep, readAt, WalkWindow, type WalkProblem } from './heap-walker';
import { MethodTableIndex, WALK_CACHE_SLOTS } from './method-table-index';
import { throwIfCancelled, walkProgressSink } from './walk-progress';

/** SOS's fragmentation table (DumpHeapService): a Free block of at least this many bytes directly followed by an
 * object at its end address, outside the large object heap. */
export const FRAGMENTATION_BLOCK_MIN_SIZE = 512 * 1024;

/** One line of SOS's "Fragmented blocks larger than 0.5 MB" table. */
export interface FragmentedBlock {
  readonly free: number;
  readonly size: number;
  /** The object right after the free block, and its MethodTable. */
  readonly next: number;
  readonly nextMt: number;
}

/** What the counting walk found. */
export interface TypeCounts {
  /** The walk's MethodTable numbering (first-seen order, as `forEachObject` numbers them). */
  readonly index: MethodTableIndex;
  /** Objects and bytes (SOS's sizes) per MethodTable number. */
  readonly counts: Float64Array;
  readonly sizes: Float64Array;
  /** MethodTable numbers in the order their first object was counted. */
  readonly order: readonly number[];
  readonly totalCount: number;
  readonly totalSize: number;
  readonly fragmentation: readonly FragmentedBlock[];
  readonly problems: readonly WalkProblem[];
}

const TWO32 = 4294967296;
/** Direct-mapped cache of MethodTable numbers, keyed by the MethodTable's address bits 3..10: the few types a heap
 * alternates (a node, its string, an array, Free) each keep their slot, where a last-two cache keeps missing. */
const CACHE_SLOTS = WALK_CACHE_SLOTS;
const CACHE_MASK = CACHE_SLOTS - 1;
// Module-local copies of the walk's constants: the compiled loop reads imports through the module's exports object.
const MIN_SIZE = MIN_OBJECT_SIZE;
const ALIGN = ALIGNMENT;
const FRAGMENT_MIN = FRAGMENTATION_BLOCK_MIN_SIZE;
/** A non-integer first value for the counter's address fields (see there). */
const DOUBLE_FIELD = -0.5;

/** Walks the whole heap (segments in address order) and counts its objects per MethodTable, numbering the
 * MethodTables into `index`. */
export function countObjectsByType(heap: GcHeap, mts: MethodTableReader, memory: MemoryReader, index: MethodTableIndex = new MethodTableIndex()): TypeCounts {
  const counter = new TypeCounter(heap, mts, memory, index);
  const sink = walkProgressSink();
  const total = sink ? heap.segments.reduce((a, s) => a + (s.end - s.start), 0) : 0;
  let done = 0;
  const window = counter.window;
  // Each refill is the walk's cancellation safe point (between two objects, once per 8 MiB).
  window.onFill = sink
    ? () => {
        sink.update(done + (window.start - window.segmentStart), total, 0);
        throwIfCancelled();
      }
    : throwIfCancelled;
  try {
    for (const seg of heap.segments) {
      counter.startSegment(seg);
      while (counter.obj < counter.end) {
        counter.obj = fastRun(counter);
        if (counter.obj < counter.end && !counter.slowStep()) break;
      }
      done += seg.end - seg.start;
    }
  } finally {
    sink?.done();
  }
  let totalCount = 0;
  let totalSize = 0;
  // Sizes are integers below 2^53: summing per type gives the same totals as summing per object.
  for (const i of counter.order) {
    totalCount += counter.counts[i]!;
    totalSize += counter.sizes[i]!;
  }
  return { index, counts: counter.counts, sizes: counter.sizes, order: counter.order, totalCount, totalSize, fragmentation: counter.fragmentation, problems: counter.problems };
}

/** The counting walk's state: one class, so both loops see the same fields in the same shape. */
class TypeCounter {
  readonly window: WalkWindow;
  readonly u32: Uint32Array;
  readonly problems: WalkProblem[] = [];
  readonly fragmentation: FragmentedBlock[] = [];
  readonly order: number[] = [];
  counts: Float64Array<ArrayBuffer> = new Float64Array(256);
  sizes: Float64Array<ArrayBuffer> = new Float64Array(256);
  // The cache: key (the low half shifted right by 3: address bits 3..31) and high half per slot; -1 for empty.
  readonly cacheLo = new Int32Array(CACHE_SLOTS).fill(-1);
  readonly cacheHi = new Int32Array(CACHE_SLOTS).fill(-1);
  readonly cacheIdx = new Int32Array(CACHE_SLOTS);
  /** The slot's MethodTable's BaseSize and ComponentSize. */
  readonly cacheBase = new Int32Array(CACHE_SLOTS);
  readonly cacheComponent = new Int32Array(CACHE_SLOTS);
  baseSizes: Uint32Array;
  componentSizes: Uint32Array;
  freeIndex = -1;
  // The fields that hold addresses start as non-integers (DOUBLE_FIELD): V8 then stores them as doubles from the
  // start, where a field first given a small integer changes representation at the first address above 2^31, which
  // replaces the object's hidden class and deoptimizes the loops compiled for the old one.
  /** The last Free block of at least FRAGMENTATION_BLOCK_MIN_SIZE while the object after it is not yet met, else -1. */
  lastFree = DOUBLE_FIELD;
  lastFreeSize = DOUBLE_FIELD;
  // The segment being walked.
  segment: HeapSegment | undefined;
  isLoh = false;
  obj = DOUBLE_FIELD;
  end = DOUBLE_FIELD;
  resyncs = 0;
  ctxIndex = 0;
  nextContext = DOUBLE_FIELD;
  // The window's span as of the last refill (the fast loop's limits are computed from it).
  wStart = DOUBLE_FIELD;
  wEnd = DOUBLE_FIELD;

  constructor(
    private readonly heap: GcHeap,
    private readonly mts: MethodTableReader,
    memory: MemoryReader,
    private readonly index: MethodTableIndex,
  ) {
    this.window = new WalkWindow(memory);
    this.u32 = this.window.u32;
    this.lastFree = -1;
    this.baseSizes = index.baseSizes;
    this.componentSizes = index.componentSizes;
  }

  startSegment(seg: HeapSegment): void {
    const contexts = this.heap.allocContexts;
    this.segment = seg;
    this.window.segmentStart = seg.start;
    this.isLoh = seg.kind === 'loh';
    this.obj = seg.start;
    this.end = seg.end;
    this.resyncs = 0;
    this.ctxIndex = 0;
    this.nextContext = Infinity;
    if (!this.isLoh && seg.kind !== 'frozen') {
      while (this.ctxIndex < contexts.length && contexts[this.ctxIndex]!.pointer < seg.start) this.ctxIndex++;
      if (this.ctxIndex < contexts.length) this.nextContext = contexts[this.ctxIndex]!.pointer;
    }
    this.window.end = 0;
    this.wStart = 0;
    this.wEnd = 0;
  }

  /** Walks the one object at `obj` (or the allocation context or bad bytes there) by the full rules; false when the
   * rest of the segment is given up. */
  slowStep(): boolean {
    const window = this.window;
    const seg = this.segment!;
    const contexts = this.heap.allocContexts;
    let obj = this.obj;
    const end = this.end;
    if (obj >= this.nextContext) {
      // The allocator leaves a minimum object's worth of space after the limit (GC.md).
      if (obj === this.nextContext) obj = contexts[this.ctxIndex]!.limit + MIN_OBJECT_SIZE;
      while (this.ctxIndex < contexts.length && contexts[this.ctxIndex]!.pointer < obj) this.ctxIndex++;
      this.nextContext = this.ctxIndex < contexts.length ? contexts[this.ctxIndex]!.pointer : Infinity;
      this.obj = obj;
      return true;
    }
    if (obj < this.wStart || obj + 16 > this.wEnd) {
      const n = window.fill(obj, readAt(seg, obj, end));
      this.wStart = window.start;
      this.wEnd = window.end;
      if (n < 12) {
        this.problems.push({ address: obj, segment: seg, reason: 'object memory is not in the dump' });
        return false;
      }
    }
    const u32 = this.u32;
    const word = (obj - this.wStart) >>> 2;
    const lo = u32[word]!;
    const hi = u32[word + 1]!;
    const key = lo >>> 3;
    const loClean = key * 8;
    const index = this.index;
    let mtIndex = index.find(loClean, hi);
    if (mtIndex < 0) {
      const mt = hi * TWO32 + loClean;
      const info = mt === 0 ? undefined : this.mts.tryRead(mt);
      if (!info) {
        const next = this.resyncs < MAX_RESYNCS_PER_SEGMENT ? findNextObject(window, index, obj, end, this.nextContext) : undefined;
        this.problems.push({ address: obj, segment: seg, reason: `bad MethodTable 0x${mt.toString(16)}`, ...(next !== undefined ? { resumedAt: next } : {}) });
        if (next === undefined) return false;
        this.resyncs++;
        this.obj = next;
        // findNextObject moved the window: refill at the next object.
        window.end = 0;
        this.wEnd = 0;
        return true;
      }
      mtIndex = index.add(loClean, hi, mt, info.baseSize, info.componentSize);
      this.baseSizes = index.baseSizes;
      this.componentSizes = index.componentSizes;
      if (mt === this.heap.freeObjectMethodTable) this.freeIndex = mtIndex;
      if (mtIndex >= this.counts.length) {
        this.counts = grown(this.counts, mtIndex);
        this.sizes = grown(this.sizes, mtIndex);
      }
    }
    let size = this.baseSizes[mtIndex]!;
    const component = this.componentSizes[mtIndex]!;
    if (component !== 0) {
      if (obj + 12 > this.wEnd) {
        // Refill from obj and retry.
        window.end = 0;
        this.wEnd = 0;
        return true;
      }
      size += u32[word + 2]! * component;
    }
    const step = objectStep(size);
    // No object is smaller than the GC's minimum; SOS reports the empty string (22 bytes) as 24.
    if (size < MIN_OBJECT_SIZE) size = MIN_OBJECT_SIZE;
    if (obj + step > end) {
      this.problems.push({ address: obj, segment: seg, reason: `object of ${size} bytes runs past the segment end` });
      return false;
    }
    if (this.counts[mtIndex] === 0) this.order.push(mtIndex);
    this.counts[mtIndex]!++;
    this.sizes[mtIndex]! += size;
    // Cached only once counted (fastRun relies on it). Only values below 2^31 fit the Int32Arrays, and fastRun's
    // sizes stay below 2^31 with a BaseSize below 2^30; other MethodTables always come here.
    if (hi <= 0x7fffffff && this.baseSizes[mtIndex]! < 0x40000000 && this.componentSizes[mtIndex]! <= 0x7fffffff) {
      const slot = key & CACHE_MASK;
      this.cacheLo[slot] = key;
      this.cacheHi[slot] = hi;
      this.cacheIdx[slot] = mtIndex;
      this.cacheBase[slot] = this.baseSizes[mtIndex]!;
      this.cacheComponent[slot] = this.componentSizes[mtIndex]!;
    }
    if (mtIndex === this.freeIndex) {
      if (size >= FRAGMENTATION_BLOCK_MIN_SIZE) {
        this.lastFree = obj;
        this.lastFreeSize = size;
      } else this.lastFree = -1;
    } else if (this.lastFree >= 0) {
      if (this.lastFree + this.lastFreeSize === obj && !this.isLoh) {
        this.fragmentation.push({ free: this.lastFree, size: this.lastFreeSize, next: obj, nextMt: index.addresses[mtIndex]! });
      }
      this.lastFree = -1;
    }
    this.obj = obj + step;
    return true;
  }
}

/**
 * Counts objects from `c.obj` while each is the common case and returns where it stopped: at the first object that
 * is not (left to slowStep). A function of its own that only reads fields before its loop and returns its position:
 * V8 compiles such a loop on the fly (on-stack replacement) while the feedback of code after the loop is still
 * empty, and a field store there deoptimized that compiled loop at every call.
 */
function fastRun(c: TypeCounter): number {
  const obj0 = c.obj;
  if (c.lastFree >= 0) return obj0;
  const u32 = c.u32;
  const cacheLo = c.cacheLo;
  const cacheHi = c.cacheHi;
  const cacheIdx = c.cacheIdx;
  const cacheBase = c.cacheBase;
  const cacheComponent = c.cacheComponent;
  const counts = c.counts;
  const sizes = c.sizes;
  const freeIndex = c.freeIndex;
  const wStart = c.wStart;
  // Positions are byte offsets in the window (below its 8 MiB: small integers, no double arithmetic in the loop).
  // Fast while the object is before the segment end and the next allocation context and its 16-byte header is in
  // the window. No object the loop takes is 2^30 bytes or more, so a segment end further away never matters.
  const limitAddress = Math.min(c.end, c.nextContext, c.wEnd - 15);
  if (obj0 < wStart || !(obj0 < limitAddress)) return obj0;
  // `| 0` makes them int32 for V8 (differences of doubles stay doubles otherwise, and the loop then does float
  // arithmetic and a float-to-int conversion per object: more than twice the time).
  const limit = (limitAddress - wStart) | 0;
  const endPos = Math.min(c.end - wStart, 0x40000000) | 0;
  let pos = (obj0 - wStart) | 0;
  // Each object's position depends on the previous object's size: the loop is one chain of dependent loads, so it
  // takes the sizes from the cache slot (one load after the header) rather than through the MethodTable number.
  while (pos < limit) {
    const word = pos >>> 2;
    const lo = u32[word]!;
    const hi = u32[word + 1]!;
    // The low three bits of the MethodTable pointer are GC mark/pin bits.
    const key = lo >>> 3;
    const slot = key & CACHE_MASK;
    let size = cacheBase[slot]!;
    const component = cacheComponent[slot]!;
    // The length word is only a length in arrays and strings (elsewhere it may exceed 2^31). `| 0` keeps the size an
    // int32 for V8 (the product of a uint32 and an int is a double): the cached BaseSize is below 2^30 and a bigger
    // array part takes the slow step.
    if (component !== 0) {
      const elements = u32[word + 2]! * component;
      if (elements >= 0x3fff0000) break;
      size = (size + elements) | 0;
    }
    if (cacheLo[slot] !== key || cacheHi[slot] !== hi) break;
    // Integer operations only (a double `%` is a call into C): objects of 2^30 bytes or more take the slow step.
    if (size >= 0x40000000) break;
    const step = size < MIN_SIZE ? MIN_SIZE : (size + ALIGN - 1) & -ALIGN;
    if (pos + step > endPos) break;
    const mtIndex = cacheIdx[slot]!;
    // A cached MethodTable has been counted before (slowStep fills the cache after counting): no first-count check.
    const count = counts[mtIndex]!;
    if (size < MIN_SIZE) size = MIN_SIZE;
    if (mtIndex === freeIndex && size >= FRAGMENT_MIN) break;
    counts[mtIndex] = count + 1;
    sizes[mtIndex]! += size;
    pos += step;
  }
  return wStart + pos;
}


function grown(a: Float64Array, atLeast: number): Float64Array<ArrayBuffer> {
  let n = a.length;
  while (n <= atLeast) n *= 2;
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
