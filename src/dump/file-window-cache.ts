import * as fs from 'node:fs';
import { DumpFormatError, DumpsleuthError } from '../errors';

/** Options of a `FileWindowCache`. */
export interface FileWindowCacheOptions {
  /** Bytes per cached window; a power of two. Default 1 MiB. */
  windowSize?: number;
  /** Most windows kept at once (least recently used is dropped). Default 64. */
  maxWindows?: number;
  /** Windows read at once when a miss follows the previous miss's window (a sequential reader): small windows keep
   * random reads cheap, read-ahead keeps sequential ones at few system calls. Default 1 (none). */
  readAhead?: number;
}

interface Window {
  readonly index: number;
  readonly bytes: Buffer;
  /** The cache's use counter at this window's last use: the eviction order. */
  used: number;
}

/** Windows are carved from slabs of at least this many bytes: a miss costs a read, not a new backing store (a
 * compiler's dump names thousands of types through thousands of window misses). */
const SLAB_BYTES = 256 << 10;

/** Scratch windows of `transientWindowFor`, reused round-robin, for caches whose windows are at most
 * MAX_SCRATCH_WINDOW bytes (1 MiB of 4 KiB windows). On the VBCSCompiler dump 64 windows re-read ~900 EEClass pages,
 * 256 about 260 (10,557 checks on ~1,580 pages). */
const SCRATCH_WINDOWS = 256;
const MAX_SCRATCH_WINDOW = 64 << 10;

/**
 * Synchronous read-only random access to one file through an LRU cache of fixed-size windows, so files larger
 * than a Buffer (> 4 GiB) are never read whole; reads past the end of the file throw `DumpFormatError`.
 */
export class FileWindowCache {
  /** Size of the file in bytes, taken when it was opened. */
  readonly size: number;
  private readonly fd: number;
  /** Bytes per window (a power of two). */
  readonly windowSize: number;
  private readonly maxWindows: number;
  private readonly windows = new Map<number, Window>();
  /** Counts window uses; a hit only stamps its window (no reordering), eviction drops the stalest in a batch. */
  private clock = 0;
  /** The slab new windows are carved from, and the first free byte in it. Slabs are never reused: a view handed out
   * stays valid (and the file's bytes never change), the slab is freed when its last window and view are gone. */
  private slab: Buffer | undefined;
  private slabUsed = 0;
  /** `transientWindowFor`'s reused windows: which file window each slot holds (-1 none), and the reverse map. */
  private scratch: Buffer | undefined;
  private readonly scratchOwner = new Float64Array(SCRATCH_WINDOWS).fill(-1);
  private readonly scratchLengths = new Uint32Array(SCRATCH_WINDOWS);
  private readonly scratchSlots = new Map<number, number>();
  private scratchNext = 0;
  private last: Window | undefined;
  private closed = false;
  private readonly readAhead: number;
  /** The last window index a miss read, for read-ahead. */
  private lastMiss = -2;

  /** Opens `path` read-only; throws `DumpsleuthError` when it cannot be opened (the message names the path). */
  constructor(
    readonly path: string,
    options: FileWindowCacheOptions = {},
  ) {
    this.windowSize = options.windowSize ?? 1 << 20;
    if (!(this.windowSize >= 16 && (this.windowSize & (this.windowSize - 1)) === 0 && this.windowSize <= 1 << 30)) {
      throw new RangeError(`window size ${this.windowSize} is not a power of two in [16, 2^30]`);
    }
    this.maxWindows = Math.max(2, options.maxWindows ?? 64);
    this.readAhead = Math.max(1, Math.min(options.readAhead ?? 1, this.maxWindows >> 1));
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (e) {
      throw new DumpsleuthError(`cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      this.size = fs.fstatSync(this.fd).size;
    } catch (e) {
      fs.closeSync(this.fd);
      throw new DumpsleuthError(`cannot stat ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }

  /** True when [offset, offset+length) lies inside the file. */
  contains(offset: number, length: number): boolean {
    return offset >= 0 && length >= 0 && offset + length <= this.size;
  }

  /**
   * `length` bytes at `offset`: a view into a cached window when the range fits in one window (valid until the
   * window is evicted, so copy to keep), else a fresh buffer. Throws `DumpFormatError` past the end of the file.
   */
  read(offset: number, length: number): Uint8Array {
    this.checkRange(offset, length);
    const index = Math.floor(offset / this.windowSize);
    const start = offset - index * this.windowSize;
    if (start + length <= this.windowSize) {
      const w = this.window(index);
      return w.bytes.subarray(start, start + length);
    }
    const out = Buffer.allocUnsafe(length);
    this.readInto(offset, out, 0, length);
    return out;
  }

  /**
   * Copies `length` bytes at file `offset` into `target` at `targetOffset`. Large reads go straight to the file
   * (bypassing and not polluting the cache). Throws `DumpFormatError` past the end of the file.
   */
  readInto(offset: number, target: Uint8Array, targetOffset: number, length: number): void {
    this.checkRange(offset, length);
    if (targetOffset < 0 || targetOffset + length > target.length) {
      throw new RangeError(`target of ${target.length} bytes cannot take ${length} bytes at ${targetOffset}`);
    }
    if (length >= this.windowSize) {
      this.readFromFile(offset, target, targetOffset, length);
      return;
    }
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / this.windowSize);
      const start = pos - index * this.windowSize;
      const w = this.window(index);
      const n = Math.min(length - done, w.bytes.length - start);
      target.set(w.bytes.subarray(start, start + n), targetOffset + done);
      done += n;
    }
  }

