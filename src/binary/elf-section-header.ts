import { ByteReader } from './byte-reader';

/** Size of `Elf64_Shdr`. */
export const ELF64_SECTION_HEADER_SIZE = 64;

/** One `Elf64_Shdr`. */
export interface ElfSectionHeader {
  /** `sh_name`: offset of the name in the section-name string table. */
  readonly name: number;
  /** `sh_type`. */
  readonly type: number;
  /** `sh_addr`. */
  readonly addr: number;
  /** `sh_offset`. */
  readonly offset: number;
  /** `sh_size`. */
  readonly size: number;
  /** `sh_link`: for SHT_DYNSYM, the index of its string table. */
  readonly link: number;
  /** `sh_info`: for section 0 of a PN_XNUM file, the real program header count. */
  readonly info: number;
  /** `sh_entsize`. */
  readonly entsize: number;
}

/** Decodes the `Elf64_Shdr` at `offset` of `r`; throws `DumpFormatError` when truncated or a field is ≥ 2^53. */
export function decodeElfSectionHeader(r: ByteReader, offset: number): ElfSectionHeader {
  r.check(offset, ELF64_SECTION_HEADER_SIZE);
  return {
    name: r.u32(offset),
    type: r.u32(offset + 4),
    // sh_flags at +8 is not needed.
    addr: r.u64(offset + 16),
    offset: r.u64(offset + 24),
    size: r.u64(offset + 32),
    link: r.u32(offset + 40),
    info: r.u32(offset + 44),
    // sh_addralign at +48.
    entsize: r.u64(offset + 56),
  };
}
