/**
 * Decoders for the Windows MINIDUMP structures (minidumpapiset.h / DbgHelp's MINIDUMP_* types), one per on-disk
 * struct. Every decoder takes a `ByteReader` over the bytes and an offset, and throws `DumpFormatError` when the
 * bytes end early. The structs are packed (4-byte aligned at most), so 64-bit fields may sit at any 4-byte offset.
 */
import type { ByteReader } from './byte-reader';

/** 'MDMP' as a little-endian u32. */
export const MINIDUMP_SIGNATURE = 0x504d444d;
/** Low 16 bits of `MINIDUMP_HEADER.Version`. */
export const MINIDUMP_VERSION = 0xa793;
/** `sizeof(MINIDUMP_HEADER)`. */
export const MINIDUMP_HEADER_SIZE = 32;
/** `sizeof(MINIDUMP_DIRECTORY)`. */
export const MINIDUMP_DIRECTORY_SIZE = 12;
/** `sizeof(MINIDUMP_THREAD)`. */
export const MINIDUMP_THREAD_SIZE = 48;
/** `sizeof(MINIDUMP_MODULE)`. */
export const MINIDUMP_MODULE_SIZE = 108;
/** `sizeof(MINIDUMP_MEMORY_DESCRIPTOR)`. */
export const MINIDUMP_MEMORY_DESCRIPTOR_SIZE = 16;
/** `sizeof(MINIDUMP_MEMORY_DESCRIPTOR64)`. */
export const MINIDUMP_MEMORY_DESCRIPTOR64_SIZE = 16;

/** `MINIDUMP_STREAM_TYPE` values dumpsleuth reads. */
export const MinidumpStreamType = {
  ThreadList: 3,
  ModuleList: 4,
  MemoryList: 5,
  Exception: 6,
  SystemInfo: 7,
  Memory64List: 9,
  HandleData: 12,
  MiscInfo: 15,
  MemoryInfoList: 16,
  ThreadInfoList: 17,
} as const;

/** `SYSTEM_INFO.wProcessorArchitecture` values. */
export const PROCESSOR_ARCHITECTURE_AMD64 = 9;
export const PROCESSOR_ARCHITECTURE_ARM64 = 12;

/** `MINIDUMP_HEADER`. */
export interface MinidumpHeader {
  readonly signature: number;
  /** Low 16 bits: MINIDUMP_VERSION; high 16: implementation-specific. */
  readonly version: number;
  readonly numberOfStreams: number;
  readonly streamDirectoryRva: number;
  /** Seconds since 1970 (UTC) when the dump was written. */
  readonly timeDateStamp: number;
  /** `MINIDUMP_TYPE` flags, low 32 bits (the high bits are unused by any writer). */
  readonly flags: number;
}

/** Decodes `MINIDUMP_HEADER` at `o`. */
export function decodeMinidumpHeader(r: ByteReader, o = 0): MinidumpHeader {
  r.check(o, MINIDUMP_HEADER_SIZE);
  return {
    signature: r.u32(o), version: r.u32(o + 4), numberOfStreams: r.u32(o + 8), streamDirectoryRva: r.u32(o + 12),
    timeDateStamp: r.u32(o + 20), flags: r.u32(o + 24),
  };
}

/** `MINIDUMP_LOCATION_DESCRIPTOR`: a byte range of the file. */
export interface MinidumpLocation {
  readonly dataSize: number;
  readonly rva: number;
}

/** `MINIDUMP_DIRECTORY`: one stream. */
export interface MinidumpDirectory {
  readonly streamType: number;
  readonly location: MinidumpLocation;
}

/** Decodes `MINIDUMP_DIRECTORY` at `o`. */
export function decodeMinidumpDirectory(r: ByteReader, o: number): MinidumpDirectory {
  r.check(o, MINIDUMP_DIRECTORY_SIZE);
  return { streamType: r.u32(o), location: { dataSize: r.u32(o + 4), rva: r.u32(o + 8) } };
}

