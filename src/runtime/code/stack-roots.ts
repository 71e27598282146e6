/**
 * Precise stack roots of one thread, as the runtime's GC stack scan finds them (gcenv.ee.cpp `ScanStackRoots` →
 * `GcStackCrawlCallBack` → eetwain.cpp `EECodeManager::EnumGcRefs` → gcinfodecoder.cpp `EnumerateLiveSlots`): walk
 * the managed frames (stack-walker.ts), decode each frame's GC info at its code offset, and turn the live slots into
 * addresses and values with the frame's register context. research/code-and-stacks-net10.md §5.6–5.8.
 */
import { DumpsleuthError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import { executionManagerOf, type CodeBlock, type ExecutionManager } from './execution-manager';
import { AMD64_GCINFO_ENCODING, enumerateLiveSlots, GcStackSlotBase, GcSlotFlags, isScratchRegister, isScratchStackSlot, readGcInfo, WINDOWS_AMD64_GCINFO_ENCODING, type GcInfo } from './gcinfo-decoder';
import { stackWalkerOf, type StackFrame } from './stack-walker';
import { RSP, X64_REGISTER_NAMES } from './x64-unwinder';

/** A precise stack root: a live GC slot of a managed frame and the object it keeps alive. */
export interface StackRoot {
  /** Where the reference lives: a stack slot, or a register of the frame's context. */
  readonly location: { readonly kind: 'stack'; readonly address: number } | { readonly kind: 'register'; readonly name: string };
  /** The slot's raw value (for an interior pointer, an address inside an object). */
  readonly value: number;
  /** The object kept alive: the value itself, or for an interior pointer the object containing it. */
  readonly object: number;
  readonly interior: boolean;
  readonly pinned: boolean;
  /** The owning frame's stack pointer and instruction pointer (SOS's Child SP and IP). */
  readonly frameSp: number;
  readonly frameIp: number;
  readonly methodDesc: number;
  /** How the slot's address is described by GC info: base register and offset (e.g. rbp-0x38), for display. */
  readonly slot?: { readonly base: 'callerSp' | 'sp' | 'frameRegister'; readonly register: string; readonly offset: number };
  readonly precise: true;
}

/** A stack range whose roots could not be found precisely (to be scanned conservatively instead). */
export interface UndecodedStackRange {
  readonly spLow: number;
  /** Exclusive; undefined means "to the end of the thread's stack". */
  readonly spHigh: number | undefined;
  readonly reason: string;
}

/** All precise roots of a thread and the ranges that were not decoded. */
export interface StackRootsResult {
  readonly roots: StackRoot[];
  readonly undecoded: UndecodedStackRange[];
}

/** The thread to scan: its Thread's innermost Frame, and its registers from the core (NT_PRSTATUS). */
export interface StackRootThread {
  readonly osId: number;
  /** Thread.m_pFrame (0 for none). */
  readonly frame: number;
}

/** Options of `enumerateStackRoots`. */
export interface StackRootOptions {
  /**
   * Resolves an interior pointer to the start of the heap object containing it, or undefined when the value is not
   * inside a heap object (the GC ignores such interior pointers). Without it interior roots keep `object = value`.
   */
  readonly containingObject?: (value: number) => number | undefined;
}

/** Frames whose context restore interrupts the next managed frame (FRAME_ATTR_EXCEPTION: ExecutionAborted). */
const EXCEPTION_FRAMES = new Set(['FaultingExceptionFrame', 'SoftwareExceptionFrame']);
/** Frames whose GcScanRoots reports the callee's arguments from the TransitionBlock (by signature or GCRefMap):
 * not decoded here, so their argument area is handed to the conservative scan. */
const ARGUMENT_FRAMES = new Set(['PrestubMethodFrame', 'CallCountingHelperFrame', 'StubDispatchFrame', 'ExternalMethodFrame', 'DynamicHelperFrame', 'PInvokeCalliFrame']);
const SLOT_BASES = ['callerSp', 'sp', 'frameRegister'] as const;

/**
 * The precise stack roots of `thread` (Thread.m_pFrame and OS id) seeded from `registers` (the core thread's
 * NT_PRSTATUS registers): every live GC slot of every managed frame in stack order, with interior pointers resolved
 * through `options.containingObject`. Frames whose GC info or stack cannot be read, and Frames whose argument roots
 * are not decoded, are listed in `undecoded`. Never throws for memory missing from the dump.
 */
export function enumerateStackRoots(rt: DotNetRuntime, thread: StackRootThread, registers: Readonly<Record<string, bigint>>, options: StackRootOptions = {}): StackRootsResult {
  const em = executionManagerOf(rt);
  const walk = stackWalkerOf(rt, em).walk({ registers, frame: thread.frame });
  const roots: StackRoot[] = [];
  const undecoded: UndecodedStackRange[] = [];
  const frames = walk.frames;
  // Funclets report for their parent method (report-only-leaf): the parent frame found later reports nothing.
  const funcletParents = new Set<number>();
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.kind === 'frame') {
      const range = argumentRange(rt, f);
      if (range) undecoded.push(range);
      continue;
    }
    const prev = i > 0 ? frames[i - 1] : undefined;
    const executionAborted = prev?.kind === 'frame' && EXCEPTION_FRAMES.has(prev.name) && prev.ip === f.ip;
    const funclet = isFunclet(em, f.block, f.ip);
    let parentOfFunclet = false;
    if (funclet) funcletParents.add(f.block.startAddress);
    else if (funcletParents.delete(f.block.startAddress)) parentOfFunclet = true;
    try {
      collectFrameRoots(rt, f, { executionAborted, parentOfFunclet }, roots, options);
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      undecoded.push({ spLow: f.sp, spHigh: f.callerSp, reason: `frame ${hex(f.ip)}: ${e.message}` });
    }
  }
  if (walk.problems.length > 0) {
    const last = [...frames].reverse().find((f) => f.kind === 'managed');
    const from = last?.kind === 'managed' ? (last.callerSp ?? last.sp) : Number(registers.rsp ?? 0n);
    undecoded.push({ spLow: from, spHigh: undefined, reason: walk.problems.join('; ') });
  }
  return { roots, undecoded };
}

