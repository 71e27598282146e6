/**
 * The GC's own contract descriptor, which .NET 11 publishes as the `GC` sub-descriptor of the runtime's descriptor
 * (contract GC "c1": heap, generation, segment and handle-table types and the GC's globals, plus `GCIdentifiers`,
 * e.g. "workstation, regions, background"). Where it is present the GC is walked through it (GC.md, contract c1);
 * `g_dacTable` → `GcDacVars` is the path .NET 10 needs, and on 11 every fact both sources state is checked to agree
 * before the heap is trusted.
 */
import { LayoutCheckError } from '../../errors';
import { readContractDescriptor, type ContractDescriptor } from '../contract-descriptor';
import type { DotNetRuntime } from '../dotnet-runtime';
import { GcHeapField, type GcDacVars } from './gc-dac-vars';

/** The GC sub-descriptor of a runtime. */
export interface GcSubDescriptor {
  readonly address: number;
  readonly descriptor: ContractDescriptor;
  /** The GC contract's version as stated ("c1"). */
  readonly contractVersion: string | undefined;
  /** `GCIdentifiers` split at commas: "workstation" or "server", "regions" or "segments", "background"... */
  readonly identifiers: readonly string[];
}

/** Reads the runtime's `GC` sub-descriptor, or undefined when the descriptor has none (.NET 10).
 * @throws LayoutCheckError / DumpFormatError when it is there but does not read as a descriptor. */
