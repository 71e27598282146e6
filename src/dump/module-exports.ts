import { findExportedSymbol, type ExportedSymbol } from './elf-symbols';
import type { MemoryReader } from './memory-reader';
import { findPeExport } from './pe-exports';

/**
 * Finds an exported symbol of the native image loaded at `moduleBase`, whatever its format (PE export directory for
 * an MZ image, ELF dynamic symbols otherwise), from memory alone; undefined when the image does not export it.
 * Throws as `findPeExport`/`findExportedSymbol` do for missing or malformed tables.
 */
export function findModuleExport(memory: MemoryReader, moduleBase: number, name: string): ExportedSymbol | undefined {
  if (memory.isMapped(moduleBase, 2) && memory.readU16(moduleBase) === 0x5a4d) return findPeExport(memory, moduleBase, name);
  return findExportedSymbol(memory, moduleBase, name);
}
