import { statDumpFile } from './dump-file-stat';
import { ByteReader } from '../binary/byte-reader';
import {
  AMD64_CONTEXT_SIZE, decodeAmd64Context, decodeMinidumpDirectory, decodeMinidumpException, decodeMinidumpHeader,
  decodeMinidumpMemoryDescriptor, decodeMinidumpMiscInfo, decodeMinidumpModule, decodeMinidumpString,
  decodeMinidumpSystemInfo, decodeMinidumpThread, MINIDUMP_DIRECTORY_SIZE, MINIDUMP_HEADER_SIZE,
  MINIDUMP_MEMORY_DESCRIPTOR64_SIZE, MINIDUMP_MEMORY_DESCRIPTOR_SIZE, MINIDUMP_MODULE_SIZE, MINIDUMP_SIGNATURE,
  MINIDUMP_THREAD_SIZE, MINIDUMP_VERSION, MinidumpStreamType, PROCESSOR_ARCHITECTURE_AMD64, PROCESSOR_ARCHITECTURE_ARM64,
  type MinidumpDirectory, type MinidumpException, type MinidumpMemoryRange, type MinidumpMiscInfo, type MinidumpModule,
  type MinidumpSystemInfo, type MinidumpThread,
} from '../binary/minidump-structs';
import { DumpFormatError, DumpsleuthError, LimitExceededError } from '../errors';
import type { CoreThread } from './core-notes';
import { DEFAULT_DUMP_LIMITS, type DumpLimits } from './dump-limits';
import { FileWindowCache } from './file-window-cache';

/** Most streams in a minidump's directory (writers use a few dozen). */
const MAX_STREAMS = 4096;

/** One thread of a minidump with its registers and where its stack is. */
export interface MinidumpThreadRecord extends CoreThread {
  /** Address of the thread environment block (its NT_TIB holds the stack bounds). */
  readonly teb: number;
}

/** One loaded image of a minidump's ModuleListStream. */
export interface MinidumpModuleRecord extends MinidumpModule {
  /** The image's path as the writer saw it (Windows form, `\` separators). */
  readonly name: string;
}

/**
 * A parsed Windows minidump (MDMP): its stream directory, memory ranges (Memory64List and MemoryList), threads with
 * their AMD64 CONTEXT, modules, SystemInfo, MiscInfo and the exception stream. `Minidump.open` throws one clear
 * `DumpsleuthError`/`DumpFormatError` for bad input; a file cut short keeps what it holds, with `truncation` set.
 */
export class Minidump {
  /** Non-fatal findings while parsing. */
  readonly warnings: string[] = [];
  /** The stream directory in file order. */
  readonly streams: readonly MinidumpDirectory[];
  /** Memory ranges with bytes in the file, sorted by address, overlaps removed. */
  readonly memory: MinidumpMemoryRange[] = [];
  /** Threads in stream order. */
  readonly threads: MinidumpThreadRecord[] = [];
  /** Modules in stream order. */
  readonly modules: MinidumpModuleRecord[] = [];
  /** SystemInfoStream, when present. */
  readonly systemInfo: MinidumpSystemInfo | undefined;
  /** MiscInfoStream, when present. */
  readonly miscInfo: MinidumpMiscInfo | undefined;
  /** ExceptionStream, when present. */
  readonly exception: MinidumpException | undefined;
  /** Seconds since 1970 when the dump was written. */
  readonly timeDateStamp: number;
  /** One line saying the file ends before its memory does (also in `warnings`), else undefined. */
  readonly truncation: string | undefined;

