import * as fs from 'node:fs';
import type { CoreArchitecture } from './core-architecture';
import type { AuxvEntry, CoreThread, FileMapping } from './core-notes';
import { AddressSpace, type MemoryRegion } from './address-space';
import { DEFAULT_DUMP_LIMITS, type DumpLimits } from './dump-limits';
import { buildModules, type DumpModule } from './dump-module';
import { ElfCore, type CoreSegment } from './elf-core';
import { planImageOverlays, type ImageOverlayRecord } from './image-overlays';
import type { FileWindowCache } from './file-window-cache';
import { Minidump } from './minidump';
import { openMinidump } from './open-minidump';
import { tryReadSpecialDiagInfo, type SpecialDiagInfo } from './special-diag-info';

/** Options of `openDump`. */
export interface OpenDumpOptions {
  /** A folder searched first for image files (by base name) to fill pages missing from the dump. */
  imagePath?: string;
  /** Overlay writable/RELRO ranges of ELF images from disk too (pre-relocation values; off by default). */
  overlayModifiedImageRanges?: boolean;
  /** Do not overlay image files at all: only the dump's own bytes are readable. */
  noImageOverlays?: boolean;
  /**
   * Treat the pages of managed (PE) images that the core holds as missing, except each image's first (header) page,
   * so that only image files (found through `imagePath` or the NT_FILE paths) can supply the rest, metadata
   * included. Heap dumps of .NET 10 keep those pages, so this is how tests reproduce a dump whose metadata pages
   * are absent; the header page stays so a candidate file is still checked against the dump's bytes (a rebuilt
   * file of the same size must be rejected, not read as the right one). Off by default.
   */
  ignoreImagePagesInDump?: boolean;
  /** Look for managed (PE) image files only in `imagePath`, not at their NT_FILE paths (see `ImageOverlayOptions`). */
  managedImagesFromImagePathOnly?: boolean;
  /** Caps on counts read from the file. */
  limits?: DumpLimits;
}

/** A dumped process: its memory, modules, threads and the warnings gathered while opening it. */
export interface Dump {
  /** Path of the dump file. */
  readonly path: string;
  /** Container format. */
  readonly format: 'elf-core' | 'minidump';
  /** Operating system of the dumped process. */
  readonly os: 'linux' | 'windows';
  /** CPU architecture ("x64" or "arm64"). */
  readonly architecture: CoreArchitecture['name'];
  /** Bytes per pointer. */
  readonly pointerSize: number;
  /** The process's memory: core bytes, then image-file overlays. */
  readonly memory: AddressSpace;
  /** Mapped files, one per path, sorted by base address. */
  readonly modules: readonly DumpModule[];
  /** Threads in note order. */
  readonly threads: readonly CoreThread[];
  /** Process id (NT_PRPSINFO), undefined when the note is absent. */
  readonly processId: number | undefined;
  /** Process name (NT_PRPSINFO `pr_fname`, ≤ 15 characters), or '' when absent. */
  readonly processName: string;
  /** Auxiliary vector. */
  readonly auxv: readonly AuxvEntry[];
  /** PT_LOAD segments with bytes in the file. */
  readonly segments: readonly CoreSegment[];
  /** NT_FILE entries. */
  readonly fileMappings: readonly FileMapping[];
  /** createdump's special diagnostics page, when present. */
  readonly specialDiagInfo: SpecialDiagInfo | undefined;
  /** True when the dump carries createdump's "DIAGINFOHEADER" page (written by the .NET runtime's createdump). */
  readonly createdByCreatedump: boolean;
  /** How each image's missing pages were filled from disk (or not). */
  readonly imageOverlays: readonly ImageOverlayRecord[];
  /** One line when the file ends before its memory segments do, else undefined: any answer may lack data, so the
   * CLI repeats it with every answer (it is also in `warnings`). */
  readonly truncation: string | undefined;
  /** Non-fatal findings (truncation, missing or mismatched images). */
  readonly warnings: readonly string[];
  /** Releases the dump file and the image files. */
  close(): void;
}

/**
 * Opens the dump at `path`: a Windows minidump (MDMP) or the Linux ELF core, and builds its address space with image-file overlays.
 * Throws `DumpsleuthError` for a missing file or a directory, `DumpFormatError` for anything that is not a readable
 * 64-bit little-endian x64/arm64 ELF core (with one line naming the problem), `LimitExceededError` for hostile counts.
 */
