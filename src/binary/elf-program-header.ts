import { ByteReader } from './byte-reader';

/** Size of `Elf64_Phdr`. */
export const ELF64_PROGRAM_HEADER_SIZE = 56;

/** One `Elf64_Phdr`. */
export interface ElfProgramHeader {
  /** `p_type`. */
  readonly type: number;
  /** `p_flags` (PF_R | PF_W | PF_X). */
  readonly flags: number;
  /** `p_offset`: where the segment's bytes start in the file. */
  readonly offset: number;
  /** `p_vaddr`, or -1 when ≥ 2^53 (the x64 vsyscall page 0xffffffffff600000 in kernel and gdb cores). */
  readonly vaddr: number;
  /** `p_filesz`: bytes present in the file. */
  readonly filesz: number;
  /** `p_memsz`: bytes the segment occupies in memory. */
  readonly memsz: number;
  /** `p_align`. */
  readonly align: number;
}

/** Decodes the `Elf64_Phdr` at `offset` of `r`; throws `DumpFormatError` when truncated or a field is ≥ 2^53. */
export function decodeElfProgramHeader(r: ByteReader, offset: number): ElfProgramHeader {
  r.check(offset, ELF64_PROGRAM_HEADER_SIZE);
  return {
    type: r.u32(offset),
    flags: r.u32(offset + 4),
    offset: r.u64(offset + 8),
    vaddr: r.tryU64(offset + 16) ?? -1,
    // p_paddr at +24 is unused on Linux.
    filesz: r.u64(offset + 32),
    memsz: r.u64(offset + 40),
    align: r.u64(offset + 48),
  };
}
