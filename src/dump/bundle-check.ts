/**
 * A single-file app (`PublishSingleFile`) is one ELF executable — the host and runtime — with the app's assemblies
 * appended as a bundle past the ELF's last loadable byte; the runtime maps each bundled assembly from the executable
 * at its offset in the bundle. Republishing the app changes the bundle but not the host's build id, so a build-id
 * match says nothing about the bundle: the pages the core holds of the bundle's mappings are compared with the file.
 */
import type { AddressSpace } from './address-space';
import type { DumpModule } from './dump-module';
import type { ElfImageFile, FileRange } from './elf-image-file';
import type { FileWindowCache } from './file-window-cache';

const PT_LOAD = 1;

/** @internal What the comparison found: the bundle's file range, and the first page that differs (undefined when none did). */
export interface BundleCheck {
  /** The file range past the ELF's own content: the appended bundle. */
  readonly bundle: FileRange;
  /** Pages compared (held by the core, read-only in the process, inside the bundle's mappings). */
  readonly comparedPages: number;
  /** File offset of the first differing page. */
  readonly firstDifference?: number;
}

/** @internal One past the ELF file's own last byte (loadable segments, then the section header table, which the linker
 * writes last): where an appended bundle starts. */
export function elfContentEnd(elf: ElfImageFile): number {
  let end = elf.header.shoff + elf.header.shnum * elf.header.shentsize;
  for (const p of elf.programHeaders) if (p.type === PT_LOAD) end = Math.max(end, p.offset + p.filesz);
  return end;
}

/**
 * @internal
 * Compares the pages of `module`'s mappings that lie in the file's appended data (past the ELF's own content) and that
 * the core holds — skipping pages the process could write (`isWritable`), which may differ from the file — with
 * `file`. Undefined when the file has no appended data the module maps.
 */
export function checkAppendedBundle(elf: ElfImageFile, file: FileWindowCache, module: DumpModule, core: AddressSpace, pageSize: number, isWritable: (address: number) => boolean): BundleCheck | undefined {
  const loadEnd = elfContentEnd(elf);
  if (loadEnd >= file.size) return undefined;
  const bundle = { start: loadEnd, end: file.size };
  let mapsBundle = false;
  let comparedPages = 0;
  for (const m of module.mappings) {
    // A bundled assembly's first mapping starts at the page holding its first byte, which may hold the ELF's tail.
    if (m.fileOffset + (m.end - m.start) <= loadEnd) continue;
    mapsBundle = true;
    for (let at = m.start; at + pageSize <= m.end; at += pageSize) {
      const offset = m.fileOffset + (at - m.start);
      if (offset + pageSize <= loadEnd) continue;
      if (offset + pageSize > file.size) break;
      if (core.mappedBytes(at, pageSize, 'core') !== pageSize || isWritable(at)) continue;
      comparedPages++;
      const inCore = core.read(at, pageSize);
      const onDisk = file.read(offset, pageSize);
      if (Buffer.compare(Buffer.from(inCore.buffer, inCore.byteOffset, pageSize), Buffer.from(onDisk.buffer, onDisk.byteOffset, pageSize)) !== 0) {
        return { bundle, comparedPages, firstDifference: offset };
      }
    }
  }
  return mapsBundle ? { bundle, comparedPages } : undefined;
}
