import * as fs from 'node:fs';
import { ByteReader } from '../binary/byte-reader';
import { ELF64_RELA_SIZE, PF_W, PT_GNU_RELRO, PT_LOAD, PT_NOTE, R_AARCH64_RELATIVE, R_X86_64_RELATIVE, SHT_DYNSYM, SHT_RELA } from '../binary/elf-constants';
import { decodeElfHeader, ELF64_HEADER_SIZE, hasElfMagic, type ElfHeader } from '../binary/elf-header';
import { decodeElfProgramHeader, ELF64_PROGRAM_HEADER_SIZE, type ElfProgramHeader } from '../binary/elf-program-header';
import { decodeElfSectionHeader, ELF64_SECTION_HEADER_SIZE, type ElfSectionHeader } from '../binary/elf-section-header';
import { decodeElfSymbol, ELF64_SYMBOL_SIZE } from '../binary/elf-symbol';
import { DumpFormatError } from '../errors';
import { findGnuBuildId, lowestLoadAddress } from './elf-memory-image';
import { FileWindowCache } from './file-window-cache';

/** A byte range of a file, [start, end). */
export interface FileRange {
  /** First offset. */
  readonly start: number;
  /** One past the last offset. */
  readonly end: number;
}

/** Most section headers we read from an image file. */
const MAX_SECTIONS = 65535;
/** Most bytes of one note segment or string table read from an image file. */
const MAX_TABLE_BYTES = 256 << 20;

/**
 * A 64-bit little-endian ELF file on disk (a shared library or executable) read through its own small window cache:
 * header, program headers, build id, the ranges the loader modifies, and `.dynsym` lookups.
 * `open` throws `DumpsleuthError` when the file cannot be opened and `DumpFormatError` when it is not such an ELF file.
 */
export class ElfImageFile {
  /** The decoded ELF header. */
  readonly header: ElfHeader;
  /** The program headers. */
  readonly programHeaders: readonly ElfProgramHeader[];

  private constructor(readonly file: FileWindowCache) {
    const head = file.read(0, Math.min(file.size, ELF64_HEADER_SIZE));
    if (!hasElfMagic(head)) throw new DumpFormatError(`${file.path} is not an ELF file`);
    this.header = decodeElfHeader(Uint8Array.prototype.slice.call(head), file.path);
    const { phoff, phnum, phentsize } = this.header;
    if (phnum > 0 && phentsize !== ELF64_PROGRAM_HEADER_SIZE) throw new DumpFormatError(`${file.path}: bad program header size ${phentsize}`);
    if (!file.contains(phoff, phnum * ELF64_PROGRAM_HEADER_SIZE)) throw new DumpFormatError(`${file.path} is truncated inside its program headers`);
    const r = new ByteReader(Uint8Array.prototype.slice.call(file.read(phoff, phnum * ELF64_PROGRAM_HEADER_SIZE)), `program headers of ${file.path}`);
    const phdrs: ElfProgramHeader[] = [];
    for (let i = 0; i < phnum; i++) phdrs.push(decodeElfProgramHeader(r, i * ELF64_PROGRAM_HEADER_SIZE));
    this.programHeaders = phdrs;
  }

