// GC info v4 (AMD64) decoding on hand-built blobs: each blob is written field by field from the format description
// (research/code-and-stacks-net10.md §5; dotnet/runtime gcinfoencoder.cpp/gcinfodecoder.cpp), then decoded and
// queried for live slots at offsets chosen to hit every path: safe points (plain, RLE, indirect table), interruptible
// chunks with transitions, empty chunks, offsets outside every range, untracked slots, funclet parents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ceilOfLog2, GcInfoBitReader, GcInfoTruncatedError } from '../../src/runtime/code/gcinfo-bit-reader';
import { decodeGcInfo, decodeGcInfoCodeLength, enumerateLiveSlots, GcStackSlotBase, isScratchRegister, isScratchStackSlot, type GcInfo, type LiveSlot } from '../../src/runtime/code/gcinfo-decoder';
import { formatGcInfoLikeSos } from '../../src/runtime/code/gcinfo-dump';

/** Writes bits LSB-first, as the runtime's BitStreamWriter does. */
class BitWriter {
  readonly bits: number[] = [];
  write(value: number, count: number): this {
    for (let i = 0; i < count; i++) this.bits.push(Math.floor(value / 2 ** i) % 2);
    return this;
  }
  varU(value: number, base: number): this {
    do {
      const chunk = value % 2 ** base;
      value = Math.floor(value / 2 ** base);
      this.write(chunk + (value > 0 ? 2 ** base : 0), base + 1);
    } while (value > 0);
    return this;
  }
  varS(value: number, base: number): this {
    for (;;) {
      const chunk = ((value % 2 ** base) + 2 ** base) % 2 ** base;
      value = Math.floor(value / 2 ** base);
      const signBit = chunk >= 2 ** (base - 1);
      const done = (value === 0 && !signBit) || (value === -1 && signBit);
      this.write(chunk + (done ? 0 : 2 ** base), base + 1);
      if (done) return this;
    }
  }
  align(): this {
    while (this.bits.length % 8 !== 0) this.bits.push(0);
    return this;
  }
  get position(): number {
    return this.bits.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.bits.length / 8) + 1);
    this.bits.forEach((b, i) => (out[i >> 3]! |= b << (i & 7)));
    return out;
  }
}

const names = (info: GcInfo, live: LiveSlot[]) =>
  live.map(({ slot }) => (slot.kind === 'register' ? info.encoding.registerNames[slot.register]! : `${['caller', 'sp', 'fp'][slot.base]}${slot.offset}`));

describe('GC info bit stream', () => {
  it('reads variable-length numbers, signed and unsigned, across byte boundaries', () => {
    const w = new BitWriter().write(1, 3).varU(0, 3).varU(7, 3).varU(8, 3).varU(1000, 2).varS(-1, 6).varS(31, 6).varS(32, 6).varS(-33, 6).varS(-100000, 4);
    const r = new GcInfoBitReader(w.bytes());
    assert.equal(r.read(3), 1);
    assert.deepEqual([r.decodeVarLengthUnsigned(3), r.decodeVarLengthUnsigned(3), r.decodeVarLengthUnsigned(3), r.decodeVarLengthUnsigned(2)], [0, 7, 8, 1000]);
    assert.deepEqual([r.decodeVarLengthSigned(6), r.decodeVarLengthSigned(6), r.decodeVarLengthSigned(6), r.decodeVarLengthSigned(6), r.decodeVarLengthSigned(4)], [-1, 31, 32, -33, -100000]);
    assert.equal(r.position, w.position);
  });

  it('throws a truncation error past the end, and CeilOfLog2 matches the runtime', () => {
    const r = new GcInfoBitReader(new Uint8Array([0xff]));
    assert.equal(r.read(8), 255);
    assert.throws(() => r.readOne(), GcInfoTruncatedError);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 64, 65].map(ceilOfLog2), [0, 0, 1, 2, 2, 3, 6, 7]);
  });
});

