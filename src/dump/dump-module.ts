import type { FileMapping } from './core-notes';
import { readBuildIdFromMemory, tryReadElfMemoryImage } from './elf-memory-image';
import type { MemoryReader } from './memory-reader';
import { DumpFormatError } from '../errors';

/** A file mapped into the dumped process (a native library, the executable, a managed assembly, a data file). */
export interface DumpModule {
  /** Absolute path as NT_FILE names it. */
  readonly path: string;
  /** Start of the lowest mapping of file offset 0 (the image's headers), else the lowest mapping. */
  readonly baseAddress: number;
  /** One past the end of the highest mapping of this file. */
  readonly endAddress: number;
  /** 'elf' when an ELF header is readable at the base, 'pe' for an MZ header, else 'unknown' (header not in dump or a data file). */
  readonly format: 'elf' | 'pe' | 'unknown';
  /** GNU build id (lower-case hex) read from the image's notes in memory, when present there. */
  readonly buildId: string | undefined;
  /** Starts of every mapping with file offset 0: a ReadyToRun assembly has two (flat and loaded layout). */
  readonly headerAddresses: readonly number[];
  /** This file's NT_FILE mappings, by address. */
  readonly mappings: readonly FileMapping[];
  /** PE images of a minidump: the COFF TimeDateStamp from the module list (with `peSizeOfImage`, the symbol-server key). */
  readonly peTimeDateStamp?: number;
  /** PE images of a minidump: SizeOfImage from the module list. */
  readonly peSizeOfImage?: number;
  /** PE images of a minidump: the VS_FIXEDFILEINFO file version ("10.0.1226.42308"), when recorded. */
  readonly fileVersion?: string;
}

/**
 * Groups NT_FILE mappings by path into modules (one per file; `/dev/` mappings skipped) and reads each module's
 * format and build id from `memory` where its header is present. Never throws for a malformed in-memory header:
 * such a module gets format 'unknown' and a warning in `warnings`.
 */
export function buildModules(mappings: readonly FileMapping[], memory: MemoryReader, warnings: string[]): DumpModule[] {
  const byPath = new Map<string, FileMapping[]>();
  for (const m of mappings) {
    if (m.path.startsWith('/dev/')) continue;
    let list = byPath.get(m.path);
    if (list === undefined) byPath.set(m.path, (list = []));
    list.push(m);
  }
  const modules: DumpModule[] = [];
  for (const [path, list] of byPath) {
    list.sort((a, b) => a.start - b.start);
    const headerAddresses = list.filter((m) => m.fileOffset === 0).map((m) => m.start);
    const baseAddress = headerAddresses[0] ?? list[0]!.start;
    const endAddress = Math.max(...list.map((m) => m.end));
    let format: DumpModule['format'] = 'unknown';
    let buildId: string | undefined;
    try {
      const image = tryReadElfMemoryImage(memory, baseAddress);
      if (image !== undefined) {
        format = 'elf';
        buildId = readBuildIdFromMemory(memory, image);
      } else if (memory.isMapped(baseAddress, 2) && memory.readU16(baseAddress) === 0x5a4d) {
        format = 'pe';
      }
    } catch (e) {
      if (!(e instanceof DumpFormatError)) throw e;
      warnings.push(`module ${path} at 0x${baseAddress.toString(16)}: ${e.message}`);
    }
    modules.push({ path, baseAddress, endAddress, format, buildId, headerAddresses, mappings: list });
  }
  modules.sort((a, b) => a.baseAddress - b.baseAddress);
  return modules;
}
