/**
 * The x64 unwinder for managed code: Windows-style UNWIND_INFO (version 1, plus CoreCLR's Unix-only
 * UWOP_SET_FPREG_LARGE), which the JIT and crossgen emit on Linux too. Port of the algorithm of
 * dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp (RtlVirtualUnwind); research/code-and-stacks-net10.md §4.4.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import type { MemoryReader } from '../../dump/memory-reader';

/** x64 general registers in the UNWIND_CODE numbering (0 rax … 15 r15). */
export const X64_REGISTER_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;

/** A register context: the 16 general registers (by UNWIND_CODE number) and rip; values are addresses or small numbers. */
export interface X64Context {
  rip: number;
  readonly regs: number[];
  /** Where each callee-saved register was restored from during the last unwind (stack address), when known. */
  readonly saved?: (number | undefined)[];
}

/** Register numbers used below. */
export const RSP = 4;
export const RBP = 5;

const UWOP_PUSH_NONVOL = 0;
const UWOP_ALLOC_LARGE = 1;
const UWOP_ALLOC_SMALL = 2;
const UWOP_SET_FPREG = 3;
const UWOP_SAVE_NONVOL = 4;
const UWOP_SAVE_NONVOL_FAR = 5;
const UWOP_EPILOG = 6;
const UWOP_SPARE_CODE = 7;
const UWOP_SAVE_XMM128 = 8;
const UWOP_SAVE_XMM128_FAR = 9;
const UWOP_PUSH_MACHFRAME = 10;
const UWOP_SET_FPREG_LARGE = 11;
const UNW_FLAG_CHAININFO = 0x4;
const MAX_CHAIN = 32;

/** Copies a context. */
export function copyContext(ctx: X64Context): X64Context {
  return { rip: ctx.rip, regs: ctx.regs.slice(), saved: ctx.saved ? ctx.saved.slice() : new Array<number | undefined>(16).fill(undefined) };
}

/** Builds a context from `user_regs_struct`-named registers (NT_PRSTATUS). Values that do not fit 2^53 become NaN. */
export function contextFromRegisters(registers: Readonly<Record<string, bigint>>): X64Context {
  const num = (v: bigint | undefined) => (v === undefined ? 0 : v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : NaN);
  return { rip: num(registers.rip), regs: X64_REGISTER_NAMES.map((n) => num(registers[n])), saved: new Array<number | undefined>(16).fill(undefined) };
}

/** Unwinds `ctx` one frame in place using the UNWIND_INFO at `imageBase + unwindData` of the function starting at
 * `imageBase + functionBegin`. @throws UnmappedAddressError (stack or unwind info not in the dump), DumpFormatError. */
export function unwindX64(memory: MemoryReader, ctx: X64Context, imageBase: number, functionBegin: number, unwindData: number): void {
  const saved = (ctx as { saved?: (number | undefined)[] }).saved ?? new Array<number | undefined>(16).fill(undefined);
  const controlPc = ctx.rip;
  if (tryUnwindEpilog(memory, ctx, saved)) return;
  let begin = functionBegin;
  let unwindAddress = imageBase + unwindData;
  let prologOffset = controlPc - (imageBase + begin);
  for (let chain = 0; ; chain++) {
    if (chain > MAX_CHAIN) throw new LimitExceededError('UNWIND_INFO chain does not end');
    const header = memory.read(unwindAddress, 4);
    const version = header[0]! % 8;
    const flags = header[0]! >>> 3;
    if (version !== 1 && version !== 2) throw new DumpFormatError(`UNWIND_INFO at 0x${unwindAddress.toString(16)} has version ${version}`);
    const sizeOfProlog = header[1]!;
    const count = header[2]!;
    const frameRegister = header[3]! % 16;
    const frameOffset = header[3]! >>> 4;
    const codes = memory.read(unwindAddress + 4, count * 2 + 8);
    const code = (i: number) => ({ offset: codes[i * 2]!, op: codes[i * 2 + 1]! % 16, info: codes[i * 2 + 1]! >>> 4 });
    const u16 = (i: number) => codes[i * 2]! + codes[i * 2 + 1]! * 256;
    const u32 = (i: number) => u16(i) + u16(i + 1) * 65536;
    // The establisher frame: the frame register minus its offset once the prolog has set it, else RSP.
    let frameBase = ctx.regs[RSP]!;
    if (frameRegister !== 0) {
      let fpSet = prologOffset >= sizeOfProlog;
      let largeOffset: number | undefined;
      for (let i = 0; i < count; ) {
        const c = code(i);
        if ((c.op === UWOP_SET_FPREG || c.op === UWOP_SET_FPREG_LARGE) && (prologOffset >= sizeOfProlog || c.offset <= prologOffset)) fpSet = true;
        if (c.op === UWOP_SET_FPREG_LARGE) largeOffset = u32(i + 1) * 16;
        i += slotCount(c.op, c.info);
      }
      if (fpSet) frameBase = ctx.regs[frameRegister]! - (largeOffset ?? frameOffset * 16);
    }
    let machFrame = false;
    for (let i = 0; i < count; ) {
      const c = code(i);
      const slots = slotCount(c.op, c.info);
      if (prologOffset < sizeOfProlog && c.offset > prologOffset) {
        i += slots;
        continue;
      }
      switch (c.op) {
        case UWOP_PUSH_NONVOL: {
          const sp = ctx.regs[RSP]!;
          saved[c.info] = sp;
          ctx.regs[c.info] = readWord(memory, sp);
          ctx.regs[RSP] = sp + 8;
          break;
        }
        case UWOP_ALLOC_LARGE:
          ctx.regs[RSP] = ctx.regs[RSP]! + (c.info === 0 ? u16(i + 1) * 8 : u32(i + 1));
          break;
        case UWOP_ALLOC_SMALL:
          ctx.regs[RSP] = ctx.regs[RSP]! + c.info * 8 + 8;
          break;
        case UWOP_SET_FPREG:
          ctx.regs[RSP] = ctx.regs[frameRegister]! - frameOffset * 16;
          break;
        case UWOP_SET_FPREG_LARGE:
          ctx.regs[RSP] = ctx.regs[frameRegister]! - u32(i + 1) * 16;
          break;
        case UWOP_SAVE_NONVOL:
        case UWOP_SAVE_NONVOL_FAR: {
          const at = frameBase + (c.op === UWOP_SAVE_NONVOL ? u16(i + 1) * 8 : u32(i + 1));
          saved[c.info] = at;
          ctx.regs[c.info] = readWord(memory, at);
          break;
        }
        case UWOP_SAVE_XMM128:
        case UWOP_SAVE_XMM128_FAR:
        case UWOP_EPILOG:
        case UWOP_SPARE_CODE:
          break;
        case UWOP_PUSH_MACHFRAME: {
          // An interrupt frame: [rsp] (+8 with an error code) holds rip, +24 rsp.
          const sp = ctx.regs[RSP]! + (c.info !== 0 ? 8 : 0);
          ctx.rip = readWord(memory, sp);
          ctx.regs[RSP] = readWord(memory, sp + 24);
          machFrame = true;
          break;
        }
        default:
          throw new DumpFormatError(`UNWIND_INFO at 0x${unwindAddress.toString(16)} has unknown op ${c.op}`);
      }
      i += slots;
    }
    if ((flags & UNW_FLAG_CHAININFO) === 0) {
      if (!machFrame) {
        const sp = ctx.regs[RSP]!;
        ctx.rip = readWord(memory, sp);
        ctx.regs[RSP] = sp + 8;
      }
      return;
    }
    // A chained RUNTIME_FUNCTION follows the (even-padded) codes: continue with the primary function's codes,
    // whose prolog has fully executed.
    const chained = unwindAddress + 4 + 2 * (count + (count % 2));
    begin = memory.readU32(chained);
    unwindAddress = imageBase + memory.readU32(chained + 8);
    prologOffset = Number.MAX_SAFE_INTEGER;
  }
}

