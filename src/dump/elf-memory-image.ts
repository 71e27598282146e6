import { ByteReader } from '../binary/byte-reader';
import { NT_GNU_BUILD_ID, PT_LOAD, PT_NOTE } from '../binary/elf-constants';
import { decodeElfHeader, ELF64_HEADER_SIZE, hasElfMagic, type ElfHeader } from '../binary/elf-header';
import { decodeElfNotes } from '../binary/elf-note';
import { decodeElfProgramHeader, ELF64_PROGRAM_HEADER_SIZE, type ElfProgramHeader } from '../binary/elf-program-header';
import { DumpFormatError } from '../errors';
import type { MemoryReader } from './memory-reader';

/** Most program headers of a loaded image we read (real images have about a dozen). */
const MAX_IMAGE_PROGRAM_HEADERS = 4096;
/** Most bytes of one image PT_NOTE we read. */
const MAX_IMAGE_NOTE_BYTES = 1 << 20;

/** The ELF header and program headers of an image loaded in a process, with its load bias. */
export interface ElfMemoryImage {
  /** Address of the ELF header (the module's base). */
  readonly base: number;
  /** The decoded ELF header. */
  readonly header: ElfHeader;
  /** The program headers. */
  readonly programHeaders: readonly ElfProgramHeader[];
  /** What to add to a `p_vaddr`/`st_value` to get an address: base minus the lowest PT_LOAD vaddr (page-aligned). */
  readonly loadBias: number;
}

/**
 * Reads the ELF image whose header is at `base`, or returns undefined when the memory there is unmapped or not an
 * ELF header. Throws `DumpFormatError` when the header is there but malformed (too many or truncated headers).
 */
export function tryReadElfMemoryImage(memory: MemoryReader, base: number): ElfMemoryImage | undefined {
  if (!memory.isMapped(base, ELF64_HEADER_SIZE)) return undefined;
  const head = Uint8Array.prototype.slice.call(memory.read(base, ELF64_HEADER_SIZE));
  if (!hasElfMagic(head)) return undefined;
  const what = `ELF image at 0x${base.toString(16)}`;
  const header = decodeElfHeader(head, what);
  if (header.phentsize !== ELF64_PROGRAM_HEADER_SIZE || header.phnum > MAX_IMAGE_PROGRAM_HEADERS) {
    throw new DumpFormatError(`${what}: bad program header table (${header.phnum} entries of ${header.phentsize} bytes)`);
  }
  const size = header.phnum * ELF64_PROGRAM_HEADER_SIZE;
  if (!memory.isMapped(base + header.phoff, size)) return undefined;
  const r = new ByteReader(Uint8Array.prototype.slice.call(memory.read(base + header.phoff, size)), `program headers of ${what}`);
  const programHeaders: ElfProgramHeader[] = [];
  for (let i = 0; i < header.phnum; i++) programHeaders.push(decodeElfProgramHeader(r, i * ELF64_PROGRAM_HEADER_SIZE));
  return { base, header, programHeaders, loadBias: base - lowestLoadAddress(programHeaders) };
}

/** The lowest PT_LOAD `p_vaddr` rounded down to its alignment (0 for a shared object). */
export function lowestLoadAddress(programHeaders: readonly ElfProgramHeader[]): number {
  let lowest = Infinity;
  for (const ph of programHeaders) {
    if (ph.type !== PT_LOAD) continue;
    const align = ph.align > 1 && ph.align <= 1 << 30 ? ph.align : 4096;
    lowest = Math.min(lowest, ph.vaddr - (ph.vaddr % align));
  }
  return lowest === Infinity ? 0 : lowest;
}

/** The GNU build id (lower-case hex) in `notes` bytes, or undefined; malformed notes count as absent. */
export function findGnuBuildId(noteBytes: Uint8Array, what: string): string | undefined {
  try {
    for (const note of decodeElfNotes(noteBytes, what, 1024)) {
      if (note.name === 'GNU' && note.type === NT_GNU_BUILD_ID && note.desc.length > 0 && note.desc.length <= 64) {
        return Buffer.from(note.desc).toString('hex');
      }
    }
  } catch (e) {
    if (!(e instanceof DumpFormatError)) throw e;
  }
  return undefined;
}

/** The build id of the loaded image `image` from its PT_NOTE segments in memory, or undefined when unreadable. */
export function readBuildIdFromMemory(memory: MemoryReader, image: ElfMemoryImage): string | undefined {
  for (const ph of image.programHeaders) {
    if (ph.type !== PT_NOTE || ph.filesz === 0 || ph.filesz > MAX_IMAGE_NOTE_BYTES) continue;
    const address = image.loadBias + ph.vaddr;
    if (!memory.isMapped(address, ph.filesz)) continue;
    const id = findGnuBuildId(Uint8Array.prototype.slice.call(memory.read(address, ph.filesz)), `PT_NOTE at 0x${address.toString(16)}`);
    if (id !== undefined) return id;
  }
  return undefined;
}
