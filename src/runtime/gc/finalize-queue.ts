/**
 * The GC's finalization queue per heap (`CFinalize`, gcpriv.h; research/gc-net10.md §3): one array of Object*
 * slots cut into segments by fill pointers — per generation the objects registered for finalization, then the
 * critical and normal f-reachable lists (objects found dead and waiting for the finalizer thread: GC roots).
 */
import { LayoutCheckError, LimitExceededError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { GcHeap } from './gc-heap';

/** A range of queue slots [start, end): each slot (8 bytes) holds one object address. */
export interface FinalizeRange {
  readonly start: number;
  readonly end: number;
}

/** One heap's finalization queue. */
export interface FinalizeQueue {
  readonly heapIndex: number;
  /** The CFinalize object itself. */
  readonly address: number;
  /** `m_FillPointers[total_generation_count + 2]`, in the runtime's order. */
  readonly fillPointers: readonly number[];
  /** `m_Array`, the first slot. */
  readonly array: number;
  /** `m_EndArray`, one past the last allocated slot. */
  readonly endArray: number;
  /** Objects registered for finalization and not yet found dead: [m_Array, FP[gen0 + 1]). */
  readonly registered: FinalizeRange;
  /** Objects ready for finalization (critical and normal f-reachable lists): [FP[4], FP[6]) with 5 generations. */
  readonly ready: FinalizeRange;
  /** What SOS/ClrMD call all finalizable objects: [FP[0], FP[6]) (the POH segment [m_Array, FP[0]) is left out). */
  readonly sosAll: FinalizeRange;
  /** What SOS prints as "generation g" (ClrMD's ranges: generation g is [FP[2−g], FP[3−g])). */
  readonly sosGenerations: readonly FinalizeRange[];
}

const MAX_QUEUE_SLOTS = 1 << 28;

/** Reads every heap's finalization queue. @throws LayoutCheckError when the fill pointers are not ordered. */
export function readFinalizeQueues(rt: DotNetRuntime, heap: GcHeap): FinalizeQueue[] {
  const m = rt.memory;
  const count = heap.vars.totalGenerationCount + 2;
  const out: FinalizeQueue[] = [];
  for (const h of heap.heaps) {
    const q = h.finalizeQueue;
    if (q === 0) throw new LayoutCheckError(`GC heap ${h.index} has no finalization queue`);
    const fp: number[] = [];
    for (let i = 0; i < count; i++) fp.push(m.readPointer(q + i * 8));
    const array = m.readPointer(q + count * 8);
    const endArray = m.readPointer(q + (count + 1) * 8);
    let prev = array;
    for (const p of [...fp, endArray]) {
      if (p < prev || p % 8 !== 0) {
        throw new LayoutCheckError(`finalization queue 0x${q.toString(16)} (heap ${h.index}): fill pointers are not ordered`);
      }
      prev = p;
    }
    if ((endArray - array) / 8 > MAX_QUEUE_SLOTS) throw new LimitExceededError(`finalization queue 0x${q.toString(16)} is implausibly large`);
    const gen0 = count - 3; // segments: POH, LOH, gen2, gen1, gen0, critical, f-reachable
    out.push({
      heapIndex: h.index,
      address: q,
      fillPointers: fp,
      array,
      endArray,
      registered: { start: array, end: fp[gen0]! },
      ready: { start: fp[gen0]!, end: fp[count - 1]! },
      sosAll: { start: fp[0]!, end: fp[count - 1]! },
      sosGenerations: [0, 1, 2].map((g) => ({ start: fp[2 - g]!, end: fp[3 - g]! })),
    });
  }
  return out;
}

/** Calls `visit(slot, object)` for each non-null slot of `range`. @throws UnmappedAddressError. */
export function forEachFinalizeSlot(rt: DotNetRuntime, range: FinalizeRange, visit: (slot: number, object: number) => void): void {
  const m = rt.memory;
  for (let a = range.start; a < range.end; a += 8) {
    const obj = m.readPointer(a);
    if (obj !== 0) visit(a, obj);
  }
}
