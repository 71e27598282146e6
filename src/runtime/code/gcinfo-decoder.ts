/**
 * GC info (versions 3 and 4, the "GcInfoEncoder" format of every 64-bit CoreCLR target; AMD64 encoding here):
 * the header (code length, prolog/epilog, GS cookie, generics context, stack base register, reverse P/Invoke frame,
 * outgoing-argument area), safe points, interruptible ranges and the slot table, and which slots are live at a code
 * offset. A port of dotnet/runtime src/coreclr/vm/gcinfodecoder.cpp (`GcInfoDecoder` constructor,
 * `EnumerateLiveSlots`, `GcSlotDecoder::DecodeSlotTable`) and docs/design/datacontracts/GCInfo.md;
 * research/code-and-stacks-net10.md §5.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import type { MemoryReader } from '../../dump/memory-reader';
import { ceilOfLog2, GcInfoBitReader, GcInfoTruncatedError } from './gcinfo-bit-reader';

/** The target-specific encoding constants (gcinfotypes.h `AMD64GcInfoEncoding`); a future ARM64 table differs. */
export interface GcInfoEncoding {
  readonly name: string;
  readonly codeLengthEncBase: number;
  readonly normPrologSizeEncBase: number;
  readonly normEpilogSizeEncBase: number;
  readonly gsCookieStackSlotEncBase: number;
  readonly pspSymStackSlotEncBase: number;
  readonly genericsInstContextStackSlotEncBase: number;
  readonly stackBaseRegisterEncBase: number;
  readonly sizeOfEditAndContinuePreservedAreaEncBase: number;
  readonly reversePInvokeFrameEncBase: number;
  readonly sizeOfStackAreaEncBase: number;
  readonly numSafePointsEncBase: number;
  readonly numInterruptibleRangesEncBase: number;
  readonly interruptibleRangeDelta1EncBase: number;
  readonly interruptibleRangeDelta2EncBase: number;
  readonly numRegistersEncBase: number;
  readonly numStackSlotsEncBase: number;
  readonly numUntrackedSlotsEncBase: number;
  readonly registerEncBase: number;
  readonly registerDeltaEncBase: number;
  readonly stackSlotEncBase: number;
  readonly stackSlotDeltaEncBase: number;
  readonly pointerSizeEncBase: number;
  readonly liveStateRleRunEncBase: number;
  readonly liveStateRleSkipEncBase: number;
  /** log2 of NUM_NORM_CODE_OFFSETS_PER_CHUNK. */
  readonly chunkLog2: number;
  /** Stack slots and the stack-area size are stored divided by this (pointer size on AMD64). */
  readonly stackSlotScale: number;
  /** Code offsets and lengths are stored divided by this (1 on AMD64, 4 on ARM64). */
  readonly codeOffsetScale: number;
  /** DENORMALIZE_STACK_BASE_REGISTER: stored value XOR this. */
  readonly stackBaseRegisterXor: number;
  /** Whether the fat header carries SizeOfStackOutgoingAndScratchArea (FIXED_STACK_PARAMETER_SCRATCH_AREA). */
  readonly hasFixedStackParameterScratchArea: boolean;
  /** Register numbers whose values do not survive a call (IsScratchRegister). */
  readonly scratchRegisters: ReadonlySet<number>;
  readonly registerNames: readonly string[];
}

/** AMD64 (Unix ABI: rsi and rdi are scratch, UNIX_AMD64_ABI in IsScratchRegister). */
export const AMD64_GCINFO_ENCODING: GcInfoEncoding = {
  name: 'amd64',
  codeLengthEncBase: 8,
  normPrologSizeEncBase: 5,
  normEpilogSizeEncBase: 3,
  gsCookieStackSlotEncBase: 6,
  pspSymStackSlotEncBase: 6,
  genericsInstContextStackSlotEncBase: 6,
  stackBaseRegisterEncBase: 3,
  sizeOfEditAndContinuePreservedAreaEncBase: 4,
  reversePInvokeFrameEncBase: 6,
  sizeOfStackAreaEncBase: 3,
  numSafePointsEncBase: 2,
  numInterruptibleRangesEncBase: 1,
  interruptibleRangeDelta1EncBase: 6,
  interruptibleRangeDelta2EncBase: 6,
  numRegistersEncBase: 2,
  numStackSlotsEncBase: 2,
  numUntrackedSlotsEncBase: 1,
  registerEncBase: 3,
  registerDeltaEncBase: 2,
  stackSlotEncBase: 6,
  stackSlotDeltaEncBase: 4,
  pointerSizeEncBase: 3,
  liveStateRleRunEncBase: 2,
  liveStateRleSkipEncBase: 4,
  chunkLog2: 6,
  stackSlotScale: 8,
  codeOffsetScale: 1,
  stackBaseRegisterXor: 5,
  hasFixedStackParameterScratchArea: true,
  scratchRegisters: new Set([0, 1, 2, 6, 7, 8, 9, 10, 11]),
  registerNames: ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'],
};

