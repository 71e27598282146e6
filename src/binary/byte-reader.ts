import { DumpFormatError } from '../errors';

/** 2^53 split at the 32-bit boundary: the high word of a u64 that fits in a `number` is below this. */
const MAX_SAFE_HIGH_WORD = 0x200000;

/** Combines two 32-bit halves into a `number`; throws `DumpFormatError` naming `what` when the value is ≥ 2^53. */
export function combineU64(low: number, high: number, what: string): number {
  if (high >= MAX_SAFE_HIGH_WORD) {
    throw new DumpFormatError(
      `${what}: 64-bit value 0x${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')} does not fit in 2^53`,
    );
  }
  return high * 0x100000000 + low;
}

/**
 * Bounds-checked little-endian reads at absolute offsets of one byte array; every read past the end throws
 * `DumpFormatError` ("<what> is truncated ..."), and u64 reads that do not fit in 2^53 throw `DumpFormatError`.
 */
export class ByteReader {
  /** The DataView over exactly `bytes`, kept so reads allocate nothing. */
  readonly view: DataView;

  /** Wraps `bytes`; `what` names the structure in error messages (e.g. "program header table"). */
  constructor(
    readonly bytes: Uint8Array,
    readonly what: string = 'data',
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Number of bytes in the array. */
  get length(): number {
    return this.bytes.length;
  }

  /** Throws `DumpFormatError` unless [offset, offset+size) lies inside the array. */
  check(offset: number, size: number): void {
    // Written so NaN, negatives and huge values all fail: the comparisons are false for NaN.
    if (!(offset >= 0 && size >= 0 && offset + size <= this.bytes.length)) {
      throw new DumpFormatError(
        `${this.what} is truncated: needs ${size} bytes at offset ${offset}, has ${this.bytes.length}`,
      );
    }
  }

  /** True when [offset, offset+size) lies inside the array. */
  has(offset: number, size: number): boolean {
    return offset >= 0 && size >= 0 && offset + size <= this.bytes.length;
  }

  /** Unsigned byte. */
  u8(offset: number): number {
    this.check(offset, 1);
    return this.bytes[offset]!;
  }

  /** Unsigned 16-bit little-endian. */
  u16(offset: number): number {
    this.check(offset, 2);
    return this.view.getUint16(offset, true);
  }

  /** Signed 16-bit little-endian. */
  i16(offset: number): number {
    this.check(offset, 2);
    return this.view.getInt16(offset, true);
  }

  /** Unsigned 32-bit little-endian. */
  u32(offset: number): number {
    this.check(offset, 4);
    return this.view.getUint32(offset, true);
  }

  /** Signed 32-bit little-endian. */
  i32(offset: number): number {
    this.check(offset, 4);
    return this.view.getInt32(offset, true);
  }

  /** Unsigned 64-bit little-endian as a `number`; throws `DumpFormatError` when ≥ 2^53. */
  u64(offset: number): number {
    this.check(offset, 8);
    return combineU64(this.view.getUint32(offset, true), this.view.getUint32(offset + 4, true), this.what);
  }

  /** Unsigned 64-bit little-endian as a `number`, or undefined when ≥ 2^53 (for values that may be junk). */
  tryU64(offset: number): number | undefined {
    this.check(offset, 8);
    const high = this.view.getUint32(offset + 4, true);
    return high >= MAX_SAFE_HIGH_WORD ? undefined : high * 0x100000000 + this.view.getUint32(offset, true);
  }

  /** Unsigned 64-bit little-endian as a `bigint` (registers and other values that need not be addresses). */
  u64Big(offset: number): bigint {
    this.check(offset, 8);
    return this.view.getBigUint64(offset, true);
  }

  /** A view (not a copy) of `length` bytes at `offset`. */
  bytesAt(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  /** A NUL-terminated UTF-8 string starting at `offset`, at most `maxLength` bytes; unterminated → up to the limit. */
  cstring(offset: number, maxLength: number = this.bytes.length - offset): string {
    this.check(offset, 0);
    const limit = Math.min(this.bytes.length, offset + Math.max(0, maxLength));
    let end = offset;
    while (end < limit && this.bytes[end] !== 0) end++;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + offset, end - offset).toString('utf8');
  }
}
