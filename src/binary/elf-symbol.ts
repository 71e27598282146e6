import { ByteReader } from './byte-reader';

/** Size of `Elf64_Sym`. */
export const ELF64_SYMBOL_SIZE = 24;

/** One `Elf64_Sym`. */
export interface ElfSymbol {
  /** `st_name`: offset of the name in the string table. */
  readonly name: number;
  /** `st_info`: binding (high nibble) and type (low nibble). */
  readonly info: number;
  /** `st_shndx`: 0 (SHN_UNDEF) for an imported symbol. */
  readonly shndx: number;
  /** `st_value`: for a shared object, the symbol's offset from the load base. */
  readonly value: number;
  /** `st_size`. */
  readonly size: number;
}

/** Decodes the `Elf64_Sym` at `offset` of `r`; throws `DumpFormatError` when truncated or a field is ≥ 2^53. */
export function decodeElfSymbol(r: ByteReader, offset: number): ElfSymbol {
  r.check(offset, ELF64_SYMBOL_SIZE);
  return {
    name: r.u32(offset),
    info: r.u8(offset + 4),
    // st_other at +5 (visibility) is not needed.
    shndx: r.u16(offset + 6),
    value: r.u64(offset + 8),
    size: r.u64(offset + 16),
  };
}