/** `MINIDUMP_THREAD`. */
export interface MinidumpThread {
  readonly threadId: number;
  readonly suspendCount: number;
  /** Address of the thread environment block. */
  readonly teb: number;
  /** Start address of the captured stack memory. */
  readonly stackStart: number;
  readonly stack: MinidumpLocation;
  readonly context: MinidumpLocation;
}

/** Decodes `MINIDUMP_THREAD` at `o`. */
export function decodeMinidumpThread(r: ByteReader, o: number): MinidumpThread {
  r.check(o, MINIDUMP_THREAD_SIZE);
  return {
    threadId: r.u32(o), suspendCount: r.u32(o + 4), teb: r.u64(o + 16), stackStart: r.u64(o + 24),
    stack: { dataSize: r.u32(o + 32), rva: r.u32(o + 36) }, context: { dataSize: r.u32(o + 40), rva: r.u32(o + 44) },
  };
}

/** `MINIDUMP_MODULE` (the parts dumpsleuth uses). */
export interface MinidumpModule {
  readonly baseOfImage: number;
  readonly sizeOfImage: number;
  readonly checkSum: number;
  /** The PE header's TimeDateStamp: with `sizeOfImage`, the symbol-server key of the image. */
  readonly timeDateStamp: number;
  readonly moduleNameRva: number;
  /** VS_FIXEDFILEINFO file version as "a.b.c.d", or undefined when the signature is absent. */
  readonly fileVersion: string | undefined;
  readonly cvRecord: MinidumpLocation;
}

/** Decodes `MINIDUMP_MODULE` at `o`. */
export function decodeMinidumpModule(r: ByteReader, o: number): MinidumpModule {
  r.check(o, MINIDUMP_MODULE_SIZE);
  // VS_FIXEDFILEINFO starts at 24: dwSignature 0xFEEF04BD, dwStrucVersion, dwFileVersionMS, dwFileVersionLS, ...
  const hasVersion = r.u32(o + 24) === 0xfeef04bd;
  const ms = r.u32(o + 32);
  const ls = r.u32(o + 36);
  return {
    baseOfImage: r.u64(o), sizeOfImage: r.u32(o + 8), checkSum: r.u32(o + 12), timeDateStamp: r.u32(o + 16),
    moduleNameRva: r.u32(o + 20),
    fileVersion: hasVersion ? `${ms >>> 16}.${ms & 0xffff}.${ls >>> 16}.${ls & 0xffff}` : undefined,
    cvRecord: { dataSize: r.u32(o + 76), rva: r.u32(o + 80) },
  };
}

/** One memory range of MemoryListStream (`MINIDUMP_MEMORY_DESCRIPTOR`) or Memory64ListStream (with its file offset). */
export interface MinidumpMemoryRange {
  readonly start: number;
  readonly size: number;
  readonly fileOffset: number;
}

/** Decodes `MINIDUMP_MEMORY_DESCRIPTOR` at `o`. */
export function decodeMinidumpMemoryDescriptor(r: ByteReader, o: number): MinidumpMemoryRange {
  r.check(o, MINIDUMP_MEMORY_DESCRIPTOR_SIZE);
  return { start: r.u64(o), size: r.u32(o + 8), fileOffset: r.u32(o + 12) };
}

/** `MINIDUMP_SYSTEM_INFO` (the parts dumpsleuth uses). */
export interface MinidumpSystemInfo {
  readonly processorArchitecture: number;
  readonly numberOfProcessors: number;
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly buildNumber: number;
  readonly platformId: number;
}

/** Decodes `MINIDUMP_SYSTEM_INFO` at `o`. */
export function decodeMinidumpSystemInfo(r: ByteReader, o: number): MinidumpSystemInfo {
  r.check(o, 24);
  return {
    processorArchitecture: r.u16(o), numberOfProcessors: r.u8(o + 6), majorVersion: r.u32(o + 8),
    minorVersion: r.u32(o + 12), buildNumber: r.u32(o + 16), platformId: r.u32(o + 20),
  };
}

