/**
 * The bit stream of GC info (dotnet/runtime src/coreclr/inc/gcinfodecoder.h `BitStreamReader`): bits are read
 * LSB-first from little-endian bytes, and variable-length numbers come in chunks of `base` data bits plus one
 * "more" bit (GCInfo.md; research/code-and-stacks-net10.md §5.2).
 */
import { DumpFormatError } from '../../errors';

/** Thrown when a read runs past the end of the bytes given (the caller may retry with more bytes). */
export class GcInfoTruncatedError extends DumpFormatError {}

/** Largest value width read at once: GC info fields are 32-bit (UINT32/size_t values below 2^32 in practice). */
const MAX_READ_BITS = 32;
/** A variable-length number has at most this many data bits (the runtime reads them into a size_t). */
const MAX_VARLEN_BITS = 64;

/** Reads bits and GC-info variable-length numbers from a byte array; `position` counts bits from the blob start. */
export class GcInfoBitReader {
  /** Current bit position. */
  position = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Bits available in the byte array. */
  get length(): number {
    return this.bytes.length * 8;
  }

  /** Reads one bit. @throws GcInfoTruncatedError past the end. */
  readOne(): number {
    const p = this.position;
    const byte = p >>> 3;
    if (byte >= this.bytes.length) throw new GcInfoTruncatedError(`GC info ends before bit ${p}`);
    this.position = p + 1;
    return (this.bytes[byte]! >>> (p & 7)) & 1;
  }

  /** Reads `count` (0…32) bits as an unsigned number, least significant first. @throws GcInfoTruncatedError past the end. */
  read(count: number): number {
    if (count < 0 || count > MAX_READ_BITS) throw new DumpFormatError(`GC info: cannot read ${count} bits at once`);
    let value = 0;
    let scale = 1;
    let remaining = count;
    while (remaining > 0) {
      const p = this.position;
      const byte = p >>> 3;
      if (byte >= this.bytes.length) throw new GcInfoTruncatedError(`GC info ends before bit ${p}`);
      const shift = p & 7;
      const take = Math.min(8 - shift, remaining);
      const bits = (this.bytes[byte]! >>> shift) & ((1 << take) - 1);
      value += bits * scale;
      scale *= 2 ** take;
      remaining -= take;
      this.position = p + take;
    }
    return value;
  }

  /** Skips `count` bits. */
  skip(count: number): void {
    this.position += count;
  }

  /** `DecodeVarLengthUnsigned(base)`: chunks of base+1 bits, the top bit of each saying another chunk follows. */
  decodeVarLengthUnsigned(base: number): number {
    let value = 0;
    let scale = 1;
    for (let bits = 0; ; bits += base) {
      if (bits >= MAX_VARLEN_BITS) throw new DumpFormatError(`GC info: variable-length number at bit ${this.position} does not end`);
      const chunk = this.read(base + 1);
      value += (chunk % 2 ** base) * scale;
      scale *= 2 ** base;
      if (chunk < 2 ** base) return value;
    }
  }

  /** `DecodeVarLengthSigned(base)`: like the unsigned form, then sign-extended from the total number of data bits. */
  decodeVarLengthSigned(base: number): number {
    let value = 0;
    let scale = 1;
    for (let bits = 0; ; bits += base) {
      if (bits >= MAX_VARLEN_BITS) throw new DumpFormatError(`GC info: variable-length number at bit ${this.position} does not end`);
      const chunk = this.read(base + 1);
      value += (chunk % 2 ** base) * scale;
      scale *= 2 ** base;
      if (chunk < 2 ** base) return value >= scale / 2 ? value - scale : value;
    }
  }
}

/** `CeilOfLog2(x)`: the number of bits needed for values 0 … x−1 (0 for x ≤ 1). */
export function ceilOfLog2(x: number): number {
  let bits = 0;
  while (2 ** bits < x) bits++;
  return bits;
}