/** Windows x64: rsi and rdi are callee-saved (Microsoft x64 calling convention), so a live reference in them is
 * reported in caller frames too; the rest of the encoding is the same. */
export const WINDOWS_AMD64_GCINFO_ENCODING: GcInfoEncoding = { ...AMD64_GCINFO_ENCODING, scratchRegisters: new Set([0, 1, 2, 8, 9, 10, 11]) };

/** GcInfoHeaderFlags (gcinfotypes.h). */
export const GcInfoHeaderFlags = {
  IsVarArg: 0x1,
  HasSecurityObject: 0x2,
  HasGsCookie: 0x4,
  HasPspSym: 0x8,
  GenericsInstContextMask: 0x30,
  GenericsInstContextMT: 0x10,
  GenericsInstContextMD: 0x20,
  GenericsInstContextThis: 0x30,
  HasStackBaseRegister: 0x40,
  WantsReportOnlyLeaf: 0x80,
  HasEditAndContinueInfo: 0x100,
  ReversePInvokeFrame: 0x200,
} as const;

/** GcSlotFlags: how the GC treats a slot's value. Untracked is implied by the slot's place in the table. */
export const GcSlotFlags = { Interior: 0x1, Pinned: 0x2, Untracked: 0x4 } as const;

/** GcStackSlotBase: what a stack slot's offset is relative to. */
export const GcStackSlotBase = { CallerSp: 0, Sp: 1, FrameRegister: 2 } as const;

/** One slot of the slot table: a register or a stack location that may hold a GC reference. */
export type GcSlot =
  | { readonly kind: 'register'; readonly register: number; readonly flags: number }
  | { readonly kind: 'stack'; readonly base: number; readonly offset: number; readonly flags: number };

/** A half-open range [start, stop) of code offsets where the method is fully interruptible. */
export interface InterruptibleRange {
  readonly start: number;
  readonly stop: number;
}

/** The decoded GC info of one method. */
export interface GcInfo {
  readonly version: number;
  readonly encoding: GcInfoEncoding;
  readonly slimHeader: boolean;
  readonly headerFlags: number;
  readonly isVarArg: boolean;
  /** Code length in bytes (main body and funclets; R2R: hot and cold parts). */
  readonly codeLength: number;
  /** GC info v3 and older: the return kind bits (0 when absent). */
  readonly returnKind: number;
  /** Prolog size when the header records it (GS cookie or generics context), else undefined. */
  readonly prologSize: number | undefined;
  /** GS cookie valid range [start, end), or undefined without a GS cookie. */
  readonly gsCookieValidRange: { readonly start: number; readonly end: number } | undefined;
  readonly gsCookieStackSlot: number | undefined;
  readonly pspSymStackSlot: number | undefined;
  /** The generics context ("secret" parameter) and its caller-SP-relative slot. */
  readonly genericsInstContext: { readonly kind: 'MT' | 'MD' | 'this'; readonly stackSlot: number } | undefined;
  /** The register stack slots marked FRAMEREG_REL are relative to (rbp on AMD64), undefined when none. */
  readonly stackBaseRegister: number | undefined;
  readonly sizeOfEditAndContinuePreservedArea: number | undefined;
  readonly reversePInvokeFrameStackSlot: number | undefined;
  /** Bytes at SP holding outgoing arguments and scratch space: slots there are only live in the active frame. */
  readonly sizeOfStackOutgoingAndScratchArea: number;
  /** Safe-point code offsets (v4: return addresses of calls; v3: return address − 1), ascending. */
  readonly safePoints: readonly number[];
  readonly interruptibleRanges: readonly InterruptibleRange[];
  /** Registers first, then tracked stack slots, then untracked stack slots. */
  readonly slots: readonly GcSlot[];
  readonly numRegisters: number;
  readonly numTracked: number;
  readonly numUntracked: number;
  /** Bytes the GC info occupies (rounded up), as far as the decoder read it. */
  readonly sizeInBytes: number;
  /** @internal Bit position where the live-state data (after the slot table) starts. */
  readonly liveStatePosition: number;
  /** @internal The bytes decoded. */
  readonly bytes: Uint8Array;
}

