import { combineU64 } from '../binary/byte-reader';
import { UnmappedAddressError } from '../errors';
import type { FileWindowCache } from './file-window-cache';
import type { MemoryReader } from './memory-reader';

/** Where the bytes of one address range come from. */
export interface MemoryRegion {
  /** First address. */
  readonly start: number;
  /** One past the last address. */
  readonly end: number;
  /** The file holding the bytes. */
  readonly source: FileWindowCache;
  /** Offset in `source` of the byte at `start`. */
  readonly fileOffset: number;
  /** 'core' for PT_LOAD bytes, 'image' for bytes overlaid from an image file on disk. */
  readonly origin: 'core' | 'image';
}

const EMPTY = new Uint8Array(0);

/**
 * A process's virtual memory over sorted, non-overlapping regions (core PT_LOAD bytes first, image-file overlays
 * filling only the gaps), implementing `MemoryReader`; reads that touch a gap throw `UnmappedAddressError`.
 *
 * Besides the interface it offers `readInto`/`readUpToInto` for big sequential reads (a heap walker's 1–64 MiB
 * spans): they copy straight into the caller's buffer, going to the file directly for spans larger than a cache
 * window, so a span costs one copy and no intermediate allocation.
 */
export class AddressSpace implements MemoryReader {
  /** 8 on the 64-bit targets we read. */
  readonly pointerSize: number;
  /** The regions, sorted by address, non-overlapping. */
  readonly regions: readonly MemoryRegion[];
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private lastIndex = 0;
  /** Why some gaps are gaps (an image file refused for them), named in the error of a read that meets one. */
  private readonly gapNotes: { readonly start: number; readonly end: number; readonly reason: string }[] = [];

  /**
   * Builds the space from `core` regions (which win) and `overlays` (clipped to the gaps between core regions).
   * Core regions must not overlap each other; overlays may overlap anything (earlier overlays win among themselves).
   */
  constructor(core: readonly MemoryRegion[], overlays: readonly MemoryRegion[] = [], pointerSize = 8) {
    this.pointerSize = pointerSize;
    const sortedCore = [...core].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
    let merged = sortedCore;
    for (const overlay of overlays) merged = insertInGaps(merged, overlay);
    this.regions = merged;
    this.starts = Float64Array.from(merged, (r) => r.start);
    this.ends = Float64Array.from(merged, (r) => r.end);
  }

  /** Records why [start, end) is not readable; reads that stop there name `reason`. */
  noteGap(start: number, end: number, reason: string): void {
    this.gapNotes.push({ start, end, reason });
  }

  private gapError(address: number, length: number): UnmappedAddressError {
    const note = this.gapNotes.find((n) => address >= n.start && address < n.end);
    return new UnmappedAddressError(address, length, note?.reason);
  }

