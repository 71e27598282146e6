/**
 * What `dumpmodule`, `clrmodules -v` and `dumpdomain` show about a runtime Module beyond `ClrModule`: the
 * metadata's address, the CodeView (PDB) record and file version of its PE image, the tables behind its
 * token → structure maps, and the AppDomain's loader heaps.
 */
import { DumpFormatError, DumpsleuthError, LimitExceededError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import type { DotNetRuntime } from './dotnet-runtime';
import type { ClrModule, ModuleLookupMapName } from './loader';
import { PeImage } from './metadata';

/** A CodeView RSDS record: the PDB a module was built with. */
export interface PdbRecord {
  /** The GUID in .NET's "D" format (lower-case, dashes). */
  readonly guid: string;
  readonly age: number;
  readonly path: string;
}

/** Facts read from a module's PE image in the dump. */
export interface ModuleImageDetails {
  /** Address of the metadata root ("BSJB"), 0 when the image has none. */
  readonly metadataAddress: number;
  readonly metadataSize: number;
  /** The first CodeView record of the debug directory, when there is one. */
  readonly pdb: PdbRecord | undefined;
  /** `VS_FIXEDFILEINFO`'s file version ("10.0.1226.42308"), when the image has a version resource. */
  readonly fileVersion: string | undefined;
}

/** One filled entry of a Module lookup map. */
export interface LookupMapEntry {
  /** The token's row number. */
  readonly rid: number;
  /** The structure the map points at, flag bits cleared. */
  readonly value: number;
}

const IMAGE_DIRECTORY_ENTRY_RESOURCE = 2;
const IMAGE_DIRECTORY_ENTRY_DEBUG = 6;
const IMAGE_DEBUG_TYPE_CODEVIEW = 2;
const DEBUG_ENTRY_SIZE = 28;
const MAX_DEBUG_ENTRIES = 64;
const RSDS = 0x53445352;
const MAX_PDB_PATH = 1024;
const RT_VERSION = 16;
const VS_FIXEDFILEINFO_SIGNATURE = 0xfeef04bd;
const MAX_VERSION_RESOURCE = 0x10000;
const MAX_MAP_ENTRIES = 16_000_000;
const MAX_MAP_LINKS = 100_000;

/** Reads the metadata location, PDB record and file version of `module`'s PE image; parts that cannot be read are
 * left out (0 / undefined), never guessed. @throws DumpFormatError / UnmappedAddressError when the PE headers
 * themselves are unreadable. */
export function readModuleImageDetails(memory: MemoryReader, module: ClrModule): ModuleImageDetails {
  if (module.imageBase === 0) throw new DumpFormatError('the module has no loaded PE image (dynamic module)');
  const base = module.imageBase;
  const image = new PeImage({ read: (offset, length) => Uint8Array.from(memory.read(base + offset, length)) }, { isMapped: module.isMappedLayout });
  const cli = image.cliHeader;
  let metadataAddress = 0;
  let metadataSize = 0;
  if (cli && cli.metadata.rva !== 0) {
    metadataAddress = base + image.rvaToOffset(cli.metadata.rva, cli.metadata.size);
    metadataSize = cli.metadata.size;
  }
  return { metadataAddress, metadataSize, pdb: optional(() => readCodeView(image)), fileVersion: optional(() => readFileVersion(image)) };
}

/** The address of the first table block of one of a Module's lookup maps (what `dumpmodule` prints for it). */
export function lookupMapTable(rt: DotNetRuntime, module: number, map: ModuleLookupMapName): number {
  const d = rt.descriptor;
  return rt.memory.readPointer(module + d.offset('Module', map) + d.offset('ModuleLookupMap', 'TableData'));
}

/** Every non-null entry of one of a Module's lookup maps, by rid (LookupMap<T>::Iterator).
 * @throws UnmappedAddressError; LimitExceededError for a chain or count past the caps. */
export function enumerateLookupMap(rt: DotNetRuntime, module: number, map: ModuleLookupMapName): LookupMapEntry[] {
  const d = rt.descriptor;
  const m = rt.memory;
  let table = module + d.offset('Module', map);
  const flagsMask = m.readPointer(table + d.offset('ModuleLookupMap', 'SupportedFlagsMask'));
  const out: LookupMapEntry[] = [];
  let rid = 0;
  for (let links = 0; table !== 0; links++) {
    if (links > MAX_MAP_LINKS) throw new LimitExceededError(`Module 0x${module.toString(16)}: ${map} does not end`);
    const count = m.readU32(table + d.offset('ModuleLookupMap', 'Count'));
    if (rid + count > MAX_MAP_ENTRIES) throw new LimitExceededError(`Module 0x${module.toString(16)}: ${map} has more than ${MAX_MAP_ENTRIES} entries`);
    const data = m.readPointer(table + d.offset('ModuleLookupMap', 'TableData'));
    for (let i = 0; i < count; i++, rid++) {
      const raw = m.readPointer(data + i * 8);
      // The flag bits are the low bits (the mask is 2^k - 1); clear them without 32-bit bitwise operators.
      const value = raw - (raw % (flagsMask + 1));
      if (value !== 0) out.push({ rid, value });
    }
    table = m.readPointer(table + d.offset('ModuleLookupMap', 'Next'));
  }
  return out;
}

/** The loader heaps the DAC reports for the system domain and the AppDomain: on .NET 10 both use the system
 * domain's global LoaderAllocator. */
export function globalLoaderHeaps(rt: DotNetRuntime): { loaderAllocator: number; lowFrequencyHeap: number; highFrequencyHeap: number; stubHeap: number } {
  const d = rt.descriptor;
  const m = rt.memory;
  // SystemDomain::m_GlobalAllocator is embedded in the SystemDomain, not pointed at.
  const loaderAllocator = rt.readGlobalPointer('SystemDomain') + d.offset('SystemDomain', 'GlobalLoaderAllocator');
  return {
    loaderAllocator,
    lowFrequencyHeap: m.readPointer(loaderAllocator + d.offset('LoaderAllocator', 'LowFrequencyHeap')),
    highFrequencyHeap: m.readPointer(loaderAllocator + d.offset('LoaderAllocator', 'HighFrequencyHeap')),
    // .NET 11 has no LoaderAllocator stub heap any more; its DAC reports 0, as SOS prints.
    stubHeap: d.has('LoaderAllocator', 'StubHeap') ? m.readPointer(loaderAllocator + d.offset('LoaderAllocator', 'StubHeap')) : 0,
  };
}

function optional<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

function readCodeView(image: PeImage): PdbRecord | undefined {
  const dir = image.dataDirectories[IMAGE_DIRECTORY_ENTRY_DEBUG];
  if (!dir || dir.rva === 0 || dir.size < DEBUG_ENTRY_SIZE) return undefined;
  const count = Math.min(Math.floor(dir.size / DEBUG_ENTRY_SIZE), MAX_DEBUG_ENTRIES);
  const entries = view(image.readRva(dir.rva, count * DEBUG_ENTRY_SIZE));
  for (let i = 0; i < count; i++) {
    const o = i * DEBUG_ENTRY_SIZE;
    if (entries.getUint32(o + 12, true) !== IMAGE_DEBUG_TYPE_CODEVIEW) continue;
    const size = entries.getUint32(o + 16, true);
    const rva = entries.getUint32(o + 20, true);
    if (size < 24 || rva === 0) continue;
    const data = image.readRva(rva, Math.min(size, 24 + MAX_PDB_PATH));
    const v = view(data);
    if (v.getUint32(0, true) !== RSDS) continue;
    const g = data.subarray(4, 20);
    const hex = (from: number, to: number) => Array.from(g.subarray(from, to), (b) => b.toString(16).padStart(2, '0')).join('');
    const guid = [
      v.getUint32(4, true).toString(16).padStart(8, '0'),
      v.getUint16(8, true).toString(16).padStart(4, '0'),
      v.getUint16(10, true).toString(16).padStart(4, '0'),
      hex(8, 10),
      hex(10, 16),
    ].join('-');
    const pathBytes = data.subarray(24);
    const end = pathBytes.indexOf(0);
    const path = Buffer.from(pathBytes.subarray(0, end < 0 ? pathBytes.length : end)).toString('utf8');
    return { guid, age: v.getUint32(20, true), path };
  }
  return undefined;
}

/** The file version of the first RT_VERSION resource (resource directory → type → name → language → data). */
function readFileVersion(image: PeImage): string | undefined {
  const dir = image.dataDirectories[IMAGE_DIRECTORY_ENTRY_RESOURCE];
  if (!dir || dir.rva === 0) return undefined;
  const root = dir.rva;
  const findEntry = (tableRva: number, id: number | undefined): number | undefined => {
    const head = view(image.readRva(tableRva, 16));
    const n = head.getUint16(12, true) + head.getUint16(14, true);
    if (n === 0 || n > 4096) return undefined;
    const entries = view(image.readRva(tableRva + 16, n * 8));
    for (let i = 0; i < n; i++) {
      const name = entries.getUint32(i * 8, true);
      if (id === undefined || name === id) return entries.getUint32(i * 8 + 4, true);
    }
    return undefined;
  };
  // A directory entry's high bit says "this points at a subdirectory"; the rest is an offset from the root.
  const sub = (entry: number | undefined): number | undefined => (entry !== undefined && entry >= 0x80000000 ? root + (entry - 0x80000000) : undefined);
  const byName = sub(findEntry(root, RT_VERSION));
  const byLang = byName === undefined ? undefined : sub(findEntry(byName, undefined));
  const leaf = byLang === undefined ? undefined : findEntry(byLang, undefined);
  if (leaf === undefined || leaf >= 0x80000000) return undefined;
  const dataEntry = view(image.readRva(root + leaf, 8));
  const size = Math.min(dataEntry.getUint32(4, true), MAX_VERSION_RESOURCE);
  const data = image.readRva(dataEntry.getUint32(0, true), size);
  const v = view(data);
  // VS_VERSIONINFO: a header and the key "VS_VERSION_INFO", then VS_FIXEDFILEINFO on a 4-byte boundary.
  for (let o = 0; o + 16 <= data.length; o += 4) {
    if (v.getUint32(o, true) !== VS_FIXEDFILEINFO_SIGNATURE) continue;
    const ms = v.getUint32(o + 8, true);
    const ls = v.getUint32(o + 12, true);
    return `${Math.floor(ms / 0x10000)}.${ms % 0x10000}.${Math.floor(ls / 0x10000)}.${ls % 0x10000}`;
  }
  return undefined;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