/** Options of `enumerateLiveSlots`, as the runtime's stack walk passes them (eetwain.cpp `EnumGcRefs` flags). */
export interface LiveSlotOptions {
  /** The leaf frame, or one resumed from a full context: scratch registers and the outgoing area are live. */
  readonly isActiveFrame: boolean;
  /** The frame was interrupted by an exception (ExecutionAborted): only fully interruptible code reports. */
  readonly executionAborted?: boolean;
  /** A funclet of this method was already reported (ParentOfFuncletStackFrame): report nothing. */
  readonly parentOfFunclet?: boolean;
  /** Leave out untracked slots (NoReportUntracked). */
  readonly noReportUntracked?: boolean;
}

/** A slot live at the queried offset. */
export interface LiveSlot {
  readonly index: number;
  readonly slot: GcSlot;
  /** False for untracked slots (live throughout the method). */
  readonly tracked: boolean;
}

/** What `enumerateLiveSlots` found. */
export interface LiveSlots {
  readonly slots: LiveSlot[];
  /** Whether scratch registers and outgoing-area stack slots may be reported (active frames only). */
  readonly reportScratchSlots: boolean;
  /** How the live set was found: at a safe point, in an interruptible range, untracked only, or not at all. */
  readonly how: 'safePoint' | 'interruptible' | 'untrackedOnly' | 'none';
}

const MAX_SLOTS = 1 << 20;
const MAX_SAFE_POINTS = 1 << 22;
const MAX_RANGES = 1 << 20;

