import { statDumpFile } from './dump-file-stat';
import { ByteReader } from '../binary/byte-reader';
import {
  ELFCLASS64, ELFDATA2LSB, ET_CORE, ET_DYN, ET_EXEC, ET_REL, NT_AUXV, NT_FILE, NT_PRPSINFO, NT_PRSTATUS, NT_SIGINFO,
  PN_XNUM, PT_LOAD, PT_NOTE,
} from '../binary/elf-constants';
import { decodeElfHeader, ELF64_HEADER_SIZE, hasElfMagic, type ElfHeader } from '../binary/elf-header';
import { decodeElfNotes, type ElfNote } from '../binary/elf-note';
import { decodeElfProgramHeader, ELF64_PROGRAM_HEADER_SIZE } from '../binary/elf-program-header';
import { decodeElfSectionHeader, ELF64_SECTION_HEADER_SIZE } from '../binary/elf-section-header';
import { DumpFormatError, DumpsleuthError, LimitExceededError } from '../errors';
import { architectureForMachine, type CoreArchitecture } from './core-architecture';
import {
  decodeAuxv, decodeFileNote, decodePrpsinfo, decodePrstatus,
  type AuxvEntry, type CoreProcessInfo, type CoreThread, type FileMapping,
} from './core-notes';
import { DEFAULT_DUMP_LIMITS, type DumpLimits } from './dump-limits';
import { FileWindowCache } from './file-window-cache';

/** One PT_LOAD of the core: memory whose bytes are in the file. */
export interface CoreSegment {
  /** First virtual address. */
  readonly vaddr: number;
  /** File offset of the byte at `vaddr`. */
  readonly fileOffset: number;
  /** Bytes of the segment present in the file (`p_filesz`, clipped to the end of a truncated file). */
  readonly size: number;
  /** `p_filesz` as written. */
  readonly filesz: number;
  /** `p_memsz` as written; bytes beyond `size` are not in the dump. */
  readonly memsz: number;
  /** `p_flags` (PF_R | PF_W | PF_X). */
  readonly flags: number;
}

const TYPE_NAMES: Record<number, string> = {
  [ET_REL]: 'an ELF relocatable object',
  [ET_EXEC]: 'an ELF executable',
  [ET_DYN]: 'an ELF shared object or PIE executable',
};

/**
 * A parsed 64-bit little-endian Linux ELF core file: its header, PT_LOAD segments and decoded notes, plus the open
 * file they are read from. `ElfCore.open` throws one clear `DumpsleuthError`/`DumpFormatError` for bad input.
 */
export class ElfCore {
  /** Non-fatal findings while parsing (truncated segments, unknown notes that failed to decode, ...). */
  readonly warnings: string[] = [];
  /** The CPU architecture from `e_machine`. */
  readonly architecture: CoreArchitecture;
  /** PT_LOAD segments with bytes in the file, sorted by address, overlaps removed. */
  readonly segments: CoreSegment[] = [];
  /** All notes of all PT_NOTE segments, in file order. */
  readonly notes: ElfNote[] = [];
  /** Threads in note order (the first is the crashing or main thread for kernel cores). */
  readonly threads: CoreThread[] = [];
  /** NT_PRPSINFO, when present. */
  readonly processInfo: CoreProcessInfo | undefined;
  /** NT_AUXV entries (empty when the note is absent). */
  readonly auxv: AuxvEntry[] = [];
  /** NT_FILE entries in note order (empty when absent). */
  readonly fileMappings: FileMapping[] = [];
  /** Page size stated by NT_FILE (4096 when absent). */
  readonly pageSize: number = 4096;
  /** True when a thread carries NT_SIGINFO (the dump was taken for a crash). */
  readonly hasSignalInfo: boolean = false;
  /** One line saying the file ends before its PT_LOAD segments do (also in `warnings`), else undefined. */
  readonly truncation: string | undefined;