  /** Index of the region containing `address`, or -1. */
  findRegionIndex(address: number): number {
    const last = this.lastIndex;
    if (last < this.starts.length && address >= this.starts[last]! && address < this.ends[last]!) return last;
    let lo = 0;
    let hi = this.starts.length - 1;
    // Last region whose start ≤ address.
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi >= 0 && address < this.ends[hi]!) {
      this.lastIndex = hi;
      return hi;
    }
    return -1;
  }

  /** The region containing `address`, or undefined. */
  regionAt(address: number): MemoryRegion | undefined {
    const i = this.findRegionIndex(address);
    return i < 0 ? undefined : this.regions[i];
  }

  /** How many bytes from `address` (up to `length`) are mapped contiguously. */
  contiguousLength(address: number, length: number): number {
    let i = this.findRegionIndex(address);
    if (i < 0 || length <= 0) return 0;
    let end = this.ends[i]!;
    const want = address + length;
    while (end < want && i + 1 < this.starts.length && this.starts[i + 1] === end) {
      i++;
      end = this.ends[i]!;
    }
    return Math.min(end, want) - address;
  }

  /** How many bytes of [address, address+length) are mapped at all (gaps allowed). */
  mappedBytes(address: number, length: number, origin?: 'core' | 'image'): number {
    const end = address + length;
    let i = this.findRegionIndex(address);
    if (i < 0) {
      // First region starting after address.
      let lo = 0;
      let hi = this.starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.starts[mid]! <= address) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    let total = 0;
    for (; i < this.regions.length && this.starts[i]! < end; i++) {
      if (origin !== undefined && this.regions[i]!.origin !== origin) continue;
      total += Math.min(end, this.ends[i]!) - Math.max(address, this.starts[i]!);
    }
    return total;
  }

  /** True when all of [address, address+length) can be read. */
  isMapped(address: number, length: number): boolean {
    return length <= 0 || this.contiguousLength(address, length) === length;
  }

  /** `length` bytes at `address`, a view into the cache when possible (copy to keep); throws `UnmappedAddressError`. */
  read(address: number, length: number): Uint8Array {
    if (length <= 0) return EMPTY;
    const i = this.findRegionIndex(address);
    if (i >= 0 && address + length <= this.ends[i]!) {
      const r = this.regions[i]!;
      return r.source.read(r.fileOffset + (address - r.start), length);
    }
    const out = new Uint8Array(length);
    this.readInto(address, out, 0, length);
    return out;
  }

  /** Like `read`, but returns only the bytes mapped contiguously from `address` (0 bytes when none). */
  readUpTo(address: number, length: number): Uint8Array {
    const n = this.contiguousLength(address, length);
    return n === 0 ? EMPTY : this.read(address, n);
  }

  /**
   * Copies [address, address+length) into `target` at `targetOffset` (the fast path for big sequential reads);
   * throws `UnmappedAddressError` at the first gap, after copying the bytes before it.
   */
  readInto(address: number, target: Uint8Array, targetOffset: number, length: number): void {
    const n = this.readUpToInto(address, target, targetOffset, length);
    if (n < length) throw this.gapError(address + n, length - n);
  }

  /** Copies as many contiguously mapped bytes from `address` (up to `length`) as exist; returns how many. */
  readUpToInto(address: number, target: Uint8Array, targetOffset: number, length: number): number {
    let done = 0;
    let i = this.findRegionIndex(address);
    if (i < 0) return 0;
    while (done < length) {
      const pos = address + done;
      if (i >= this.regions.length || this.starts[i]! > pos || this.ends[i]! <= pos) break;
      const r = this.regions[i]!;
      const n = Math.min(length - done, r.end - pos);
      r.source.readInto(r.fileOffset + (pos - r.start), target, targetOffset + done, n);
      done += n;
      i++;
    }
    return done;
  }

  /** Unsigned byte at `address`. */
  readU8(address: number): number {
    const w = this.window(address, 1);
    return w !== undefined ? w[this.windowOffset]! : this.read(address, 1)[0]!;
  }

  /** Unsigned 16-bit little-endian at `address`. */
  readU16(address: number): number {
    const w = this.window(address, 2);
    if (w !== undefined) return w.readUInt16LE(this.windowOffset);
    const b = this.read(address, 2);
    return b[0]! | (b[1]! << 8);
  }

  /** Unsigned 32-bit little-endian at `address`. */
  readU32(address: number): number {
    const w = this.window(address, 4);
    if (w !== undefined) return w.readUInt32LE(this.windowOffset);
    return Buffer.from(this.read(address, 4)).readUInt32LE(0);
  }

  /** Signed 32-bit little-endian at `address`. */
  readI32(address: number): number {
    return this.readU32(address) | 0;
  }

  /** Unsigned 64-bit little-endian at `address`; throws `DumpFormatError` when ≥ 2^53. */
  readU64(address: number): number {
    const w = this.window(address, 8);
    let low: number;
    let high: number;
    if (w !== undefined) {
      low = w.readUInt32LE(this.windowOffset);
      high = w.readUInt32LE(this.windowOffset + 4);
    } else {
      const b = Buffer.from(this.read(address, 8));
      low = b.readUInt32LE(0);
      high = b.readUInt32LE(4);
    }
    return u64Value(low, high, address);
  }

  /** Pointer-sized unsigned value at `address`; throws `DumpFormatError` when ≥ 2^53. */
  readPointer(address: number): number {
    return this.pointerSize === 8 ? this.readU64(address) : this.readU32(address);
  }

  /** `readPointer` for a word whose page nothing else is likely to need: the page is not kept in the cache unless
   * it already is (`FileWindowCache.transientWindowFor`). Same value and errors as `readPointer`. */
  readPointerTransient(address: number): number {
    const size = this.pointerSize;
    const i = this.findRegionIndex(address);
    if (i < 0) throw this.gapError(address, size);
    const r = this.regions[i]!;
    const fileOffset = r.fileOffset + (address - r.start);
    const offset = fileOffset % r.source.windowSize;
    if (address + size > this.ends[i]! || offset + size > r.source.windowSize) return this.readPointer(address);
    const bytes = r.source.transientWindowFor(fileOffset);
    if (offset + size > bytes.length) return this.readPointer(address);
    if (size !== 8) return bytes.readUInt32LE(offset);
    const low = bytes.readUInt32LE(offset);
    const high = bytes.readUInt32LE(offset + 4);
    return u64Value(low, high, address);
  }

  // Set by window(): the offset of the requested address inside the returned buffer. A field, not a tuple, so the
  // integer reads allocate nothing.
  private windowOffset = 0;

  // The last window window() returned, as addresses: [fastLow, fastHigh) lies in it and in one region, and byte 0 of
  // `fastBytes` is at address `fastBase`. Consecutive reads of one structure (a MethodTable's fields) stay here. The
  // bytes stay valid after the cache drops the window: windows are never reused, and the file does not change.
  private fastBytes: Buffer | undefined;
  private fastBase = 0;
  private fastLow = 0;
  private fastHigh = 0;

  /** The cache window holding all `size` bytes at `address`, or undefined when they straddle a region or window. */
  private window(address: number, size: number): Buffer | undefined {
    if (address >= this.fastLow && address + size <= this.fastHigh) {
      this.windowOffset = address - this.fastBase;
      return this.fastBytes;
    }
    const i = this.findRegionIndex(address);
    if (i < 0) throw this.gapError(address, size);
    if (address + size > this.ends[i]!) return undefined;
    const r = this.regions[i]!;
    const fileOffset = r.fileOffset + (address - r.start);
    const bytes = r.source.windowFor(fileOffset);
    const offset = fileOffset % r.source.windowSize;
    if (offset + size > bytes.length) return undefined;
    this.windowOffset = offset;
    this.fastBytes = bytes;
    this.fastBase = address - offset;
    this.fastLow = Math.max(this.fastBase, r.start);
    this.fastHigh = Math.min(this.fastBase + bytes.length, r.end);
    return bytes;
  }
}

