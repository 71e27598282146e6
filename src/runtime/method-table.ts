/**
 * MethodTables (RuntimeTypeSystem contract, version 1): flags, sizes, EEClass, module, generic instantiation.
 * Flag values: dotnet/runtime docs/design/datacontracts/RuntimeTypeSystem.md (WFLAGS_LOW / WFLAGS_HIGH).
 */
import { LayoutCheckError, UnmappedAddressError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

const WFLAGS_LOW_GenericsMask = 0x30;
const WFLAGS_HIGH = {
  CategoryMask: 0x000f0000,
  CategoryArrayMask: 0x000c0000,
  CategoryArray: 0x00080000,
  CategoryIfArrayThenSzArray: 0x00020000,
  CategoryValueType: 0x00040000,
  CategoryNullable: 0x00050000,
  CategoryPrimitive: 0x00060000,
  CategoryTruePrimitive: 0x00070000,
  CategoryInterface: 0x000c0000,
  Collectible: 0x00200000,
  ContainsGCPointers: 0x01000000,
  HasComponentSize: 0x80000000,
} as const;

/** The decoded fields of one MethodTable. */
export interface MethodTableInfo {
  readonly address: number;
  readonly flags: number;
  readonly flags2: number;
  readonly baseSize: number;
  /** 0 unless the type is a string or an array (then bytes per element; 2 for strings). */
  readonly componentSize: number;
  readonly parent: number;
  readonly module: number;
  /** The EEClass (resolved through the canonical MT when this MT is not canonical). */
  readonly eeClass: number;
  readonly canonicalMT: number;
  readonly perInstInfo: number;
  readonly numVirtuals: number;
  readonly numInterfaces: number;
  readonly typeDefToken: number;
  readonly isArray: boolean;
  readonly isSzArray: boolean;
  readonly isString: boolean;
  readonly isValueType: boolean;
  readonly isInterface: boolean;
  readonly hasInstantiation: boolean;
  readonly isGenericTypeDefinition: boolean;
  readonly containsGCPointers: boolean;
  readonly isCollectible: boolean;
}

/** Reads and caches MethodTables of one runtime. */
export class MethodTableReader {
  private readonly cache = new Map<number, MethodTableInfo>();
  private readonly off: Record<string, number>;
  readonly arrayBaseSize: number;
  private dictOffsets: { readonly numDicts: number; readonly numTypeArgs: number } | undefined;

  /** The GC's free-space pseudo type: no EEClass of its own, array-like with one byte per component. */
  readonly freeObjectMethodTable: number;

  constructor(private readonly rt: DotNetRuntime) {
    this.freeObjectMethodTable = rt.readGlobalPointer('FreeObjectMethodTable');
    const d = rt.descriptor;
    this.off = {
      flags: d.offset('MethodTable', 'MTFlags'),
      baseSize: d.offset('MethodTable', 'BaseSize'),
      flags2: d.offset('MethodTable', 'MTFlags2'),
      numVirtuals: d.offset('MethodTable', 'NumVirtuals'),
      numInterfaces: d.offset('MethodTable', 'NumInterfaces'),
      parent: d.offset('MethodTable', 'ParentMethodTable'),
      module: d.offset('MethodTable', 'Module'),
      eeClassOrCanon: d.offset('MethodTable', 'EEClassOrCanonMT'),
      perInstInfo: d.offset('MethodTable', 'PerInstInfo'),
      eeClassMT: d.offset('EEClass', 'MethodTable'),
    };
    // ArrayBase: MethodTable* + length (+ padding) + the object header = 24 on 64-bit.
    this.arrayBaseSize = d.tryGlobal('ArrayBaseSize') ?? 24;
  }

  /** The decoded MethodTable at `mt`; cached. @throws UnmappedAddressError / LayoutCheckError when it is not one. */
  read(mt: number): MethodTableInfo {
    let info = this.cache.get(mt);
    if (info === undefined) {
      info = this.decode(mt);
      this.cache.set(mt, info);
    }
    return info;
  }

  /** Like `read`, but undefined for an address that is not a readable, plausible MethodTable. */
  tryRead(mt: number): MethodTableInfo | undefined {
    const cached = this.cache.get(mt);
    if (cached) return cached;
    try {
      return this.read(mt);
    } catch (e) {
      if (e instanceof UnmappedAddressError || e instanceof LayoutCheckError) return undefined;
      throw e;
    }
  }

  /** The instantiation of a generic MT: its type-argument type handles (MethodTables or tagged TypeDescs). */
  instantiation(info: MethodTableInfo): number[] {
    if (!info.hasInstantiation || info.perInstInfo === 0) return [];
    const m = this.rt.memory;
    const d = this.rt.descriptor;
    const dictInfo = info.perInstInfo - 8;
    // Looked up once: dumpheap names thousands of instantiations.
    const dictOffsets = (this.dictOffsets ??= { numDicts: d.offset('GenericsDictInfo', 'NumDicts'), numTypeArgs: d.offset('GenericsDictInfo', 'NumTypeArgs') });
    const numDicts = m.readU16(dictInfo + dictOffsets.numDicts);
    const numTypeArgs = m.readU16(dictInfo + dictOffsets.numTypeArgs);
    if (numDicts === 0 || numTypeArgs > 64) throw new LayoutCheckError(`MethodTable 0x${info.address.toString(16)} has an implausible generic dictionary`);
    // PerInstInfo points at the dictionary pointers of this type and its generic parents; ours is the last.
    const dict = m.readPointer(info.perInstInfo + (numDicts - 1) * 8);
    const args: number[] = [];
    for (let i = 0; i < numTypeArgs; i++) args.push(m.readPointer(dict + i * 8));
    return args;
  }

  /** The element type handle of an array MT. */
  arrayElementType(info: MethodTableInfo): number {
    return info.perInstInfo;
  }

  /** The rank of an array MT (1 for SZ arrays). */
  arrayRank(info: MethodTableInfo): number {
    if (info.isSzArray) return 1;
    return Math.max(1, (info.baseSize - this.arrayBaseSize) / 8);
  }

  private decode(mt: number): MethodTableInfo {
    const m = this.rt.memory;
    const o = this.off;
    if (mt === 0 || mt % 8 !== 0) throw new LayoutCheckError(`0x${mt.toString(16)} is not a MethodTable address`);
    const flags = m.readU32(mt + o.flags!);
    const baseSize = m.readU32(mt + o.baseSize!);
    const flags2 = m.readU32(mt + o.flags2!);
    const eeClassOrCanon = m.readPointer(mt + o.eeClassOrCanon!);
    // The free-space MT is a bare array-like header with no EEClass, module or parent.
    if (mt === this.freeObjectMethodTable) return freeMethodTableInfo(mt, flags, baseSize);
    // Interfaces have no instances: their BaseSize is 0 (DacValidateMethodTable skips the size check for them).
    const isInterfaceMT = (flags & WFLAGS_HIGH.CategoryMask) === WFLAGS_HIGH.CategoryInterface;
    if ((!isInterfaceMT && baseSize < 12) || baseSize > 0x4000000 || eeClassOrCanon === 0) {
      throw new LayoutCheckError(`0x${mt.toString(16)} does not look like a MethodTable (base size ${baseSize})`);
    }
    let eeClass: number;
    let canonicalMT: number;
    if ((eeClassOrCanon & 1) === 0) {
      eeClass = eeClassOrCanon;
      canonicalMT = mt;
    } else {
      canonicalMT = eeClassOrCanon - 1;
      eeClass = m.readPointer(canonicalMT + o.eeClassOrCanon!);
      if ((eeClass & 1) !== 0) throw new LayoutCheckError(`MethodTable 0x${mt.toString(16)}: canonical MT has no EEClass`);
    }
    // The EEClass points back at its canonical MethodTable: the cheapest strong check that this is a real MT. The
    // EEClass's page is read for this word only (a heap walk checks thousands of MethodTables): not cached.
    const back = m.readPointerTransient !== undefined ? m.readPointerTransient(eeClass + o.eeClassMT!) : m.readPointer(eeClass + o.eeClassMT!);
    if (back !== canonicalMT) throw new LayoutCheckError(`0x${mt.toString(16)} does not look like a MethodTable (EEClass does not point back)`);
    const hasComponentSize = (flags & WFLAGS_HIGH.HasComponentSize) !== 0;
    const componentSize = hasComponentSize ? flags & 0xffff : 0;
    const category = flags & WFLAGS_HIGH.CategoryMask;
    const isArray = (flags & WFLAGS_HIGH.CategoryArrayMask) === WFLAGS_HIGH.CategoryArray;
    const genericsBits = hasComponentSize ? 0 : flags & WFLAGS_LOW_GenericsMask;
    return {
      address: mt,
      flags,
      flags2,
      baseSize,
      componentSize,
      parent: m.readPointer(mt + o.parent!),
      module: m.readPointer(mt + o.module!),
      eeClass,
      canonicalMT,
      perInstInfo: m.readPointer(mt + o.perInstInfo!),
      numVirtuals: m.readU16(mt + o.numVirtuals!),
      numInterfaces: m.readU16(mt + o.numInterfaces!),
      // MethodTable::GetTypeDefRid: the upper 24 bits of m_dwFlags2.
      typeDefToken: 0x02000000 | (flags2 >>> 8),
      isArray,
      isSzArray: isArray && (flags & WFLAGS_HIGH.CategoryIfArrayThenSzArray) !== 0,
      isString: hasComponentSize && !isArray && componentSize === 2,
      isValueType: (category & WFLAGS_HIGH.CategoryValueType) === WFLAGS_HIGH.CategoryValueType && category !== WFLAGS_HIGH.CategoryInterface,
      isInterface: category === WFLAGS_HIGH.CategoryInterface,
      hasInstantiation: genericsBits !== 0,
      isGenericTypeDefinition: genericsBits === 0x30,
      containsGCPointers: (flags & WFLAGS_HIGH.ContainsGCPointers) !== 0,
      isCollectible: (flags & WFLAGS_HIGH.Collectible) !== 0,
    };
  }
}

function freeMethodTableInfo(mt: number, flags: number, baseSize: number): MethodTableInfo {
  return {
    address: mt,
    flags,
    flags2: 0,
    baseSize,
    componentSize: (flags & WFLAGS_HIGH.HasComponentSize) !== 0 ? flags & 0xffff : 0,
    parent: 0,
    module: 0,
    eeClass: 0,
    canonicalMT: mt,
    perInstInfo: 0,
    numVirtuals: 0,
    numInterfaces: 0,
    typeDefToken: 0,
    isArray: false,
    isSzArray: false,
    isString: false,
    isValueType: false,
    isInterface: false,
    hasInstantiation: false,
    isGenericTypeDefinition: false,
    containsGCPointers: false,
    isCollectible: false,
  };
}