  private constructor(
    /** The open file; `close()` releases it. */
    readonly file: FileWindowCache,
    /** The decoded ELF header. */
    readonly header: ElfHeader,
    limits: DumpLimits,
  ) {
    this.architecture = architectureForMachine(header.machine, file.path);
    const phnum = this.programHeaderCount(limits);
    if (header.phentsize !== ELF64_PROGRAM_HEADER_SIZE) {
      throw new DumpFormatError(`${file.path}: program header size is ${header.phentsize}, expected ${ELF64_PROGRAM_HEADER_SIZE}`);
    }
    const tableBytes = phnum * ELF64_PROGRAM_HEADER_SIZE;
    if (!file.contains(header.phoff, tableBytes)) {
      throw new DumpFormatError(`${file.path} is truncated: its ${phnum} program headers end beyond the end of the file (${file.size} bytes)`);
    }
    const table = new ByteReader(Uint8Array.prototype.slice.call(file.read(header.phoff, tableBytes)), `program header table of ${file.path}`);
    const loads: CoreSegment[] = [];
    let cut = 0;
    let missingBytes = 0;
    for (let i = 0; i < phnum; i++) {
      const ph = decodeElfProgramHeader(table, i * ELF64_PROGRAM_HEADER_SIZE);
      if (ph.type === PT_NOTE) {
        this.readNotes(ph.offset, ph.filesz, limits);
      } else if (ph.type === PT_LOAD && ph.filesz > 0 && ph.vaddr >= 0) {
        // vaddr -1: above 2^53 (the vsyscall page), not addressable with a `number` and never .NET memory.
        // createdump writes filesz == memsz; older writers and gcore write filesz 0 or < memsz for pages they
        // skipped. Bytes beyond filesz are not in the dump (not zeros), so the segment ends there.
        let size = Math.min(ph.filesz, ph.memsz || ph.filesz);
        if (ph.offset >= file.size) size = 0;
        else if (ph.offset + size > file.size) size = file.size - ph.offset;
        if (size < ph.filesz) {
          cut++;
          missingBytes += ph.filesz - size;
        }
        if (size > 0) {
          loads.push({ vaddr: ph.vaddr, fileOffset: ph.offset, size, filesz: ph.filesz, memsz: ph.memsz, flags: ph.flags });
        }
      }
    }
    if (cut > 0) {
      this.truncation = `${file.path} is truncated: ${cut} PT_LOAD segment(s) (${missingBytes} bytes) run past the end of the file; the missing bytes read as unmapped`;
      this.warnings.push(this.truncation);
    }
    this.segments = normalizeSegments(loads, this.warnings);
    let info: CoreProcessInfo | undefined;
    let pageSize = 4096;
    for (const note of this.notes) {
      // Kernel cores name these "CORE"; "LINUX" is used for extended register sets we do not read.
      if (note.name !== 'CORE') continue;
      switch (note.type) {
        case NT_PRSTATUS:
          if (this.threads.length >= limits.maxThreads) throw new LimitExceededError(`${file.path} has more than ${limits.maxThreads} threads`);
          this.threads.push(decodePrstatus(note.desc, this.architecture));
          break;
        case NT_PRPSINFO:
          info = decodePrpsinfo(note.desc);
          break;
        case NT_AUXV:
          this.auxv.push(...decodeAuxv(note.desc));
          break;
        case NT_FILE: {
          const decoded = decodeFileNote(note.desc, limits.maxFileMappings);
          pageSize = decoded.pageSize;
          this.fileMappings.push(...decoded.mappings);
          break;
        }
        case NT_SIGINFO:
          this.hasSignalInfo = true;
          break;
        default:
          break;
      }
    }
    this.processInfo = info;
    this.pageSize = pageSize;
  }

