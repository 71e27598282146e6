/**
 * The GC's own contract descriptor, which .NET 11 publishes as the `GC` sub-descriptor of the runtime's descriptor
 * (contract GC "c1": heap, generation, segment and handle-table types and the GC's globals, plus `GCIdentifiers`,
 * e.g. "workstation, regions, background"). dumpsleuth still walks the GC through `g_dacTable` → `GcDacVars` (the
 * path .NET 10 needs); on 11 every fact both sources state is checked to agree before the heap is trusted.
 */
import { LayoutCheckError } from '../../errors';
import { readContractDescriptor, type ContractDescriptor } from '../contract-descriptor';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { GcDacVars } from './gc-dac-vars';

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