  private constructor(
    /** The open file; `close()` releases it. */
    readonly file: FileWindowCache,
    limits: DumpLimits,
  ) {
    const path = file.path;
    const header = decodeMinidumpHeader(new ByteReader(file.read(0, MINIDUMP_HEADER_SIZE), `minidump header of ${path}`));
    if ((header.version & 0xffff) !== MINIDUMP_VERSION) {
      throw new DumpFormatError(`${path}: minidump version 0x${(header.version & 0xffff).toString(16)} is not 0x${MINIDUMP_VERSION.toString(16)}`);
    }
    if (header.numberOfStreams > MAX_STREAMS) throw new LimitExceededError(`${path} declares ${header.numberOfStreams} streams (cap ${MAX_STREAMS})`);
    const dirBytes = header.numberOfStreams * MINIDUMP_DIRECTORY_SIZE;
    if (!file.contains(header.streamDirectoryRva, dirBytes)) {
      throw new DumpFormatError(`${path} is truncated: its stream directory (${header.numberOfStreams} streams at offset ${header.streamDirectoryRva}) ends beyond the end of the file (${file.size} bytes)`);
    }
    const dir = new ByteReader(Uint8Array.prototype.slice.call(file.read(header.streamDirectoryRva, dirBytes)), `stream directory of ${path}`);
    this.streams = Array.from({ length: header.numberOfStreams }, (_, i) => decodeMinidumpDirectory(dir, i * MINIDUMP_DIRECTORY_SIZE));
    this.timeDateStamp = header.timeDateStamp;

    const sys = this.stream(MinidumpStreamType.SystemInfo);
    this.systemInfo = sys === undefined ? undefined : decodeMinidumpSystemInfo(sys, 0);
    if (this.systemInfo !== undefined && this.systemInfo.processorArchitecture !== PROCESSOR_ARCHITECTURE_AMD64) {
      const name = this.systemInfo.processorArchitecture === PROCESSOR_ARCHITECTURE_ARM64 ? 'arm64' : `processor architecture ${this.systemInfo.processorArchitecture}`;
      throw new DumpFormatError(`${path} is a Windows ${name} minidump; dumpsleuth reads x64 minidumps only`);
    }
    const misc = this.stream(MinidumpStreamType.MiscInfo);
    this.miscInfo = misc === undefined ? undefined : decodeMinidumpMiscInfo(misc, 0);
    const exc = this.stream(MinidumpStreamType.Exception);
    this.exception = exc === undefined ? undefined : decodeMinidumpException(exc, 0);

    let missingBytes = 0;
    let cutRanges = 0;
    const ranges: MinidumpMemoryRange[] = [];
    const addRange = (range: MinidumpMemoryRange): void => {
      let size = range.size;
      if (range.fileOffset >= file.size) size = 0;
      else if (range.fileOffset + size > file.size) size = file.size - range.fileOffset;
      if (size < range.size) {
        cutRanges++;
        missingBytes += range.size - size;
      }
      if (size > 0) ranges.push({ start: range.start, size, fileOffset: range.fileOffset });
    };
    const m64 = this.streamLocation(MinidumpStreamType.Memory64List);
    if (m64 !== undefined) {
      const head = this.readStreamBytes(m64.rva, Math.min(m64.dataSize, 16), 'Memory64ListStream');
      const count = head.u64(0);
      let fileOffset = head.u64(8);
      if (count > limits.maxProgramHeaders) throw new LimitExceededError(`${path}: Memory64ListStream declares ${count} ranges (cap ${limits.maxProgramHeaders})`);
      if (16 + count * MINIDUMP_MEMORY_DESCRIPTOR64_SIZE > m64.dataSize) {
        throw new DumpFormatError(`${path}: Memory64ListStream declares ${count} ranges but its ${m64.dataSize} bytes hold ${Math.max(0, Math.floor((m64.dataSize - 16) / 16))}`);
      }
      const list = this.readStreamBytes(m64.rva + 16, count * MINIDUMP_MEMORY_DESCRIPTOR64_SIZE, 'Memory64ListStream');
      for (let i = 0; i < count; i++) {
        const start = list.u64(i * 16);
        const size = list.u64(i * 16 + 8);
        addRange({ start, size, fileOffset });
        fileOffset += size;
      }
    }
    const m32 = this.stream(MinidumpStreamType.MemoryList);
    if (m32 !== undefined) {
      const count = m32.u32(0);
      if (count > limits.maxProgramHeaders) throw new LimitExceededError(`${path}: MemoryListStream declares ${count} ranges (cap ${limits.maxProgramHeaders})`);
      m32.check(4, count * MINIDUMP_MEMORY_DESCRIPTOR_SIZE);
      for (let i = 0; i < count; i++) addRange(decodeMinidumpMemoryDescriptor(m32, 4 + i * MINIDUMP_MEMORY_DESCRIPTOR_SIZE));
    }
    this.memory = normalizeRanges(ranges, this.warnings);
    if (cutRanges > 0) {
      this.truncation = `${path} is truncated: ${cutRanges} memory range(s) (${missingBytes} bytes) run past the end of the file; the missing bytes read as unmapped`;
      this.warnings.push(this.truncation);
    }

    const threads = this.stream(MinidumpStreamType.ThreadList);
    if (threads !== undefined) {
      const count = threads.u32(0);
      if (count > limits.maxThreads) throw new LimitExceededError(`${path} has more than ${limits.maxThreads} threads`);
      threads.check(4, count * MINIDUMP_THREAD_SIZE);
      for (let i = 0; i < count; i++) {
        const t = decodeMinidumpThread(threads, 4 + i * MINIDUMP_THREAD_SIZE);
        const record = this.threadRecord(t);
        if (record !== undefined) this.threads.push(record);
      }
    }

    const modules = this.stream(MinidumpStreamType.ModuleList);
    if (modules !== undefined) {
      const count = modules.u32(0);
      if (count > limits.maxFileMappings) throw new LimitExceededError(`${path}: ModuleListStream declares ${count} modules (cap ${limits.maxFileMappings})`);
      modules.check(4, count * MINIDUMP_MODULE_SIZE);
      for (let i = 0; i < count; i++) {
        const m = decodeMinidumpModule(modules, 4 + i * MINIDUMP_MODULE_SIZE);
        let name = '';
        try {
          const len = new ByteReader(this.file.read(m.moduleNameRva, 4), 'module name').u32(0);
          name = decodeMinidumpString(this.readStreamBytes(m.moduleNameRva, 4 + Math.min(len, 64 << 10), 'module name'), 0);
        } catch (e) {
          if (!(e instanceof DumpsleuthError)) throw e;
          this.warnings.push(`module at 0x${m.baseOfImage.toString(16)}: its name is unreadable (${e.message})`);
        }
        this.modules.push({ ...m, name });
      }
    }
  }

