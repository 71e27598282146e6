import { ByteReader } from '../binary/byte-reader';
import { AT_NULL } from '../binary/elf-constants';
import { DumpFormatError, LimitExceededError } from '../errors';
import type { CoreArchitecture } from './core-architecture';

/** One thread of the dumped process, from its NT_PRSTATUS note. */
export interface CoreThread {
  /** Kernel thread id (`pr_pid`). */
  readonly tid: number;
  /** Current signal (`pr_cursig`); non-zero only for the crashing thread. */
  readonly signal: number;
  /** General registers by their kernel name (`rip`, `rsp`, `r8`, ... or `x0`, `sp`, `pc`, ...), as 64-bit values. */
  readonly registers: Readonly<Record<string, bigint>>;
  /** The instruction pointer as an address. */
  readonly instructionPointer: number;
  /** The stack pointer as an address. */
  readonly stackPointer: number;
  /** The frame pointer, or undefined when the register holds a value ≥ 2^53 (used as a general register). */
  readonly framePointer: number | undefined;
}

/** Process-wide fields of NT_PRSTATUS/NT_PRPSINFO. */
export interface CoreProcessInfo {
  /** Process id (`pr_pid` of NT_PRPSINFO). */
  readonly pid: number;
  /** Parent process id. */
  readonly ppid: number;
  /** `pr_fname`: the command name (at most 15 characters, from /proc/pid/status Name). */
  readonly name: string;
  /** `pr_psargs`: the command line (createdump leaves it empty). */
  readonly args: string;
}

/** One file-backed mapping from NT_FILE. */
export interface FileMapping {
  /** First address of the mapping. */
  readonly start: number;
  /** One past the last address. */
  readonly end: number;
  /** Offset in the file of the byte mapped at `start` (page index × page size). */
  readonly fileOffset: number;
  /** Absolute path of the file. */
  readonly path: string;
}

/** One (type, value) pair of NT_AUXV; values ≥ 2^53 (never addresses) come back as `undefined`. */
export interface AuxvEntry {
  /** `a_type` (AT_*). */
  readonly type: number;
  /** `a_val`. */
  readonly value: number | undefined;
}

/** Decodes an NT_PRSTATUS descriptor; throws `DumpFormatError` when it is shorter than the architecture's layout. */
export function decodePrstatus(desc: Uint8Array, arch: CoreArchitecture): CoreThread {
  const r = new ByteReader(desc, 'NT_PRSTATUS note');
  const regsOffset = arch.prstatusRegistersOffset;
  r.check(0, regsOffset + arch.registerNames.length * 8);
  const registers: Record<string, bigint> = {};
  arch.registerNames.forEach((name, i) => {
    registers[name] = r.u64Big(regsOffset + i * 8);
  });
  const at = (name: string): number => regsOffset + arch.registerNames.indexOf(name) * 8;
  return {
    tid: r.i32(32),
    signal: r.i16(12),
    registers,
    instructionPointer: r.u64(at(arch.instructionPointer)),
    stackPointer: r.u64(at(arch.stackPointer)),
    framePointer: r.tryU64(at(arch.framePointer)),
  };
}

/** Decodes an NT_PRPSINFO descriptor (64-bit `elf_prpsinfo`, 136 bytes); throws `DumpFormatError` when shorter. */
export function decodePrpsinfo(desc: Uint8Array): CoreProcessInfo {
  const r = new ByteReader(desc, 'NT_PRPSINFO note');
  r.check(0, 136);
  return { pid: r.i32(24), ppid: r.i32(28), name: r.cstring(40, 16), args: r.cstring(56, 80).trimEnd() };
}

/** Decodes NT_AUXV up to AT_NULL; throws `DumpFormatError` when an entry is cut. */
export function decodeAuxv(desc: Uint8Array): AuxvEntry[] {
  const r = new ByteReader(desc, 'NT_AUXV note');
  const entries: AuxvEntry[] = [];
  for (let offset = 0; offset + 16 <= desc.length; offset += 16) {
    const type = r.tryU64(offset);
    if (type === AT_NULL) break;
    entries.push({ type: type ?? -1, value: r.tryU64(offset + 8) });
  }
  return entries;
}

/**
 * Decodes NT_FILE (u64 count, u64 page size, count × {start, end, page offset}, count NUL-terminated paths).
 * Throws `LimitExceededError` when count exceeds `maxEntries`, `DumpFormatError` when the note is truncated or an
 * entry is inconsistent (end before start).
 */
export function decodeFileNote(desc: Uint8Array, maxEntries: number): { pageSize: number; mappings: FileMapping[] } {
  const r = new ByteReader(desc, 'NT_FILE note');
  const count = r.u64(0);
  const pageSize = r.u64(8);
  if (count > maxEntries) throw new LimitExceededError(`NT_FILE note lists ${count} mappings (cap ${maxEntries})`);
  // Checking the table's size up front bounds the loop by the note's length, not by the count read from it.
  r.check(16, count * 24);
  let pathOffset = 16 + count * 24;
  const mappings: FileMapping[] = [];
  for (let i = 0; i < count; i++) {
    const e = 16 + i * 24;
    const start = r.u64(e);
    const end = r.u64(e + 8);
    const pageIndex = r.u64(e + 16);
    if (end < start) throw new DumpFormatError(`NT_FILE entry ${i} ends (0x${end.toString(16)}) before it starts (0x${start.toString(16)})`);
    r.check(pathOffset, 1);
    const nul = desc.indexOf(0, pathOffset);
    if (nul < 0) throw new DumpFormatError(`NT_FILE note is truncated: path ${i} has no terminating NUL`);
    const path = Buffer.from(desc.buffer, desc.byteOffset + pathOffset, nul - pathOffset).toString('utf8');
    pathOffset = nul + 1;
    const fileOffset = pageIndex * pageSize;
    if (!Number.isSafeInteger(fileOffset)) throw new DumpFormatError(`NT_FILE entry ${i} has a file offset beyond 2^53`);
    mappings.push({ start, end, fileOffset, path });
  }
  return { pageSize, mappings };
}
