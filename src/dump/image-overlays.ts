import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { DumpsleuthError, DumpFormatError } from '../errors';
import { AddressSpace, type MemoryRegion } from './address-space';
import { checkAppendedBundle } from './bundle-check';
import type { DumpModule } from './dump-module';
import { ElfImageFile, type FileRange } from './elf-image-file';
import { FileWindowCache } from './file-window-cache';

/** Options for filling missing image pages from files on disk. */
export interface ImageOverlayOptions {
  /** A folder searched first for a file of the same base name as each image. */
  imagePath?: string;
  /**
   * Also overlay ELF ranges the loader modifies (writable segments, RELRO). Off by default: the file holds
   * pre-relocation values there, which would read as plausible but wrong data.
   */
  overlayModifiedImageRanges?: boolean;
  /** Look for managed (PE) image files only in `imagePath`, not at the paths the core's NT_FILE note names: for
   * tests that prove `imagePath` alone supplies the pages on a machine where the original files exist. Native (ELF)
   * images still come from their NT_FILE paths (a heap dump needs libcoreclr's pages for the runtime's descriptor). */
  managedImagesFromImagePathOnly?: boolean;
}

/** How one image's missing pages were (or were not) filled. */
export interface ImageOverlayRecord {
  /** Path of the module as NT_FILE names it. */
  readonly modulePath: string;
  /** The file the bytes came from, or undefined when none was usable. */
  readonly filePath: string | undefined;
  /** How the file was matched to the module: 'build-id', 'first-page' (bytes equal to the dump's), or 'size' only. */
  readonly matchedBy: 'build-id' | 'first-page' | 'size' | undefined;
  /** Bytes of the module's mappings absent from the core. */
  readonly missingBytes: number;
  /** Of those, bytes now read from the file. */
  readonly filledBytes: number;
  /** Why a candidate file was rejected, when one was. */
  readonly rejected: readonly string[];
}

/** The overlay regions chosen for a dump, the open files behind them, and what happened per image. */
export interface ImageOverlayPlan {
  /** Regions to add under the core's regions. */
  readonly regions: MemoryRegion[];
  /** Files opened for the regions (close them with the dump). */
  readonly files: FileWindowCache[];
  /** One record per module that had missing bytes. */
  readonly records: ImageOverlayRecord[];
  /** Human-readable warnings (missing or mismatched images, unverified matches). */
  readonly warnings: string[];
  /** Address ranges left unread on purpose, with why (a single-file app's bundle from a republished executable). */
  readonly gapNotes: { start: number; end: number; reason: string }[];
}

/**
 * Chooses, for each module with pages missing from `core`, a matching file on disk (in `options.imagePath`, else at
 * the NT_FILE path) and the regions to read from it. Never throws for a missing, unreadable or mismatched file:
 * those become warnings and the pages stay unmapped.
 */
export function planImageOverlays(core: AddressSpace, modules: readonly DumpModule[], pageSize: number, options: ImageOverlayOptions = {}, isWritable: (address: number) => boolean = () => false): ImageOverlayPlan {
  const plan: ImageOverlayPlan = { regions: [], files: [], records: [], warnings: [], gapNotes: [] };
  for (const module of modules) {
    const missingBytes = module.mappings.reduce((sum, m) => sum + (m.end - m.start) - core.mappedBytes(m.start, m.end - m.start), 0);
    if (missingBytes === 0) continue;
    const candidates: string[] = [];
    if (options.imagePath !== undefined) candidates.push(nodePath.join(options.imagePath, nodePath.basename(module.path)));
    if (options.managedImagesFromImagePathOnly !== true || module.format !== 'pe') candidates.push(module.path);
    const rejected: string[] = [];
    let used: { file: FileWindowCache; matchedBy: 'build-id' | 'first-page' | 'size'; excluded: FileRange[]; warning?: string; refusedBundle?: FileRange } | undefined;
    for (const candidate of candidates) {
      if (!isRegularFile(candidate)) continue;
      try {
        used = matchImageFile(candidate, module, core, pageSize, options, isWritable);
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
        rejected.push(`${candidate}: ${e.message}`);
      }
      if (used !== undefined) break;
    }
    if (used === undefined) {
      plan.records.push({ modulePath: module.path, filePath: undefined, matchedBy: undefined, missingBytes, filledBytes: 0, rejected });
      const why = rejected.length > 0 ? `did not match (${rejected.join('; ')})` : 'not found on disk';
      plan.warnings.push(`image ${module.path} ${why}; ${formatBytes(missingBytes)} of its pages are missing from the dump`);
      continue;
    }
    plan.files.push(used.file);
    const regions = overlayRegions(module, used.file, used.excluded);
    plan.regions.push(...regions);
    const withOverlay = new AddressSpace(core.regions, regions);
    const filled = module.mappings.reduce((sum, m) => sum + withOverlay.mappedBytes(m.start, m.end - m.start, 'image'), 0);
    plan.records.push({ modulePath: module.path, filePath: used.file.path, matchedBy: used.matchedBy, missingBytes, filledBytes: filled, rejected });
    if (used.warning !== undefined) {
      plan.warnings.push(used.warning);
      const reason = `bundled in ${module.path}; ${used.file.path} was refused for it (same build id, another bundle)`;
      const refused = used.refusedBundle;
      for (const m of module.mappings) if (refused && m.fileOffset + (m.end - m.start) > refused.start) plan.gapNotes.push({ start: m.start, end: m.end, reason });
    }
    if (used.matchedBy === 'size') {
      plan.warnings.push(`image ${module.path}: using ${used.file.path} matched by size only (no build id or header page to compare)`);
    }
  }
  return plan;
}

function isRegularFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Opens `path` and checks it is the module's file; throws `DumpsleuthError` when it cannot be read or does not match. */
function matchImageFile(path: string, module: DumpModule, core: AddressSpace, pageSize: number, options: ImageOverlayOptions, isWritable: (address: number) => boolean):
    { file: FileWindowCache; matchedBy: 'build-id' | 'first-page' | 'size'; excluded: FileRange[]; warning?: string; refusedBundle?: FileRange } {
  // 16 KiB windows: every image of the dump gets one of these caches for the whole session, while most commands read
  // a few pages through it, if any (64 KiB windows cost a single-object command ~1.5 MiB of peak RSS).
  const file = new FileWindowCache(path, { windowSize: 16 << 10, maxWindows: 32 });
  try {
    let excluded: FileRange[] = [];
    let warning: string | undefined;
    let refusedBundle: FileRange | undefined;
    let matchedBy: 'build-id' | 'first-page' | 'size' | undefined;
    const head = file.read(0, Math.min(4, file.size));
    const isElf = head.length === 4 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
    if (isElf) {
      const elf = ElfImageFile.open(path);
      try {
        const fileId = elf.buildId;
        if (module.buildId !== undefined && fileId !== undefined) {
          if (module.buildId !== fileId) throw new DumpFormatError(`build id ${fileId} differs from the dump's ${module.buildId}`);
          matchedBy = 'build-id';
        }
        if (options.overlayModifiedImageRanges !== true) excluded = elf.runtimeModifiedRanges();
        // A single-file app's bundle is not covered by the build id: its pages must equal the dump's where both are
        // there, else the bundle is not read from this file (the executable's own part still is).
        const bundle = matchedBy === 'build-id' ? checkAppendedBundle(elf, file, module, core, pageSize, isWritable) : undefined;
        if (bundle?.firstDifference !== undefined) {
          excluded = [...excluded, bundle.bundle];
          refusedBundle = bundle.bundle;
          warning = `image ${module.path}: ${path} has the same build id but another bundle (its page at file offset 0x${bundle.firstDifference.toString(16)} differs from the dump's): the app was republished; its bundled assemblies are not read from it`;
        }
      } finally {
        elf.close();
      }
    } else if (module.format === 'elf') {
      throw new DumpFormatError('the dump has an ELF image there but the file is not ELF');
    }
    if (matchedBy === undefined) {
      // Every mapping must start inside the file: mmap past the end of a file faults, so a shorter file is another one.
      for (const m of module.mappings) {
        const lastPageStart = m.fileOffset + Math.max(0, m.end - m.start - pageSize);
        if (file.size <= lastPageStart) throw new DumpFormatError(`file is ${file.size} bytes, too small for the mapping at 0x${m.start.toString(16)} (file offset ${m.fileOffset}, ${m.end - m.start} bytes)`);
      }
      matchedBy = 'size';
      const headerMapping = module.mappings.find((m) => m.fileOffset === 0 && core.mappedBytes(m.start, Math.min(pageSize, file.size), 'core') === Math.min(pageSize, file.size));
      if (headerMapping !== undefined) {
        const n = Math.min(pageSize, file.size, headerMapping.end - headerMapping.start);
        const inCore = core.read(headerMapping.start, n);
        const onDisk = file.read(0, n);
        if (Buffer.compare(Buffer.from(inCore.buffer, inCore.byteOffset, n), Buffer.from(onDisk.buffer, onDisk.byteOffset, n)) !== 0) {
          throw new DumpFormatError(`its first ${n} bytes differ from the dump's header page at 0x${headerMapping.start.toString(16)}`);
        }
        matchedBy = 'first-page';
      }
    }
    return { file, matchedBy, excluded, ...(warning !== undefined ? { warning } : {}), ...(refusedBundle ? { refusedBundle } : {}) };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** The module's mappings as regions of `file`, clipped to the file's size and minus the `excluded` file ranges. */
function overlayRegions(module: DumpModule, file: FileWindowCache, excluded: readonly FileRange[]): MemoryRegion[] {
  const regions: MemoryRegion[] = [];
  for (const m of module.mappings) {
    const available = Math.min(m.end - m.start, file.size - m.fileOffset);
    if (available <= 0) continue;
    let pieces: FileRange[] = [{ start: m.fileOffset, end: m.fileOffset + available }];
    for (const x of excluded) {
      pieces = pieces.flatMap((p) => {
        if (x.end <= p.start || x.start >= p.end) return [p];
        const out: FileRange[] = [];
        if (x.start > p.start) out.push({ start: p.start, end: x.start });
        if (x.end < p.end) out.push({ start: x.end, end: p.end });
        return out;
      });
    }
    for (const p of pieces) {
      regions.push({ start: m.start + (p.start - m.fileOffset), end: m.start + (p.end - m.fileOffset), source: file, fileOffset: p.start, origin: 'image' });
    }
  }
  return regions;
}

function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}
