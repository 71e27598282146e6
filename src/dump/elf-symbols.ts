import { ByteReader } from '../binary/byte-reader';
import {
  DT_GNU_HASH, DT_HASH, DT_NULL, DT_STRSZ, DT_STRTAB, DT_SYMENT, DT_SYMTAB, PT_DYNAMIC,
} from '../binary/elf-constants';
import { decodeElfDynamicEntry, ELF64_DYNAMIC_ENTRY_SIZE } from '../binary/elf-dynamic';
import { decodeElfSymbol, ELF64_SYMBOL_SIZE } from '../binary/elf-symbol';
import { DumpFormatError, UnmappedAddressError } from '../errors';
import { DEFAULT_DUMP_LIMITS } from './dump-limits';
import { ElfImageFile } from './elf-image-file';
import { tryReadElfMemoryImage, type ElfMemoryImage } from './elf-memory-image';
import type { MemoryReader } from './memory-reader';

/** An exported symbol's absolute address in the target process and its size. */
export interface ExportedSymbol {
  /** Load bias + `st_value`. */
  readonly address: number;
  /** `st_size`. */
  readonly size: number;
}

interface DynamicTables {
  readonly image: ElfMemoryImage;
  readonly symtab: number;
  readonly strtab: number;
  readonly strsz: number;
  readonly syment: number;
  readonly gnuHash: number | undefined;
  readonly hash: number | undefined;
}

/**
 * Finds the exported (dynamic) symbol `name` of the ELF module loaded at `moduleBase` from memory alone, through
 * PT_DYNAMIC and DT_GNU_HASH (or DT_HASH); returns undefined when the module has no such defined symbol or its
 * ELF header is not in memory. Throws `UnmappedAddressError` when the hash table, symbol or string pages are missing
 * from memory (use `findExportedSymbolInFile` then) and `DumpFormatError` when the tables are malformed.
 */
export function findExportedSymbol(memory: MemoryReader, moduleBase: number, name: string): ExportedSymbol | undefined {
  const tables = readDynamicTables(memory, moduleBase);
  if (tables === undefined) return undefined;
  const wanted = Buffer.from(name, 'utf8');
  if (tables.gnuHash !== undefined) return lookupGnuHash(memory, tables, wanted);
  if (tables.hash !== undefined) return lookupSysvHash(memory, tables, wanted);
  throw new DumpFormatError(`ELF image at 0x${moduleBase.toString(16)} has neither DT_GNU_HASH nor DT_HASH`);
}

/**
 * Finds `name` in the `.dynsym` of the ELF file at `filePath` (for when memory lacks the symbol pages) and returns
 * its address for a module loaded at `moduleBase`, or undefined when absent. Throws `DumpsleuthError` when the file
 * cannot be opened and `DumpFormatError` when it is not a readable 64-bit ELF file.
 */
export function findExportedSymbolInFile(filePath: string, moduleBase: number, name: string): ExportedSymbol | undefined {
  const file = ElfImageFile.open(filePath);
  try {
    return file.findDynamicSymbol(name, moduleBase, DEFAULT_DUMP_LIMITS.maxSymbols);
  } finally {
    file.close();
  }
}

function readDynamicTables(memory: MemoryReader, base: number): DynamicTables | undefined {
  const image = tryReadElfMemoryImage(memory, base);
  if (image === undefined) return undefined;
  const dynamic = image.programHeaders.find((ph) => ph.type === PT_DYNAMIC);
  if (dynamic === undefined) return undefined;
  const what = `PT_DYNAMIC of the ELF image at 0x${base.toString(16)}`;
  const count = Math.min(Math.floor(dynamic.memsz / ELF64_DYNAMIC_ENTRY_SIZE), DEFAULT_DUMP_LIMITS.maxDynamicEntries);
  const bytes = memory.readUpTo(image.loadBias + dynamic.vaddr, count * ELF64_DYNAMIC_ENTRY_SIZE);
  if (bytes.length < ELF64_DYNAMIC_ENTRY_SIZE) throw new UnmappedAddressError(image.loadBias + dynamic.vaddr, count * ELF64_DYNAMIC_ENTRY_SIZE, what);
  const r = new ByteReader(Uint8Array.prototype.slice.call(bytes), what);
  const values = new Map<number, number>();
  for (let off = 0; off + ELF64_DYNAMIC_ENTRY_SIZE <= r.length; off += ELF64_DYNAMIC_ENTRY_SIZE) {
    const entry = decodeElfDynamicEntry(r, off);
    if (entry.tag === DT_NULL) break;
    if (!values.has(entry.tag)) values.set(entry.tag, entry.value);
  }
  // glibc's ld.so relocates the d_ptr entries in place (absolute addresses); on disk, and with musl or the vDSO,
  // they are relative to the image. An address below the image base cannot be inside it, so it is relative.
  const addr = (tag: number): number | undefined => {
    const v = values.get(tag);
    if (v === undefined || v < 0) return undefined;
    return v < base ? image.loadBias + v : v;
  };
  const symtab = addr(DT_SYMTAB);
  const strtab = addr(DT_STRTAB);
  const strsz = values.get(DT_STRSZ);
  if (symtab === undefined || strtab === undefined || strsz === undefined || strsz < 0) {
    throw new DumpFormatError(`${what} lacks DT_SYMTAB, DT_STRTAB or DT_STRSZ`);
  }
  const syment = values.get(DT_SYMENT) ?? ELF64_SYMBOL_SIZE;
  if (syment !== ELF64_SYMBOL_SIZE) throw new DumpFormatError(`${what}: DT_SYMENT is ${syment}, expected ${ELF64_SYMBOL_SIZE}`);
  return { image, symtab, strtab, strsz, syment, gnuHash: addr(DT_GNU_HASH), hash: addr(DT_HASH) };
}