describe('GC info v4 decoding (AMD64)', () => {
  it('slim header: safe points with plain live sets, delta-encoded registers, tracked and untracked stack slots', () => {
    const w = new BitWriter()
      .write(0, 1) // slim
      .write(1, 1) // stack base register (rbp)
      .varU(0x42, 8) // code length
      .varU(2, 2) // safe points
      .write(0x10, 7) // ceil(log2(0x42)) = 7 bits each
      .write(0x20, 7)
      .write(1, 1).varU(2, 2) // 2 registers
      .write(1, 1).varU(1, 2).varU(1, 1) // 1 tracked stack slot, 1 untracked
      .varU(3, 3).write(0, 2) // rbx, no flags
      .varU(14 - 3 - 1, 2) // r14 as a delta
      .write(GcStackSlotBase.FrameRegister, 2).varS(-2, 6).write(0, 2) // [rbp-16]
      .write(GcStackSlotBase.FrameRegister, 2).varS(-3, 6).write(1, 2) // untracked [rbp-24], interior
      .write(0, 1) // no indirect live-state table
      .write(0b101, 3) // safe point 0: rbx, [rbp-16]
      .write(0b010, 3); // safe point 1: r14
    const info = decodeGcInfo(w.bytes(), 4);
    assert.equal(info.slimHeader, true);
    assert.equal(info.codeLength, 0x42);
    assert.equal(info.stackBaseRegister, 5);
    assert.deepEqual(info.safePoints, [0x10, 0x20]);
    assert.equal(info.sizeOfStackOutgoingAndScratchArea, 0);
    assert.deepEqual([info.numRegisters, info.numTracked, info.numUntracked], [2, 3, 1]);
    assert.deepEqual(info.slots[3], { kind: 'stack', base: GcStackSlotBase.FrameRegister, offset: -24, flags: 1 | 4 });
    assert.equal(decodeGcInfoCodeLength(w.bytes(), 4), 0x42);
    const at = (offset: number, extra = {}) => enumerateLiveSlots(info, offset, { isActiveFrame: false, ...extra });
    assert.deepEqual(names(info, at(0x10).slots), ['rbx', 'fp-16', 'fp-24']);
    assert.equal(at(0x10).how, 'safePoint');
    assert.deepEqual(names(info, at(0x20).slots), ['r14', 'fp-24']);
    // Not a safe point and no interruptible ranges: untracked slots only.
    assert.deepEqual(names(info, at(0x18).slots), ['fp-24']);
    assert.equal(at(0x18).how, 'untrackedOnly');
    // An aborted frame at a safe point does not use the safe point's live set.
    assert.deepEqual(names(info, at(0x10, { executionAborted: true }).slots), ['fp-24']);
    // The parent of a funclet reports nothing (report-only-leaf).
    assert.deepEqual(at(0x10, { parentOfFunclet: true }).slots, []);
    assert.deepEqual(names(info, at(0x10, { noReportUntracked: true }).slots), ['rbx', 'fp-16']);
  });

  it('fat header: GS cookie, generics context, frame register, reverse P/Invoke frame, outgoing area', () => {
    const w = new BitWriter()
      .write(1, 1)
      .write(0x4 | 0x20 | 0x40 | 0x200, 10)
      .varU(0x100, 8)
      .varU(9, 5) // prolog: 9 + 1
      .varU(3, 3) // epilog 3
      .varS(-5, 6) // GS cookie at caller SP − 40
      .varS(-2, 6) // generics context (MethodDesc) at caller SP − 16
      .varU(5 ^ 5, 3) // stack base register rbp
      .varS(-8, 6) // reverse P/Invoke frame
      .varU(4, 3) // 32 bytes of outgoing area
      .varU(0, 2) // no safe points
      .varU(0, 1) // no interruptible ranges
      .write(0, 1)
      .write(0, 1); // empty slot table
    const info = decodeGcInfo(w.bytes(), 4);
    assert.equal(info.slimHeader, false);
    assert.equal(info.prologSize, 10);
    assert.deepEqual(info.gsCookieValidRange, { start: 10, end: 0x100 - 3 });
    assert.equal(info.gsCookieStackSlot, -40);
    assert.deepEqual(info.genericsInstContext, { kind: 'MD', stackSlot: -16 });
    assert.equal(info.stackBaseRegister, 5);
    assert.equal(info.reversePInvokeFrameStackSlot, -64);
    assert.equal(info.sizeOfStackOutgoingAndScratchArea, 32);
    assert.equal(info.pspSymStackSlot, undefined);
    assert.deepEqual(enumerateLiveSlots(info, 0x20, { isActiveFrame: true }).slots, []);
    const text = formatGcInfoLikeSos(info);
    assert.match(text, /^Prolog size: 10\nGS cookie: caller\.sp-28\nGS cookie valid range: \[a;fd\)\n/);
    assert.match(text, /GenericInst slot: caller\.sp-10 \(GENERIC_PARAM_CONTEXT_METHODDESC\)\n/);
    assert.match(text, /Size of parameter area: 20\nCode size: 100\n$/);
  });

  it('fully interruptible ranges: chunk transitions, an empty chunk, and offsets outside every range', () => {
    const w = new BitWriter()
      .write(1, 1)
      .write(0x40, 10)
      .varU(0x100, 8)
      .varU(0, 3) // stack base register rbp
      .varU(0, 3) // no outgoing area
      .varU(0, 2) // no safe points
      .varU(2, 1) // two interruptible ranges
      .varU(0x10, 6).varU(0x40 - 1, 6) // [0x10, 0x50)
      .varU(0x10, 6).varU(0x40 - 1, 6) // [0x60, 0xa0)
      .write(1, 1).varU(2, 2) // 2 registers
      .write(0, 1)
      .varU(0, 3).write(1, 2) // rax, interior
      .varU(3, 3).write(0, 2) // rbx (the previous slot had flags: full encoding)
      .varU(8, 3); // 8 bits per chunk pointer
    w.write(1, 8).write(0, 8).align(); // chunk 0 at +1, chunk 1 empty
    w.write(0, 1).write(0b11, 2) // could-be-live: both (plain)
      .write(0b10, 2) // final states: rax dead, rbx live
      .write(1, 1).write(5, 6).write(1, 1).write(20, 6).write(0, 1) // rax: transitions at 5 and 20
      .write(1, 1).write(30, 6).write(0, 1); // rbx: transition at 30
    const info = decodeGcInfo(w.bytes(), 4);
    assert.deepEqual(info.interruptibleRanges, [{ start: 0x10, stop: 0x50 }, { start: 0x60, stop: 0xa0 }]);
    const at = (offset: number) => enumerateLiveSlots(info, offset, { isActiveFrame: true });
    assert.deepEqual(names(info, at(0x10 + 3).slots), []);
    assert.deepEqual(names(info, at(0x10 + 10).slots), ['rax']);
    assert.deepEqual(names(info, at(0x10 + 25).slots), []);
    assert.deepEqual(names(info, at(0x10 + 40).slots), ['rbx']);
    // Pseudo offset 0x50 is in chunk 1, which is empty: chunk 0's final states hold.
    assert.deepEqual(names(info, at(0x60 + 0x10).slots), ['rbx']);
    assert.equal(at(0x60 + 0x10).how, 'interruptible');
    // Neither a safe point nor interruptible: the runtime reports nothing at all.
    assert.equal(at(0x55).how, 'none');
    assert.ok(isScratchRegister(info, 0) && !isScratchRegister(info, 3) && isScratchRegister(info, 6) && !isScratchRegister(info, 15));
  });

  it('indirect live-state table with an RLE-encoded set and a plain one', () => {
    const w = new BitWriter()
      .write(0, 1)
      .write(0, 1)
      .varU(0x30, 8)
      .varU(2, 2)
      .write(0x08, 6) // ceil(log2(0x30)) = 6
      .write(0x18, 6)
      .write(1, 1).varU(5, 2) // 5 registers: rbx, rbp... as deltas from rbx
      .write(0, 1)
      .varU(3, 3).write(0, 2)
      .varU(1, 2) // rbp (5)
      .varU(6, 2) // r12
      .varU(0, 2) // r13
      .varU(0, 2) // r14
      .write(1, 1) // indirect table
      .varU(3, 3); // 4 bits per offset
    const table = w.position;
    w.write(0, 4); // safe point 0 → blob at 0
    const second = 6;
    w.write(second, 4); // safe point 1 → blob at bit 6
    w.align();
    assert.equal(w.position, Math.ceil((table + 8) / 8) * 8);
    w.write(0, 1).write(0b10011, 5); // blob 0: plain, slots 0, 1, 4
    w.write(1, 1).write(0, 1).varU(1, 4).varU(1, 2).varU(1, 4); // blob 1: RLE: skip 1, run 2, skip 2
    const info = decodeGcInfo(w.bytes(), 4);
    assert.deepEqual(info.slots.map((s) => (s.kind === 'register' ? s.register : -1)), [3, 5, 12, 13, 14]);
    assert.deepEqual(names(info, enumerateLiveSlots(info, 0x08, { isActiveFrame: false }).slots), ['rbx', 'rbp', 'r14']);
    assert.deepEqual(names(info, enumerateLiveSlots(info, 0x18, { isActiveFrame: false }).slots), ['rbp', 'r12']);
  });

  it('the outgoing-argument area holds scratch stack slots', () => {
    const info = { ...decodeGcInfo(new BitWriter().write(0, 1).write(0, 1).varU(4, 8).varU(0, 2).write(0, 1).write(0, 1).bytes(), 4), sizeOfStackOutgoingAndScratchArea: 32 };
    assert.equal(isScratchStackSlot(info, 0x1000 + 24, 0x1000), true);
    assert.equal(isScratchStackSlot(info, 0x1000 + 32, 0x1000), false);
  });
});
