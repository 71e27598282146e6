/**
 * Walks every object of the GC heap, segment by segment, skipping allocation contexts, the way the GC lays them out:
 * object = MethodTable* (+ length for arrays/strings); size = BaseSize + length * ComponentSize, aligned.
 */
import type { MemoryReader } from '../dump/memory-reader';
import type { GcHeap, HeapSegment } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';

/** A place where the walk could not go on: the rest of that segment was skipped. */
export interface WalkProblem {
  readonly address: number;
  readonly segment: HeapSegment;
  readonly reason: string;
}

/** Called once per object; `mt` is the MethodTable with the mark bits cleared, `size` its size in bytes as SOS
 * reports it (BaseSize + length × ComponentSize, not rounded up to the alignment). */
export type ObjectVisitor = (address: number, mt: number, size: number, segment: HeapSegment) => void;

const POINTER = 8;
const MIN_OBJECT_SIZE = 3 * POINTER;
/** Window read at once from the dump: large enough to amortise the read, small enough to stay in cache. */
const WINDOW = 1 << 20;
const TWO32 = 4294967296;
/** SOH objects align to the pointer size; LOH/POH always to 8, which is the same on 64-bit. */
const ALIGNMENT = 8;

/** Walks the whole heap (segments in address order) and returns the problems met. */
export function forEachObject(
  heap: GcHeap,
  mts: MethodTableReader,
  memory: MemoryReader,
  visit: ObjectVisitor,
  filter?: (segment: HeapSegment) => boolean,
): WalkProblem[] {
  const problems: WalkProblem[] = [];
  const sizes = new Map<number, { base: number; component: number }>();
  for (const seg of heap.segments) {
    if (filter && !filter(seg)) continue;
    walkSegment(heap, mts, memory, seg, sizes, visit, problems);
  }
  return problems;
}

function walkSegment(
  heap: GcHeap,
  mts: MethodTableReader,
  memory: MemoryReader,
  seg: HeapSegment,
  sizes: Map<number, { base: number; component: number }>,
  visit: ObjectVisitor,
  problems: WalkProblem[],
): void {
  const contexts = heap.allocContexts;
  const skipContexts = seg.kind !== 'loh' && seg.kind !== 'frozen';
  let ctxIndex = 0;
  let buf: Uint8Array = new Uint8Array(0);
  let view = new DataView(buf.buffer);
  let bufStart = 0;
  let bufEnd = 0;
  let obj = seg.start;
  const end = seg.end;
  while (obj < end) {
    if (skipContexts) {
      // Contexts are sorted by pointer: advance to the first one at or after obj.
      while (ctxIndex < contexts.length && contexts[ctxIndex]!.pointer < obj) ctxIndex++;
      if (ctxIndex < contexts.length && contexts[ctxIndex]!.pointer === obj) {
        // The allocator leaves a minimum object's worth of space after the limit (GC.md).
        obj = contexts[ctxIndex]!.limit + MIN_OBJECT_SIZE;
        continue;
      }
    }
    if (obj + 16 > bufEnd) {
      try {
        buf = memory.readUpTo(obj, Math.min(WINDOW, Math.max(16, end - obj + 16)));
      } catch {
        buf = new Uint8Array(0);
      }
      if (buf.length < 12) {
        problems.push({ address: obj, segment: seg, reason: 'object memory is not in the dump' });
        return;
      }
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      bufStart = obj;
      bufEnd = obj + buf.length;
    }
    const at = obj - bufStart;
    const lo = view.getUint32(at, true);
    const hi = view.getUint32(at + 4, true);
    const mt = (hi * TWO32 + lo) - (lo & 7);
    let s = sizes.get(mt);
    if (s === undefined) {
      const info = mt === 0 ? undefined : mts.tryRead(mt);
      if (!info) {
        problems.push({ address: obj, segment: seg, reason: `bad MethodTable 0x${mt.toString(16)}` });
        return;
      }
      s = { base: info.baseSize, component: info.componentSize };
      sizes.set(mt, s);
    }
    let size = s.base;
    if (s.component !== 0) {
      if (at + 12 > buf.length) {
        bufEnd = 0; // refill from obj and retry
        continue;
      }
      size += view.getUint32(at + 8, true) * s.component;
    }
    // The object's size is what SOS reports (unaligned); the next object starts at the aligned size.
    // Plain arithmetic: LOH objects can exceed 2^31 bytes, beyond JavaScript's 32-bit bitwise operators.
    const rem = size % ALIGNMENT;
    const step = size < MIN_OBJECT_SIZE ? MIN_OBJECT_SIZE : rem === 0 ? size : size + ALIGNMENT - rem;
    // No object is smaller than the GC's minimum; SOS reports the empty string (22 bytes) as 24.
    if (size < MIN_OBJECT_SIZE) size = MIN_OBJECT_SIZE;
    if (obj + step > end) {
      problems.push({ address: obj, segment: seg, reason: `object of ${size} bytes runs past the segment end` });
      return;
    }
    visit(obj, mt, size, seg);
    obj += step;
  }
}
