/**
 * Numeric constants of the ELF gABI and the Linux core-file notes that the decoders and the dump layer share.
 * Sources: System V gABI (ch. 4, 5), glibc `elf.h`, Linux `include/uapi/linux/elf.h`.
 */

/** `e_ident[EI_CLASS]` value for 64-bit objects. */
export const ELFCLASS64 = 2;
/** `e_ident[EI_DATA]` value for little-endian objects. */
export const ELFDATA2LSB = 1;

/** Object file types (`e_type`). */
export const ET_REL = 1;
/** Executable file (non-PIE). */
export const ET_EXEC = 2;
/** Shared object or PIE executable. */
export const ET_DYN = 3;
/** Core file. */
export const ET_CORE = 4;

/** `e_machine` for x86-64. */
export const EM_X86_64 = 62;
/** `e_machine` for AArch64. */
export const EM_AARCH64 = 183;

/** Program header types (`p_type`). */
export const PT_LOAD = 1;
/** Dynamic linking information. */
export const PT_DYNAMIC = 2;
/** Auxiliary information (notes). */
export const PT_NOTE = 4;
/** Region made read-only after relocation. */
export const PT_GNU_RELRO = 0x6474e552;

/** Segment permission flags (`p_flags`). */
export const PF_X = 1;
/** Writable segment. */
export const PF_W = 2;
/** Readable segment. */
export const PF_R = 4;

/** `e_phnum` escape: the real program header count is in section header 0's `sh_info`. */
export const PN_XNUM = 0xffff;

/** Section types used when reading `.dynsym` from a file. */
export const SHT_STRTAB = 3;
/** Dynamic symbol table section. */
export const SHT_DYNSYM = 11;
/** Relocations with addends (`.rela.dyn`). */
export const SHT_RELA = 4;
/** `Elf64_Rela` entry size. */
export const ELF64_RELA_SIZE = 24;
/** Relocation types whose value is "load bias + addend": the only ones computable without symbol resolution. */
export const R_X86_64_RELATIVE = 8;
export const R_AARCH64_RELATIVE = 1027;

/** Core note types (name "CORE"). */
export const NT_PRSTATUS = 1;
/** Floating-point registers. */
export const NT_FPREGSET = 2;
/** Process information (`elf_prpsinfo`). */
export const NT_PRPSINFO = 3;
/** Auxiliary vector. */
export const NT_AUXV = 6;
/** Mapped files ("FILE"). */
export const NT_FILE = 0x46494c45;
/** `siginfo_t` of the signal that caused the dump ("SIGI"). */
export const NT_SIGINFO = 0x53494749;

/** GNU build-id note type (name "GNU"). */
export const NT_GNU_BUILD_ID = 3;

/** Dynamic section tags (`d_tag`). */
export const DT_NULL = 0;
/** Address of the SysV symbol hash table. */
export const DT_HASH = 4;
/** Address of the dynamic string table. */
export const DT_STRTAB = 5;
/** Address of the dynamic symbol table. */
export const DT_SYMTAB = 6;
/** Size of the dynamic string table in bytes. */
export const DT_STRSZ = 10;
/** Size of one symbol table entry. */
export const DT_SYMENT = 11;
/** Address of the GNU-style symbol hash table. */
export const DT_GNU_HASH = 0x6ffffef5;

/** Auxiliary vector types (`a_type`) of interest. */
export const AT_NULL = 0;
/** Address of the program headers of the executable. */
export const AT_PHDR = 3;
/** Base address of the interpreter (ld.so). */
export const AT_BASE = 7;
/** Entry point of the executable. */
export const AT_ENTRY = 9;
/** Address of the vDSO's ELF header. */
export const AT_SYSINFO_EHDR = 33;
