/**
 * Bytes of an ELF image as the loader left them, rebuilt from the file on disk: for constant data that a heap dump
 * leaves out because it lives in a writable segment (the runtime's contract descriptor and its pointer table).
 */
import { DumpFormatError, UnmappedAddressError } from '../errors';
import { lowestLoadAddress } from './elf-memory-image';
import { ElfImageFile } from './elf-image-file';
import type { Dump } from './open-dump';

/**
 * Reads [address, address+length) from the module's file with RELATIVE relocations applied. Only for data nothing
 * writes after relocation; the file must be the one the dump names, proven by the same build id.
 * @throws UnmappedAddressError when no verified image file covers the range; DumpFormatError when it cannot be rebuilt.
 */
export function readLoadedImageBytes(dump: Dump, address: number, length: number): Uint8Array {
  // By mapping, not by [base, end): a file mapped several times (managed assemblies) spans unrelated memory.
  const module = dump.modules.find((m) => m.format === 'elf' && m.mappings.some((mp) => address >= mp.start && address + length <= mp.end));
  const record = module && dump.imageOverlays.find((r) => r.modulePath === module.path);
  if (!module || !record || record.filePath === undefined || record.matchedBy !== 'build-id') {
    throw new UnmappedAddressError(address, length, 'constant image data, and no image file with a matching build id');
  }
  const file = ElfImageFile.open(record.filePath);
  try {
    const linkAddress = address - module.baseAddress + lowestLoadAddress(file.programHeaders);
    return file.readRelocated(linkAddress, length, module.baseAddress);
  } catch (e) {
    if (e instanceof DumpFormatError) throw new DumpFormatError(`cannot rebuild ${length} bytes at 0x${address.toString(16)}: ${e.message}`);
    throw e;
  } finally {
    file.close();
  }
}

/**
 * Reads [address, address+length) from the module's file as stored, no relocation applied, for text the runtime
 * never changes (libcoreclr's version string) that heap dumps leave out. Same build-id proof as readLoadedImageBytes.
 * @throws UnmappedAddressError when no verified image file covers the range; DumpFormatError when not file-backed.
 */
export function readImageFileText(dump: Dump, address: number, length: number): Uint8Array {
  const module = dump.modules.find((m) => m.format === 'elf' && m.mappings.some((mp) => address >= mp.start && address + length <= mp.end));
  const record = module && dump.imageOverlays.find((r) => r.modulePath === module.path);
  if (!module || !record || record.filePath === undefined || record.matchedBy !== 'build-id') {
    throw new UnmappedAddressError(address, length, 'image text, and no image file with a matching build id');
  }
  const file = ElfImageFile.open(record.filePath);
  try {
    return file.readFileBacked(address - module.baseAddress + lowestLoadAddress(file.programHeaders), length);
  } finally {
    file.close();
  }
}
