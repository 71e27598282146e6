/**
 * A JIT'd method's debug info (.NET 8–10 format, dotnet/runtime src/coreclr/vm/debuginfostore.cpp): the blob at
 * `RealCodeHeader.phdrDebugInfo` is a flag byte (patchpoint / rich info follow when set), a nibble-encoded header
 * (bounds and vars byte counts), the IL↔native offset map and the native var info (where each IL argument and
 * local lives over which native range). Nibble encoding: low nibble first, 3 data bits per nibble, the high bit
 * says another nibble follows (most significant group first); signed values keep the sign in bit 0.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import type { MemoryReader } from '../../dump/memory-reader';

/** One IL-offset mapping (ICorDebugInfo::OffsetMapping). `ilOffset` -1 no mapping, -2 prolog, -3 epilog. */
export interface OffsetMapping {
  readonly nativeOffset: number;
  readonly ilOffset: number;
  readonly source: number;
}

/** ICorDebugInfo::VarLocType. */
export const VarLocType = { REG: 0, REG_BYREF: 1, REG_FP: 2, STK: 3, STK_BYREF: 4, REG_REG: 5, REG_STK: 6, STK_REG: 7, STK2: 8, FPSTK: 9, FIXED_VA: 10 } as const;

/** Where one variable lives over [startOffset, endOffset) of the native code (ICorDebugInfo::NativeVarInfo). */
export interface NativeVarInfo {
  readonly startOffset: number;
  readonly endOffset: number;
  /** IL variable number: arguments first (`this` included), then locals; negative for special variables. */
  readonly varNumber: number;
  readonly type: number;
  /** Registers (RegNum: RAX 0 … R15 15, 16 the ambient SP) and stack offsets, by type. */
  readonly reg?: number;
  readonly reg2?: number;
  readonly baseReg?: number;
  readonly offset?: number;
}

/** The decoded debug info of one method. */
export interface MethodDebugInfo {
  readonly bounds: readonly OffsetMapping[];
  readonly vars: readonly NativeVarInfo[];
}

const FLAG_PATCHPOINT = 1;
const FLAG_RICH = 2;
/** @internal A cap on bounds and variable entries of one method. */
export const MAX_ENTRIES = 1_000_000;
// ICorDebugInfo::MAX_MAPPING_VALUE and MAX_ILNUM: the lower bounds the encoder subtracts.
const MAX_MAPPING_VALUE = -3;
const MAX_ILNUM = -4;
const SOURCE_TYPE_BITS = 2;

/** @internal The debug-info nibble stream (NibbleReader in dotnet/runtime src/coreclr/inc/nibblestream.h). */
export class NibbleReader {
  private index = 0;
  constructor(private readonly bytes: Uint8Array) {}

  nibble(): number {
    const byte = this.bytes[this.index >> 1];
    if (byte === undefined) throw new DumpFormatError('debug info: the nibble stream ends early');
    const n = this.index & 1 ? byte >> 4 : byte & 0xf;
    this.index++;
    return n;
  }

  /** The next unsigned nibble-encoded number.
   * @throws DumpFormatError when the stream ends or the number is too long. */
  u32(): number {
    let value = 0;
    for (let k = 0; ; k++) {
      if (k > 11) throw new DumpFormatError('debug info: an encoded number is too long');
      const n = this.nibble();
      value = value * 8 + (n & 7);
      if ((n & 8) === 0) break;
    }
    return value >>> 0;
  }

  /** The next signed number (sign in bit 0). */
  i32(): number {
    const x = this.u32();
    const magnitude = Math.floor(x / 2);
    return x % 2 === 1 ? -magnitude : magnitude;
  }

  /** The index of the next whole byte. */
  nextByte(): number {
    return (this.index + 1) >> 1;
  }
}

/** The size of the PatchpointInfo (OSR methods) at `at`, as PatchpointInfo::PatchpointInfoSize computes it on
 * .NET 10 x64: a 40-byte fixed part whose u32 at 16 is the local count, then one int per local (offset and
 * exposure). Checked: each local's entry must be an even-or-odd frame offset within the frame size at 20.
 * @throws DumpFormatError when the layout does not check out. */
function patchpointInfoSize(memory: MemoryReader, at: number): number {
  const FIXED = 40;
  const locals = memory.readU32(at + 16);
  const frameSize = memory.readI32(at + 20);
  if (locals > 65_535 || frameSize < 0 || frameSize > 1 << 24) throw new DumpFormatError(`PatchpointInfo at 0x${at.toString(16)}: ${locals} locals, frame size ${frameSize}: not the .NET 10 layout`);
  for (let i = 0; i < locals; i++) {
    const offset = memory.readI32(at + FIXED + 4 * i) >> 1;
    if (Math.abs(offset) > frameSize + 64) throw new DumpFormatError(`PatchpointInfo at 0x${at.toString(16)}: local ${i} at offset ${offset} outside the ${frameSize}-byte frame`);
  }
  return FIXED + 4 * locals;
}

