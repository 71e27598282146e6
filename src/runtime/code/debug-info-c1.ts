/**
 * A method's debug info as .NET 11 stores it (DebugInfo contract "c1", dotnet/runtime
 * docs/design/datacontracts/DebugInfo.md): no flag byte for JIT'd code any more; the blob opens with a nibble-encoded
 * header that is either slim (bounds size, vars size) or fat (a 0 marker, then the sizes of bounds, vars,
 * uninstrumented bounds, patchpoint info, rich info and async info), and the chunks follow in that order. Bounds
 * entries carry 3 source-flag bits; each variable starts with its number (biased by MAX_ILNUM -6), then its start
 * offset, then either its length or — for a call's return value (CALL_RETURN_ILNUM -5) — the call's IL offset.
 */
import { DumpFormatError, LimitExceededError, UnmappedAddressError } from '../../errors';
import type { MemoryReader } from '../../dump/memory-reader';
import { decodeBounds, MAX_ENTRIES, NibbleReader, readVarLocation, type MethodDebugInfo, type NativeVarInfo } from './debug-info';

const DEBUG_INFO_FAT = 0;
const SOURCE_TYPE_BITS = 3;
const MAX_ILNUM = -6;
const CALL_RETURN_ILNUM = -5;
/** Seven numbers of at most 11 nibbles each. */
const MAX_HEADER_BYTES = 42;
const MAX_CHUNK_BYTES = 16 * MAX_ENTRIES;

/** The sizes of a c1 blob's chunks and where its bounds start. */
interface Chunks {
  readonly boundsAt: number;
  readonly boundsSize: number;
  readonly varsSize: number;
}

function readChunks(memory: MemoryReader, address: number): Chunks {
  // The header is at most 42 bytes; a short blob at the end of a mapping may have fewer after it.
  const pageEnd = Math.floor(address / 4096) * 4096 + 4096;
  let bytes: Uint8Array;
  try {
    bytes = memory.read(address, MAX_HEADER_BYTES);
  } catch (e) {
    if (!(e instanceof UnmappedAddressError) || pageEnd - address >= MAX_HEADER_BYTES) throw e;
    bytes = memory.read(address, pageEnd - address);
  }
  const r = new NibbleReader(bytes);
  const first = r.u32();
  let boundsSize = first;
  let varsSize: number;
  if (first === DEBUG_INFO_FAT) {
    boundsSize = r.u32();
    varsSize = r.u32();
    // Uninstrumented bounds, patchpoint info, rich info and async info follow bounds and vars: not needed here.
    for (let i = 0; i < 4; i++) r.u32();
  } else {
    varsSize = r.u32();
  }
  if (boundsSize > MAX_CHUNK_BYTES || varsSize > MAX_CHUNK_BYTES) throw new LimitExceededError(`debug info at 0x${address.toString(16)} claims ${boundsSize} + ${varsSize} bytes`);
  return { boundsAt: address + r.nextByte(), boundsSize, varsSize };
}

/** @internal Decodes the c1 debug info blob at `address` (JIT'd and ReadyToRun code alike).
 * @throws DumpFormatError for a malformed stream; LimitExceededError for absurd sizes; UnmappedAddressError. */
export function readMethodDebugInfoC1(memory: MemoryReader, address: number): MethodDebugInfo {
  const { boundsAt, boundsSize, varsSize } = readChunks(memory, address);
  const bounds = boundsSize > 0 ? decodeBounds(memory.read(boundsAt, boundsSize), SOURCE_TYPE_BITS) : [];
  const vars: NativeVarInfo[] = [];
  if (varsSize > 0) {
    const r = new NibbleReader(memory.read(boundsAt + boundsSize, varsSize));
    const count = r.u32();
    if (count > MAX_ENTRIES) throw new LimitExceededError(`debug info claims ${count} variables`);
    for (let i = 0; i < count; i++) {
      const varNumber = (r.u32() + MAX_ILNUM) | 0;
      const startOffset = r.u32();
      // A call's return value lives for one instruction; its entry names the call's IL offset instead of a length.
      let endOffset = startOffset + 1;
      if (varNumber === CALL_RETURN_ILNUM) r.u32();
      else endOffset = startOffset + r.u32();
      vars.push(readVarLocation(r, startOffset, endOffset, varNumber));
    }
    if (r.nextByte() !== varsSize) throw new DumpFormatError(`debug info at 0x${address.toString(16)}: ${count} variables end at byte ${r.nextByte()} of a ${varsSize}-byte chunk`);
  }
  return { bounds, vars };
}