  /**
   * Opens and parses the core at `path`. Throws `DumpsleuthError` "no such file: ..." / "... is a directory", and
   * `DumpFormatError` for a file that is not a 64-bit little-endian ELF core of a supported architecture or whose
   * headers or notes are truncated; `LimitExceededError` when a count exceeds `limits`.
   */
  static open(path: string, limits: DumpLimits = DEFAULT_DUMP_LIMITS): ElfCore {
    const stat = statDumpFile(path, 'a core dump');
    if (!stat.isFile()) throw new DumpsleuthError(`${path} is not a regular file`);
    // One page per window: naming a compiler's 8,871 types reads MethodTables and EEClasses scattered over ~4,800
    // pages, and 8 KiB windows cached ~6 MiB more for no fewer reads. Forward runs still read 64 KiB at a time.
    const file = new FileWindowCache(path, { windowSize: 4 << 10, maxWindows: 16384, readAhead: 16 });
    try {
      const head = file.read(0, Math.min(file.size, ELF64_HEADER_SIZE));
      if (!hasElfMagic(head)) {
        throw new DumpFormatError(`not an ELF core dump: ${path}${file.size === 0 ? ' (empty file)' : ''}`);
      }
      if (head.length >= 6 && (head[4] !== ELFCLASS64 || head[5] !== ELFDATA2LSB)) {
        const cls = head[4] === 1 ? '32-bit' : head[4] === ELFCLASS64 ? '64-bit' : `class-${head[4]}`;
        const order = head[5] === 2 ? 'big-endian' : head[5] === ELFDATA2LSB ? 'little-endian' : `data-encoding-${head[5]}`;
        throw new DumpFormatError(`${path} is a ${cls} ${order} ELF file; dumpsleuth reads 64-bit little-endian cores only`);
      }
      if (head.length < ELF64_HEADER_SIZE) throw new DumpFormatError(`${path} is truncated inside its ELF header (${file.size} bytes)`);
      const header = decodeElfHeader(head, path);
      if (header.type !== ET_CORE) {
        const kind = TYPE_NAMES[header.type] ?? `an ELF file of type ${header.type}`;
        throw new DumpFormatError(`${path} is ${kind}, not a core dump`);
      }
      return new ElfCore(file, header, limits);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** Closes the file; the core's memory can no longer be read. */
  close(): void {
    this.file.close();
  }

  private programHeaderCount(limits: DumpLimits): number {
    const { header, file } = this;
    let phnum = header.phnum;
    if (phnum === PN_XNUM) {
      // ELF gABI: with ≥ 0xffff program headers the real count is in section header 0's sh_info.
      if (!file.contains(header.shoff, ELF64_SECTION_HEADER_SIZE)) {
        throw new DumpFormatError(`${file.path} is truncated: e_phnum is PN_XNUM but section header 0 is beyond the end of the file`);
      }
      const sh0 = decodeElfSectionHeader(new ByteReader(file.read(header.shoff, ELF64_SECTION_HEADER_SIZE), `section header 0 of ${file.path}`), 0);
      phnum = sh0.info;
    }
    if (phnum > limits.maxProgramHeaders) {
      throw new LimitExceededError(`${file.path} declares ${phnum} program headers (cap ${limits.maxProgramHeaders})`);
    }
    return phnum;
  }

  private readNotes(offset: number, size: number, limits: DumpLimits): void {
    const { file } = this;
    if (size > limits.maxNoteSegmentBytes) {
      throw new LimitExceededError(`${file.path}: PT_NOTE segment of ${size} bytes exceeds the cap of ${limits.maxNoteSegmentBytes}`);
    }
    if (!file.contains(offset, size)) {
      throw new DumpFormatError(`${file.path} is truncated: its notes (${size} bytes at offset ${offset}) end beyond the end of the file (${file.size} bytes)`);
    }
    // Copy: the notes keep views into these bytes for the life of the core, longer than a cache window lives.
    const bytes = Uint8Array.prototype.slice.call(file.read(offset, size));
    this.notes.push(...decodeElfNotes(bytes, `PT_NOTE of ${file.path}`, limits.maxNotes));
  }
}

/** Sorts segments by address and clips overlaps (earlier segment wins), noting any overlap in `warnings`. */
function normalizeSegments(loads: CoreSegment[], warnings: string[]): CoreSegment[] {
  loads.sort((a, b) => a.vaddr - b.vaddr);
  const out: CoreSegment[] = [];
  let overlaps = 0;
  for (const s of loads) {
    const prev = out[out.length - 1];
    const prevEnd = prev === undefined ? 0 : prev.vaddr + prev.size;
    if (prev !== undefined && s.vaddr < prevEnd) {
      overlaps++;
      const skip = prevEnd - s.vaddr;
      if (skip >= s.size) continue;
      out.push({ ...s, vaddr: s.vaddr + skip, fileOffset: s.fileOffset + skip, size: s.size - skip });
    } else {
      out.push(s);
    }
  }
  if (overlaps > 0) warnings.push(`${overlaps} PT_LOAD segment(s) overlap earlier ones; the earlier bytes are used`);
  return out;
}