/** The decoded GC info of a code block, cached per runtime. @throws UnmappedAddressError, DumpFormatError. */
export function gcInfoOf(rt: DotNetRuntime, block: CodeBlock): GcInfo {
  let cache = gcInfoCaches.get(rt);
  if (!cache) {
    cache = new Map();
    gcInfoCaches.set(rt, cache);
  }
  let info = cache.get(block.gcInfo);
  if (!info) {
    if (block.gcInfo === 0) throw new DumpsleuthError(`method at ${hex(block.startAddress)} has no GC info`);
    const windows = rt.descriptor.stringGlobal('OperatingSystem')?.toLowerCase() === 'windows';
    info = readGcInfo(rt.memory, block.gcInfo, block.gcInfoVersion, windows ? WINDOWS_AMD64_GCINFO_ENCODING : AMD64_GCINFO_ENCODING);
    cache.set(block.gcInfo, info);
  }
  return info;
}

const gcInfoCaches = new WeakMap<DotNetRuntime, Map<number, GcInfo>>();

function collectFrameRoots(
  rt: DotNetRuntime,
  f: Extract<StackFrame, { kind: 'managed' }>,
  flags: { executionAborted: boolean; parentOfFunclet: boolean },
  out: StackRoot[],
  options: StackRootOptions,
): void {
  const info = gcInfoOf(rt, f.block);
  const live = enumerateLiveSlots(info, f.block.relativeOffset, { isActiveFrame: f.isActive, executionAborted: flags.executionAborted, parentOfFunclet: flags.parentOfFunclet });
  const regs = f.context.regs;
  const sp = regs[RSP]!;
  for (const { slot } of live.slots) {
    let location: StackRoot['location'];
    let value: number;
    let slotInfo: StackRoot['slot'];
    if (slot.kind === 'register') {
      if (!live.reportScratchSlots && isScratchRegister(info, slot.register)) continue;
      const v = regs[slot.register];
      if (v === undefined || !Number.isSafeInteger(v)) continue;
      location = { kind: 'register', name: X64_REGISTER_NAMES[slot.register] ?? `r${slot.register}` };
      value = v;
    } else {
      let base: number;
      let register: string;
      if (slot.base === GcStackSlotBase.Sp) {
        base = sp;
        register = 'rsp';
      } else if (slot.base === GcStackSlotBase.CallerSp) {
        if (f.callerSp === undefined) throw new DumpsleuthError(`no caller SP for a caller-SP-relative slot`);
        base = f.callerSp;
        register = 'callerSp';
      } else {
        if (info.stackBaseRegister === undefined) throw new DumpsleuthError('a frame-register-relative slot without a stack base register');
        base = regs[info.stackBaseRegister]!;
        register = X64_REGISTER_NAMES[info.stackBaseRegister] ?? `r${info.stackBaseRegister}`;
      }
      const address = base + slot.offset;
      if (!live.reportScratchSlots && isScratchStackSlot(info, address, sp)) continue;
      value = readWord(rt, address);
      location = { kind: 'stack', address };
      slotInfo = { base: SLOT_BASES[slot.base]!, register, offset: slot.offset };
    }
    // The GC's promote callback ignores null references (gcenv.ee.cpp GcEnumObject / PromoteCarefully).
    if (value === 0) continue;
    const interior = (slot.flags & GcSlotFlags.Interior) !== 0;
    let object = value;
    if (interior && options.containingObject) {
      const containing = options.containingObject(value);
      // An interior pointer outside the GC heap (a stack or native buffer) is no root (PromoteCarefully).
      if (containing === undefined) continue;
      object = containing;
    }
    out.push({
      location,
      value,
      object,
      interior,
      pinned: (slot.flags & GcSlotFlags.Pinned) !== 0,
      frameSp: f.sp,
      frameIp: f.ip,
      methodDesc: f.methodDesc,
      ...(slotInfo ? { slot: slotInfo } : {}),
      precise: true,
    });
  }
}