  /**
   * The cached window holding file `offset`, for allocation-free integer reads: the window starts at file offset
   * `offset - (offset % windowSize)`, and the caller must stay inside the returned buffer (the last window of the
   * file is shorter). Throws `DumpFormatError` past the end of the file.
   */
  windowFor(offset: number): Buffer {
    this.checkRange(offset, 1);
    return this.window(Math.floor(offset / this.windowSize)).bytes;
  }

  /**
   * Like `windowFor`, for a read whose bytes are used at once (a value, not a view): a window already cached is
   * returned, any other is read into one of a few reused scratch windows instead of being cached, and the returned
   * buffer may hold other bytes after the next call. For reads that check one word on a page nothing else needs (a
   * MethodTable's EEClass back pointer: ~1,600 such pages in a compiler's dump). Throws like `windowFor`.
   */
  transientWindowFor(offset: number): Buffer {
    this.checkRange(offset, 1);
    const index = Math.floor(offset / this.windowSize);
    const cached = this.windows.get(index);
    // Big windows (a minidump's 1 MiB) would make every scratch read big: those go through the cache.
    if (cached !== undefined || this.windowSize > MAX_SCRATCH_WINDOW) return cached?.bytes ?? this.window(index).bytes;
    let slot = this.scratchSlots.get(index);
    if (slot === undefined) {
      this.scratch ??= Buffer.allocUnsafe(SCRATCH_WINDOWS * this.windowSize);
      slot = this.scratchNext;
      this.scratchNext = (slot + 1) % SCRATCH_WINDOWS;
      const old = this.scratchOwner[slot]!;
      if (old >= 0) this.scratchSlots.delete(old);
      const start = index * this.windowSize;
      const length = Math.min(this.windowSize, this.size - start);
      // Marked free first: a failed read leaves no slot claiming bytes it does not hold.
      this.scratchOwner[slot] = -1;
      this.readFromFile(start, this.scratch, slot * this.windowSize, length);
      this.scratchOwner[slot] = index;
      this.scratchSlots.set(index, slot);
      this.scratchLengths[slot] = length;
    }
    const from = slot * this.windowSize;
    return this.scratch!.subarray(from, from + this.scratchLengths[slot]!);
  }

  /** Closes the file; later reads throw. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.windows.clear();
    this.last = undefined;
    fs.closeSync(this.fd);
  }

  private checkRange(offset: number, length: number): void {
    if (!this.contains(offset, length)) {
      throw new DumpFormatError(`${this.path} is truncated: needs ${length} bytes at offset ${offset}, file has ${this.size}`);
    }
    if (this.closed) throw new DumpsleuthError(`${this.path} is closed`);
  }

  private window(index: number): Window {
    const last = this.last;
    if (last !== undefined && last.index === index) return last;
    let w = this.windows.get(index);
    if (w === undefined) w = this.miss(index);
    w.used = ++this.clock;
    this.last = w;
    return w;
  }

  /** Reads window `index` (and, for a sequential reader, the next ones) into the cache; returns window `index`. */
  private miss(index: number): Window {
    const run = index === this.lastMiss + 1 ? this.readAhead : 1;
    const start = index * this.windowSize;
    const length = Math.min(this.windowSize * run, this.size - start);
    const bytes = this.take(length);
    this.readFromFile(start, bytes, 0, length);
    let k = 0;
    // At least one window, even an empty one (a zero-length read at the end of the file).
    for (let at = 0; k === 0 || at < length; at += this.windowSize, k++) {
      if (k > 0 && this.windows.has(index + k)) continue;
      this.windows.set(index + k, { index: index + k, bytes: bytes.subarray(at, Math.min(at + this.windowSize, length)), used: this.clock });
    }
    this.lastMiss = index + k - 1;
    const w = this.windows.get(index)!;
    if (this.windows.size > this.maxWindows) this.evict(w);
    return w;
  }

  /** `length` bytes of a slab (a fresh buffer when the current slab is too full). */
  private take(length: number): Buffer {
    if (length > SLAB_BYTES >> 2) return Buffer.allocUnsafe(length);
    if (this.slab === undefined || this.slabUsed + length > this.slab.length) {
      this.slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const out = this.slab.subarray(this.slabUsed, this.slabUsed + length);
    // Windows start 8-byte aligned, as separate buffers did.
    this.slabUsed += (length + 7) & ~7;
    return out;
  }

  /** Drops the least recently used windows (an eighth of the cache at once, so eviction costs O(log n) per window),
   * never `keep`. */
  private evict(keep: Window): void {
    const stamps: number[] = [];
    for (const w of this.windows.values()) stamps.push(w.used);
    stamps.sort((a, b) => a - b);
    const drop = Math.max(this.windows.size - this.maxWindows, this.maxWindows >> 3);
    const threshold = stamps[Math.min(drop, stamps.length) - 1]!;
    for (const [i, w] of this.windows) {
      if (w.used <= threshold && w !== keep) this.windows.delete(i);
    }
    if (this.last !== undefined && !this.windows.has(this.last.index)) this.last = undefined;
  }

  private readFromFile(position: number, target: Uint8Array, targetOffset: number, length: number): void {
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        // Chunks stay below 1 GiB: readSync's length is an int32 and the kernel caps one read at ~2 GiB anyway.
        n = fs.readSync(this.fd, target, targetOffset + done, Math.min(length - done, 1 << 30), position + done);
      } catch (e) {
        throw new DumpsleuthError(`cannot read ${this.path} at offset ${position + done}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      if (n === 0) {
        throw new DumpFormatError(`${this.path} is truncated: ended at offset ${position + done} while reading ${length} bytes at ${position}`);
      }
      done += n;
    }
  }
}
