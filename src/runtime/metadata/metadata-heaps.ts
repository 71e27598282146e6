/**
 * The metadata heaps (`#Strings`, `#Blob`, `#GUID`, `#US`, ECMA-335 II.24.2.3–II.24.2.5) and the compressed
 * integers (II.23.2) that prefix blobs and fill signatures.
 */
import { DumpFormatError } from '../../errors';
import type { LazyBytes } from './lazy-bytes';

const utf8 = new TextDecoder('utf-8');
const utf16 = new TextDecoder('utf-16le');

/** Reads the compressed unsigned integer at `bytes[pos]` (II.23.2) and returns `value * 8 + encodedLength`
 * so callers get both without allocating; throws `DumpFormatError` past `end` or for an invalid lead byte. */
export function readCompressedPacked(bytes: Uint8Array, pos: number, end: number): number {
  if (pos >= end) throw new DumpFormatError('metadata: compressed integer runs past its blob');
  const b0 = bytes[pos];
  if ((b0 & 0x80) === 0) return b0 * 8 + 1;
  if ((b0 & 0xc0) === 0x80) {
    if (pos + 2 > end) throw new DumpFormatError('metadata: compressed integer runs past its blob');
    return (((b0 & 0x3f) << 8) | bytes[pos + 1]) * 8 + 2;
  }
  if ((b0 & 0xe0) === 0xc0) {
    if (pos + 4 > end) throw new DumpFormatError('metadata: compressed integer runs past its blob');
    return (((b0 & 0x1f) << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) * 8 + 4;
  }
  throw new DumpFormatError(`metadata: invalid compressed integer lead byte 0x${b0.toString(16)}`);
}

/** The `#Strings` heap: NUL-terminated UTF-8 strings indexed by byte offset (II.24.2.3). */
export class StringHeap {
  private readonly cache = new Map<number, string>();
  /** `bytes` as a Buffer (same memory), for its native Latin-1 slice. */
  private latin1: Buffer | undefined;

  /** A heap over `bytes[start, start+size)`. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    readonly size: number,
    private readonly lazy?: LazyBytes,
  ) {}

  /** The string at `index`; throws `DumpFormatError` when `index` is outside the heap or the string is unterminated. */
  get(index: number): string {
    if (index === 0) return '';
    const hit = this.cache.get(index);
    if (hit !== undefined) return hit;
    if (index >= this.size) throw new DumpFormatError(`metadata: #Strings index 0x${index.toString(16)} is past the heap (${this.size} bytes)`);
    const b = this.bytes;
    const from = this.start + index;
    const end = this.start + this.size;
    let p = from;
    let ascii = true;
    this.lazy?.ensure(from, 1);
    while (p < end && b[p] !== 0) {
      if (b[p] >= 0x80) ascii = false;
      p++;
      // A string may run into a page not read yet.
      if ((p & 4095) === 0) this.lazy?.ensure(p, 1);
    }
    if (p >= end) throw new DumpFormatError(`metadata: #Strings entry at 0x${index.toString(16)} has no terminating NUL`);
    // ASCII (nearly every name) is copied out natively in one call; a string built a character at a time made
    // garbage per character when thousands of type names are read.
    const s = ascii ? (this.latin1 ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('latin1', from, p) : utf8.decode(b.subarray(from, p));
    this.cache.set(index, s);
    return s;
  }

  /** True when the string at `index` is exactly the UTF-8 bytes `utf8Bytes`: a name lookup compares bytes in place
   * instead of decoding every row's name. An index outside the heap is no match. */
  equals(index: number, utf8Bytes: Uint8Array): boolean {
    const n = utf8Bytes.length;
    if (index === 0) return n === 0;
    if (index >= this.size || index + n >= this.size) return false;
    const b = this.bytes;
    const from = this.start + index;
    this.lazy?.ensure(from, n + 1);
    for (let i = 0; i < n; i++) if (b[from + i] !== utf8Bytes[i]) return false;
    return b[from + n] === 0;
  }
}

/** The `#Blob` heap: length-prefixed byte runs indexed by byte offset (II.24.2.4). */
export class BlobHeap {
  /** A heap over `bytes[start, start+size)`. */
  constructor(
    readonly bytes: Uint8Array,
    private readonly start: number,
    readonly size: number,
    private readonly lazy?: LazyBytes,
  ) {}

  /** Absolute offset (within the metadata bytes) of the first data byte of blob `index`; throws `DumpFormatError`
   * when the blob is outside the heap. Pair with `length`. */
  dataOffset(index: number): number {
    const packed = this.header(index);
    return this.start + index + (packed & 7);
  }

  /** Length of blob `index`; throws `DumpFormatError` when the blob is outside the heap. */
  length(index: number): number {
    return Math.floor(this.header(index) / 8);
  }

  /** A view of blob `index` (no copy); throws `DumpFormatError` when the blob is outside the heap. */
  get(index: number): Uint8Array {
    const packed = this.header(index);
    const from = this.start + index + (packed & 7);
    return this.bytes.subarray(from, from + Math.floor(packed / 8));
  }

  private header(index: number): number {
    if (index >= this.size) throw new DumpFormatError(`metadata: #Blob index 0x${index.toString(16)} is past the heap (${this.size} bytes)`);
    const end = this.start + this.size;
    this.lazy?.ensure(this.start + index, 4);
    const packed = readCompressedPacked(this.bytes, this.start + index, end);
    if (this.start + index + (packed & 7) + Math.floor(packed / 8) > end) {
      throw new DumpFormatError(`metadata: #Blob entry at 0x${index.toString(16)} runs past the heap`);
    }
    this.lazy?.ensure(this.start + index, (packed & 7) + Math.floor(packed / 8));
    return packed;
  }
}

/** The `#GUID` heap: 16-byte GUIDs with a 1-based index (II.24.2.5). */
export class GuidHeap {
  /** A heap over `bytes[start, start+size)`. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    readonly size: number,
    private readonly lazy?: LazyBytes,
  ) {}

  /** GUID `index` in the registry form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` ('' for index 0); throws
   * `DumpFormatError` when it is outside the heap. */
  get(index: number): string {
    if (index === 0) return '';
    const o = (index - 1) * 16;
    if (o + 16 > this.size) throw new DumpFormatError(`metadata: #GUID index ${index} is past the heap (${this.size} bytes)`);
    const b = this.bytes;
    const p = this.start + o;
    this.lazy?.ensure(p, 16);
    const h = (i: number): string => b[p + i].toString(16).padStart(2, '0');
    // The first three groups are little-endian integers (Data1 u32, Data2 u16, Data3 u16).
    return (
      h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
      h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
    );
  }
}

/** The `#US` heap: length-prefixed UTF-16 strings with a trailing flag byte (II.24.2.4). */
export class UserStringHeap {
  /** A heap over `bytes[start, start+size)`. */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    readonly size: number,
    private readonly lazy?: LazyBytes,
  ) {}

  /** The user string at `index`; throws `DumpFormatError` when it is outside the heap. */
  get(index: number): string {
    if (index === 0) return '';
    if (index >= this.size) throw new DumpFormatError(`metadata: #US index 0x${index.toString(16)} is past the heap`);
    const end = this.start + this.size;
    this.lazy?.ensure(this.start + index, 4);
    const packed = readCompressedPacked(this.bytes, this.start + index, end);
    const from = this.start + index + (packed & 7);
    const len = Math.floor(packed / 8);
    this.lazy?.ensure(from, len);
    if (from + len > end) throw new DumpFormatError(`metadata: #US entry at 0x${index.toString(16)} runs past the heap`);
    // The last byte is a flag (II.24.2.4), not a character.
    const chars = len & ~1;
    return utf16.decode(this.bytes.subarray(from, from + chars));
  }
}