/** The GNU hash of a symbol name (dl_new_hash: h = h * 33 + c, from 5381, modulo 2^32). */
export function gnuHash(name: Uint8Array): number {
  let h = 5381;
  for (const c of name) h = (Math.imul(h, 33) + c) >>> 0;
  return h;
}

/** The SysV ELF hash of a symbol name (gABI ch. 5, "Hash Table"). */
export function sysvHash(name: Uint8Array): number {
  let h = 0;
  for (const c of name) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

function symbolMatches(memory: MemoryReader, t: DynamicTables, index: number, wanted: Uint8Array): ExportedSymbol | undefined {
  const address = t.symtab + index * ELF64_SYMBOL_SIZE;
  const bytes = memory.read(address, ELF64_SYMBOL_SIZE);
  // The name first: a damaged value or size of another symbol on the same hash chain must not fail this lookup.
  const name = new ByteReader(bytes, `symbol ${index}`).u32(0);
  if (name + wanted.length + 1 > t.strsz) return undefined;
  const nameBytes = memory.read(t.strtab + name, wanted.length + 1);
  if (nameBytes[wanted.length] !== 0) return undefined;
  for (let i = 0; i < wanted.length; i++) if (nameBytes[i] !== wanted[i]) return undefined;
  const sym = decodeElfSymbol(new ByteReader(bytes, `symbol ${index}`), 0);
  if (sym.shndx === 0) return undefined;
  return { address: t.image.loadBias + sym.value, size: sym.size };
}

function lookupGnuHash(memory: MemoryReader, t: DynamicTables, wanted: Uint8Array): ExportedSymbol | undefined {
  const at = t.gnuHash!;
  const nbuckets = memory.readU32(at);
  const symoffset = memory.readU32(at + 4);
  const bloomSize = memory.readU32(at + 8);
  if (nbuckets === 0) return undefined;
  if (nbuckets > DEFAULT_DUMP_LIMITS.maxSymbols || bloomSize > DEFAULT_DUMP_LIMITS.maxSymbols) {
    throw new DumpFormatError(`DT_GNU_HASH at 0x${at.toString(16)} is implausible (${nbuckets} buckets, bloom ${bloomSize})`);
  }
  const h = gnuHash(wanted);
  const buckets = at + 16 + bloomSize * 8;
  const chains = buckets + nbuckets * 4;
  let index = memory.readU32(buckets + (h % nbuckets) * 4);
  if (index === 0 || index < symoffset) return undefined;
  for (let steps = 0; steps < DEFAULT_DUMP_LIMITS.maxSymbols; steps++, index++) {
    const chainHash = memory.readU32(chains + (index - symoffset) * 4);
    // The low bit marks the end of the chain; the other 31 bits are the symbol's hash.
    if (((chainHash | 1) >>> 0) === ((h | 1) >>> 0)) {
      const found = symbolMatches(memory, t, index, wanted);
      if (found !== undefined) return found;
    }
    if ((chainHash & 1) !== 0) return undefined;
  }
  throw new DumpFormatError(`DT_GNU_HASH chain at 0x${at.toString(16)} does not end`);
}

function lookupSysvHash(memory: MemoryReader, t: DynamicTables, wanted: Uint8Array): ExportedSymbol | undefined {
  const at = t.hash!;
  const nbucket = memory.readU32(at);
  const nchain = memory.readU32(at + 4);
  if (nbucket === 0) return undefined;
  let index = memory.readU32(at + 8 + (sysvHash(wanted) % nbucket) * 4);
  const chains = at + 8 + nbucket * 4;
  for (let steps = 0; index !== 0 && steps < Math.min(nchain, DEFAULT_DUMP_LIMITS.maxSymbols); steps++) {
    if (index >= nchain) throw new DumpFormatError(`DT_HASH chain at 0x${at.toString(16)} points past its ${nchain} symbols`);
    const found = symbolMatches(memory, t, index, wanted);
    if (found !== undefined) return found;
    index = memory.readU32(chains + index * 4);
  }
  return undefined;
}
