import type { MemoryRegion } from './address-space';
import { AddressSpace } from './address-space';
import type { FileMapping } from './core-notes';
import type { DumpModule } from './dump-module';
import type { CoreSegment } from './elf-core';
import { Minidump } from './minidump';
import type { Dump, OpenDumpOptions } from './open-dump';
import { tryReadPeMemoryImage } from './pe-exports';
import { DumpsleuthError } from '../errors';

/**
 * Opens the Windows minidump at `path` as a `Dump`: its memory ranges are the address space (minidumps carry
 * whole images in full dumps and no file mappings to overlay from), its modules come from ModuleListStream, its
 * threads from ThreadListStream with their AMD64 CONTEXT. Throws as `Minidump.open` does.
 */
export function openMinidump(path: string, options: OpenDumpOptions = {}): Dump {
  const md = Minidump.open(path, options.limits);
  try {
    const warnings = [...md.warnings];
    const regions: MemoryRegion[] = md.memory.map((r) => ({ start: r.start, end: r.start + r.size, source: md.file, fileOffset: r.fileOffset, origin: 'core' }));
    const memory = new AddressSpace(regions, [], 8);
    const segments: CoreSegment[] = md.memory.map((r) => ({ vaddr: r.start, fileOffset: r.fileOffset, size: r.size, filesz: r.size, memsz: r.size, flags: 0 }));
    const fileMappings: FileMapping[] = [];
    const modules: DumpModule[] = [];
    for (const m of md.modules) {
      const mapping: FileMapping = { start: m.baseOfImage, end: m.baseOfImage + m.sizeOfImage, fileOffset: 0, path: m.name };
      fileMappings.push(mapping);
      let format: DumpModule['format'] = 'unknown';
      try {
        const image = memory.isMapped(m.baseOfImage, 0x200) ? tryReadPeMemoryImage(memory, m.baseOfImage) : undefined;
        if (image !== undefined) {
          format = 'pe';
          // The header in memory and the module list must name the same build (timestamp and size: the symbol-server key).
          if (image.timeDateStamp !== m.timeDateStamp || image.sizeOfImage !== m.sizeOfImage) {
            warnings.push(`module ${m.name}: PE header in memory (timestamp 0x${image.timeDateStamp.toString(16)}, size ${image.sizeOfImage}) differs from the module list's (0x${m.timeDateStamp.toString(16)}, ${m.sizeOfImage})`);
          }
        }
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
        warnings.push(`module ${m.name} at 0x${m.baseOfImage.toString(16)}: ${e.message}`);
      }
      modules.push({
        path: m.name, baseAddress: m.baseOfImage, endAddress: m.baseOfImage + m.sizeOfImage, format, buildId: undefined,
        headerAddresses: [m.baseOfImage], mappings: [mapping], peTimeDateStamp: m.timeDateStamp, peSizeOfImage: m.sizeOfImage,
        fileVersion: m.fileVersion,
      });
    }
    modules.sort((a, b) => a.baseAddress - b.baseAddress);
    const missingImages = modules.filter((m) => !memory.isMapped(m.baseAddress, 1));
    if (missingImages.length > 0) {
      warnings.push(`${missingImages.length} image(s) are not in the dump (${missingImages.slice(0, 3).map((m) => m.path).join(', ')}${missingImages.length > 3 ? ', ...' : ''}); their code and data read as missing`);
    }
    const exceptionThread = md.exception?.threadId;
    let closed = false;
    return {
      path,
      format: 'minidump',
      os: 'windows',
      architecture: 'x64',
      pointerSize: 8,
      memory,
      modules,
      // The thread that raised the exception first, as the ELF reader puts the crashing thread first.
      threads: [...md.threads].sort((a, b) => Number(b.tid === exceptionThread) - Number(a.tid === exceptionThread)),
      processId: md.miscInfo?.processId,
      processName: processNameOf(md.modules[0]?.name ?? ''),
      auxv: [],
      segments,
      fileMappings,
      specialDiagInfo: undefined,
      createdByCreatedump: false,
      imageOverlays: [],
      truncation: md.truncation,
      warnings,
      close(): void {
        if (closed) return;
        closed = true;
        md.close();
      },
    };
  } catch (e) {
    md.close();
    throw e;
  }
}

/** The executable's file name without `.exe`, as Windows tools name a process. */
function processNameOf(modulePath: string): string {
  const base = modulePath.slice(Math.max(modulePath.lastIndexOf('\\'), modulePath.lastIndexOf('/')) + 1);
  return base.replace(/\.exe$/i, '');
}