export function readGcSubDescriptor(rt: Pick<DotNetRuntime, 'descriptor' | 'memory' | 'constantBytes'>): GcSubDescriptor | undefined {
  const slot = rt.descriptor.subDescriptors.get('GC');
  if (slot === undefined) return undefined;
  let address: number;
  try {
    address = rt.memory.readPointer(slot);
  } catch (e) {
    if (rt.constantBytes === undefined) throw e;
    const bytes = rt.constantBytes(slot, 8);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
    address = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
  }
  const descriptor = readContractDescriptor(rt.memory, address, rt.constantBytes);
  const identifiers = (descriptor.stringGlobal('GCIdentifiers') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { address, descriptor, contractVersion: descriptor.contracts.get('GC'), identifiers };
}

/** Checks that the `GcDacVars` found through g_dacTable say what the GC sub-descriptor says (mode, layout,
 * generation count, handle table map, and on workstation GC the heap's own variables).
 * @throws LayoutCheckError naming the first disagreement. */
export function checkGcDacVarsAgainstSubDescriptor(vars: GcDacVars, sub: GcSubDescriptor): void {
  const disagree = (what: string, dac: string | number, gc: string | number): never => {
    const show = (v: string | number) => (typeof v === 'number' ? `0x${v.toString(16)}` : v);
    throw new LayoutCheckError(`the GC's data through g_dacTable (${what} ${show(dac)}) disagrees with the GC sub-descriptor (${show(gc)}); the heap cannot be trusted`);
  };
  const has = (id: string) => sub.identifiers.includes(id);
  if (has('server') || has('workstation')) {
    const mode = vars.isServer ? 'server' : 'workstation';
    if (!has(mode)) disagree('GC mode', mode, sub.identifiers.join(', '));
  }
  if (has('regions') || has('segments')) {
    const layout = vars.usesRegions ? 'regions' : 'segments';
    if (!has(layout)) disagree('heap layout', layout, sub.identifiers.join(', '));
  }
  const d = sub.descriptor;
  const count = d.tryGlobal('TotalGenerationCount');
  if (count !== undefined && count !== vars.totalGenerationCount) disagree('total generation count', vars.totalGenerationCount, count);
  const pairs: [string, number][] = [['HandleTableMap', vars.handleTableMap]];
  if (!vars.isServer) {
    pairs.push(['GCHeapGenerationTable', vars.generationTable], ['GCHeapFinalizeQueue', vars.finalizeQueue], ['GCHeapAllocAllocated', vars.allocAllocated], ['GCHeapEphemeralHeapSegment', vars.ephemeralHeapSegment]);
  }
  for (const [name, dac] of pairs) {
    const gc = d.tryGlobal(name);
    if (gc !== undefined && gc !== dac) disagree(name, dac, gc);
  }
}

/** The GC's variables as the sub-descriptor states them, in the shape the g_dacTable path gives (`GcDacVars`), so
 * the heap and handle walks are the same code on 10 and 11. Facts the sub-descriptor does not state (the DAC table's
 * version bytes and slot, the DATAS mode on workstation GC) come from `dac` when there is one.
 * @throws MissingRuntimeDataError for a type or global the GC contract c1 should have; LayoutCheckError when what it
 * points at does not read as the GC's (max_generation is not 2, no heap count on server GC). */
export function gcVarsFromSubDescriptor(rt: Pick<DotNetRuntime, 'memory'>, sub: GcSubDescriptor, dac: GcDacVars | undefined): GcDacVars {
  const d = sub.descriptor;
  const m = rt.memory;
  const has = (id: string) => sub.identifiers.includes(id);
  if (!has('server') && !has('workstation')) throw new LayoutCheckError(`the GC sub-descriptor names neither server nor workstation GC (${sub.identifiers.join(', ')})`);
  const isServer = has('server');
  const maxGeneration = m.readU32(d.global('MaxGeneration'));
  if (maxGeneration !== 2) throw new LayoutCheckError(`the GC sub-descriptor's MaxGeneration reads ${maxGeneration}, expected 2`);
  const totalGenerationCount = d.global('TotalGenerationCount');
  if (totalGenerationCount !== 5) throw new LayoutCheckError(`the GC sub-descriptor's TotalGenerationCount is ${totalGenerationCount}, expected 5`);
  const usesRegions = has('regions');
  const gcHeapFieldOffsets: number[] = [];
  if (isServer) {
    const fields: [number, string][] = [
      [GcHeapField.alloc_allocated, 'AllocAllocated'],
      [GcHeapField.ephemeral_heap_segment, 'EphemeralHeapSegment'],
      [GcHeapField.finalize_queue, 'FinalizeQueue'],
      [GcHeapField.generation_table, 'GenerationTable'],
      [GcHeapField.free_regions, 'FreeRegions'],
    ];
    for (const [index, field] of fields) {
      if (field === 'FreeRegions' && !d.has('GCHeap', field)) continue;
      gcHeapFieldOffsets[index] = d.offset('GCHeap', field);
    }
    for (let i = 0; i <= GcHeapField.free_regions; i++) gcHeapFieldOffsets[i] ??= -1;
  }
  const wks = (name: string) => (isServer ? 0 : d.global(name));
  const invalidCount = d.tryGlobal('StructureInvalidCount');
  const datas = d.tryGlobal('DynamicAdaptationMode');
  return {
    address: dac?.address ?? sub.address,
    majorVersion: dac?.majorVersion ?? 0,
    minorVersion: dac?.minorVersion ?? 0,
    generationSize: d.size('Generation'),
    totalGenerationCount,
    isServer,
    usesRegions,
    backgroundGC: has('background'),
    generationTable: wks('GCHeapGenerationTable'),
    ephemeralHeapSegment: wks('GCHeapEphemeralHeapSegment'),
    allocAllocated: wks('GCHeapAllocAllocated'),
    finalizeQueue: wks('GCHeapFinalizeQueue'),
    nHeaps: isServer ? d.global('NumHeaps') : 0,
    gHeaps: isServer ? d.global('Heaps') : 0,
    gcStructuresInvalidCnt: invalidCount === undefined ? 0 : m.readI32(invalidCount),
    handleTableMap: d.global('HandleTableMap'),
    gcHeapFieldOffsets,
    generationFieldOffsets: [
      d.offset('Generation', 'AllocationContext'),
      d.offset('Generation', 'StartSegment'),
      d.has('Generation', 'AllocationStart') ? d.offset('Generation', 'AllocationStart') : -1,
    ],
    freeRegions: isServer ? 0 : (d.tryGlobal('GCHeapFreeRegions') ?? 0),
    countFreeRegionKinds: d.tryGlobal('CountFreeRegionKinds') ?? 0,
    dynamicAdaptationMode: datas !== undefined ? m.readI32(datas) : dac?.dynamicAdaptationMode,
    dacTableSlot: dac?.dacTableSlot ?? 0,
  };
}

/** Checks that the GC's variables read through the sub-descriptor and through g_dacTable are the same variables
 * (every address and offset the heap walk uses). @throws LayoutCheckError naming the first difference. */
export function checkSameGcVars(fromSub: GcDacVars, fromDac: GcDacVars): void {
  const keys: (keyof GcDacVars)[] = ['isServer', 'usesRegions', 'generationSize', 'totalGenerationCount', 'generationTable', 'ephemeralHeapSegment', 'allocAllocated', 'finalizeQueue', 'nHeaps', 'gHeaps', 'handleTableMap', 'gcStructuresInvalidCnt'];
  for (const k of keys) {
    if (fromSub[k] !== fromDac[k]) throw new LayoutCheckError(`the GC sub-descriptor's ${k} (${String(fromSub[k])}) differs from g_dacTable's (${String(fromDac[k])}); the heap cannot be trusted`);
  }
  const gen = [0, 1, 2].filter((i) => fromSub.generationFieldOffsets[i] !== fromDac.generationFieldOffsets[i]);
  if (gen.length > 0) throw new LayoutCheckError(`the GC sub-descriptor's generation field offsets (${fromSub.generationFieldOffsets.join(',')}) differ from g_dacTable's (${fromDac.generationFieldOffsets.join(',')})`);
  for (const i of [GcHeapField.alloc_allocated, GcHeapField.ephemeral_heap_segment, GcHeapField.finalize_queue, GcHeapField.generation_table]) {
    if (fromSub.isServer && fromSub.gcHeapFieldOffsets[i] !== fromDac.gcHeapFieldOffsets[i]) {
      throw new LayoutCheckError(`the GC sub-descriptor's gc_heap field ${i} offset (${fromSub.gcHeapFieldOffsets[i]}) differs from g_dacTable's (${fromDac.gcHeapFieldOffsets[i]})`);
    }
  }
}
