/**
 * The runtime's version, read from the runtime itself so that self-contained and single-file apps (whose libcoreclr
 * is not in a shared-framework folder) report it too.
 */
import type { MemoryReader } from '../dump/memory-reader';

/** Where the version came from, best first. */
export type RuntimeVersionSource = 'descriptor' | 'version-string' | 'folder';

/** The runtime's product version ("10.0.15") and, when libcoreclr's version string was found, its file version and commit. */
export interface RuntimeVersionInfo {
  readonly version: string;
  readonly source: RuntimeVersionSource;
  /** libcoreclr's file version, e.g. "10.0.1526.53008". */
  readonly fileVersion?: string;
  readonly commit?: string;
}

const MARKER = Buffer.from('@(#)Version ', 'latin1');
const SCAN_CHUNK = 256 << 10;
/** The stamp sits in .data, in the module's last writable segment: this much of the module's end is scanned first. */
const TAIL_FIRST = 2 << 20;
const PAGE = 4096;
/** libcoreclr.so is about 8 MiB; a range far larger is not a module we should scan byte by byte. */
const MAX_SCAN = 64 << 20;

/** Reads image bytes the dump left out, from the verified image file; throws when it cannot. */
export type ImageBytesReader = (address: number, length: number) => Uint8Array;

/**
 * Finds libcoreclr's `@(#)Version <file version> @Commit: <hash>` string (VERSION_STRING, stamped into every
 * runtime build) in the module's pages. It sits in writable .data, which heap dumps leave out when never written:
 * those pages come from `imageBytes` (the same image file, build id checked). Undefined when neither has it.
 */
export function findCoreclrVersionString(memory: MemoryReader, start: number, end: number, imageBytes?: ImageBytesReader): { fileVersion: string; commit?: string } | undefined {
  if (end - start > MAX_SCAN) end = start + MAX_SCAN;
  // The tail first: reading the whole ~8 MiB module (from the image file where a heap dump left pages out) cost
  // `info` ~6 MiB of peak RSS and most of its time (issue 16); the whole module is still scanned when the tail has none.
  const tailStart = end - start > TAIL_FIRST ? end - TAIL_FIRST : start;
  return (tailStart > start ? scanForVersionString(memory, tailStart, end, imageBytes) : undefined) ?? scanForVersionString(memory, start, end, imageBytes);
}

/** The first version stamp in [start, end), or undefined. */
function scanForVersionString(memory: MemoryReader, start: number, end: number, imageBytes?: ImageBytesReader): { fileVersion: string; commit?: string } | undefined {
  const readAt = (at: number, length: number): Uint8Array => {
    const inDump = memory.readUpTo(at, length);
    if (inDump.length > 0 || imageBytes === undefined) return inDump;
    try {
      return imageBytes(at, Math.min(length, PAGE - (at % PAGE)));
    } catch {
      return new Uint8Array(0);
    }
  };
  for (let at = start; at < end; ) {
    const chunk = readAt(at, Math.min(SCAN_CHUNK, end - at));
    if (chunk.length === 0) {
      at = (Math.floor(at / PAGE) + 1) * PAGE;
      continue;
    }
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const hit = buf.indexOf(MARKER);
    if (hit >= 0) {
      const bytes = Buffer.concat([Buffer.from(buf.subarray(hit)), Buffer.from(readAt(at + chunk.length, 160))]);
      const m = /^@\(#\)Version (\d+\.\d+\.\d+\.\d+)(?: @Commit: ([0-9a-f]{7,40}))?/.exec(bytes.subarray(0, 160).toString('latin1'));
      if (m !== null) return m[2] === undefined ? { fileVersion: m[1]! } : { fileVersion: m[1]!, commit: m[2] };
    }
    // Step back a little so a marker split between two chunks is still found.
    at += chunk.length > MARKER.length ? chunk.length - MARKER.length : chunk.length;
  }
  return undefined;
}

/** The product version a runtime file version stands for: .NET stamps the build part as patch × 100 + a two-digit
 * year (10.0.1526.x is 10.0.15, 11.0.26.x is 11.0.0). */
export function productVersionFromFileVersion(fileVersion: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.\d+$/.exec(fileVersion);
  if (m === null) return undefined;
  return `${m[1]}.${m[2]}.${Math.floor(Number(m[3]) / 100)}`;
}

/** The shared-framework layout puts the version in the folder name: .../Microsoft.NETCore.App/10.0.12/libcoreclr.so. */
export function versionFromCoreclrPath(path: string): string | undefined {
  const m = /[\\/]Microsoft\.NETCore\.App[\\/]([0-9]+\.[0-9]+\.[0-9]+[^/\\]*)[\\/](libcoreclr\.so|coreclr\.dll)$/i.exec(path);
  return m ? m[1] : undefined;
}

/**
 * The runtime's version: the descriptor's `RuntimeProductVersionString` (.NET 11), else the shared-framework folder
 * name, else libcoreclr's own version string; undefined when none is readable.
 */
export function readRuntimeVersion(
  memory: MemoryReader,
  coreclr: { readonly path: string; readonly baseAddress: number; readonly endAddress: number; readonly fileVersion?: string },
  descriptorVersion: string | undefined,
  imageBytes?: ImageBytesReader,
): RuntimeVersionInfo | undefined {
  // The stamp scan reads libcoreclr's pages (~8 MiB): done only when the version needs it or someone asks for the
  // file version (`info`), not on every start (issue 16).
  let scanned = false;
  let stamp: { fileVersion: string; commit?: string } | undefined;
  const stampOf = (): { fileVersion: string; commit?: string } | undefined => {
    if (scanned) return stamp;
    scanned = true;
    try {
      stamp = findCoreclrVersionString(memory, coreclr.baseAddress, coreclr.endAddress, imageBytes);
    } catch {
      stamp = undefined;
    }
    // A minidump's module list records coreclr.dll's file version (VS_FIXEDFILEINFO), which has no "@(#)Version" string.
    if (stamp === undefined && coreclr.fileVersion !== undefined) stamp = { fileVersion: coreclr.fileVersion };
    return stamp;
  };
  const withStamp = (version: string, source: RuntimeVersionSource): RuntimeVersionInfo =>
    Object.defineProperties({ version, source } as RuntimeVersionInfo, {
      fileVersion: { enumerable: true, get: () => stampOf()?.fileVersion },
      commit: { enumerable: true, get: () => stampOf()?.commit },
    });
  if (descriptorVersion !== undefined && /^\d+\.\d+\.\d+/.test(descriptorVersion)) return withStamp(descriptorVersion, 'descriptor');
  const folder = versionFromCoreclrPath(coreclr.path);
  if (folder !== undefined) return withStamp(folder, 'folder');
  const found = stampOf();
  const fromStamp = found === undefined ? undefined : productVersionFromFileVersion(found.fileVersion);
  if (fromStamp !== undefined) return withStamp(fromStamp, 'version-string');
  return undefined;
}

/** The major version of "10.0.15", or undefined. */
export function majorVersion(version: string | undefined): number | undefined {
  const m = /^(\d+)\./.exec(version ?? '');
  return m === null ? undefined : Number(m[1]);
}
