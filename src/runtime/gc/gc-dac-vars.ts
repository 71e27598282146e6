/**
 * The GC's self-description for debuggers (`GcDacVars`), reached through libcoreclr's exported `g_dacTable`.
 * .NET 10's contract descriptor has no GC types, so this is the one version-pinned piece of the GC path
 * (layout: dotnet/runtime src/coreclr/gc/gcinterface.dacvars.def, 64-bit). Every field is validated.
 */
import { LayoutCheckError, MissingRuntimeDataError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';

/** Offsets of the `GcDacVars` fields we use (64-bit). */
const GcDacVarsOffsets = {
  major_version_number: 0x00,
  minor_version_number: 0x01,
  generation_size: 0x08,
  total_generation_count: 0x10,
  generation_table: 0x30,
  max_gen: 0x38,
  ephemeral_heap_segment: 0x50,
  alloc_allocated: 0x78,
  finalize_queue: 0x90,
  n_heaps: 0xb0,
  g_heaps: 0xb8,
  gc_structures_invalid_cnt: 0xc0,
  handle_table_map: 0xe8,
  gc_heap_field_offsets: 0xf0,
  generation_field_offsets: 0xf8,
  free_regions: 0x118,
  count_free_region_kinds: 0x134,
  dynamic_adaptation_mode: 0x140,
} as const;

/** `minor_version_number` flag bit set by the GC's PopulateDacVars when it was built without background GC. */
const MINOR_NO_BACKGROUND_GC = 2;

/** How many g_dacTable slots to search for the anchors (the GC slot is about the 20th). */
const DAC_TABLE_SEARCH_SLOTS = 128;

/** The decoded `GcDacVars`: addresses of the GC's variables, not yet dereferenced. */
export interface GcDacVars {
  readonly address: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly generationSize: number;
  readonly totalGenerationCount: number;
  readonly isServer: boolean;
  readonly usesRegions: boolean;
  readonly backgroundGC: boolean;
  /** WKS: address of generation_table[0]. SVR: 0. */
  readonly generationTable: number;
  /** WKS: address of the variable holding the ephemeral segment. */
  readonly ephemeralHeapSegment: number;
  /** WKS: address of the variable holding alloc_allocated. */
  readonly allocAllocated: number;
  /** WKS: address of the variable holding the CFinalize*. */
  readonly finalizeQueue: number;
  /** SVR: address of the int heap count. */
  readonly nHeaps: number;
  /** SVR: address of the variable holding the gc_heap*[] array. */
  readonly gHeaps: number;
  readonly gcStructuresInvalidCnt: number;
  readonly handleTableMap: number;
  /** SVR: per-heap field offsets (index per dac_gcheap_fields.h); empty on WKS. */
  readonly gcHeapFieldOffsets: readonly number[];
  /** [allocation_context, start_segment, allocation_start] offsets within a generation; -1 when absent. */
  readonly generationFieldOffsets: readonly number[];
  readonly freeRegions: number;
  readonly countFreeRegionKinds: number;
  /** DATAS mode (server GC: 1 = dynamic adaptation on, 0 = off); undefined when the GC does not publish it. */
  readonly dynamicAdaptationMode: number | undefined;
  /** Address of the g_dacTable slot that led here, for `info`. */
  readonly dacTableSlot: number;
}

/** Index of the fields in `gc_heap_field_offsets` (dac_gcheap_fields.h). */
export const GcHeapField = {
  alloc_allocated: 0,
  ephemeral_heap_segment: 1,
  finalize_queue: 2,
  generation_table: 18,
  free_regions: 21,
} as const;
const GC_HEAP_FIELD_COUNT = 22;

/** Finds and validates `GcDacVars`. The `g_gcDacGlobals` slot of `g_dacTable` is found by anchoring on three
 * consecutive slots that the contract descriptor also names (ThreadStore, FinalizerThread, GCThread), not by index.
 * @throws MissingRuntimeDataError when g_dacTable is absent; LayoutCheckError when nothing validates. */
export function readGcDacVars(rt: DotNetRuntime): GcDacVars {
  const m = rt.memory;
  const table = rt.findCoreclrSymbol('g_dacTable');
  if (table === undefined) throw new MissingRuntimeDataError('libcoreclr.so exports no g_dacTable: cannot reach the GC heap');
  const threadStore = rt.descriptor.global('ThreadStore');
  const finalizer = rt.descriptor.global('FinalizerThread');
  const gcThread = rt.descriptor.global('GCThread');
  const slots: number[] = [];
  for (let i = 0; i < DAC_TABLE_SEARCH_SLOTS && m.isMapped(table + i * 8, 8); i++) slots.push(m.readPointer(table + i * 8));
  const problems: string[] = [];
  for (let k = 0; k + 4 < slots.length; k++) {
    if (slots[k] !== threadStore || slots[k + 1] !== finalizer || slots[k + 2] !== gcThread) continue;
    // g_heap_type (1 workstation, 2 server) says which GC is running; GcDacVars.built_with_svr only says the
    // binary contains a server GC, which libcoreclr always does.
    const heapTypeAddress = slots[k + 3]!;
    const heapType = m.readU32(heapTypeAddress);
    if (heapType !== 1 && heapType !== 2) {
      problems.push(`g_heap_type at slot ${k + 3} reads ${heapType}`);
      continue;
    }
    const varsAddress = m.readPointer(slots[k + 4]!);
    return decodeGcDacVars(rt, varsAddress, table + (k + 4) * 8, heapType === 2);
  }
  throw new LayoutCheckError(
    `could not find g_gcDacGlobals in g_dacTable (anchors ThreadStore/FinalizerThread/GCThread not found${problems.length ? '; ' + problems.join('; ') : ''})`,
  );
}

function decodeGcDacVars(rt: DotNetRuntime, a: number, slot: number, isServer: boolean): GcDacVars {
  const m = rt.memory;
  const o = GcDacVarsOffsets;
  const major = m.readU8(a + o.major_version_number);
  const minor = m.readU8(a + o.minor_version_number);
  const generationSize = m.readU64(a + o.generation_size);
  const totalGenerationCount = m.readU64(a + o.total_generation_count);
  if (major !== 2) throw new LayoutCheckError(`GcDacVars major version ${major} at 0x${a.toString(16)}: dumpsleuth knows version 2`);
  if (totalGenerationCount !== 5) throw new LayoutCheckError(`GcDacVars total_generation_count is ${totalGenerationCount}, expected 5`);
  if (generationSize < 64 || generationSize > 4096 || generationSize % 8 !== 0) {
    throw new LayoutCheckError(`GcDacVars generation_size ${generationSize} is implausible`);
  }
  const maxGenAddress = m.readPointer(a + o.max_gen);
  const maxGen = constantI32(rt, maxGenAddress);
  if (maxGen !== 2) throw new LayoutCheckError(`GcDacVars max_gen reads ${maxGen}, expected 2`);
  const genOffsetsAddress = m.readPointer(a + o.generation_field_offsets);
  const generationFieldOffsets = [0, 1, 2].map((i) => constantI32(rt, genOffsetsAddress + i * 4));
  if (generationFieldOffsets[0]! < 0 || generationFieldOffsets[1]! < 0 || generationFieldOffsets[1]! + 8 > generationSize) {
    throw new LayoutCheckError(`GcDacVars generation_field_offsets ${generationFieldOffsets.join(',')} are implausible`);
  }
  const heapOffsetsAddress = m.readPointer(a + o.gc_heap_field_offsets);
  const gcHeapFieldOffsets: number[] = [];
  if (isServer) {
    if (heapOffsetsAddress === 0) throw new LayoutCheckError('server GC without gc_heap_field_offsets in GcDacVars');
    for (let i = 0; i < GC_HEAP_FIELD_COUNT; i++) gcHeapFieldOffsets.push(constantI32(rt, heapOffsetsAddress + i * 4));
  }
  const invalidCntAddress = m.readPointer(a + o.gc_structures_invalid_cnt);
  const invalid = invalidCntAddress ? m.readI32(invalidCntAddress) : 0;
  return {
    address: a,
    majorVersion: major,
    minorVersion: minor,
    generationSize,
    totalGenerationCount,
    isServer,
    // With regions a generation has no allocation_start (dac_generation_fields.h marks it -1).
    usesRegions: generationFieldOffsets[2] === -1,
    backgroundGC: (minor & MINOR_NO_BACKGROUND_GC) === 0,
    generationTable: m.readPointer(a + o.generation_table),
    ephemeralHeapSegment: m.readPointer(a + o.ephemeral_heap_segment),
    allocAllocated: m.readPointer(a + o.alloc_allocated),
    finalizeQueue: m.readPointer(a + o.finalize_queue),
    nHeaps: m.readPointer(a + o.n_heaps),
    gHeaps: m.readPointer(a + o.g_heaps),
    gcStructuresInvalidCnt: invalid,
    handleTableMap: m.readPointer(a + o.handle_table_map),
    gcHeapFieldOffsets,
    generationFieldOffsets,
    freeRegions: m.readPointer(a + o.free_regions),
    countFreeRegionKinds: m.readI32(a + o.count_free_region_kinds),
    dynamicAdaptationMode: readOptionalInt(rt, m.readPointer(a + o.dynamic_adaptation_mode)),
    dacTableSlot: slot,
  };
}

function readOptionalInt(rt: DotNetRuntime, address: number): number | undefined {
  return address === 0 ? undefined : rt.memory.readI32(address);
}

/** A 32-bit value the GC initializes at build time and never writes (max_gen, the field-offset tables). A
 * single-file app keeps them in the executable's file-backed .data, whose pages a heap dump leaves out: then they
 * are read from the image file (the loader's constant bytes), which holds exactly that initial value. */
function constantI32(rt: DotNetRuntime, address: number): number {
  if (rt.memory.isMapped(address, 4) || rt.constantBytes === undefined) return rt.memory.readI32(address);
  const bytes = rt.constantBytes(address, 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}
