/**
 * Loaded modules (Loader contract): each Module's path, image base and layout, and the assembly list of the AppDomain.
 */
import { LayoutCheckError, LimitExceededError, UnmappedAddressError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

/** One runtime `Module`. */
export interface ClrModule {
  readonly address: number;
  readonly assembly: number;
  /** Full path of the image file, or '' for dynamic/in-memory modules. */
  readonly path: string;
  /** Base address of the loaded PE image (0 when none). */
  readonly imageBase: number;
  readonly imageSize: number;
  /** True when the image is mapped by sections (RVA-addressable), false for a flat file copy. */
  readonly isMappedLayout: boolean;
}

/** The token → runtime-structure maps a Module keeps (`Module.*Map` in the descriptor). */
export type ModuleLookupMapName =
  | 'TypeDefToMethodTableMap'
  | 'TypeRefToMethodTableMap'
  | 'MethodDefToDescMap'
  | 'FieldDefToDescMap'
  | 'ManifestModuleReferencesMap'
  | 'MemberRefToDescMap';

const MAX_PATH_CHARS = 4096;
const MAX_LOOKUP_MAP_LINKS = 1_000_000;
const MAX_HASH_ENTRIES = 10_000_000;
// DacEnumerableHashTable's bucket array: [0] bucket count, [1] next array during a resize, [2] the base end
// sentinel; buckets start at [3] and each chain ends on a value with bit 0 set (dacenumerablehash.h).
const HASH_SKIP_SPECIAL_SLOTS = 3;

/** Where a Module's AvailableTypeParams table keeps its buckets and how its entries are laid out. */
interface TypeParamTable {
  readonly buckets: number;
  readonly length: number;
  readonly valueOffset: number;
  readonly nextOffset: number;
  readonly hashOffset: number;
}
const MAX_ASSEMBLIES = 1_000_000;
const PEIMAGE_LAYOUT_MAPPED = 1;

/** Reads runtime Modules, cached by address. */
export class ModuleReader {
  private readonly cache = new Map<number, ClrModule>();

  constructor(private readonly rt: DotNetRuntime) {}

  /** The Module at `address`. @throws MissingRuntimeDataError / UnmappedAddressError. */
  read(address: number): ClrModule {
    let mod = this.cache.get(address);
    if (!mod) {
      mod = this.decode(address);
      this.cache.set(address, mod);
    }
    return mod;
  }

  private modules?: readonly ClrModule[];

  /** Every module of every assembly in the AppDomain's assembly list, in load order (read once: a dump does not
   * change, and constructed-type lookups walk the list once per lookup). */
  enumerate(): ClrModule[] {
    this.modules ??= this.readModuleList();
    return [...this.modules];
  }

  private readModuleList(): ClrModule[] {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const appDomain = this.rt.readGlobalPointer('AppDomain');
    // .NET 10 lists DomainAssembly pointers (a DomainAssembly starts with its Assembly, Loader.md); .NET 11 removed
    // DomainAssembly and lists the Assembly pointers themselves (AppDomain.AssemblyList).
    const viaDomainAssembly = d.has('AppDomain', 'DomainAssemblyList');
    const list = appDomain + d.offset('AppDomain', viaDomainAssembly ? 'DomainAssemblyList' : 'AssemblyList');
    const count = m.readU32(list + d.offset('ArrayListBase', 'Count'));
    if (count > MAX_ASSEMBLIES) throw new LimitExceededError(`AppDomain lists ${count} assemblies`);
    const out: ClrModule[] = [];
    let block = list + d.offset('ArrayListBase', 'FirstBlock');
    let remaining = count;
    let guard = 0;
    while (remaining > 0 && block !== 0) {
      if (++guard > MAX_ASSEMBLIES) throw new LimitExceededError('AppDomain assembly list does not end');
      const size = m.readU32(block + d.offset('ArrayListBlock', 'Size'));
      const start = block + d.offset('ArrayListBlock', 'ArrayStart');
      for (let i = 0; i < size && remaining > 0; i++, remaining--) {
        const domainAssembly = m.readPointer(start + i * 8);
        if (domainAssembly === 0) continue;
        const assembly = viaDomainAssembly ? m.readPointer(domainAssembly) : domainAssembly;
        if (assembly === 0) continue;
        const module = m.readPointer(assembly + d.offset('Assembly', 'Module'));
        if (module === 0) continue;
        const mod = this.read(module);
        if (mod.assembly !== assembly) throw new LayoutCheckError(`AppDomain assembly list entry 0x${domainAssembly.toString(16)} does not lead to a Module of its Assembly`);
        out.push(mod);
      }
      block = m.readPointer(block + d.offset('ArrayListBlock', 'Next'));
    }
    return out;
  }

  /** The entry for `token` in one of a Module's lookup maps (the MethodTable of a TypeDef, the Module of an
   * AssemblyRef...), 0 when the runtime has not filled it. @throws UnmappedAddressError / LimitExceededError. */
  lookupMapElement(module: number, map: ModuleLookupMapName, token: number): number {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const rid = token % 0x1000000;
    if (rid === 0) return 0;
    let table = module + d.offset('Module', map);
    const flagsMask = m.readPointer(table + d.offset('ModuleLookupMap', 'SupportedFlagsMask'));
    if (flagsMask > 0xff) throw new LayoutCheckError(`Module 0x${module.toString(16)}: ${map} has an implausible flags mask 0x${flagsMask.toString(16)}`);
    let index = rid;
    for (let links = 0; table !== 0; links++) {
      if (links > MAX_LOOKUP_MAP_LINKS) throw new LimitExceededError(`Module 0x${module.toString(16)}: ${map} does not end`);
      const count = m.readU32(table + d.offset('ModuleLookupMap', 'Count'));
      if (index < count) {
        const raw = m.readPointer(m.readPointer(table + d.offset('ModuleLookupMap', 'TableData')) + index * 8);
        // Flag bits are the low bits (the mask is 2^k - 1); clear them without 32-bit bitwise operators.
        return raw - (raw % (flagsMask + 1));
      }
      index -= count;
      table = m.readPointer(table + d.offset('ModuleLookupMap', 'Next'));
    }
    return 0;
  }

  /** The constructed types (generic instantiations, arrays) whose loader module is `module`: the type handles
   * in its `AvailableTypeParams` hash table. @throws UnmappedAddressError / LimitExceededError. */
  availableTypeParams(module: number): number[] {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const table = m.readPointer(module + d.offset('Module', 'AvailableTypeParams'));
    if (table === 0) return [];
    const buckets = m.readPointer(table + d.offset('EETypeHashTable', 'Buckets'));
    if (buckets === 0) return [];
    const length = m.readPointer(buckets);
    if (length > MAX_HASH_ENTRIES) throw new LimitExceededError(`Module 0x${module.toString(16)}: ${length} type hash buckets`);
    const valueOffset = d.offset('EETypeHashTable', 'VolatileEntryValue');
    const nextOffset = d.offset('EETypeHashTable', 'VolatileEntryNextEntry');
    const out: number[] = [];
    for (let i = 0; i < length; i++) {
      let entry = m.readPointer(buckets + (i + HASH_SKIP_SPECIAL_SLOTS) * 8);
      while (entry !== 0 && entry % 2 === 0) {
        if (out.length > MAX_HASH_ENTRIES) throw new LimitExceededError(`Module 0x${module.toString(16)}: the type hash does not end`);
        const value = m.readPointer(entry + valueOffset);
        out.push(value - (value % 2));
        entry = m.readPointer(entry + nextOffset);
      }
    }
    return out;
  }

  /** The type handles in `module`'s AvailableTypeParams chain for `hash` whose stored hash equals it (one bucket:
   * `hash % bucket count`, as DacEnumerableHashTable files them). @throws UnmappedAddressError / LimitExceededError. */
  typeParamsWithHash(module: number, hash: number): number[] {
    const t = this.typeParamTable(module);
    if (t === undefined) return [];
    const out: number[] = [];
    const m = this.rt.memory;
    let entry = m.readPointer(t.buckets + ((hash % t.length) + HASH_SKIP_SPECIAL_SLOTS) * 8);
    for (let n = 0; entry !== 0 && entry % 2 === 0; n++) {
      if (n > MAX_HASH_ENTRIES) throw new LimitExceededError(`Module 0x${module.toString(16)}: a type hash chain does not end`);
      if (m.readU32(entry + t.hashOffset) === hash) {
        const value = m.readPointer(entry + t.valueOffset);
        out.push(value - (value % 2));
      }
      entry = m.readPointer(entry + t.nextOffset);
    }
    return out;
  }

  /** Up to `limit` entries of `module`'s AvailableTypeParams table with the hash stored beside each, for checking the
   * hash layout. @throws UnmappedAddressError / LimitExceededError. */
  typeParamEntries(module: number, limit: number): { handle: number; hash: number }[] {
    const t = this.typeParamTable(module);
    const out: { handle: number; hash: number }[] = [];
    if (t === undefined) return out;
    const m = this.rt.memory;
    for (let i = 0; i < t.length && out.length < limit; i++) {
      let entry = m.readPointer(t.buckets + (i + HASH_SKIP_SPECIAL_SLOTS) * 8);
      for (let n = 0; entry !== 0 && entry % 2 === 0 && out.length < limit; n++) {
        if (n > MAX_HASH_ENTRIES) throw new LimitExceededError(`Module 0x${module.toString(16)}: a type hash chain does not end`);
        const value = m.readPointer(entry + t.valueOffset);
        out.push({ handle: value - (value % 2), hash: m.readU32(entry + t.hashOffset) });
        entry = m.readPointer(entry + t.nextOffset);
      }
    }
    return out;
  }

  private readonly typeParamTables = new Map<number, TypeParamTable | undefined>();

  private typeParamTable(module: number): TypeParamTable | undefined {
    if (this.typeParamTables.has(module)) return this.typeParamTables.get(module);
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    let t: TypeParamTable | undefined;
    const table = m.readPointer(module + d.offset('Module', 'AvailableTypeParams'));
    const buckets = table === 0 ? 0 : m.readPointer(table + d.offset('EETypeHashTable', 'Buckets'));
    if (buckets !== 0) {
      const length = m.readPointer(buckets);
      if (length > MAX_HASH_ENTRIES) throw new LimitExceededError(`Module 0x${module.toString(16)}: ${length} type hash buckets`);
      const valueOffset = d.offset('EETypeHashTable', 'VolatileEntryValue');
      const nextOffset = d.offset('EETypeHashTable', 'VolatileEntryNextEntry');
      // VolatileEntry { VALUE m_sValue; VolatileEntry* m_pNextEntry; DWORD m_iHashValue; }: the hash follows both.
      if (length > 0) t = { buckets, length, valueOffset, nextOffset, hashOffset: Math.max(valueOffset, nextOffset) + 8 };
    }
    this.typeParamTables.set(module, t);
    return t;
  }

  private decode(address: number): ClrModule {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const assembly = m.readPointer(address + d.offset('Module', 'Assembly'));
    const path = readUtf16(this.rt, m.readPointer(address + d.offset('Module', 'Path')));
    let imageBase = 0;
    let imageSize = 0;
    let isMappedLayout = false;
    const peAssembly = m.readPointer(address + d.offset('Module', 'PEAssembly'));
    if (peAssembly !== 0) {
      const peImage = m.readPointer(peAssembly + d.offset('PEAssembly', 'PEImage'));
      if (peImage !== 0) {
        const layout = m.readPointer(peImage + d.offset('PEImage', 'LoadedImageLayout'));
        if (layout !== 0) {
          imageBase = m.readPointer(layout + d.offset('PEImageLayout', 'Base'));
          imageSize = m.readU32(layout + d.offset('PEImageLayout', 'Size'));
          isMappedLayout = (m.readU32(layout + d.offset('PEImageLayout', 'Flags')) & PEIMAGE_LAYOUT_MAPPED) !== 0;
        }
      }
    }
    if (imageBase === 0) imageBase = m.readPointer(address + d.offset('Module', 'Base'));
    return { address, assembly, path, imageBase, imageSize, isMappedLayout };
  }
}

/** A NUL-terminated UTF-16 string of the target ('' for a null pointer or unreadable memory). */
export function readUtf16(rt: DotNetRuntime, address: number, maxChars = MAX_PATH_CHARS): string {
  if (address === 0) return '';
  const m = rt.memory;
  let bytes: Uint8Array;
  try {
    bytes = m.readUpTo(address, maxChars * 2);
  } catch (e) {
    if (e instanceof UnmappedAddressError) return '';
    throw e;
  }
  let end = 0;
  while (end + 1 < bytes.length && (bytes[end]! | bytes[end + 1]!) !== 0) end += 2;
  return Buffer.from(bytes.subarray(0, end)).toString('utf16le');
}
