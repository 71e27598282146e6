import { ByteReader } from './byte-reader';

/** Size of `Elf64_Dyn`. */
export const ELF64_DYNAMIC_ENTRY_SIZE = 16;

/** One `Elf64_Dyn`: a tag and its value (address or size). */
export interface ElfDynamicEntry {
  /** `d_tag` (DT_*); tags above 2^53 (none that we read) come back as -1. */
  readonly tag: number;
  /** `d_un` as a `number`, or -1 when ≥ 2^53 (a value we would not use as an address anyway). */
  readonly value: number;
}

/** Decodes the `Elf64_Dyn` at `offset` of `r`; throws `DumpFormatError` when truncated. */
export function decodeElfDynamicEntry(r: ByteReader, offset: number): ElfDynamicEntry {
  r.check(offset, ELF64_DYNAMIC_ENTRY_SIZE);
  // Processor- and OS-specific tags (e.g. DT_GNU_HASH = 0x6ffffef5) fit; negative or huge ones are not ours.
  return { tag: r.tryU64(offset) ?? -1, value: r.tryU64(offset + 8) ?? -1 };
}