/** Decodes GC info from its bytes. @throws GcInfoTruncatedError when `bytes` ends early, DumpFormatError on nonsense. */
export function decodeGcInfo(bytes: Uint8Array, version: number, encoding: GcInfoEncoding = AMD64_GCINFO_ENCODING): GcInfo {
  const e = encoding;
  const r = new GcInfoBitReader(bytes);
  const slimHeader = r.readOne() === 0;
  let headerFlags: number;
  if (slimHeader) headerFlags = r.readOne() !== 0 ? GcInfoHeaderFlags.HasStackBaseRegister : 0;
  else headerFlags = r.read(version === 1 ? 9 : 10);
  // v3 and older carried the return kind (2 bits slim, 4 bits fat); v4 dropped it (GCInfo.md "Version differences").
  const returnKind = version < 4 ? r.read(slimHeader ? 2 : 4) : 0;
  const codeLength = r.decodeVarLengthUnsigned(e.codeLengthEncBase) * e.codeOffsetScale;
  const has = (flag: number) => (headerFlags & flag) !== 0;
  const genericsKind = headerFlags & GcInfoHeaderFlags.GenericsInstContextMask;
  let prologSize: number | undefined;
  let gsCookieValidRange: { start: number; end: number } | undefined;
  if (!slimHeader && has(GcInfoHeaderFlags.HasGsCookie)) {
    const normCodeLength = codeLength / e.codeOffsetScale;
    const normProlog = r.decodeVarLengthUnsigned(e.normPrologSizeEncBase) + 1;
    const normEpilog = r.decodeVarLengthUnsigned(e.normEpilogSizeEncBase);
    prologSize = normProlog * e.codeOffsetScale;
    gsCookieValidRange = { start: prologSize, end: (normCodeLength - normEpilog) * e.codeOffsetScale };
  } else if (!slimHeader && (has(GcInfoHeaderFlags.HasSecurityObject) || genericsKind !== 0)) {
    prologSize = (r.decodeVarLengthUnsigned(e.normPrologSizeEncBase) + 1) * e.codeOffsetScale;
  }
  const slot = (base: number) => r.decodeVarLengthSigned(base) * e.stackSlotScale;
  // The security object is long gone (the flag bit is "unused" from .NET Core on); still skip its slot if set.
  if (!slimHeader && has(GcInfoHeaderFlags.HasSecurityObject)) slot(e.gsCookieStackSlotEncBase);
  const gsCookieStackSlot = !slimHeader && has(GcInfoHeaderFlags.HasGsCookie) ? slot(e.gsCookieStackSlotEncBase) : undefined;
  // v4 no longer encodes the PSPSym (funclets use the parent's frame pointer).
  const pspSymStackSlot = !slimHeader && version < 4 && has(GcInfoHeaderFlags.HasPspSym) ? slot(e.pspSymStackSlotEncBase) : undefined;
  const genericsInstContext =
    !slimHeader && genericsKind !== 0
      ? { kind: genericsKind === GcInfoHeaderFlags.GenericsInstContextMT ? ('MT' as const) : genericsKind === GcInfoHeaderFlags.GenericsInstContextMD ? ('MD' as const) : ('this' as const), stackSlot: slot(e.genericsInstContextStackSlotEncBase) }
      : undefined;
  let stackBaseRegister: number | undefined;
  if (has(GcInfoHeaderFlags.HasStackBaseRegister)) {
    const norm = slimHeader ? 0 : r.decodeVarLengthUnsigned(e.stackBaseRegisterEncBase);
    stackBaseRegister = norm ^ e.stackBaseRegisterXor;
  }
  const sizeOfEditAndContinuePreservedArea = !slimHeader && has(GcInfoHeaderFlags.HasEditAndContinueInfo) ? r.decodeVarLengthUnsigned(e.sizeOfEditAndContinuePreservedAreaEncBase) : undefined;
  const reversePInvokeFrameStackSlot = !slimHeader && has(GcInfoHeaderFlags.ReversePInvokeFrame) ? slot(e.reversePInvokeFrameEncBase) : undefined;
  const sizeOfStackOutgoingAndScratchArea = !slimHeader && e.hasFixedStackParameterScratchArea ? r.decodeVarLengthUnsigned(e.sizeOfStackAreaEncBase) * e.stackSlotScale : 0;
  const numSafePoints = r.decodeVarLengthUnsigned(e.numSafePointsEncBase);
  const numInterruptibleRanges = slimHeader ? 0 : r.decodeVarLengthUnsigned(e.numInterruptibleRangesEncBase);
  if (numSafePoints > MAX_SAFE_POINTS) throw new LimitExceededError(`GC info claims ${numSafePoints} safe points`);
  if (numInterruptibleRanges > MAX_RANGES) throw new LimitExceededError(`GC info claims ${numInterruptibleRanges} interruptible ranges`);

  // Body: safe points (fixed width), interruptible ranges (deltas), slot table (gcinfodecoder.cpp order).
  const bitsPerOffset = ceilOfLog2(codeLength / e.codeOffsetScale);
  const safePoints: number[] = [];
  for (let i = 0; i < numSafePoints; i++) safePoints.push(r.read(bitsPerOffset) * e.codeOffsetScale);
  const interruptibleRanges: InterruptibleRange[] = [];
  let lastStop = 0;
  for (let i = 0; i < numInterruptibleRanges; i++) {
    const start = lastStop + r.decodeVarLengthUnsigned(e.interruptibleRangeDelta1EncBase);
    const stop = start + r.decodeVarLengthUnsigned(e.interruptibleRangeDelta2EncBase) + 1;
    interruptibleRanges.push({ start: start * e.codeOffsetScale, stop: stop * e.codeOffsetScale });
    lastStop = stop;
  }
  const table = decodeSlotTable(r, e);
  return {
    version,
    encoding: e,
    slimHeader,
    headerFlags,
    isVarArg: has(GcInfoHeaderFlags.IsVarArg),
    codeLength,
    returnKind,
    prologSize,
    gsCookieValidRange,
    gsCookieStackSlot,
    pspSymStackSlot,
    genericsInstContext,
    stackBaseRegister,
    sizeOfEditAndContinuePreservedArea,
    reversePInvokeFrameStackSlot,
    sizeOfStackOutgoingAndScratchArea,
    safePoints,
    interruptibleRanges,
    ...table,
    sizeInBytes: Math.ceil(r.position / 8),
    liveStatePosition: r.position,
    bytes,
  };
}

/** Decodes only the code length (the first header fields), which is all `u` needs for a method's size.
 * @throws GcInfoTruncatedError, DumpFormatError. */
export function decodeGcInfoCodeLength(bytes: Uint8Array, version: number, encoding: GcInfoEncoding = AMD64_GCINFO_ENCODING): number {
  const r = new GcInfoBitReader(bytes);
  const slimHeader = r.readOne() === 0;
  if (slimHeader) r.readOne();
  else r.read(version === 1 ? 9 : 10);
  if (version < 4) r.read(slimHeader ? 2 : 4);
  return r.decodeVarLengthUnsigned(encoding.codeLengthEncBase) * encoding.codeOffsetScale;
}

