import { DumpFormatError } from '../errors';
import type { ExportedSymbol } from './elf-symbols';
import type { MemoryReader } from './memory-reader';

/** Most exported names searched in one image (coreclr.dll exports a few hundred). */
const MAX_EXPORT_NAMES = 1_000_000;

/** The headers of a PE32+ image loaded in memory (mapped layout: sections at their RVAs). */
export interface PeMemoryImage {
  readonly base: number;
  /** COFF `TimeDateStamp`: with `sizeOfImage`, the symbol-server key of the image. */
  readonly timeDateStamp: number;
  readonly sizeOfImage: number;
  /** Data directory 0 (exports): RVA and size, 0 when absent. */
  readonly exportRva: number;
  readonly exportSize: number;
}

/**
 * Reads the PE32+ headers of the image loaded at `base`, or returns undefined when there is no MZ/PE signature
 * there. Throws `UnmappedAddressError` when the header page is not in memory, `DumpFormatError` for a PE32 (32-bit)
 * image or headers that point outside themselves.
 */
export function tryReadPeMemoryImage(memory: MemoryReader, base: number): PeMemoryImage | undefined {
  if (memory.readU16(base) !== 0x5a4d) return undefined;
  const lfanew = memory.readU32(base + 0x3c);
  if (lfanew > 0x10000) throw new DumpFormatError(`PE image at 0x${base.toString(16)}: e_lfanew ${lfanew} is implausible`);
  const pe = base + lfanew;
  if (memory.readU32(pe) !== 0x00004550) return undefined;
  const optional = pe + 24;
  const magic = memory.readU16(optional);
  if (magic !== 0x20b) throw new DumpFormatError(`PE image at 0x${base.toString(16)}: optional header magic 0x${magic.toString(16)} is not PE32+`);
  const directories = memory.readU32(optional + 108);
  return {
    base,
    timeDateStamp: memory.readU32(pe + 8),
    sizeOfImage: memory.readU32(optional + 56),
    exportRva: directories > 0 ? memory.readU32(optional + 112) : 0,
    exportSize: directories > 0 ? memory.readU32(optional + 116) : 0,
  };
}

/**
 * Finds the exported symbol `name` of the PE image loaded at `base` through its export directory (names are sorted,
 * so a binary search), or undefined when the image has no such export or no export directory. Forwarded exports
 * (an RVA inside the export directory) are not symbols of this image and come back undefined.
 * Throws `UnmappedAddressError` when the export tables are not in memory, `DumpFormatError` when they are malformed.
 */
export function findPeExport(memory: MemoryReader, base: number, name: string): ExportedSymbol | undefined {
  const image = tryReadPeMemoryImage(memory, base);
  if (image === undefined || image.exportRva === 0) return undefined;
  const dir = base + image.exportRva;
  const ordinalBase = memory.readU32(dir + 16);
  const functionCount = memory.readU32(dir + 20);
  const nameCount = memory.readU32(dir + 24);
  if (nameCount > MAX_EXPORT_NAMES || functionCount > MAX_EXPORT_NAMES) {
    throw new DumpFormatError(`PE image at 0x${base.toString(16)}: export directory declares ${nameCount} names, ${functionCount} functions`);
  }
  const functions = base + memory.readU32(dir + 28);
  const names = base + memory.readU32(dir + 32);
  const ordinals = base + memory.readU32(dir + 36);
  const wanted = Buffer.from(name, 'latin1');
  let lo = 0;
  let hi = nameCount - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareCString(memory, base + memory.readU32(names + mid * 4), wanted);
    if (c === 0) {
      const index = memory.readU16(ordinals + mid * 2);
      if (index >= functionCount) throw new DumpFormatError(`PE export ${name} has ordinal ${index + ordinalBase} beyond ${functionCount} functions`);
      const rva = memory.readU32(functions + index * 4);
      if (rva >= image.exportRva && rva < image.exportRva + image.exportSize) return undefined;
      return { address: base + rva, size: 0 };
    }
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Compares the NUL-terminated string at `address` with `wanted` (byte order, as the export table is sorted). */
function compareCString(memory: MemoryReader, address: number, wanted: Uint8Array): number {
  const bytes = memory.readUpTo(address, wanted.length + 1);
  for (let i = 0; i <= wanted.length; i++) {
    const a = i < bytes.length ? bytes[i]! : 0;
    const b = i < wanted.length ? wanted[i]! : 0;
    if (a !== b) return a - b;
    if (a === 0) return 0;
  }
  return 0;
}
