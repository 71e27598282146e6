import { ByteReader } from './byte-reader';
import { DumpFormatError } from '../errors';
import { ELFCLASS64, ELFDATA2LSB } from './elf-constants';

/** Size of `Elf64_Ehdr`. */
export const ELF64_HEADER_SIZE = 64;

/** The fields of `Elf64_Ehdr` that dumpsleuth uses. */
export interface ElfHeader {
  /** `e_ident[EI_OSABI]`: 0 (System V, kernel cores) or 3 (Linux, createdump). */
  readonly osAbi: number;
  /** `e_type`: ET_REL, ET_EXEC, ET_DYN or ET_CORE. */
  readonly type: number;
  /** `e_machine`: EM_X86_64, EM_AARCH64, ... */
  readonly machine: number;
  /** `e_entry`. */
  readonly entry: number;
  /** `e_phoff`: file offset of the program header table. */
  readonly phoff: number;
  /** `e_shoff`: file offset of the section header table. */
  readonly shoff: number;
  /** `e_phentsize`. */
  readonly phentsize: number;
  /** `e_phnum` (may be PN_XNUM, meaning "see section header 0"). */
  readonly phnum: number;
  /** `e_shentsize`. */
  readonly shentsize: number;
  /** `e_shnum`. */
  readonly shnum: number;
  /** `e_shstrndx`. */
  readonly shstrndx: number;
}

/** True when `bytes` starts with the ELF magic `\x7fELF`. */
export function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/**
 * Decodes a 64-bit little-endian ELF header at offset 0 of `bytes`.
 * Throws `DumpFormatError` when the magic is absent, the class is not 64-bit, the data is not little-endian, or
 * the bytes are truncated; `what` names the file or address in those messages.
 */
export function decodeElfHeader(bytes: Uint8Array, what: string): ElfHeader {
  if (!hasElfMagic(bytes)) throw new DumpFormatError(`${what} does not start with an ELF header`);
  const r = new ByteReader(bytes, `ELF header of ${what}`);
  r.check(0, ELF64_HEADER_SIZE);
  const elfClass = r.u8(4);
  if (elfClass !== ELFCLASS64) {
    throw new DumpFormatError(`${what} is a ${elfClass === 1 ? '32-bit' : `class ${elfClass}`} ELF file; only 64-bit is supported`);
  }
  const data = r.u8(5);
  if (data !== ELFDATA2LSB) {
    throw new DumpFormatError(`${what} is a ${data === 2 ? 'big-endian' : `data-encoding ${data}`} ELF file; only little-endian is supported`);
  }
  return {
    osAbi: r.u8(7),
    type: r.u16(16),
    machine: r.u16(18),
    entry: r.tryU64(24) ?? 0,
    phoff: r.u64(32),
    shoff: r.u64(40),
    phentsize: r.u16(54),
    phnum: r.u16(56),
    shentsize: r.u16(58),
    shnum: r.u16(60),
    shstrndx: r.u16(62),
  };
}