function slotCount(op: number, info: number): number {
  switch (op) {
    case UWOP_ALLOC_LARGE:
      return info === 0 ? 2 : 3;
    case UWOP_SAVE_NONVOL:
    case UWOP_SAVE_XMM128:
      return 2;
    case UWOP_SAVE_NONVOL_FAR:
    case UWOP_SAVE_XMM128_FAR:
    case UWOP_SET_FPREG_LARGE:
      return 3;
    default:
      return 1;
  }
}

function readWord(memory: MemoryReader, address: number): number {
  const lo = memory.readU32(address);
  const hi = memory.readU32(address + 4);
  return hi * 2 ** 32 + lo;
}

/** When the bytes at rip are readable and form an epilog (`add rsp`/`lea rsp`, pops, `ret`), emulate it.
 * Unreadable code counts as "not in an epilog", as the runtime's unwinder does for dumps. */
function tryUnwindEpilog(memory: MemoryReader, ctx: X64Context, saved: (number | undefined)[]): boolean {
  const code = memory.readUpTo(ctx.rip, 64);
  if (code.length < 1) return false;
  let i = 0;
  let sp = ctx.regs[RSP]!;
  // add rsp, imm8 / imm32
  if (code[0] === 0x48 && code[1] === 0x83 && code[2] === 0xc4) {
    sp += code[3]! >= 0x80 ? code[3]! - 256 : code[3]!;
    i = 4;
  } else if (code[0] === 0x48 && code[1] === 0x81 && code[2] === 0xc4 && code.length >= 7) {
    sp += code[3]! + code[4]! * 256 + code[5]! * 65536 + code[6]! * 16777216;
    i = 7;
  } else if (code[0] === 0x48 && code[1] === 0x8d && (code[2] === 0x65 || code[2] === 0xa5)) {
    // lea rsp, [rbp + disp]
    const disp = code[2] === 0x65 ? (code[3]! >= 0x80 ? code[3]! - 256 : code[3]!) : new DataView(code.buffer, code.byteOffset + 3, 4).getInt32(0, true);
    sp = ctx.regs[RBP]! + disp;
    i = code[2] === 0x65 ? 4 : 7;
  }
  const pops: number[] = [];
  while (i < code.length) {
    if (code[i]! >= 0x58 && code[i]! <= 0x5f) {
      pops.push(code[i]! - 0x58);
      i++;
    } else if (code[i] === 0x41 && code[i + 1]! >= 0x58 && code[i + 1]! <= 0x5f) {
      pops.push(code[i + 1]! - 0x58 + 8);
      i += 2;
    } else break;
  }
  const isRet = code[i] === 0xc3 || code[i] === 0xc2 || (code[i] === 0xf3 && code[i + 1] === 0xc3);
  // Only a sequence ending in ret is an epilog here; a bare pop elsewhere is body code.
  if (!isRet || (i === 0 && pops.length === 0 && code[0] !== 0xc3)) return false;
  for (const r of pops) {
    saved[r] = sp;
    ctx.regs[r] = readWord(memory, sp);
    sp += 8;
  }
  ctx.rip = readWord(memory, sp);
  ctx.regs[RSP] = sp + 8;
  return true;
}
