/**
 * ExecutionManager (contract version 2): from a code address to the method whose code contains it.
 * RangeSectionMap → RangeSection → EEJitManager (code heap, nibble map, RealCodeHeader) or ReadyToRun
 * (RUNTIME_FUNCTION binary search, hot/cold map, EntryPointToMethodDescMap). Algorithms: dotnet/runtime
 * docs/design/datacontracts/ExecutionManager.md and the cDAC's ExecutionManagerCore*.cs; research/code-and-stacks-net10.md §1.
 */
import { DumpsleuthError, LimitExceededError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import { findMethodStartInNibbleMap } from './nibble-map';

/** RangeSection flags (codeman.h RangeSectionFlags). */
export const RangeSectionFlags = { Collectible: 0x1, CodeHeap: 0x2, RangeList: 0x4, Interpreter: 0x8 } as const;

/** One RangeSection: a reserved range of code (a JIT code heap, an R2R image, or a stub/precode range list). */
export interface RangeSectionInfo {
  readonly address: number;
  readonly rangeBegin: number;
  readonly rangeEndOpen: number;
  readonly flags: number;
  readonly heapList: number;
  readonly r2rModule: number;
  readonly jitManager: number;
}

/** What a code address resolves to: the method, where its code starts, and where its GC and unwind info are. */
export interface CodeBlock {
  readonly kind: 'jit' | 'r2r';
  readonly address: number;
  readonly methodDesc: number;
  /** Start of the method's (hot) code. */
  readonly startAddress: number;
  /** Offset of `address` in the method, counting the hot part first for R2R cold code (cDAC GetMethodInfo). */
  readonly relativeOffset: number;
  readonly rangeSection: RangeSectionInfo;
  /** Base that RUNTIME_FUNCTION RVAs are relative to (RangeBegin of the section). */
  readonly unwindBase: number;
  /** Address of the method's GC info, 0 when unknown. */
  readonly gcInfo: number;
  readonly gcInfoVersion: number;
  /** JIT'd code: the RealCodeHeader; 0 for R2R. */
  readonly codeHeader: number;
  /** R2R with hot/cold splitting: the cold part's start and the hot part's size. */
  readonly coldStart?: number;
  readonly hotSize?: number;
  /** R2R: the index of the method's main RUNTIME_FUNCTION (the key of the image's per-method tables). */
  readonly runtimeFunctionIndex?: number;
}

/** A RUNTIME_FUNCTION entry: RVAs relative to the CodeBlock's unwindBase. */
export interface RuntimeFunction {
  readonly address: number;
  readonly beginAddress: number;
  readonly endAddress: number;
  readonly unwindData: number;
}

const LEVELS = 5;
const MAX_FRAGMENTS = 100_000;
const MAX_RUNTIME_FUNCTIONS = 10_000_000;
const INVALID_ENTRY = 0xffffffff;

/** Looks code addresses up in the runtime's code maps; caches RangeSections. */
export class ExecutionManager {
  private readonly mapAddress: number;
  private readonly rsCache = new Map<number, RangeSectionInfo>();
  private readonly stubCodeBlockLast: number;
  private readonly gcInfoVersion: number;

  constructor(readonly rt: DotNetRuntime) {
    this.mapAddress = rt.descriptor.global('ExecutionManagerCodeRangeMapAddress');
    this.stubCodeBlockLast = rt.descriptor.tryGlobal('StubCodeBlockLast') ?? 0xf;
    this.gcInfoVersion = rt.descriptor.tryGlobal('GCInfoVersion') ?? 4;
  }

  /** The RangeSection that contains `address`, or undefined (not code the runtime knows).
   * @throws UnmappedAddressError when the map itself is not in the dump. */
  findRangeSection(address: number): RangeSectionInfo | undefined {
    if (address <= 0 || !Number.isSafeInteger(address)) return undefined;
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    let table = this.mapAddress + d.offset('RangeSectionMap', 'TopLevelData');
    for (let level = LEVELS; level >= 2; level--) {
      const entry = untag(m.readPointer(table + levelIndex(address, level) * 8));
      if (entry === 0) return undefined;
      table = entry;
    }
    let fragment = untag(m.readPointer(table + levelIndex(address, 1) * 8));
    for (let n = 0; fragment !== 0; n++) {
      if (n > MAX_FRAGMENTS) throw new LimitExceededError('RangeSectionFragment list does not end');
      const begin = m.readPointer(fragment + d.offset('RangeSectionFragment', 'RangeBegin'));
      const end = m.readPointer(fragment + d.offset('RangeSectionFragment', 'RangeEndOpen'));
      if (begin <= address && address < end) {
        const rs = m.readPointer(fragment + d.offset('RangeSectionFragment', 'RangeSection'));
        const info = this.readRangeSection(rs);
        // A section on its way out (NextForDelete set) is treated as no code, as the runtime does.
        if (m.readPointer(rs + d.offset('RangeSection', 'NextForDelete')) !== 0) return undefined;
        return info;
      }
      fragment = untag(m.readPointer(fragment + d.offset('RangeSectionFragment', 'Next')));
    }
    return undefined;
  }

  /** The method whose JIT'd or R2R code contains `address`, or undefined (not managed code, a stub, or a precode).
   * @throws UnmappedAddressError when a needed runtime structure is not in the dump. */
  findCodeBlock(address: number): CodeBlock | undefined {
    const rs = this.findRangeSection(address);
    if (!rs) return undefined;
    if ((rs.flags & RangeSectionFlags.Interpreter) !== 0) return undefined;
    if (rs.r2rModule !== 0) return this.findReadyToRun(rs, address);
    if ((rs.flags & RangeSectionFlags.CodeHeap) !== 0 && rs.heapList !== 0) return this.findJitted(rs, address);
    return undefined;
  }

  /** Like `findCodeBlock`, but undefined instead of throwing when the dump lacks a structure on the way. */
  tryFindCodeBlock(address: number): CodeBlock | undefined {
    try {
      return this.findCodeBlock(address);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** The RUNTIME_FUNCTION (unwind entry) covering `address` in `block`, including funclets and R2R cold parts. */
  findRuntimeFunction(block: CodeBlock, address: number): RuntimeFunction | undefined {
    const m = this.rt.memory;
    const rva = address - block.unwindBase;
    if (block.kind === 'jit') {
      const d = this.rt.descriptor;
      const count = m.readU32(block.codeHeader + d.offset('RealCodeHeader', 'NumUnwindInfos'));
      if (count > 10_000) throw new LimitExceededError(`RealCodeHeader 0x${block.codeHeader.toString(16)} claims ${count} unwind infos`);
      const first = block.codeHeader + d.offset('RealCodeHeader', 'UnwindInfos');
      const size = this.runtimeFunctionSize();
      for (let i = 0; i < count; i++) {
        const rf = this.readRuntimeFunction(first + i * size);
        if (rf.beginAddress <= rva && rva < rf.endAddress) return rf;
      }
      return undefined;
    }
    const r2r = this.readyToRunInfo(block.rangeSection);
    const index = this.findRuntimeFunctionIndex(r2r.runtimeFunctions, r2r.count, rva);
    return index === undefined ? undefined : this.readRuntimeFunction(r2r.runtimeFunctions + index * this.runtimeFunctionSize());
  }

  /** Every distinct RangeSection reachable from the range map (walks the sparse map; for enumerating code). */
  enumerateRangeSections(): RangeSectionInfo[] {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const out = new Map<number, RangeSectionInfo>();
    const stack: { table: number; level: number }[] = [{ table: this.mapAddress + d.offset('RangeSectionMap', 'TopLevelData'), level: LEVELS }];
    while (stack.length > 0) {
      const { table, level } = stack.pop()!;
      for (let i = 0; i < 256; i++) {
        const entry = untag(m.readPointer(table + i * 8));
        if (entry === 0) continue;
        if (level > 1) {
          stack.push({ table: entry, level: level - 1 });
          continue;
        }
        let fragment = entry;
        for (let n = 0; fragment !== 0 && n < MAX_FRAGMENTS; n++) {
          const rs = m.readPointer(fragment + d.offset('RangeSectionFragment', 'RangeSection'));
          if (rs !== 0 && !out.has(rs)) out.set(rs, this.readRangeSection(rs));
          fragment = untag(m.readPointer(fragment + d.offset('RangeSectionFragment', 'Next')));
        }
      }
    }
    return [...out.values()];
  }

  private readRangeSection(rs: number): RangeSectionInfo {
    let info = this.rsCache.get(rs);
    if (!info) {
      const d = this.rt.descriptor;
      const m = this.rt.memory;
      info = {
        address: rs,
        rangeBegin: m.readPointer(rs + d.offset('RangeSection', 'RangeBegin')),
        rangeEndOpen: m.readPointer(rs + d.offset('RangeSection', 'RangeEndOpen')),
        flags: m.readI32(rs + d.offset('RangeSection', 'Flags')),
        heapList: m.readPointer(rs + d.offset('RangeSection', 'HeapList')),
        r2rModule: m.readPointer(rs + d.offset('RangeSection', 'R2RModule')),
        jitManager: m.readPointer(rs + d.offset('RangeSection', 'JitManager')),
      };
      this.rsCache.set(rs, info);
    }
    return info;
  }

  private findJitted(rs: RangeSectionInfo, address: number): CodeBlock | undefined {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const hl = rs.heapList;
    const start = m.readPointer(hl + d.offset('CodeHeapListNode', 'StartAddress'));
    const end = m.readPointer(hl + d.offset('CodeHeapListNode', 'EndAddress'));
    if (address < start || address > end) return undefined;
    const mapBase = m.readPointer(hl + d.offset('CodeHeapListNode', 'MapBase'));
    const headerMap = m.readPointer(hl + d.offset('CodeHeapListNode', 'HeaderMap'));
    const methodStart = findMethodStartInNibbleMap(m, mapBase, headerMap, address);
    if (methodStart === 0) return undefined;
    // The CodeHeader (one pointer) sits just before the code: a RealCodeHeader*, or a small stub-kind number.
    const header = m.readPointer(methodStart - m.pointerSize);
    if (header <= this.stubCodeBlockLast) return undefined;
    const methodDesc = m.readPointer(header + d.offset('RealCodeHeader', 'MethodDesc'));
    if (methodDesc === 0) return undefined;
    return {
      kind: 'jit',
      address,
      methodDesc,
      startAddress: methodStart,
      relativeOffset: address - methodStart,
      rangeSection: rs,
      unwindBase: rs.rangeBegin,
      gcInfo: m.readPointer(header + d.offset('RealCodeHeader', 'GCInfo')),
      gcInfoVersion: this.gcInfoVersion,
      codeHeader: header,
    };
  }

  /** The READYTORUN_HEADER of the image a range section covers (its own, not a composite's), 0 when none. */
  readyToRunHeader(rs: RangeSectionInfo): number {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const own = m.readPointer(rs.r2rModule + d.offset('Module', 'ReadyToRunInfo'));
    return own === 0 ? 0 : m.readPointer(own + d.offset('ReadyToRunInfo', 'ReadyToRunHeader'));
  }

  private readyToRunInfo(rs: RangeSectionInfo): { info: number; runtimeFunctions: number; count: number; hotColdMap: number; hotColdCount: number; major: number } {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const own = m.readPointer(rs.r2rModule + d.offset('Module', 'ReadyToRunInfo'));
    if (own === 0) throw new DumpsleuthError(`module 0x${rs.r2rModule.toString(16)} has no ReadyToRunInfo`);
    // A component of a composite image shares the composite's tables.
    const composite = m.readPointer(own + d.offset('ReadyToRunInfo', 'CompositeInfo'));
    const info = composite !== 0 ? composite : own;
    const count = m.readU32(info + d.offset('ReadyToRunInfo', 'NumRuntimeFunctions'));
    if (count > MAX_RUNTIME_FUNCTIONS) throw new LimitExceededError(`ReadyToRunInfo 0x${info.toString(16)} claims ${count} runtime functions`);
    const header = m.readPointer(own + d.offset('ReadyToRunInfo', 'ReadyToRunHeader'));
    const major = header !== 0 ? m.readU16(header + d.offset('ReadyToRunHeader', 'MajorVersion')) : 0;
    return {
      info,
      runtimeFunctions: m.readPointer(info + d.offset('ReadyToRunInfo', 'RuntimeFunctions')),
      count,
      hotColdMap: m.readPointer(info + d.offset('ReadyToRunInfo', 'HotColdMap')),
      hotColdCount: m.readU32(info + d.offset('ReadyToRunInfo', 'NumHotColdMap')),
      major,
    };
  }

  private findReadyToRun(rs: RangeSectionInfo, address: number): CodeBlock | undefined {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const imageBase = rs.rangeBegin;
    const own = m.readPointer(rs.r2rModule + d.offset('Module', 'ReadyToRunInfo'));
    if (own === 0) return undefined;
    const r2r = this.readyToRunInfo(rs);
    const rva = address - imageBase;
    // Delay-load method-call thunks live in the image but are not methods.
    const thunks = m.readPointer(own + d.offset('ReadyToRunInfo', 'DelayLoadMethodCallThunks'));
    if (thunks !== 0) {
      const va = m.readU32(thunks + d.offset('ImageDataDirectory', 'VirtualAddress'));
      const size = m.readU32(thunks + d.offset('ImageDataDirectory', 'Size'));
      if (va <= rva && rva < va + size) return undefined;
    }
    let index = this.findRuntimeFunctionIndex(r2r.runtimeFunctions, r2r.count, rva);
    if (index === undefined) return undefined;
    index = this.hotIndex(r2r.hotColdMap, r2r.hotColdCount, index);
    const mapAddress = r2r.info + d.offset('ReadyToRunInfo', 'EntryPointToMethodDescMap');
    const rfSize = this.runtimeFunctionSize();
    let methodDesc = 0;
    // Funclets have no entry of their own: walk back to the entry of the function that owns them.
    for (let guard = 0; index >= 0 && guard < 10_000; guard++) {
      const begin = m.readU32(r2r.runtimeFunctions + index * rfSize + d.offset('RuntimeFunction', 'BeginAddress'));
      methodDesc = this.lookupEntryPoint(mapAddress, imageBase + begin);
      if (methodDesc !== 0) break;
      index--;
    }
    if (methodDesc === 0 || index < 0) return undefined;
    const main = this.readRuntimeFunction(r2r.runtimeFunctions + index * rfSize);
    const startAddress = imageBase + main.beginAddress;
    let relativeOffset = address - startAddress;
    let coldStart: number | undefined;
    let hotSize: number | undefined;
    const coldIndex = this.coldIndex(r2r.hotColdMap, r2r.hotColdCount, index);
    if (coldIndex !== undefined) {
      const cold = this.readRuntimeFunction(r2r.runtimeFunctions + coldIndex * rfSize);
      coldStart = imageBase + cold.beginAddress;
      hotSize = main.endAddress - main.beginAddress;
      if (address >= coldStart) relativeOffset = hotSize + address - coldStart;
    }
    // x64 UNWIND_INFO: 4-byte header, codes padded to an even count, then the personality routine RVA (always
    // present in R2R); the GC info follows (ReadyToRunJitManager::GetGCInfoToken).
    const unwind = imageBase + main.unwindData;
    const codes = m.readU8(unwind + 2);
    const gcInfo = unwind + 4 + 2 * (codes + (codes % 2)) + 4;
    const gcInfoVersion = r2r.major === 0 ? this.gcInfoVersion : r2r.major < 11 ? 3 : r2r.major < 21 ? 4 : 5;
    return {
      kind: 'r2r',
      address,
      methodDesc,
      startAddress,
      relativeOffset,
      rangeSection: rs,
      unwindBase: imageBase,
      gcInfo,
      gcInfoVersion,
      codeHeader: 0,
      runtimeFunctionIndex: index,
      ...(coldStart !== undefined ? { coldStart, hotSize } : {}),
    };
  }

  /** Binary search of RUNTIME_FUNCTIONs sorted by BeginAddress: the last one starting at or before `rva`. */
  private findRuntimeFunctionIndex(table: number, count: number, rva: number): number | undefined {
    if (count === 0 || rva < 0) return undefined;
    const m = this.rt.memory;
    const size = this.runtimeFunctionSize();
    const beginOff = this.rt.descriptor.offset('RuntimeFunction', 'BeginAddress');
    let lo = 0;
    let hi = count - 1;
    if (rva < m.readU32(table + beginOff)) return undefined;
    while (lo < hi) {
      const mid = Math.floor((lo + hi + 1) / 2);
      if (m.readU32(table + mid * size + beginOff) <= rva) lo = mid;
      else hi = mid - 1;
    }
    if (this.rt.descriptor.has('RuntimeFunction', 'EndAddress')) {
      const rf = this.readRuntimeFunction(table + lo * size);
      if (rva >= rf.endAddress) return undefined;
    }
    return lo;
  }

  /** HotColdMap: u32 pairs (coldIndex, hotIndex) sorted by index (HotColdLookup.cs). */
  private hotIndex(map: number, count: number, index: number): number {
    if (count === 0 || map === 0) return index;
    const m = this.rt.memory;
    if (index < m.readU32(map)) return index;
    // Find the pair whose cold block starts at or before `index` (a cold funclet follows its cold block).
    let best = -1;
    for (let i = 0; i < count; i += 2) {
      if (m.readU32(map + i * 4) <= index) best = i;
      else break;
    }
    return best < 0 ? index : m.readU32(map + (best + 1) * 4);
  }

  private coldIndex(map: number, count: number, hotIndex: number): number | undefined {
    if (count === 0 || map === 0) return undefined;
    const m = this.rt.memory;
    for (let i = 0; i < count; i += 2) {
      if (m.readU32(map + (i + 1) * 4) === hotIndex) return m.readU32(map + i * 4);
    }
    return undefined;
  }

  /** PtrHashMap lookup (hash.h; cDAC HashMapLookup.cs): entry point → MethodDesc, 0 when absent. */
  private lookupEntryPoint(hashMap: number, entryPoint: number): number {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const key = entryPoint > 1 ? entryPoint : entryPoint + 100;
    const buckets = m.readPointer(hashMap + d.offset('HashMap', 'Buckets'));
    if (buckets === 0) return 0;
    const size = m.readU32(buckets);
    if (size < 2) return 0;
    const bucketSize = d.size('Bucket');
    const slots = d.tryGlobal('HashMapSlotsPerBucket') ?? 4;
    const keysOff = d.offset('Bucket', 'Keys');
    const valuesOff = d.offset('Bucket', 'Values');
    let seed = Math.floor(key / 4) % 2 ** 32;
    const increment = 1 + (((Math.floor(key / 32) % 2 ** 32) + 1) % 2 ** 32) % (size - 1);
    const first = buckets + bucketSize;
    for (let i = 0; i < size; i++) {
      const bucket = first + bucketSize * (seed % size);
      for (let s = 0; s < slots; s++) {
        if (m.readPointer(bucket + keysOff + s * 8) !== key) continue;
        // Values are 64-bit with the collision flag in the top bit (HashMapValueMask): read them as two halves.
        const lo = m.readU32(bucket + valuesOff + s * 8);
        const hi = m.readU32(bucket + valuesOff + s * 8 + 4) % 2 ** 31;
        const value = hi * 2 ** 32 + lo;
        if (value === INVALID_ENTRY) return 0;
        return value * 2;
      }
      seed = (seed + increment) % 2 ** 32;
      const collision = m.readU32(bucket + valuesOff + 4) >= 2 ** 31;
      if (!collision) break;
    }
    return 0;
  }

  private runtimeFunctionSize(): number {
    return this.rt.descriptor.size('RuntimeFunction');
  }

  private readRuntimeFunction(address: number): RuntimeFunction {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const beginAddress = m.readU32(address + d.offset('RuntimeFunction', 'BeginAddress'));
    return {
      address,
      beginAddress,
      endAddress: d.has('RuntimeFunction', 'EndAddress') ? m.readU32(address + d.offset('RuntimeFunction', 'EndAddress')) : beginAddress,
      unwindData: m.readU32(address + d.offset('RuntimeFunction', 'UnwindData')),
    };
  }
}

/** Range-map pointers carry a "collectible" tag in bit 0. */
function untag(p: number): number {
  return p - (p % 2);
}

/** Index into the map level `level` (1 = leaf): bits 17+8·(level−1) … of the address (RangeSectionMap). */
function levelIndex(address: number, level: number): number {
  return Math.floor(address / 2 ** (17 + 8 * (level - 1))) % 256;
}

const managers = new WeakMap<DotNetRuntime, ExecutionManager>();

/** The ExecutionManager of a runtime, created once per runtime. */
export function executionManagerOf(rt: DotNetRuntime): ExecutionManager {
  let em = managers.get(rt);
  if (!em) {
    em = new ExecutionManager(rt);
    managers.set(rt, em);
  }
  return em;
}