/** GcSlotDecoder::DecodeSlotTable: registers, tracked stack slots, untracked stack slots, each delta-encoded after
 * its group's first entry as long as the previous slot had no flags. */
function decodeSlotTable(r: GcInfoBitReader, e: GcInfoEncoding): { slots: GcSlot[]; numRegisters: number; numTracked: number; numUntracked: number } {
  const numRegisters = r.readOne() !== 0 ? r.decodeVarLengthUnsigned(e.numRegistersEncBase) : 0;
  let numStack = 0;
  let numUntracked = 0;
  if (r.readOne() !== 0) {
    numStack = r.decodeVarLengthUnsigned(e.numStackSlotsEncBase);
    numUntracked = r.decodeVarLengthUnsigned(e.numUntrackedSlotsEncBase);
  }
  if (numRegisters + numStack + numUntracked > MAX_SLOTS) throw new LimitExceededError(`GC info claims ${numRegisters + numStack + numUntracked} slots`);
  const slots: GcSlot[] = [];
  if (numRegisters > 0) {
    let reg = r.decodeVarLengthUnsigned(e.registerEncBase);
    let flags = r.read(2);
    slots.push({ kind: 'register', register: reg, flags });
    for (let i = 1; i < numRegisters; i++) {
      if (flags !== 0) {
        reg = r.decodeVarLengthUnsigned(e.registerEncBase);
        flags = r.read(2);
      } else {
        reg += r.decodeVarLengthUnsigned(e.registerDeltaEncBase) + 1;
      }
      slots.push({ kind: 'register', register: reg, flags });
    }
  }
  const stackGroup = (count: number, extraFlags: number) => {
    if (count === 0) return;
    let base = r.read(2);
    let norm = r.decodeVarLengthSigned(e.stackSlotEncBase);
    let flags = r.read(2);
    slots.push({ kind: 'stack', base, offset: norm * e.stackSlotScale, flags: flags | extraFlags });
    for (let i = 1; i < count; i++) {
      base = r.read(2);
      if (flags !== 0) {
        norm = r.decodeVarLengthSigned(e.stackSlotEncBase);
        flags = r.read(2);
      } else {
        norm += r.decodeVarLengthUnsigned(e.stackSlotDeltaEncBase);
      }
      slots.push({ kind: 'stack', base, offset: norm * e.stackSlotScale, flags: flags | extraFlags });
    }
  };
  stackGroup(numStack, 0);
  stackGroup(numUntracked, GcSlotFlags.Untracked);
  for (const s of slots) if (s.kind === 'stack' && s.base > 2) throw new DumpFormatError(`GC info: stack slot base ${s.base} is not one of caller SP, SP, frame register`);
  return { slots, numRegisters, numTracked: numRegisters + numStack, numUntracked };
}

