import { ByteReader } from './byte-reader';
import { DumpFormatError } from '../errors';

/** Size of `Elf64_Nhdr` (same as `Elf32_Nhdr`: three u32). */
export const ELF_NOTE_HEADER_SIZE = 12;

/** One note of a PT_NOTE segment: its owner name, type and a view of its descriptor bytes. */
export interface ElfNote {
  /** Owner name without the NUL ("CORE", "LINUX", "GNU"). */
  readonly name: string;
  /** `n_type`. */
  readonly type: number;
  /** The descriptor bytes (a view into the segment). */
  readonly desc: Uint8Array;
  /** Offset of the note header within the segment, for messages. */
  readonly offset: number;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Decodes the notes packed in `segment` (the bytes of one PT_NOTE), at most `maxNotes` of them.
 * Throws `DumpFormatError` when a note's name or descriptor runs past the segment or there are more than `maxNotes`.
 */
export function decodeElfNotes(segment: Uint8Array, what: string, maxNotes: number): ElfNote[] {
  const r = new ByteReader(segment, what);
  const notes: ElfNote[] = [];
  let offset = 0;
  // A trailing run shorter than a note header is padding (some writers round the segment up).
  while (offset + ELF_NOTE_HEADER_SIZE <= segment.length) {
    if (notes.length >= maxNotes) throw new DumpFormatError(`${what} holds more than ${maxNotes} notes`);
    const namesz = r.u32(offset);
    const descsz = r.u32(offset + 4);
    const type = r.u32(offset + 8);
    const nameStart = offset + ELF_NOTE_HEADER_SIZE;
    const descStart = nameStart + align4(namesz);
    const end = descStart + align4(descsz);
    // The last note's descriptor padding may be cut off by p_filesz; its unpadded payload must still fit.
    if (descStart + descsz > segment.length) {
      throw new DumpFormatError(
        `${what}: note at offset ${offset} (namesz ${namesz}, descsz ${descsz}) runs past the end of the segment (${segment.length} bytes)`,
      );
    }
    // createdump pads names with junk ("CORE\0PRP"), so stop at the first NUL inside namesz.
    const name = namesz === 0 ? '' : r.cstring(nameStart, namesz);
    notes.push({ name, type, desc: segment.subarray(descStart, descStart + descsz), offset });
    offset = end;
  }
  return notes;
}
