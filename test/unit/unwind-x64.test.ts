// The x64 unwinder on hand-built UNWIND_INFO (Windows x64 format, version 1, as the JIT emits it on Linux too) over
// a small mock memory: body, prolog, epilog, chained info, large allocations and CoreCLR's UWOP_SET_FPREG_LARGE
// (research/code-and-stacks-net10.md §4.4; dotnet/runtime src/coreclr/unwinder/amd64/unwinder.cpp).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnmappedAddressError } from '../../src/errors';
import type { MemoryReader } from '../../src/dump/memory-reader';
import { copyContext, RBP, RSP, unwindX64, type X64Context } from '../../src/runtime/code/x64-unwinder';

const RBX = 3;
const R12 = 12;

/** Sparse little-endian memory made of regions. */
class MockMemory implements MemoryReader {
  readonly pointerSize = 8;
  private readonly regions: { address: number; bytes: Uint8Array }[] = [];
  put(address: number, bytes: Uint8Array | number[]): this {
    this.regions.push({ address, bytes: Uint8Array.from(bytes) });
    return this;
  }
  /** An UNWIND_INFO with room after its codes (the unwinder reads the optional handler/chain words with them). */
  putUnwind(address: number, bytes: number[]): this {
    return this.put(address, [...bytes, ...new Array<number>(16).fill(0)]);
  }
  putWords(address: number, words: number[]): this {
    const b = new Uint8Array(words.length * 8);
    const v = new DataView(b.buffer);
    words.forEach((w, i) => v.setBigUint64(i * 8, BigInt(w), true));
    return this.put(address, b);
  }
  readUpTo(address: number, length: number): Uint8Array {
    for (const r of this.regions) {
      if (address >= r.address && address < r.address + r.bytes.length) return r.bytes.subarray(address - r.address, Math.min(r.bytes.length, address - r.address + length));
    }
    return new Uint8Array(0);
  }
  read(address: number, length: number): Uint8Array {
    const b = this.readUpTo(address, length);
    if (b.length < length) throw new UnmappedAddressError(address, length);
    return b;
  }
  isMapped(address: number, length: number): boolean {
    return this.readUpTo(address, length).length === length;
  }
  readU8(a: number): number {
    return this.read(a, 1)[0]!;
  }
  readU16(a: number): number {
    const b = this.read(a, 2);
    return b[0]! + b[1]! * 256;
  }
  readU32(a: number): number {
    const b = this.read(a, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }
  readI32(a: number): number {
    const b = this.read(a, 4);
    return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
  }
  readU64(a: number): number {
    return this.readU32(a) + this.readU32(a + 4) * 2 ** 32;
  }
  readPointer(a: number): number {
    return this.readU64(a);
  }
}

const IMAGE = 0x10000;
const FUNC = 0x1000; // RVA of the function
const UNWIND = 0x8000; // RVA of its UNWIND_INFO
const SP = 0x7000_0000;

function context(rip: number, sp: number, regs: Record<number, number> = {}): X64Context {
  const c: X64Context = { rip, regs: new Array<number>(16).fill(0xdead), saved: new Array<number | undefined>(16).fill(undefined) };
  c.regs[RSP] = sp;
  for (const [r, v] of Object.entries(regs)) c.regs[Number(r)] = v;
  return c;
}

/** push rbp (1); push rbx (2); sub rsp, 0x28 (6); lea rbp, [rsp+0x20] (11): codes in reverse prolog order. */
function standardFunction(): MockMemory {
  const m = new MockMemory();
  m.putUnwind(IMAGE + UNWIND, [
    0x01, 11, 4, 0x25, // version 1, prolog 11 bytes, 4 codes, frame register rbp with offset 2 (×16)
    11, 0x03, // SET_FPREG at 11
    6, 0x02 | (4 << 4), // ALLOC_SMALL 4*8+8 = 0x28 at 6
    2, 0x00 | (RBX << 4), // PUSH_NONVOL rbx at 2
    1, 0x00 | (RBP << 4), // PUSH_NONVOL rbp at 1
  ]);
  // The stack at SP: 0x28 bytes of locals, saved rbx, saved rbp, the return address.
  m.putWords(SP, [0, 0, 0, 0, 0, 0x1111, 0x2222, 0x401234]);
  return m;
}

describe('x64 unwinder (UNWIND_INFO v1)', () => {
  it('unwinds a frame in its body through the frame register', () => {
    const m = standardFunction();
    const ctx = context(IMAGE + FUNC + 0x40, SP, { [RBP]: SP + 0x20 });
    unwindX64(m, ctx, IMAGE, FUNC, UNWIND);
    assert.equal(ctx.rip, 0x401234);
    assert.equal(ctx.regs[RSP], SP + 0x40);
    assert.equal(ctx.regs[RBX], 0x1111);
    assert.equal(ctx.regs[RBP], 0x2222);
    assert.equal(ctx.saved![RBX], SP + 0x28);
    assert.equal(ctx.saved![RBP], SP + 0x30);
  });

  it('in the prolog applies only the codes whose offset has executed', () => {
    const m = new MockMemory().putUnwind(IMAGE + UNWIND, [0x01, 11, 4, 0x25, 11, 0x03, 6, 0x02 | (4 << 4), 2, RBX << 4, 1, RBP << 4]);
    // After push rbp; push rbx (offset 2): the stack holds rbx, rbp, return address.
    m.putWords(SP, [0x1111, 0x2222, 0x401234]);
    const ctx = context(IMAGE + FUNC + 2, SP, { [RBP]: 0xbad });
    unwindX64(m, ctx, IMAGE, FUNC, UNWIND);
    assert.deepEqual([ctx.rip, ctx.regs[RSP], ctx.regs[RBX], ctx.regs[RBP]], [0x401234, SP + 24, 0x1111, 0x2222]);
  });

  it('emulates an epilog when the code at IP is one (add rsp; pop; pop; ret)', () => {
    const m = standardFunction();
    const ip = IMAGE + FUNC + 0x80;
    m.put(ip, [0x48, 0x83, 0xc4, 0x28, 0x5b, 0x5d, 0xc3]);
    const ctx = context(ip, SP, { [RBP]: 0xbad });
    unwindX64(m, ctx, IMAGE, FUNC, UNWIND);
    assert.deepEqual([ctx.rip, ctx.regs[RSP], ctx.regs[RBX], ctx.regs[RBP]], [0x401234, SP + 0x40, 0x1111, 0x2222]);
    // Body code that merely pops (not followed by ret) is no epilog: the unwind codes apply.
    const m2 = standardFunction().put(ip, [0x5b, 0x48, 0x8b, 0xc3]);
    const ctx2 = context(ip, SP, { [RBP]: SP + 0x20 });
    unwindX64(m2, ctx2, IMAGE, FUNC, UNWIND);
    assert.deepEqual([ctx2.rip, ctx2.regs[RSP]], [0x401234, SP + 0x40]);
  });

  it('follows CHAININFO to the primary function (a funclet or cold part sharing its prolog)', () => {
    const m = standardFunction();
    const CHILD = 0x9000;
    // Version 1, flags CHAININFO, no codes, then the primary RUNTIME_FUNCTION {begin, end, unwind data}.
    const child = new Uint8Array(16);
    child.set([0x01 | (0x4 << 3), 0, 0, 0x25]);
    new DataView(child.buffer).setUint32(4, FUNC, true);
    new DataView(child.buffer).setUint32(8, FUNC + 0x100, true);
    new DataView(child.buffer).setUint32(12, UNWIND, true);
    m.put(IMAGE + CHILD, child);
    const ctx = context(IMAGE + 0x5000, SP, { [RBP]: SP + 0x20 });
    unwindX64(m, ctx, IMAGE, 0x5000, CHILD);
    assert.deepEqual([ctx.rip, ctx.regs[RSP], ctx.regs[RBX], ctx.regs[RBP]], [0x401234, SP + 0x40, 0x1111, 0x2222]);
  });

  it('handles ALLOC_LARGE, SAVE_NONVOL and the Unix-only SET_FPREG_LARGE', () => {
    const m = new MockMemory();
    // push rbp; sub rsp, 0x1000 (ALLOC_LARGE, 16-bit size/8); mov [rsp+0x20], r12 (SAVE_NONVOL); rbp = rsp + 0x800
    // (SET_FPREG_LARGE: 32-bit offset/16 in two slots, frame offset field 15).
    const codes = [
      20, 11 /* SET_FPREG_LARGE */, 0x80, 0x00, 0x00, 0x00, // offset 0x80 * 16 = 0x800
      12, 0x04 | (R12 << 4), 0x04, 0x00, // SAVE_NONVOL r12 at [frame + 4*8]
      8, 0x01, 0x00, 0x02, // ALLOC_LARGE: 0x200 * 8 = 0x1000
      1, RBP << 4,
    ];
    m.putUnwind(IMAGE + UNWIND, [0x01, 24, codes.length / 2, 0xf5, ...codes]);
    const words = new Array<number>(0x1000 / 8 + 2).fill(0);
    words[4] = 0x1212;
    words[0x1000 / 8] = 0x2222;
    words[0x1000 / 8 + 1] = 0x401234;
    m.putWords(SP, words);
    const ctx = context(IMAGE + FUNC + 0x40, SP, { [RBP]: SP + 0x800 });
    const before = copyContext(ctx);
    unwindX64(m, ctx, IMAGE, FUNC, UNWIND);
    assert.deepEqual([ctx.rip, ctx.regs[RSP], ctx.regs[R12], ctx.regs[RBP]], [0x401234, SP + 0x1010, 0x1212, 0x2222]);
    assert.equal(before.regs[R12], 0xdead, 'copyContext is a copy');
  });

  it('says when the stack is not in the dump', () => {
    const m = new MockMemory().putUnwind(IMAGE + UNWIND, [0x01, 0, 0, 0]);
    assert.throws(() => unwindX64(m, context(IMAGE + FUNC, SP), IMAGE, FUNC, UNWIND), UnmappedAddressError);
  });
});