/** The index of the safe point at `codeOffset`, or -1 (FindSafePoint: binary search of the ascending offsets). */
export function findSafePoint(info: GcInfo, codeOffset: number): number {
  // v3 stored "return address − 1" and the runtime searched for offset − 1 of non-leaf frames; v4 stores the return
  // address itself (runtime PR #104336), so the offset is compared as is.
  const target = info.version < 4 ? codeOffset - 1 : codeOffset;
  let lo = 0;
  let hi = info.safePoints.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = info.safePoints[mid]!;
    if (v === target) return mid;
    if (v < target) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/**
 * The slots live at `codeOffset` (relative to the method start; R2R cold code counts after the hot part), with the
 * runtime's rules (gcinfodecoder.cpp `EnumerateLiveSlots`): a safe point's live set when the offset is one (and the
 * frame was not aborted), else the fully-interruptible chunk data of the range containing it; untracked slots
 * throughout, except for the parent of a funclet. Scratch filtering is the caller's (it needs the slot addresses):
 * see `reportScratchSlots` and `isScratchRegister` / `isScratchStackSlot`.
 * @throws GcInfoTruncatedError, DumpFormatError on malformed GC info.
 */
export function enumerateLiveSlots(info: GcInfo, codeOffset: number, options: LiveSlotOptions): LiveSlots {
  const e = info.encoding;
  const reportScratchSlots = options.isActiveFrame;
  const out: LiveSlot[] = [];
  // AMD64 v4 always reports only the leaf of a method and its funclets (WantsReportOnlyLeaf is ignored from v4).
  const wantsReportOnlyLeaf = info.version >= 4 || (info.headerFlags & GcInfoHeaderFlags.WantsReportOnlyLeaf) !== 0;
  if (wantsReportOnlyLeaf && options.parentOfFunclet) return { slots: out, reportScratchSlots, how: 'none' };
  const aborted = options.executionAborted === true;
  const safePointIndex = info.safePoints.length > 0 ? findSafePoint(info, codeOffset) : -1;
  const normBreak = codeOffset / e.codeOffsetScale;
  let pseudoBreak = 0;
  let interruptibleLength = 0;
  const atSafePoint = safePointIndex >= 0 && !aborted;
  if (!atSafePoint && info.interruptibleRanges.length > 0) {
    let found = false;
    for (const range of info.interruptibleRanges) {
      const start = range.start / e.codeOffsetScale;
      const stop = range.stop / e.codeOffsetScale;
      if (normBreak >= start && normBreak < stop) {
        found = true;
        pseudoBreak = interruptibleLength + normBreak - start;
      }
      interruptibleLength += stop - start;
    }
    // Not a safe point and not interruptible: the runtime reports nothing for the frame, untracked slots included.
    if (!found) return { slots: out, reportScratchSlots, how: 'none' };
  }
  const untracked = () => {
    if (info.numUntracked > 0 && !options.parentOfFunclet && !options.noReportUntracked) {
      for (let i = info.numTracked; i < info.slots.length; i++) out.push({ index: i, slot: info.slots[i]!, tracked: false });
    }
  };
  const numTracked = info.numTracked;
  if (numTracked === 0) {
    untracked();
    return { slots: out, reportScratchSlots, how: atSafePoint ? 'safePoint' : info.interruptibleRanges.length > 0 ? 'interruptible' : 'untrackedOnly' };
  }
  const r = new GcInfoBitReader(info.bytes);
  r.position = info.liveStatePosition;
  const report = (index: number) => out.push({ index, slot: info.slots[index]!, tracked: true });
  let bitsPerOffset = 0;
  if (info.safePoints.length > 0 && r.readOne() !== 0) bitsPerOffset = r.decodeVarLengthUnsigned(e.pointerSizeEncBase) + 1;
  if (atSafePoint) {
    if (bitsPerOffset !== 0) {
      // Indirect live-state table: an offset per safe point into byte-aligned live sets, shared between safe points.
      const tablePos = r.position;
      r.skip(safePointIndex * bitsPerOffset);
      const liveStateOffset = r.read(bitsPerOffset);
      const liveStatesStart = alignToByte(tablePos + info.safePoints.length * bitsPerOffset);
      r.position = liveStatesStart + liveStateOffset;
      if (r.readOne() !== 0) {
        for (const i of readRleSet(r, e, numTracked)) report(i);
        untracked();
        return { slots: out, reportScratchSlots, how: 'safePoint' };
      }
    } else {
      r.skip(safePointIndex * numTracked);
    }
    for (let i = 0; i < numTracked; i++) if (r.readOne() !== 0) report(i);
    untracked();
    return { slots: out, reportScratchSlots, how: 'safePoint' };
  }
  // The reference decoder skips the plain per-safe-point bits here whether or not the indirect table was used.
  r.skip(info.safePoints.length * numTracked);
  if (info.interruptibleRanges.length === 0) {
    untracked();
    return { slots: out, reportScratchSlots, how: 'untrackedOnly' };
  }
  const perChunk = 2 ** e.chunkLog2;
  const numChunks = Math.ceil(interruptibleLength / perChunk);
  const breakChunk = Math.floor(pseudoBreak / perChunk);
  const bitsPerPointer = r.decodeVarLengthUnsigned(e.pointerSizeEncBase);
  if (bitsPerPointer === 0) {
    untracked();
    return { slots: out, reportScratchSlots, how: 'interruptible' };
  }
  const pointerTablePos = r.position;
  let chunk = breakChunk;
  let chunkPointer = 0;
  for (;;) {
    r.position = pointerTablePos + chunk * bitsPerPointer;
    chunkPointer = r.read(bitsPerPointer);
    if (chunkPointer !== 0) break;
    // An empty chunk: the live state is the final state of the nearest earlier chunk, without transitions.
    if (chunk-- === 0) {
      untracked();
      return { slots: out, reportScratchSlots, how: 'interruptible' };
    }
  }
  const chunksStart = alignToByte(pointerTablePos + numChunks * bitsPerPointer);
  r.position = chunksStart + chunkPointer - 1;
  // The chunk: the "could be live" set (plain bits or RLE), one final-state bit per such slot, then per such slot its
  // transitions in this chunk ({1 bit more, chunkLog2-bit offset}…, 0).
  let couldBeLive: number[];
  if (r.readOne() !== 0) couldBeLive = readRleSet(r, e, numTracked);
  else {
    couldBeLive = [];
    for (let i = 0; i < numTracked; i++) if (r.readOne() !== 0) couldBeLive.push(i);
  }
  const finalStatePos = r.position;
  r.skip(couldBeLive.length);
  const breakDelta = pseudoBreak % perChunk;
  for (let k = 0; k < couldBeLive.length; k++) {
    const saved = r.position;
    r.position = finalStatePos + k;
    let live = r.readOne();
    r.position = saved;
    if (chunk === breakChunk) {
      while (r.readOne() !== 0) {
        const transition = r.read(e.chunkLog2);
        if (transition > breakDelta) live ^= 1;
      }
    }
    if (live) report(couldBeLive[k]!);
  }
  untracked();
  return { slots: out, reportScratchSlots, how: 'interruptible' };
}

/** The RLE form of a slot set (after its "RLE" flag bit): a bit saying whether it starts with a skip or a run, then
 * alternating skip/run lengths (skips in LIVESTATE_RLE_SKIP, runs in LIVESTATE_RLE_RUN; each after the first + 1). */
function readRleSet(r: GcInfoBitReader, e: GcInfoEncoding, numSlots: number): number[] {
  const out: number[] = [];
  let skip = r.readOne() === 0;
  let report = true;
  let read = r.decodeVarLengthUnsigned(skip ? e.liveStateRleSkipEncBase : e.liveStateRleRunEncBase);
  skip = !skip;
  let guard = 0;
  while (read < numSlots) {
    if (++guard > numSlots + 1) throw new DumpFormatError('GC info: an RLE live set does not end');
    const count = r.decodeVarLengthUnsigned(skip ? e.liveStateRleSkipEncBase : e.liveStateRleRunEncBase) + 1;
    if (report) for (let i = read; i < read + count && i < numSlots; i++) out.push(i);
    read += count;
    skip = !skip;
    report = !report;
  }
  return out;
}

function alignToByte(bit: number): number {
  return Math.ceil(bit / 8) * 8;
}

/** True for registers a call does not preserve: reported only for the active frame (IsScratchRegister). */
export function isScratchRegister(info: GcInfo, register: number): boolean {
  return info.encoding.scratchRegisters.has(register);
}

/** True for a stack slot in the outgoing-argument/scratch area at the frame's SP (IsScratchStackSlot). */
export function isScratchStackSlot(info: GcInfo, slotAddress: number, frameSp: number): boolean {
  return info.encoding.hasFixedStackParameterScratchArea && slotAddress >= frameSp && slotAddress < frameSp + info.sizeOfStackOutgoingAndScratchArea;
}

/** The GC info at `address` in memory: reads a window (64 KiB, growing while the decoder runs off its end; the
 * live-state data after the slot table is decoded lazily, so the first window is generous).
 * @throws UnmappedAddressError when the first bytes are not in the dump, DumpFormatError when malformed. */
export function readGcInfo(memory: MemoryReader, address: number, version: number, encoding: GcInfoEncoding = AMD64_GCINFO_ENCODING): GcInfo {
  for (let size = 1 << 16; ; size *= 8) {
    const bytes = memory.readUpTo(address, size);
    if (bytes.length === 0) memory.read(address, 1);
    try {
      return decodeGcInfo(bytes, version, encoding);
    } catch (err) {
      if (!(err instanceof GcInfoTruncatedError) || bytes.length < size || size >= 1 << 24) throw err;
    }
  }
}

/** The code length recorded in the GC info at `address`. @throws UnmappedAddressError, DumpFormatError. */
export function readGcInfoCodeLength(memory: MemoryReader, address: number, version: number, encoding: GcInfoEncoding = AMD64_GCINFO_ENCODING): number {
  const bytes = memory.readUpTo(address, 16);
  if (bytes.length === 0) memory.read(address, 1);
  return decodeGcInfoCodeLength(bytes, version, encoding);
}
