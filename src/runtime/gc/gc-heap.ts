/**
 * The GC heap's shape: heaps, their regions/segments per generation, and the allocation contexts a walk must skip.
 * Algorithm: dotnet/runtime docs/design/datacontracts/GC.md (EnumerateHeapSegments), with the GC's variables from
 * the GC sub-descriptor (11) or `g_dacTable` → `GcDacVars` (10).
 */
import { LayoutCheckError, LimitExceededError, MissingRuntimeDataError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import { readThreads } from '../thread-store';
import { GcHeapField, readGcDacVars, type GcDacVars } from './gc-dac-vars';
import { checkGcDacVarsAgainstSubDescriptor, checkSameGcVars, gcVarsFromSubDescriptor, readGcSubDescriptor, type GcSubDescriptor } from './gc-sub-descriptor';

/** Where a segment's objects belong. `frozen` is the NonGC heap (string literals and other frozen objects). */
export type SegmentKind = 'gen0' | 'gen1' | 'gen2' | 'loh' | 'poh' | 'frozen' | 'ephemeral';

/** One region (regions GC) or segment (segments GC): objects live in [start, end). */
export interface HeapSegment {
  /** The `heap_segment` structure's own address (SOS prints it as "segment"). */
  readonly address: number;
  readonly heapIndex: number;
  readonly kind: SegmentKind;
  /** First object (`mem`). */
  readonly start: number;
  /** End of objects: `alloc_allocated` for the ephemeral segment, else `allocated`. */
  readonly end: number;
  readonly allocated: number;
  readonly committed: number;
  readonly reserved: number;
  readonly flags: number;
}

/** One GC heap (one on workstation GC, one per heap on server GC). */
export interface GcHeapInfo {
  readonly index: number;
  /** The `gc_heap` object (server GC); 0 on workstation GC, whose heap is static. */
  readonly address: number;
  readonly allocAllocated: number;
  readonly ephemeralHeapSegment: number;
  readonly finalizeQueue: number;
  readonly generationTable: number;
}

/** An allocation context: [pointer, limit) is reserved for a thread's future objects and holds no objects. */
export interface AllocContext {
  readonly pointer: number;
  readonly limit: number;
}

const HEAP_SEGMENT_FLAGS_READONLY = 1;
/** heap_segment field offsets (gcinterface.dac.h `dac_heap_segment`, 64-bit); the GC sub-descriptor's HeapSegment
 * type states them on 11. */
const SEG_DAC = { allocated: 0x00, committed: 0x08, reserved: 0x10, mem: 0x20, flags: 0x28, next: 0x30 } as const;
type SegLayout = { readonly [K in keyof typeof SEG_DAC]: number };

function segmentLayout(sub: GcSubDescriptor | undefined): SegLayout {
  if (sub === undefined) return SEG_DAC;
  const f = (name: string) => sub.descriptor.offset('HeapSegment', name);
  return { allocated: f('Allocated'), committed: f('Committed'), reserved: f('Reserved'), mem: f('Mem'), flags: f('Flags'), next: f('Next') };
}
const MAX_SEGMENTS_PER_LIST = 65536;
const MAX_HEAPS = 1024;

/** The whole GC heap of a dump. */
export class GcHeap {
  private constructor(
    readonly vars: GcDacVars,
    readonly heaps: readonly GcHeapInfo[],
    /** All segments, sorted by start address. */
    readonly segments: readonly HeapSegment[],
    /** Allocation contexts with pointer < limit, sorted by pointer. */
    readonly allocContexts: readonly AllocContext[],
    readonly freeObjectMethodTable: number,
  ) {}

  get isServer(): boolean {
    return this.vars.isServer;
  }

  get usesRegions(): boolean {
    return this.vars.usesRegions;
  }

  /** True when the GC said its structures are mid-change (a dump taken during a GC). */
  get isValidForTraversal(): boolean {
    return this.vars.gcStructuresInvalidCnt === 0;
  }

  /** Reads the heap shape. @throws LayoutCheckError / MissingRuntimeDataError / LimitExceededError. */
  /** .NET 11's GC sub-descriptor, checked to agree with `vars` (undefined on 10). */
  gcSubDescriptor: GcSubDescriptor | undefined;

  static read(rt: DotNetRuntime): GcHeap {
    // On 11 the GC describes itself (the GC sub-descriptor) and is walked through that; g_dacTable's GcDacVars (the
    // only source on 10) must say the same thing before anything is walked.
    const sub = readGcSubDescriptor(rt);
    let vars: GcDacVars;
    if (sub === undefined) {
      vars = readGcDacVars(rt);
    } else {
      const dac = rt.findCoreclrSymbol('g_dacTable') === undefined ? undefined : readGcDacVars(rt);
      vars = gcVarsFromSubDescriptor(rt, sub, dac);
      if (dac !== undefined) {
        checkGcDacVarsAgainstSubDescriptor(dac, sub);
        checkSameGcVars(vars, dac);
      }
    }
    const m = rt.memory;
    const heaps: GcHeapInfo[] = [];
    if (vars.isServer) {
      const count = m.readI32(vars.nHeaps);
      if (count <= 0 || count > MAX_HEAPS) throw new LayoutCheckError(`server GC heap count ${count} is implausible`);
      const array = m.readPointer(vars.gHeaps);
      const off = vars.gcHeapFieldOffsets;
      for (let i = 0; i < count; i++) {
        const h = m.readPointer(array + i * 8);
        heaps.push({
          index: i,
          address: h,
          allocAllocated: m.readPointer(h + off[GcHeapField.alloc_allocated]!),
          ephemeralHeapSegment: m.readPointer(h + off[GcHeapField.ephemeral_heap_segment]!),
          finalizeQueue: m.readPointer(h + off[GcHeapField.finalize_queue]!),
          generationTable: h + off[GcHeapField.generation_table]!,
        });
      }
    } else {
      heaps.push({
        index: 0,
        address: 0,
        allocAllocated: m.readPointer(vars.allocAllocated),
        ephemeralHeapSegment: m.readPointer(vars.ephemeralHeapSegment),
        finalizeQueue: m.readPointer(vars.finalizeQueue),
        generationTable: vars.generationTable,
      });
    }

    const Seg = segmentLayout(sub);
    const segments: HeapSegment[] = [];
    const seen = new Set<number>();
    const startSegmentOffset = vars.generationFieldOffsets[1]!;
    for (const heap of heaps) {
      const genStart = (gen: number) => m.readPointer(heap.generationTable + gen * vars.generationSize + startSegmentOffset);
      const add = (first: number, kindOf: (flags: number) => SegmentKind) => {
        let seg = first;
        let n = 0;
        while (seg !== 0 && !seen.has(seg)) {
          if (++n > MAX_SEGMENTS_PER_LIST) throw new LimitExceededError(`more than ${MAX_SEGMENTS_PER_LIST} segments in one GC generation list`);
          seen.add(seg);
          const flags = m.readU64(seg + Seg.flags);
          const allocated = m.readPointer(seg + Seg.allocated);
          const start = m.readPointer(seg + Seg.mem);
          const end = seg === heap.ephemeralHeapSegment ? heap.allocAllocated : allocated;
          const committed = m.readPointer(seg + Seg.committed);
          const reserved = m.readPointer(seg + Seg.reserved);
          if (start === 0 || end < start || reserved < start) {
            throw new LayoutCheckError(`heap_segment 0x${seg.toString(16)} has implausible bounds [0x${start.toString(16)}, 0x${end.toString(16)})`);
          }
          segments.push({ address: seg, heapIndex: heap.index, kind: kindOf(flags), start, end, allocated, committed, reserved, flags });
          seg = m.readPointer(seg + Seg.next);
        }
      };
      if (vars.usesRegions) {
        add(genStart(2), (f) => ((f & HEAP_SEGMENT_FLAGS_READONLY) !== 0 ? 'frozen' : 'gen2'));
        add(genStart(1), () => 'gen1');
        add(genStart(0), () => 'gen0');
      } else {
        // Segments GC: the gen2 list holds every SOH segment; the ephemeral one holds gen0 and gen1 too.
        add(genStart(2), (f) => ((f & HEAP_SEGMENT_FLAGS_READONLY) !== 0 ? 'frozen' : 'gen2'));
        for (const s of segments) if (s.address === heap.ephemeralHeapSegment) (s as { kind: SegmentKind }).kind = 'ephemeral';
      }
      add(genStart(3), () => 'loh');
      add(genStart(4), () => 'poh');
    }
    segments.sort((a, b) => a.start - b.start);

    const contexts: AllocContext[] = [];
    const allocContextOffset = vars.generationFieldOffsets[0]!;
    for (const heap of heaps) {
      const ctx = heap.generationTable + allocContextOffset;
      contexts.push({ pointer: m.readPointer(ctx), limit: m.readPointer(ctx + 8) });
    }
    for (const t of readThreads(rt)) contexts.push({ pointer: t.allocContextPointer, limit: t.allocContextLimit });
    // An exhausted context (pointer = limit) still owns the minimum object's worth of space after its limit: the walk
    // steps over it like any other context instead of reading its zeros as an object with MethodTable 0.
    const usable = contexts.filter((c) => c.pointer !== 0 && c.pointer <= c.limit).sort((a, b) => a.pointer - b.pointer);
    const freeMt = rt.readGlobalPointer('FreeObjectMethodTable');
    // A mini dump (createdump --normal, dotnet-dump collect --type Mini) has the runtime's structures but none of the
    // objects: say so once instead of a warning per segment or a bare unmapped-address error.
    const used = segments.filter((s) => s.end > s.start);
    // (A mini dump may still hold the odd page of the heap that a stack or register pointed into.)
    if (used.length > 0 && used.filter((s) => m.isMapped(s.start, 8)).length * 2 < used.length) {
      throw new MissingRuntimeDataError(
        'this dump has no GC heap (a mini dump?): take a heap dump (`dotnet-dump collect --type Heap`, `createdump --withheap`) or a full dump',
      );
    }
    const heap = new GcHeap(vars, heaps, segments, dedupe(usable), freeMt);
    heap.gcSubDescriptor = sub;
    return heap;
  }
}

function dedupe(list: AllocContext[]): AllocContext[] {
  const out: AllocContext[] = [];
  for (const c of list) if (!out.length || out[out.length - 1]!.pointer !== c.pointer) out.push(c);
  return out;
}
