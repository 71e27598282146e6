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
}

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
  // Map iteration order is insertion order: re-inserting on hit makes the first key the least recently used.
  private readonly windows = new Map<number, Window>();
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
    if (this.last !== undefined && this.last.index === index) return this.last;
    let w = this.windows.get(index);
    if (w !== undefined) {
      this.windows.delete(index);
      this.windows.set(index, w);
    } else {
      const run = index === this.lastMiss + 1 ? this.readAhead : 1;
      const start = index * this.windowSize;
      const length = Math.min(this.windowSize * run, this.size - start);
      const bytes = Buffer.allocUnsafe(length);
      this.readFromFile(start, bytes, 0, length);
      let k = 0;
      // At least one window, even an empty one (a zero-length read at the end of the file).
      for (let at = 0; k === 0 || at < length; at += this.windowSize, k++) {
        if (k > 0 && this.windows.has(index + k)) continue;
        this.windows.set(index + k, { index: index + k, bytes: bytes.subarray(at, Math.min(at + this.windowSize, length)) });
      }
      this.lastMiss = index + k - 1;
      w = this.windows.get(index)!;
      this.windows.delete(index);
      this.windows.set(index, w);
      while (this.windows.size > this.maxWindows) {
        const oldest = this.windows.keys().next().value as number;
        this.windows.delete(oldest);
      }
    }
    this.last = w;
    return w;
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