export function openDump(path: string, options: OpenDumpOptions = {}): Dump {
  if (isMinidumpFile(path)) return openMinidump(path, options);
  const core = ElfCore.open(path, options.limits ?? DEFAULT_DUMP_LIMITS);
  const files: FileWindowCache[] = [];
  try {
    const warnings = [...core.warnings];
    const coreRegions: MemoryRegion[] = core.segments.map((s) => ({
      start: s.vaddr, end: s.vaddr + s.size, source: core.file, fileOffset: s.fileOffset, origin: 'core',
    }));
    const pointerSize = core.architecture.pointerSize;
    const coreOnly = new AddressSpace(coreRegions, [], pointerSize);
    const modules = buildModules(core.fileMappings, coreOnly, warnings);
    // NT_FILE's page size is only the unit of its offsets (gdb writes 1); mappings are whole pages of ≥ 4 KiB.
    const pageSize = Math.max(4096, core.pageSize);
    // The modules' formats come from the full core above; what stays readable may then be less.
    const hidden = modules
      .filter((m) => m.format === 'pe')
      .flatMap((m) => m.mappings)
      .map((mp) => ({ start: mp.fileOffset === 0 ? mp.start + pageSize : mp.start, end: mp.end }));
    const keptRegions = options.ignoreImagePagesInDump === true ? withoutRanges(coreRegions, hidden) : coreRegions;
    const keptCore = keptRegions === coreRegions ? coreOnly : new AddressSpace(keptRegions, [], pointerSize);
    let memory = keptCore;
    let imageOverlays: ImageOverlayRecord[] = [];
    if (options.noImageOverlays !== true) {
      // Pages the process could write may differ from their file: the bundle check compares read-only ones only.
      const PF_W = 2;
      const writable = core.segments.filter((seg) => (seg.flags & PF_W) !== 0);
      const isWritable = (address: number) => writable.some((seg) => address >= seg.vaddr && address < seg.vaddr + seg.memsz);
      const plan = planImageOverlays(keptCore, modules, pageSize, options, isWritable);
      files.push(...plan.files);
      warnings.push(...plan.warnings);
      imageOverlays = plan.records;
      memory = new AddressSpace(keptRegions, plan.regions, pointerSize);
      for (const n of plan.gapNotes) memory.noteGap(n.start, n.end, n.reason);
    }
    const specialDiagInfo = tryReadSpecialDiagInfo(coreOnly);
    let closed = false;
    return {
      path,
      format: 'elf-core',
      os: 'linux',
      architecture: core.architecture.name,
      pointerSize,
      memory,
      modules,
      threads: core.threads,
      processId: core.processInfo?.pid,
      processName: core.processInfo?.name ?? '',
      auxv: core.auxv,
      segments: core.segments,
      fileMappings: core.fileMappings,
      specialDiagInfo,
      createdByCreatedump: specialDiagInfo !== undefined,
      imageOverlays,
      truncation: core.truncation,
      warnings,
      close(): void {
        if (closed) return;
        closed = true;
        for (const f of files) f.close();
        core.close();
      },
    };
  } catch (e) {
    for (const f of files) f.close();
    core.close();
    throw e;
  }
}

/** True when `path` is a readable file that starts with the minidump signature (anything else goes to the ELF reader,
 * which names the problem). */
function isMinidumpFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'r');
    const head = new Uint8Array(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && Minidump.hasMagic(head);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** `regions` minus the address ranges `[start, end)` of `cut`. */
function withoutRanges(regions: readonly MemoryRegion[], cut: readonly { start: number; end: number }[]): MemoryRegion[] {
  const holes = [...cut].sort((a, b) => a.start - b.start);
  const out: MemoryRegion[] = [];
  for (const r of regions) {
    let pos = r.start;
    for (const h of holes) {
      if (h.end <= pos || h.start >= r.end) continue;
      if (h.start > pos) out.push({ ...r, start: pos, end: h.start, fileOffset: r.fileOffset + (pos - r.start) });
      pos = Math.max(pos, h.end);
    }
    if (pos < r.end) out.push({ ...r, start: pos, end: r.end, fileOffset: r.fileOffset + (pos - r.start) });
  }
  return out;
}
