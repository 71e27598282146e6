/**
 * What SOS's `dumpmd`/`ip2md` print about a MethodDesc (DacpMethodDescData + GetTieredVersions): its type, token,
 * module, current native code, IL address and native code versions with their optimization tiers.
 */
import { DumpsleuthError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { CodeResolver } from './code-resolver';

/** SOS's tier labels (DacpTieredVersionData::OptimizationTier, printed by DumpTieredNativeCodeAddressInfo). */
export type TierLabel =
  | 'Unknown Tier'
  | 'MinOptJitted'
  | 'Optimized'
  | 'QuickJitted'
  | 'OptimizedTier1'
  | 'OptimizedTier1OSR'
  | 'ReadyToRun'
  | 'QuickJitted + Instrumented'
  | 'OptimizedTier1 + Instrumented';

/** One native code version of a method. */
export interface NativeCodeVersionInfo {
  readonly codeAddress: number;
  readonly tier: TierLabel;
  /** The NativeCodeVersionNode, 0 for the default version. */
  readonly node: number;
}

/** The facts `dumpmd` prints. */
export interface MethodDetails {
  readonly methodDesc: number;
  readonly name: string;
  readonly canonicalMT: number;
  readonly methodTable: number;
  readonly token: number;
  readonly module: number;
  readonly isJitted: boolean;
  /** The active version's code, or undefined when the method has none (SOS prints ffffffffffffffff). */
  readonly currentCode: number | undefined;
  readonly ilAddress: number;
  /** Newest first, as SOS prints them. */
  readonly versions: readonly NativeCodeVersionInfo[];
}

// NativeCodeVersion::OptimizationTier (codeversion.h) → SOS label.
const NODE_TIERS: readonly TierLabel[] = ['QuickJitted', 'OptimizedTier1', 'OptimizedTier1OSR', 'Optimized', 'QuickJitted + Instrumented', 'OptimizedTier1 + Instrumented'];
// NativeCodeVersionNode::m_optTier follows m_id (u32) right after m_pNextMethodDescSibling in release builds;
// the descriptor does not publish it (codeversion.h).
const NODE_OPT_TIER_AFTER_NEXT = 12;
const NODE_FLAG_ACTIVE_CHILD = 0x1;
const MAX_VERSIONS = 10_000;

/** Reads the dumpmd facts of `md`. @throws LayoutCheckError when it is not a MethodDesc; UnmappedAddressError. */
export function readMethodDetails(code: CodeResolver, md: number): MethodDetails {
  const rt = code.parts.runtime;
  const info = code.methodDescs.read(md);
  const mt = code.parts.methodTables.read(info.methodTable);
  const defaultCode = defaultNativeCode(code, md);
  const defaultVersion: NativeCodeVersionInfo = { codeAddress: defaultCode, tier: tierOfDefault(code, defaultCode, info.isEligibleForTiering), node: 0 };
  const nodes = nativeCodeVersionNodes(rt, md);
  const active = nodes.find((n) => n.active);
  // GetTieredVersions lists the default version first, then the nodes; SOS prints the list from its end.
  const versions: NativeCodeVersionInfo[] = [defaultVersion, ...nodes.map((n) => ({ codeAddress: n.code, tier: n.tier, node: n.node }))].reverse();
  const current = active ? active.code : defaultCode;
  return {
    methodDesc: md,
    name: code.methodDescs.name(md),
    canonicalMT: mt.canonicalMT,
    methodTable: info.methodTable,
    token: info.token,
    module: mt.module,
    isJitted: current !== 0,
    currentCode: current !== 0 ? current : undefined,
    ilAddress: ilAddress(code, mt.module, info.token),
    versions,
  };
}

/** The MethodDesc's own (default-version) native code: its native-code slot, else its stable entry point when that is
 * not a precode (MethodDesc::GetNativeCode); 0 when not compiled. */
export function defaultNativeCode(code: CodeResolver, md: number): number {
  const rt = code.parts.runtime;
  const m = rt.memory;
  const info = code.methodDescs.read(md);
  if (info.nativeCodeSlot !== 0) {
    const c = m.readPointer(info.nativeCodeSlot);
    if (c !== 0) return c;
  }
  const entry = entryPointSlotValue(code, md);
  if (entry === 0) return 0;
  // MethodDesc::GetNativeCode does not look behind a precode: a method reached only through one counts as not compiled.
  return info.hasStableEntryPoint && !info.hasPrecode ? entry : 0;
}

/** The value of the MethodDesc's entry-point slot (non-vtable slot, or its MethodTable's slot); 0 when unreadable. */
export function entryPointSlotValue(code: CodeResolver, md: number): number {
  const rt = code.parts.runtime;
  const d = rt.descriptor;
  const m = rt.memory;
  try {
    const info = code.methodDescs.read(md);
    if (info.nonVtableSlot !== 0) return m.readPointer(info.nonVtableSlot);
    const mt = code.parts.methodTables.read(info.methodTable);
    if (info.slot < mt.numVirtuals) {
      // Virtual slots live in 8-slot chunks pointed to from the indirection array after the MethodTable.
      const chunk = m.readPointer(info.methodTable + d.size('MethodTable') + Math.floor(info.slot / 8) * 8);
      return m.readPointer(chunk + (info.slot % 8) * 8);
    }
    const aux = m.readPointer(info.methodTable + d.offset('MethodTable', 'AuxiliaryData'));
    const offset = m.readU16(aux + d.offset('MethodTableAuxiliaryData', 'OffsetToNonVirtualSlots'));
    const signed = offset >= 0x8000 ? offset - 0x10000 : offset;
    return m.readPointer(aux + signed + (info.slot - mt.numVirtuals) * 8);
  } catch (e) {
    if (e instanceof DumpsleuthError) return 0;
    throw e;
  }
}

function tierOfDefault(code: CodeResolver, nativeCode: number, eligible: boolean): TierLabel {
  if (nativeCode !== 0) {
    const block = code.em.tryFindCodeBlock(nativeCode);
    if (block?.kind === 'r2r') return 'ReadyToRun';
  }
  // TieredCompilation::GetInitialOptimizationTier: eligible methods start at tier 0.
  return eligible ? 'QuickJitted' : 'Optimized';
}

interface VersionNode {
  readonly node: number;
  readonly code: number;
  readonly tier: TierLabel;
  readonly active: boolean;
}

function nativeCodeVersionNodes(rt: DotNetRuntime, md: number): VersionNode[] {
  const d = rt.descriptor;
  const m = rt.memory;
  const out: VersionNode[] = [];
  try {
    const codeData = m.readPointer(md + d.offset('MethodDesc', 'CodeData'));
    if (codeData === 0) return out;
    const state = m.readPointer(codeData + d.offset('MethodDescCodeData', 'VersioningState'));
    if (state === 0) return out;
    let node = m.readPointer(state + d.offset('MethodDescVersioningState', 'NativeCodeVersionNode'));
    const nextOff = d.offset('NativeCodeVersionNode', 'Next');
    while (node !== 0 && out.length < MAX_VERSIONS) {
      const tierIndex = m.readU32(node + nextOff + NODE_OPT_TIER_AFTER_NEXT);
      out.push({
        node,
        code: m.readPointer(node + d.offset('NativeCodeVersionNode', 'NativeCode')),
        tier: NODE_TIERS[tierIndex] ?? 'Unknown Tier',
        active: (m.readU32(node + d.offset('NativeCodeVersionNode', 'Flags')) & NODE_FLAG_ACTIVE_CHILD) !== 0,
      });
      node = m.readPointer(node + nextOff);
    }
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  return out;
}

/** The address of the method's IL: image base + RVA, translated through the section table for flat layouts; 0 when unknown. */
export function ilAddress(code: CodeResolver, module: number, token: number): number {
  try {
    const md = code.parts.names.moduleMetadata(module);
    if (md instanceof Error) return 0;
    const rva = md.metadata.getMethodRva(token);
    if (rva === 0) return 0;
    const mod = code.parts.modules.read(module);
    if (mod.imageBase === 0) return 0;
    if (mod.isMappedLayout) return mod.imageBase + rva;
    return mod.imageBase + rvaToFileOffset(code.parts.runtime, mod.imageBase, rva);
  } catch (e) {
    if (e instanceof DumpsleuthError) return 0;
    throw e;
  }
}

/** The file offset of an RVA in a PE image loaded flat (not mapped) at `base`, by its section table. */
export function rvaToFileOffset(rt: DotNetRuntime, base: number, rva: number): number {
  const m = rt.memory;
  const pe = base + m.readU32(base + 0x3c);
  const sections = m.readU16(pe + 6);
  const optSize = m.readU16(pe + 20);
  const first = pe + 24 + optSize;
  for (let i = 0; i < sections && i < 96; i++) {
    const s = first + i * 40;
    const va = m.readU32(s + 12);
    const size = Math.max(m.readU32(s + 8), m.readU32(s + 16));
    if (va <= rva && rva < va + size) return rva - va + m.readU32(s + 20);
  }
  return rva;
}