/** Decodes the debug info blob at `address` (a JIT'd method's; `hasFlagByte` false for ReadyToRun).
 * @throws DumpFormatError for a malformed stream or an unexpected patchpoint layout; UnmappedAddressError. */
export function readMethodDebugInfo(memory: MemoryReader, address: number, hasFlagByte = true): MethodDebugInfo {
  let at = address;
  if (hasFlagByte) {
    const flags = memory.readU8(at++);
    if (flags & ~(FLAG_PATCHPOINT | FLAG_RICH)) throw new DumpFormatError(`debug info at 0x${address.toString(16)} has unknown flags 0x${flags.toString(16)}`);
    if (flags & FLAG_PATCHPOINT) at += patchpointInfoSize(memory, at);
    // Rich info (off unless DOTNET_RichDebugInfo): a u32 size, then that many bytes.
    if (flags & FLAG_RICH) at += 4 + memory.readU32(at);
  }
  const header = new NibbleReader(memory.read(at, 12));
  const cbBounds = header.u32();
  const cbVars = header.u32();
  if (cbBounds > 16 * MAX_ENTRIES || cbVars > 16 * MAX_ENTRIES) throw new LimitExceededError(`debug info at 0x${address.toString(16)} claims ${cbBounds} + ${cbVars} bytes`);
  const boundsAt = at + header.nextByte();
  const bounds = cbBounds > 0 ? decodeBounds(memory.read(boundsAt, cbBounds), SOURCE_TYPE_BITS) : [];
  const vars: NativeVarInfo[] = [];
  if (cbVars > 0) {
    const r = new NibbleReader(memory.read(boundsAt + cbBounds, cbVars));
    const count = r.u32();
    if (count > MAX_ENTRIES) throw new LimitExceededError(`debug info claims ${count} variables`);
    for (let i = 0; i < count; i++) {
      const startOffset = r.u32();
      const endOffset = startOffset + r.u32();
      const varNumber = (r.u32() + MAX_ILNUM) | 0;
      vars.push(readVarLocation(r, startOffset, endOffset, varNumber));
    }
  }
  return { bounds, vars };
}

/** @internal Decodes a bounds chunk: the count and the bit widths (minus one) of native deltas and IL offsets, nibble-encoded,
 * then one little-endian bit field per entry: [source bits][native delta][IL offset + 3]. The source is 2 bits
 * (an enumeration) on .NET 8–10 and 3 independent flag bits from .NET 11 (DebugInfo contract c1).
 * @throws DumpFormatError when the chunk is malformed; LimitExceededError for an absurd count. */
export function decodeBounds(bytes: Uint8Array, sourceBits: number): OffsetMapping[] {
  const bounds: OffsetMapping[] = [];
  const r = new NibbleReader(bytes);
  const count = r.u32();
  if (count > MAX_ENTRIES) throw new LimitExceededError(`debug info claims ${count} offset mappings`);
  const nativeBits = r.u32() + 1;
  const ilBits = r.u32() + 1;
  const entryBits = sourceBits + nativeBits + ilBits;
  if (nativeBits > 32 || ilBits > 32) throw new DumpFormatError(`debug info bounds claim ${nativeBits}/${ilBits}-bit fields`);
  let byte = r.nextByte();
  // The entries fill whole bytes: a chunk of another length was written in another format.
  const expected = byte + Math.ceil((count * entryBits) / 8);
  if (expected !== bytes.length) throw new DumpFormatError(`debug info bounds: ${count} entries of ${entryBits} bits need ${expected} bytes, the chunk has ${bytes.length}`);
  let acc = 0n;
  let have = 0;
  let native = 0;
  const mask = (bits: number) => (1n << BigInt(bits)) - 1n;
  while (bounds.length < count) {
    const b = bytes[byte++];
    if (b === undefined) throw new DumpFormatError('debug info: the bounds end early');
    acc |= BigInt(b) << BigInt(have);
    have += 8;
    while (have >= entryBits && bounds.length < count) {
      let entry = acc & mask(entryBits);
      acc >>= BigInt(entryBits);
      have -= entryBits;
      const source = Number(entry & mask(sourceBits));
      entry >>= BigInt(sourceBits);
      native += Number(entry & mask(nativeBits));
      entry >>= BigInt(nativeBits);
      bounds.push({ nativeOffset: native, ilOffset: (Number(entry) + MAX_MAPPING_VALUE) | 0, source });
    }
  }
  return bounds;
}

/** @internal Reads one variable's location (VarLocType, then its registers and stack offsets) after its offsets and number.
 * @throws DumpFormatError for an unknown location type. */
