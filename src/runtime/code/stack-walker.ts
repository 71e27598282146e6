/**
 * The managed stack walk of one thread (StackWalk contract v1, dotnet/runtime docs/design/datacontracts/StackWalk.md):
 * seed the context from the core's NT_PRSTATUS registers, unwind managed frames with the x64 unwinder, and cross
 * native code by jumping through the thread's explicit Frames (InlinedCallFrame, TransitionFrames, ...).
 * The frames come out in SOS clrstack's order, explicit Frames included.
 */
import { DumpsleuthError, LimitExceededError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { CodeBlock, ExecutionManager } from './execution-manager';
import { contextFromRegisters, copyContext, RBP, RSP, unwindX64, type X64Context } from './x64-unwinder';

/** One frame of a walk: a managed method frame, or an explicit runtime Frame. */
export type StackFrame =
  | {
      readonly kind: 'managed';
      /** SOS's "Child SP": the frame's stack pointer. */
      readonly sp: number;
      readonly ip: number;
      readonly methodDesc: number;
      readonly block: CodeBlock;
      /** The register context of this frame (after unwinding its callees). */
      readonly context: X64Context;
      /** The stack pointer of the caller (after this frame), when the unwind succeeded. */
      readonly callerSp: number | undefined;
      /** True for the innermost frame that was running when the dump was taken (scratch registers are live). */
      readonly isActive: boolean;
    }
  | {
      readonly kind: 'frame';
      /** The Frame's address (SOS prints it as the Child SP too). */
      readonly address: number;
      readonly ip: number;
      /** The FrameIdentifier's name (`InlinedCallFrame`, ...), or `Frame` when unknown. */
      readonly name: string;
      readonly identifier: number;
      /** The MethodDesc the Frame stands for (`Frame::GetFunction`: an active P/Invoke's target, a call-counting or
       * prestub Frame's method), unvalidated; 0 when it has none. */
      readonly function: number;
    };

/** A managed thread's stack as far as it could be walked. */
export interface StackWalk {
  readonly frames: readonly StackFrame[];
  /** Why the walk stopped early, when it did (an unreadable stack page, missing unwind info...). */
  readonly problems: readonly string[];
}

/** The OS thread's registers the walk starts from. */
export interface ThreadSeed {
  readonly registers: Readonly<Record<string, bigint>>;
  /** The innermost explicit Frame (Thread.m_pFrame), 0 for none. */
  readonly frame: number;
}

const MAX_FRAMES = 100_000;
const RESUMABLE_FRAMES = new Set(['ResumableFrame', 'RedirectedThreadFrame']);
const MAX_EXPLICIT_FRAMES = 100_000;
// AMD64 CONTEXT offsets (winnt.h / pal.h): integer registers from Rax at 120 in UNWIND_CODE order, Rip at 248.
const CONTEXT_RAX = 120;
const CONTEXT_RIP = 248;

/** Walks the stacks of managed threads. */
export class StackWalker {
  private readonly frameNames = new Map<number, string>();

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly em: ExecutionManager,
  ) {
    for (const [name] of rt.descriptor.globals) {
      if (!name.endsWith('FrameIdentifier')) continue;
      const v = rt.descriptor.tryGlobal(name);
      if (v !== undefined) this.frameNames.set(v, name.slice(0, -'Identifier'.length));
    }
  }

  /** The explicit Frame chain from `first` (innermost first). @throws LimitExceededError for a chain that does not end. */
  explicitFrames(first: number): number[] {
    const m = this.rt.memory;
    const next = this.rt.descriptor.offset('Frame', 'Next');
    const out: number[] = [];
    const seen = new Set<number>();
    for (let f = first; f !== 0 && !seen.has(f); ) {
      if (out.length > MAX_EXPLICIT_FRAMES) throw new LimitExceededError('the Frame chain does not end');
      seen.add(f);
      out.push(f);
      try {
        // A Frame whose identifier is no FrameIdentifier is not a Frame (a stale m_pFrame into reused stack memory,
        // seen on idle thread-pool workers): it is listed, as the DAC lists it, but its Next is not followed.
        if (this.frameNames.size > 0 && !this.frameNames.has(m.readU32(f))) break;
        const lo = m.readU32(f + next);
        const hi = m.readU32(f + next + 4);
        // FRAME_TOP is all ones.
        f = lo === 0xffffffff && hi === 0xffffffff ? 0 : hi * 2 ** 32 + lo;
      } catch (e) {
        if (e instanceof DumpsleuthError) break;
        throw e;
      }
    }
    return out;
  }

  /** Walks one thread. Never throws for unreadable memory: the walk stops and says why in `problems`. */
  walk(seed: ThreadSeed): StackWalk {
    const frames: StackFrame[] = [];
    const problems: string[] = [];
    const explicit = this.explicitFrames(seed.frame);
    let fi = 0;
    let ctx = contextFromRegisters(seed.registers);
    let initial = true;
    let active = true;
    while (frames.length < MAX_FRAMES) {
      let block: CodeBlock | undefined;
      try {
        block = this.em.findCodeBlock(ctx.rip);
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
        // Managed code whose code map the dump lacks (ReadyToRun image pages not in a heap dump): the walk goes on
        // from the next explicit Frame, and the frames in between are lost, which the answer must say.
        problems.push(`the code at 0x${ctx.rip.toString(16)} cannot be looked up (${e.message}); managed frames from there to the next Frame are not shown`);
      }
      if (block) {
        let callerSp: number | undefined;
        let caller: X64Context | undefined;
        try {
          caller = copyContext(ctx);
          this.unwind(caller, block);
          callerSp = caller.regs[RSP];
        } catch (e) {
          if (!(e instanceof DumpsleuthError)) throw e;
          problems.push(`cannot unwind ${block.methodDesc.toString(16)} at 0x${ctx.rip.toString(16)}: ${e.message}`);
          caller = undefined;
        }
        frames.push({ kind: 'managed', sp: ctx.regs[RSP]!, ip: ctx.rip, methodDesc: block.methodDesc, block, context: copyContext(ctx), callerSp, isActive: active });
        // Frames that live inside this managed frame (an inlined P/Invoke's InlinedCallFrame) are "skipped" Frames.
        while (callerSp !== undefined && fi < explicit.length && explicit[fi]! < callerSp) {
          frames.push(this.frameEntry(explicit[fi]!, ctx.rip));
          fi++;
        }
        initial = false;
        active = false;
        if (!caller) {
          ctx = { rip: 0, regs: ctx.regs, saved: ctx.saved ?? [] };
          if (fi >= explicit.length) break;
          continue;
        }
        ctx = caller;
        continue;
      }
      if (fi >= explicit.length) break;
      const f = explicit[fi++]!;
      if (initial) frames.push(this.frameEntry(f, ctx.rip));
      const updated = this.contextFromFrame(f, ctx);
      if (updated) {
        ctx = updated;
        const entry = this.frameEntry(f, ctx.rip);
        // Where the walk starts at a Frame, the DAC reports it where the thread stands and again at the caller's
        // address only when it lives inside the caller's managed frame (an InlinedCallFrame): a transition Frame
        // below it (a call-counting stub's, the prestub's) is reported once (SOS on a VBCSCompiler dump, on 11.0.0).
        if (!initial || f >= ctx.regs[RSP]!) frames.push(entry);
        // A resumable Frame (FRAME_ATTR_RESUMABLE: a thread redirected for suspension) restores a full context in
        // which the next managed frame is active again (stackwalk.cpp sets `isFirst` from the Frame's attributes).
        active = entry.kind === 'frame' && RESUMABLE_FRAMES.has(entry.name);
      } else if (!initial) {
        frames.push(this.frameEntry(f, ctx.rip));
      }
      initial = false;
    }
    if (frames.length >= MAX_FRAMES) problems.push(`stopped after ${MAX_FRAMES} frames`);
    const last = explicit[explicit.length - 1];
    if (last !== undefined && this.frameNames.size > 0 && frames.some((f) => f.kind === 'frame' && f.address === last && f.name === 'Frame')) {
      problems.push(`the Frame at 0x${last.toString(16)} has no known FrameIdentifier; the Frame chain stops there`);
    }
    return { frames, problems };
  }

  /** The name of a FrameIdentifier value. */
  frameName(identifier: number): string {
    return this.frameNames.get(identifier) ?? 'Frame';
  }

  private frameEntry(address: number, ip: number): StackFrame {
    let identifier = 0;
    try {
      identifier = this.rt.memory.readU32(address);
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
    const name = this.frameName(identifier);
    return { kind: 'frame', address, ip, name, identifier, function: this.frameFunction(address, name) };
  }

  /** `Frame::GetFunction` for the Frames SOS names: an InlinedCallFrame with an active call whose `m_Datum` is a
   * MethodDesc (not the tagged stack-argument size of a calli, bit 0), and the FramedMethodFrames that record their
   * method (`m_pMD`). The offsets the .NET 10 descriptor lacks follow the class layouts (frames.h): `m_Datum` just
   * before `m_pCallSiteSP`, `m_pMD` just after `m_pTransitionBlock`. 0 when there is none or it is unreadable. */
  private frameFunction(address: number, name: string): number {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const field = (type: string, f: string): number | undefined => d.types.get(type)?.fields?.get(f)?.offset;
    try {
      if (name === 'InlinedCallFrame') {
        const datumOffset = field('InlinedCallFrame', 'Datum') ?? d.offset('InlinedCallFrame', 'CallSiteSP') - 8;
        if (m.readPointer(address + d.offset('InlinedCallFrame', 'CallerReturnAddress')) === 0) return 0;
        const datum = m.readPointer(address + datumOffset);
        return datum % 2 === 0 ? datum : 0;
      }
      if (name === 'CallCountingHelperFrame' || name === 'PrestubMethodFrame') {
        const mdOffset = field('FramedMethodFrame', 'MethodDescPtr') ?? d.offset('FramedMethodFrame', 'TransitionBlockPtr') + 8;
        return m.readPointer(address + mdOffset);
      }
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
    return 0;
  }

  private unwind(ctx: X64Context, block: CodeBlock): void {
    const rf = this.em.findRuntimeFunction(block, ctx.rip);
    if (!rf) {
      // A leaf without unwind info: the return address is on top of the stack.
      const sp = ctx.regs[RSP]!;
      ctx.rip = this.rt.memory.readPointer(sp);
      ctx.regs[RSP] = sp + 8;
      return;
    }
    unwindX64(this.rt.memory, ctx, block.unwindBase, rf.beginAddress, rf.unwindData);
  }

  /** The context a Frame restores (StackWalk.md "Capital 'F' Frame Handling"), or undefined when it restores none. */
  private contextFromFrame(frame: number, current: X64Context): X64Context | undefined {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    try {
      const name = this.frameName(m.readU32(frame));
      const ctx = copyContext(current);
      switch (name) {
        case 'InlinedCallFrame': {
          const ret = m.readPointer(frame + d.offset('InlinedCallFrame', 'CallerReturnAddress'));
          if (ret === 0) return undefined;
          ctx.rip = ret;
          ctx.regs[RSP] = m.readPointer(frame + d.offset('InlinedCallFrame', 'CallSiteSP'));
          ctx.regs[RBP] = m.readPointer(frame + d.offset('InlinedCallFrame', 'CalleeSavedFP'));
          return ctx;
        }
        case 'SoftwareExceptionFrame':
          return this.fromContextRecord(ctx, frame + d.offset('SoftwareExceptionFrame', 'TargetContext'), true);
        case 'FaultingExceptionFrame':
          return this.fromContextRecord(ctx, frame + d.offset('FaultingExceptionFrame', 'TargetContext'), false);
        case 'ResumableFrame':
        case 'RedirectedThreadFrame':
          return this.fromContextRecord(ctx, m.readPointer(frame + d.offset('ResumableFrame', 'TargetContextPtr')), false);
        case 'FuncEvalFrame': {
          const ev = m.readPointer(frame + d.offset('FuncEvalFrame', 'DebuggerEvalPtr'));
          return ev === 0 ? undefined : this.fromContextRecord(ctx, ev + d.offset('DebuggerEval', 'TargetContext'), false);
        }
        case 'HijackFrame': {
          const args = m.readPointer(frame + d.offset('HijackFrame', 'HijackArgsPtr'));
          ctx.rip = m.readPointer(frame + d.offset('HijackFrame', 'ReturnAddress'));
          this.calleeSaved(ctx, args + d.offset('HijackArgs', 'CalleeSavedRegisters'));
          ctx.regs[RSP] = args + d.size('HijackArgs');
          return ctx;
        }
        case 'FramedMethodFrame':
        case 'PInvokeCalliFrame':
        case 'PrestubMethodFrame':
        case 'CallCountingHelperFrame':
        case 'StubDispatchFrame':
        case 'ExternalMethodFrame':
        case 'DynamicHelperFrame': {
          const tb = m.readPointer(frame + d.offset('FramedMethodFrame', 'TransitionBlockPtr'));
          ctx.rip = m.readPointer(tb + d.offset('TransitionBlock', 'ReturnAddress'));
          this.calleeSaved(ctx, tb + d.offset('TransitionBlock', 'CalleeSavedRegisters'));
          ctx.regs[RSP] = tb + d.size('TransitionBlock');
          return ctx;
        }
        default:
          return undefined;
      }
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  private calleeSaved(ctx: X64Context, at: number): void {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const regs: [string, number][] = [['Rbx', 3], ['Rbp', 5], ['R12', 12], ['R13', 13], ['R14', 14], ['R15', 15]];
    for (const [field, reg] of regs) {
      if (d.has('CalleeSavedRegisters', field)) ctx.regs[reg] = m.readPointer(at + d.offset('CalleeSavedRegisters', field));
    }
  }

  /** Copies rip, rsp and (all or callee-saved) registers from an AMD64 CONTEXT record. */
  private fromContextRecord(ctx: X64Context, record: number, calleeSavedOnly: boolean): X64Context {
    const m = this.rt.memory;
    const word = (off: number) => m.readU32(record + off + 4) * 2 ** 32 + m.readU32(record + off);
    ctx.rip = word(CONTEXT_RIP);
    for (let r = 0; r < 16; r++) {
      const callee = r === 3 || r === 4 || r === 5 || r >= 12;
      if (calleeSavedOnly && !callee) continue;
      ctx.regs[r] = word(CONTEXT_RAX + r * 8);
    }
    return ctx;
  }
}

const walkers = new WeakMap<DotNetRuntime, StackWalker>();

/** The StackWalker of a runtime (one per runtime). */
export function stackWalkerOf(rt: DotNetRuntime, em: ExecutionManager): StackWalker {
  let w = walkers.get(rt);
  if (!w) {
    w = new StackWalker(rt, em);
    walkers.set(rt, w);
  }
  return w;
}
