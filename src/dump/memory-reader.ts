/**
 * The one interface through which everything above `dump/` sees a process's memory.
 */

/** Random-access reads of a target's virtual memory. Every method throws `UnmappedAddressError` for memory
 * that is neither in the dump nor in an overlaid image file. Integers wider than 53 bits throw `DumpFormatError`. */
export interface MemoryReader {
  /** 8 on the 64-bit targets we read. */
  readonly pointerSize: number;
  /** `length` bytes at `address`. The result may be a view into a shared cache: copy it to keep it. */
  read(address: number, length: number): Uint8Array;
  /** Like `read`, but returns as many bytes as are mapped contiguously from `address` (0 bytes when none). */
  readUpTo(address: number, length: number): Uint8Array;
  /** True when all of [address, address+length) can be read. */
  isMapped(address: number, length: number): boolean;
  readU8(address: number): number;
  readU16(address: number): number;
  readU32(address: number): number;
  readI32(address: number): number;
  /** An unsigned 64-bit value; throws when it does not fit in 2^53. */
  readU64(address: number): number;
  /** A pointer-sized unsigned value. */
  readPointer(address: number): number;
  /** Optional: `readPointer` without keeping the page in a cache (a word checked once, on a page nothing else
   * needs); same value and errors. */
  readPointerTransient?(address: number): number;
  /** Optional fast path for big sequential reads: copies up to `length` contiguously mapped bytes from `address` into
   * `target` at `targetOffset` and returns how many were copied (0 when none), without allocating. */
  readUpToInto?(address: number, target: Uint8Array, targetOffset: number, length: number): number;
}