/** Returns `regions` (sorted, non-overlapping) plus the parts of `overlay` that fall in their gaps. */
function insertInGaps(regions: MemoryRegion[], overlay: MemoryRegion): MemoryRegion[] {
  if (overlay.end <= overlay.start) return regions;
  // First region that ends after the overlay starts.
  let lo = 0;
  let hi = regions.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (regions[mid]!.end <= overlay.start) lo = mid + 1;
    else hi = mid;
  }
  const pieces: MemoryRegion[] = [];
  let pos = overlay.start;
  let j = lo;
  for (; j < regions.length && regions[j]!.start < overlay.end; j++) {
    const r = regions[j]!;
    if (r.start > pos) pieces.push(slice(overlay, pos, r.start));
    pos = Math.max(pos, r.end);
  }
  if (pos < overlay.end) pieces.push(slice(overlay, pos, overlay.end));
  if (pieces.length === 0) return regions;
  const out = regions.slice(0, lo);
  // Interleave the pieces with regions[lo..j) in address order.
  const middle = [...regions.slice(lo, j), ...pieces].sort((a, b) => a.start - b.start);
  out.push(...middle, ...regions.slice(j));
  return out;
}

function slice(r: MemoryRegion, start: number, end: number): MemoryRegion {
  return { start, end, source: r.source, fileOffset: r.fileOffset + (start - r.start), origin: r.origin };
}

/** The value of a u64 read at `address` from its two halves (exact below 2^53; above, combineU64's error). */
function u64Value(low: number, high: number, address: number): number {
  return high < 0x200000 ? high * 0x100000000 + low : combineU64(low, high, `u64 at 0x${address.toString(16)}`);
}
