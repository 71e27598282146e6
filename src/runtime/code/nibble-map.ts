/**
 * The code heap's nibble map, version 2 (O(1) lookup): from an address inside JIT'd code to the start of its method.
 * Layout: dotnet/runtime docs/design/datacontracts/ExecutionManager.md and the cDAC's NibbleMapConstantLookup.cs.
 * One nibble per 32-byte bucket, eight nibbles per u32 "map unit" with nibble 0 the most significant; a unit whose
 * low nibble is > 8 is a relative pointer to the start of the method that covers the whole unit.
 */
import type { MemoryReader } from '../../dump/memory-reader';

const BYTES_PER_BUCKET = 32;
const NIBBLES_PER_UNIT = 8;

/** True when a map unit holds a relative pointer rather than nibbles. */
export function isNibbleMapPointer(unit: number): boolean {
  return unit % 16 > 8;
}

/** Decodes a relative-pointer map unit into an absolute method start. */
export function decodeNibbleMapPointer(mapBase: number, unit: number): number {
  const nibble = unit % 16;
  return mapBase + (unit - nibble) + (nibble - 9) * 4;
}

/** The method start for `address` given the heap's `mapBase` and nibble map `headerMap`, or 0 when the address is
 * not inside a method. Reads at most two map units. @throws UnmappedAddressError when the map is not in the dump. */
export function findMethodStartInNibbleMap(memory: MemoryReader, mapBase: number, headerMap: number, address: number): number {
  const rel = address - mapBase;
  if (rel < 0) return 0;
  let bucket = Math.floor(rel / BYTES_PER_BUCKET);
  const posInBucket = Math.floor((rel % BYTES_PER_BUCKET) / 4) + 1;
  let unitIndex = Math.floor(bucket / NIBBLES_PER_UNIT);
  let unit = memory.readU32(headerMap + unitIndex * 4);
  if (isNibbleMapPointer(unit)) return decodeNibbleMapPointer(mapBase, unit);
  // Bring this bucket's nibble to the low four bits; shifting right by 4 then walks to earlier buckets.
  let t = Math.floor(unit / 2 ** (28 - 4 * (bucket % NIBBLES_PER_UNIT)));
  const own = t % 16;
  if (own !== 0 && own <= posInBucket) return startOf(mapBase, bucket, own);
  t = Math.floor(t / 16);
  if (t !== 0) {
    bucket--;
    while (t % 16 === 0) {
      t = Math.floor(t / 16);
      bucket--;
    }
    return startOf(mapBase, bucket, t % 16);
  }
  if (unitIndex === 0) return 0;
  // In v2 a method that covers a whole unit writes a pointer there, so one unit back is always enough.
  unitIndex--;
  bucket = unitIndex * NIBBLES_PER_UNIT + NIBBLES_PER_UNIT - 1;
  unit = memory.readU32(headerMap + unitIndex * 4);
  if (unit === 0) return 0;
  if (isNibbleMapPointer(unit)) return decodeNibbleMapPointer(mapBase, unit);
  t = unit;
  while (bucket > 0 && t % 16 === 0) {
    t = Math.floor(t / 16);
    bucket--;
  }
  return startOf(mapBase, bucket, t % 16);
}

function startOf(mapBase: number, bucket: number, nibble: number): number {
  return mapBase + bucket * BYTES_PER_BUCKET + (nibble - 1) * 4;
}