/** True when `ip` is in a funclet of the block's method (an unwind entry other than the method's main or cold body). */
function isFunclet(em: ExecutionManager, block: CodeBlock, ip: number): boolean {
  try {
    const rf = em.findRuntimeFunction(block, ip);
    if (!rf) return false;
    const begin = block.unwindBase + rf.beginAddress;
    return begin !== block.startAddress && begin !== block.coldStart;
  } catch (e) {
    if (e instanceof DumpsleuthError) return false;
    throw e;
  }
}

/** For a Frame whose GcScanRoots reports the callee's arguments: its TransitionBlock's stack span. */
function argumentRange(rt: DotNetRuntime, f: Extract<StackFrame, { kind: 'frame' }>): UndecodedStackRange | undefined {
  if (!ARGUMENT_FRAMES.has(f.name)) return undefined;
  const d = rt.descriptor;
  try {
    const tb = rt.memory.readPointer(f.address + d.offset('FramedMethodFrame', 'TransitionBlockPtr'));
    // The argument registers are spilled just below the TransitionBlock and stack arguments follow it; the span from
    // the Frame to the end of the TransitionBlock covers the spilled registers (TransitionBlock layout, amd64 Unix).
    const low = Math.min(f.address, tb);
    return { spLow: low, spHigh: tb + d.size('TransitionBlock'), reason: `${f.name} ${hex(f.address)}: argument roots (signature/GCRefMap) are not decoded` };
  } catch (e) {
    if (e instanceof DumpsleuthError) return { spLow: f.address, spHigh: f.address + 8, reason: `${f.name} ${hex(f.address)}: ${e.message}` };
    throw e;
  }
}

function readWord(rt: DotNetRuntime, address: number): number {
  const lo = rt.memory.readU32(address);
  const hi = rt.memory.readU32(address + 4);
  return hi * 2 ** 32 + lo;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