export function readVarLocation(r: NibbleReader, startOffset: number, endOffset: number, varNumber: number): NativeVarInfo {
  const type = r.u32();
  const base = { startOffset, endOffset, varNumber, type };
  switch (type) {
    case VarLocType.REG:
    case VarLocType.REG_FP:
    case VarLocType.REG_BYREF:
      return { ...base, reg: r.u32() };
    case VarLocType.STK:
    case VarLocType.STK_BYREF:
    case VarLocType.STK2:
      return { ...base, baseReg: r.u32(), offset: r.i32() };
    case VarLocType.REG_REG:
      return { ...base, reg: r.u32(), reg2: r.u32() };
    case VarLocType.REG_STK:
      return { ...base, reg: r.u32(), baseReg: r.u32(), offset: r.i32() };
    case VarLocType.STK_REG: {
      const offset = r.i32();
      const baseReg = r.u32();
      return { ...base, offset, baseReg, reg: r.u32() };
    }
    case VarLocType.FPSTK:
    case VarLocType.FIXED_VA:
      return { ...base, offset: r.u32() };
    default:
      throw new DumpFormatError(`debug info: unknown variable location type ${type}`);
  }
}

const READYTORUN_SIGNATURE = 0x00525452; // 'RTR'
const READYTORUN_SECTION_DEBUG_INFO = 105;
const MAX_SECTIONS = 256;

/** NativeFormat's variable-length unsigned integer at `offset` of `bytes`-reader `at` (low bits say the length). */
function decodeUnsigned(memory: MemoryReader, address: number): { value: number; next: number } {
  const b0 = memory.readU8(address);
  if ((b0 & 1) === 0) return { value: b0 >> 1, next: address + 1 };
  if ((b0 & 2) === 0) return { value: (b0 >> 2) | (memory.readU8(address + 1) << 6), next: address + 2 };
  if ((b0 & 4) === 0) return { value: (b0 >> 3) | (memory.readU8(address + 1) << 5) | (memory.readU8(address + 2) << 13), next: address + 3 };
  if ((b0 & 8) === 0) return { value: ((b0 >> 4) | (memory.readU8(address + 1) << 4) | (memory.readU8(address + 2) << 12) | (memory.readU8(address + 3) << 20)) >>> 0, next: address + 4 };
  if ((b0 & 16) === 0) return { value: memory.readU32(address + 1), next: address + 5 };
  throw new DumpFormatError(`NativeFormat: bad unsigned at 0x${address.toString(16)}`);
}

/** Element `index` of a NativeFormat NativeArray at `base` (image RVAs are relative to `imageBase`): the address of
 * the element's data, or undefined when the array has none there. */
function nativeArrayAt(memory: MemoryReader, imageBase: number, base: number, index: number): number | undefined {
  const BLOCK_SIZE = 16;
  const head = decodeUnsigned(memory, base);
  const count = Math.floor(head.value / 4);
  const entryIndexSize = head.value & 3;
  if (index >= count) return undefined;
  const arrayBase = head.next;
  const block = Math.floor(index / BLOCK_SIZE);
  let offset =
    entryIndexSize === 0 ? memory.readU8(arrayBase + block) : entryIndexSize === 1 ? memory.readU16(arrayBase + 2 * block) : memory.readU32(arrayBase + 4 * block);
  offset += arrayBase;
  for (let bit = BLOCK_SIZE >> 1; bit > 0; bit >>= 1) {
    const { value, next } = decodeUnsigned(memory, offset);
    if (index & bit) {
      if (value & 2) {
        offset += value >> 2;
        continue;
      }
    } else if (value & 1) {
      offset = next;
      continue;
    }
    if ((value & 3) === 0 && value >> 2 === (index & (BLOCK_SIZE - 1))) return next;
    return undefined;
  }
  void imageBase;
  return offset;
}

/** The debug info blob of a ReadyToRun method: the image's DebugInfo section is a NativeArray by runtime function
 * index whose element is the blob's offset (or a look-back to a shared one). Undefined when the image has none. */
export function readyToRunDebugInfoAddress(memory: MemoryReader, imageBase: number, header: number, runtimeFunctionIndex: number): number | undefined {
  if (header === 0 || memory.readU32(header) !== READYTORUN_SIGNATURE) return undefined;
  const sections = memory.readU32(header + 12);
  if (sections > MAX_SECTIONS) throw new LimitExceededError(`READYTORUN_HEADER claims ${sections} sections`);
  for (let i = 0; i < sections; i++) {
    const at = header + 16 + i * 12;
    if (memory.readU32(at) !== READYTORUN_SECTION_DEBUG_INFO) continue;
    const element = nativeArrayAt(memory, imageBase, imageBase + memory.readU32(at + 4), runtimeFunctionIndex);
    if (element === undefined) return undefined;
    const { value: lookBack, next } = decodeUnsigned(memory, element);
    return lookBack !== 0 ? element - lookBack : next;
  }
  return undefined;
}