/** `MINIDUMP_MISC_INFO` (the parts dumpsleuth uses). */
export interface MinidumpMiscInfo {
  /** The process id, when `Flags1` has MINIDUMP_MISC1_PROCESS_ID. */
  readonly processId: number | undefined;
  /** Process creation time (seconds since 1970), when `Flags1` has MINIDUMP_MISC1_PROCESS_TIMES. */
  readonly processCreateTime: number | undefined;
}

/** Decodes `MINIDUMP_MISC_INFO` at `o` (`size` is the stream's size: later versions only append fields). */
export function decodeMinidumpMiscInfo(r: ByteReader, o: number): MinidumpMiscInfo {
  r.check(o, 24);
  const flags = r.u32(o + 4);
  return {
    processId: (flags & 1) !== 0 ? r.u32(o + 8) : undefined,
    processCreateTime: (flags & 2) !== 0 ? r.u32(o + 12) : undefined,
  };
}

/** `MINIDUMP_EXCEPTION_STREAM` (the parts dumpsleuth uses). */
export interface MinidumpException {
  readonly threadId: number;
  readonly exceptionCode: number;
  readonly exceptionAddress: number;
  readonly context: MinidumpLocation;
}

/** Decodes `MINIDUMP_EXCEPTION_STREAM` at `o` (168 bytes). */
export function decodeMinidumpException(r: ByteReader, o: number): MinidumpException {
  r.check(o, 168);
  return { threadId: r.u32(o), exceptionCode: r.u32(o + 8), exceptionAddress: r.u64(o + 24), context: { dataSize: r.u32(o + 160), rva: r.u32(o + 164) } };
}

/** Size of the AMD64 `CONTEXT` record. */
export const AMD64_CONTEXT_SIZE = 0x4d0;

/** The AMD64 `CONTEXT` integer registers by offset, under the names the ELF reader uses (`user_regs_struct`). */
const AMD64_CONTEXT_REGISTERS: readonly (readonly [string, number, 2 | 4 | 8])[] = [
  ['cs', 0x38, 2], ['ds', 0x3a, 2], ['es', 0x3c, 2], ['fs', 0x3e, 2], ['gs', 0x40, 2], ['ss', 0x42, 2],
  ['eflags', 0x44, 4],
  ['rax', 0x78, 8], ['rcx', 0x80, 8], ['rdx', 0x88, 8], ['rbx', 0x90, 8], ['rsp', 0x98, 8], ['rbp', 0xa0, 8],
  ['rsi', 0xa8, 8], ['rdi', 0xb0, 8], ['r8', 0xb8, 8], ['r9', 0xc0, 8], ['r10', 0xc8, 8], ['r11', 0xd0, 8],
  ['r12', 0xd8, 8], ['r13', 0xe0, 8], ['r14', 0xe8, 8], ['r15', 0xf0, 8], ['rip', 0xf8, 8],
];

/** Decodes the integer registers of an AMD64 `CONTEXT` at `o` (throws when fewer than 0x100 bytes are there). */
export function decodeAmd64Context(r: ByteReader, o: number): Record<string, bigint> {
  r.check(o, 0x100);
  const out: Record<string, bigint> = {};
  for (const [name, off, size] of AMD64_CONTEXT_REGISTERS) {
    out[name] = size === 8 ? r.u64Big(o + off) : BigInt(size === 4 ? r.u32(o + off) : r.u16(o + off));
  }
  return out;
}

/** Decodes a `MINIDUMP_STRING` (u32 byte length, then UTF-16LE) at `o`; at most `maxBytes` bytes are read. */
export function decodeMinidumpString(r: ByteReader, o: number, maxBytes = 64 << 10): string {
  const length = r.u32(o);
  const n = Math.min(length, maxBytes) & ~1;
  const bytes = r.bytesAt(o + 4, n);
  return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('utf16le');
}