  /** Opens `path`; throws `DumpsleuthError` (cannot open) or `DumpFormatError` (not a 64-bit LE ELF file). */
  static open(path: string): ElfImageFile {
    // Page-sized windows: what is read here is headers, notes and a few symbols or constants, and every image of
    // the dump is opened once to check its build id (64 KiB windows cost a single-object command ~1.5 MiB).
    const file = new FileWindowCache(path, { windowSize: 4 << 10, maxWindows: 32 });
    try {
      return new ElfImageFile(file);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** Path of the file. */
  get path(): string {
    return this.file.path;
  }

  /** The GNU build id from the file's PT_NOTE segments, or undefined. */
  get buildId(): string | undefined {
    for (const ph of this.programHeaders) {
      if (ph.type !== PT_NOTE || ph.filesz === 0 || ph.filesz > MAX_TABLE_BYTES || !this.file.contains(ph.offset, ph.filesz)) continue;
      const id = findGnuBuildId(Uint8Array.prototype.slice.call(this.file.read(ph.offset, ph.filesz)), `PT_NOTE of ${this.path}`);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /**
   * File ranges whose loaded bytes differ from the file once the loader has run: writable PT_LOAD segments and
   * PT_GNU_RELRO (relocated, then made read-only). Overlaying those from disk would show pre-relocation values.
   */
  runtimeModifiedRanges(): FileRange[] {
    const out: FileRange[] = [];
    for (const ph of this.programHeaders) {
      if ((ph.type === PT_LOAD && (ph.flags & PF_W) !== 0) || ph.type === PT_GNU_RELRO) {
        if (ph.filesz > 0) out.push({ start: ph.offset, end: ph.offset + ph.filesz });
      }
    }
    return out;
  }

  /**
   * Looks `name` up in the file's `.dynsym` (found through the section headers, linear scan) and returns its
   * `st_value` rebased so the module loaded at `moduleBase` has it at `address`; undefined when absent or undefined.
   * Throws `DumpFormatError` when the section headers or tables are truncated.
   */
  findDynamicSymbol(name: string, moduleBase: number, maxSymbols = 10_000_000): { address: number; size: number } | undefined {
    const sections = this.sectionHeaders();
    const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
    if (dynsym === undefined) return undefined;
    const strtab = sections[dynsym.link];
    if (strtab === undefined) throw new DumpFormatError(`${this.path}: .dynsym links to missing section ${dynsym.link}`);
    const strings = this.tableBytes(strtab, '.dynstr');
    const symbols = new ByteReader(this.tableBytes(dynsym, '.dynsym'), `.dynsym of ${this.path}`);
    const wanted = Buffer.from(name + '\0', 'utf8');
    const count = Math.min(Math.floor(symbols.length / ELF64_SYMBOL_SIZE), maxSymbols);
    const bias = moduleBase - lowestLoadAddress(this.programHeaders);
    for (let i = 1; i < count; i++) {
      const sym = decodeElfSymbol(symbols, i * ELF64_SYMBOL_SIZE);
      if (sym.shndx === 0 || sym.name + wanted.length > strings.length) continue;
      if (Buffer.compare(strings.subarray(sym.name, sym.name + wanted.length), wanted) === 0) {
        return { address: bias + sym.value, size: sym.size };
      }
    }
    return undefined;
  }

  /**
   * The bytes the loader put at link-time address `vaddr` (file bytes with RELATIVE relocations applied for a module
   * loaded at `moduleBase`). Only exact for data nothing writes after relocation (e.g. the runtime's contract
   * descriptor); throws `DumpFormatError` when the range is not file-backed or holds a relocation that needs a symbol.
   */
  readRelocated(vaddr: number, length: number, moduleBase: number): Uint8Array {
    const out = this.readFileBacked(vaddr, length);
    this.applyRelocations(out, vaddr, moduleBase);
    return out;
  }

  /** The file's bytes at link-time address `vaddr`, no relocation applied: only for text that no relocation touches
   * (a version string); throws `DumpFormatError` when the range is not file-backed. */
  readFileBacked(vaddr: number, length: number): Uint8Array {
    const ph = this.programHeaders.find((p) => p.type === PT_LOAD && vaddr >= p.vaddr && vaddr + length <= p.vaddr + p.filesz);
    if (!ph) throw new DumpFormatError(`${this.path}: 0x${vaddr.toString(16)}+${length} is not file-backed`);
    return Uint8Array.prototype.slice.call(this.file.read(ph.offset + (vaddr - ph.vaddr), length));
  }

  private applyRelocations(out: Uint8Array, vaddr: number, moduleBase: number): void {
    const length = out.length;
    const bias = moduleBase - lowestLoadAddress(this.programHeaders);
    const relative = this.header.machine === 183 ? R_AARCH64_RELATIVE : R_X86_64_RELATIVE;
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    // The tables are read a window at a time, not copied whole (libcoreclr's .rela.dyn is ~450 KB).
    const step = this.file.windowSize - (this.file.windowSize % ELF64_RELA_SIZE);
    for (const table of this.relocationTables()) {
      for (let chunkAt = 0; chunkAt < table.size; chunkAt += step) {
        const chunk = this.file.read(table.offset + chunkAt, Math.min(step, table.size - chunkAt));
        const r = new ByteReader(chunk, `.rela.dyn of ${this.path}`);
        for (let at = 0; at + ELF64_RELA_SIZE <= chunk.length; at += ELF64_RELA_SIZE) {
          const offset = r.u64(at);
          if (offset + 8 <= vaddr || offset >= vaddr + length) continue;
          const type = r.u32(at + 8);
          if (type !== relative || offset < vaddr || offset + 8 > vaddr + length) {
            throw new DumpFormatError(`${this.path}: relocation of type ${type} at 0x${offset.toString(16)} cannot be applied without symbols`);
          }
          const value = bias + r.u64(at + 16);
          dv.setUint32(offset - vaddr, value % 4294967296, true);
          dv.setUint32(offset - vaddr + 4, Math.floor(value / 4294967296), true);
        }
      }
    }
  }

  private relocationTablesValue: { offset: number; size: number }[] | undefined;

  /** The file ranges of the SHT_RELA sections, each a whole number of entries and inside the file. */
  private relocationTables(): { offset: number; size: number }[] {
    return (this.relocationTablesValue ??= this.sectionHeaders()
      .filter((s) => s.type === SHT_RELA)
      .map((s) => {
        if (s.size > MAX_TABLE_BYTES || !this.file.contains(s.offset, s.size)) {
          throw new DumpFormatError(`${this.path}: relocation table (${s.size} bytes at ${s.offset}) is beyond the end of the file`);
        }
        const size = s.size - (s.size % ELF64_RELA_SIZE);
        return { offset: s.offset, size };
      }));
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }

  private sectionHeaders(): ElfSectionHeader[] {
    const { shoff, shnum, shentsize } = this.header;
    if (shnum === 0) return [];
    if (shentsize !== ELF64_SECTION_HEADER_SIZE || shnum > MAX_SECTIONS) throw new DumpFormatError(`${this.path}: bad section header table`);
    if (!this.file.contains(shoff, shnum * ELF64_SECTION_HEADER_SIZE)) throw new DumpFormatError(`${this.path} is truncated inside its section headers`);
    const r = new ByteReader(Uint8Array.prototype.slice.call(this.file.read(shoff, shnum * ELF64_SECTION_HEADER_SIZE)), `section headers of ${this.path}`);
    return Array.from({ length: shnum }, (_, i) => decodeElfSectionHeader(r, i * ELF64_SECTION_HEADER_SIZE));
  }

  private tableBytes(section: ElfSectionHeader, what: string): Uint8Array {
    if (section.size > MAX_TABLE_BYTES || !this.file.contains(section.offset, section.size)) {
      throw new DumpFormatError(`${this.path}: ${what} (${section.size} bytes at ${section.offset}) is beyond the end of the file`);
    }
    return Uint8Array.prototype.slice.call(this.file.read(section.offset, section.size));
  }
}

/** True when the file at `path` starts with the ELF magic (false when unreadable). */
export function isElfFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && hasElfMagic(head);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
