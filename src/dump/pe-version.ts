import { DumpsleuthError } from '../errors';
import type { MemoryReader } from './memory-reader';

/** RT_VERSION, the resource type of VS_VERSIONINFO. */
const RT_VERSION = 16;
/** Most bytes of a version resource read (they are a few KiB). */
const MAX_VERSION_RESOURCE = 64 << 10;

/**
 * The "ProductVersion" string of the VS_VERSIONINFO resource of the PE image loaded at `base` (for a managed
 * assembly, its AssemblyInformationalVersion, e.g. "10.0.12+95017c71..."), or undefined when the image, its resource
 * directory or that string is not in memory. Never throws for missing or malformed data: the version is a nicety.
 */
export function tryReadPeProductVersion(memory: MemoryReader, base: number): string | undefined {
  try {
    if (memory.readU16(base) !== 0x5a4d) return undefined;
    const optional = base + memory.readU32(base + 0x3c) + 24;
    if (memory.readU16(optional) !== 0x20b || memory.readU32(optional + 108) <= 2) return undefined;
    const rootRva = memory.readU32(optional + 112 + 2 * 8);
    if (rootRva === 0) return undefined;
    const root = base + rootRva;
    // Three levels (type, name, language): take RT_VERSION, then the first name and the first language.
    let entry = findEntry(memory, root, root, RT_VERSION);
    if (entry === undefined || !entry.isDirectory) return undefined;
    entry = findEntry(memory, root, entry.address, undefined);
    if (entry === undefined || !entry.isDirectory) return undefined;
    entry = findEntry(memory, root, entry.address, undefined);
    if (entry === undefined || entry.isDirectory) return undefined;
    const dataRva = memory.readU32(entry.address);
    const size = Math.min(memory.readU32(entry.address + 4), MAX_VERSION_RESOURCE);
    const text = Buffer.from(memory.read(base + dataRva, size)).toString('utf16le');
    // The String child is: key "ProductVersion", NUL, padding to 4 bytes (NUL characters), then the value.
    const at = text.indexOf('ProductVersion\0');
    if (at < 0) return undefined;
    const value = /^\0*([^\0]+)/.exec(text.slice(at + 'ProductVersion\0'.length))?.[1];
    return value === undefined || value.length > 200 ? undefined : value;
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** The entry of the IMAGE_RESOURCE_DIRECTORY at `dir` with id `id` (or its first entry when `id` is undefined). */
function findEntry(memory: MemoryReader, root: number, dir: number, id: number | undefined): { address: number; isDirectory: boolean } | undefined {
  const count = memory.readU16(dir + 12) + memory.readU16(dir + 14);
  for (let i = 0; i < Math.min(count, 4096); i++) {
    const name = memory.readU32(dir + 16 + 8 * i);
    const offset = memory.readU32(dir + 20 + 8 * i);
    if (id !== undefined && name !== id) continue;
    return { address: root + (offset & 0x7fffffff), isDirectory: (offset & 0x80000000) !== 0 };
  }
  return undefined;
}
