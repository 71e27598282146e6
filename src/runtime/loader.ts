/**
 * Loaded modules (Loader contract): each Module's path, image base and layout, and the assembly list of the AppDomain.
 */
import { LimitExceededError, UnmappedAddressError } from '../errors';
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

const MAX_PATH_CHARS = 4096;
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

  /** Every module of every assembly in the AppDomain's assembly list, in load order. */
  enumerate(): ClrModule[] {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const appDomain = this.rt.readGlobalPointer('AppDomain');
    const list = appDomain + d.offset('AppDomain', 'DomainAssemblyList');
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
        const assembly = m.readPointer(start + i * 8);
        if (assembly === 0) continue;
        const module = m.readPointer(assembly + d.offset('Assembly', 'Module'));
        if (module !== 0) out.push(this.read(module));
      }
      block = m.readPointer(block + d.offset('ArrayListBlock', 'Next'));
    }
    return out;
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