  /**
   * Opens and parses the minidump at `path`. Throws `DumpsleuthError` for a missing file or a directory,
   * `DumpFormatError` for a file that is not an x64 minidump or whose header or directory is cut off,
   * `LimitExceededError` for hostile counts.
   */
  static open(path: string, limits: DumpLimits = DEFAULT_DUMP_LIMITS): Minidump {
    statDumpFile(path, 'a dump');
    const file = new FileWindowCache(path);
    try {
      if (file.size < MINIDUMP_HEADER_SIZE) throw new DumpFormatError(`${path} is truncated inside its minidump header (${file.size} bytes)`);
      if (new ByteReader(file.read(0, 4)).u32(0) !== MINIDUMP_SIGNATURE) throw new DumpFormatError(`not a minidump: ${path}`);
      return new Minidump(file, limits);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** True when `bytes` start with the 'MDMP' signature. */
  static hasMagic(bytes: Uint8Array): boolean {
    return bytes.length >= 4 && bytes[0] === 0x4d && bytes[1] === 0x44 && bytes[2] === 0x4d && bytes[3] === 0x50;
  }

  /** Closes the file. */
  close(): void {
    this.file.close();
  }

  /** The location of the first stream of `type`, or undefined. */
  streamLocation(type: number): { rva: number; dataSize: number } | undefined {
    return this.streams.find((s) => s.streamType === type)?.location;
  }

  /** The bytes of the first stream of `type` (copied), or undefined when absent; throws when it runs past the file. */
  private stream(type: number): ByteReader | undefined {
    const loc = this.streamLocation(type);
    if (loc === undefined) return undefined;
    const name = Object.entries(MinidumpStreamType).find(([, v]) => v === type)?.[0] ?? `stream ${type}`;
    return this.readStreamBytes(loc.rva, loc.dataSize, `${name}Stream`);
  }

  private readStreamBytes(rva: number, size: number, what: string): ByteReader {
    if (size > 256 << 20) throw new LimitExceededError(`${this.file.path}: ${what} of ${size} bytes exceeds the cap of 256 MiB`);
    if (!this.file.contains(rva, size)) {
      throw new DumpFormatError(`${this.file.path} is truncated: its ${what} (${size} bytes at offset ${rva}) ends beyond the end of the file (${this.file.size} bytes)`);
    }
    return new ByteReader(Uint8Array.prototype.slice.call(this.file.read(rva, size)), `${what} of ${this.file.path}`);
  }

  private threadRecord(t: MinidumpThread): MinidumpThreadRecord | undefined {
    try {
      if (t.context.dataSize < 0x100) throw new DumpFormatError(`CONTEXT of ${t.context.dataSize} bytes`);
      const ctx = this.readStreamBytes(t.context.rva, Math.min(t.context.dataSize, AMD64_CONTEXT_SIZE), `CONTEXT of thread 0x${t.threadId.toString(16)}`);
      const registers = decodeAmd64Context(ctx, 0);
      const asNumber = (v: bigint | undefined): number | undefined => (v !== undefined && v < 2n ** 53n ? Number(v) : undefined);
      return {
        tid: t.threadId, signal: 0, registers, teb: t.teb,
        instructionPointer: asNumber(registers['rip']) ?? 0,
        stackPointer: asNumber(registers['rsp']) ?? 0,
        framePointer: asNumber(registers['rbp']),
      };
    } catch (e) {
      if (!(e instanceof DumpFormatError)) throw e;
      this.warnings.push(`thread 0x${t.threadId.toString(16)}: registers unreadable (${e.message}); thread skipped`);
      return undefined;
    }
  }
}

/** Sorts ranges by address and clips overlaps (earlier range wins), noting any overlap in `warnings`. */
function normalizeRanges(ranges: MinidumpMemoryRange[], warnings: string[]): MinidumpMemoryRange[] {
  ranges.sort((a, b) => a.start - b.start);
  const out: MinidumpMemoryRange[] = [];
  let overlaps = 0;
  for (const r of ranges) {
    const prev = out[out.length - 1];
    const prevEnd = prev === undefined ? 0 : prev.start + prev.size;
    if (prev !== undefined && r.start < prevEnd) {
      const skip = prevEnd - r.start;
      if (skip >= r.size) continue;
      overlaps++;
      out.push({ start: r.start + skip, size: r.size - skip, fileOffset: r.fileOffset + skip });
    } else {
      out.push(r);
    }
  }
  // Memory64List and MemoryList may both hold the thread stacks (the same bytes): only partial overlaps are odd.
  if (overlaps > 0) warnings.push(`${overlaps} memory range(s) overlap earlier ones; the earlier bytes are used`);
  return out;
}
