// GCDesc decoding and reference enumeration on synthetic memory: normal series (fields and arrays of references)
// and value-type array series (nptrs/skip items), laid out as gcdesc.h describes them below a MethodTable.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemoryReader } from '../../src/dump/memory-reader';
import { UnmappedAddressError } from '../../src/errors';
import { GcDescReader } from '../../src/heap/gc-desc';
import type { MethodTableInfo } from '../../src/runtime/method-table';

/** A flat little-endian memory from `base` of `size` bytes. */
function flatMemory(base: number, size: number): { memory: MemoryReader; view: DataView } {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const check = (a: number, n: number) => {
    if (a < base || a + n > base + size) throw new UnmappedAddressError(a, n);
  };
  const memory: MemoryReader = {
    pointerSize: 8,
    read: (a, n) => (check(a, n), bytes.subarray(a - base, a - base + n)),
    readUpTo: (a, n) => (a < base || a >= base + size ? new Uint8Array(0) : bytes.subarray(a - base, Math.min(a - base + n, size))),
    isMapped: (a, n) => a >= base && a + n <= base + size,
    readU8: (a) => (check(a, 1), view.getUint8(a - base)),
    readU16: (a) => (check(a, 2), view.getUint16(a - base, true)),
    readU32: (a) => (check(a, 4), view.getUint32(a - base, true)),
    readI32: (a) => (check(a, 4), view.getInt32(a - base, true)),
    readU64: (a) => (check(a, 8), Number(view.getBigUint64(a - base, true))),
    readPointer: (a) => (check(a, 8), Number(view.getBigUint64(a - base, true))),
  };
  return { memory, view };
}

const BASE = 0x100000;
const MT = 0x101000;

function mt(baseSize: number, isArray: boolean, componentSize = isArray ? 24 : 0): MethodTableInfo {
  return { address: MT, baseSize, isArray, componentSize, containsGCPointers: true } as MethodTableInfo;
}

function setU64(view: DataView, at: number, v: number | bigint): void {
  view.setBigUint64(at - BASE, BigInt.asUintN(64, BigInt(v)), true);
}

function collect(reader: GcDescReader, info: MethodTableInfo, obj: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  reader.forEachReference(obj, size, reader.read(info), (off, target) => out.push([off, target]));
  return out;
}

describe('GCDesc', () => {
  it('normal series: two field runs, nulls skipped', () => {
    const { memory, view } = flatMemory(BASE, 0x4000);
    // n = 2; series i=0 (lowest) at MT-8-2*16, i=1 at MT-8-16: {seriessize - baseSize, startoffset}.
    const baseSize = 48;
    setU64(view, MT - 8, 2);
    setU64(view, MT - 8 - 32, 8 - baseSize); // one slot at +8
    setU64(view, MT - 8 - 32 + 8, 8);
    setU64(view, MT - 8 - 16, 16 - baseSize); // two slots at +24, +32
    setU64(view, MT - 8 - 16 + 8, 24);
    const obj = 0x102000;
    setU64(view, obj, MT);
    setU64(view, obj + 8, 0x7f0000001000);
    setU64(view, obj + 16, 0x1234); // not in any series
    setU64(view, obj + 24, 0);
    setU64(view, obj + 32, 0x7f0000002000);
    assert.deepEqual(collect(new GcDescReader(memory), mt(baseSize, false), obj, baseSize), [
      [8, 0x7f0000001000],
      [32, 0x7f0000002000],
    ]);
  });

  it('array of references: the series spans the elements', () => {
    const { memory, view } = flatMemory(BASE, 0x4000);
    setU64(view, MT - 8, 1);
    setU64(view, MT - 8 - 16, -24); // stored size = -BaseSize
    setU64(view, MT - 8 - 16 + 8, 16);
    const obj = 0x102000;
    const elements = [0x7f0000000010, 0, 0x7f0000000030];
    elements.forEach((e, i) => setU64(view, obj + 16 + i * 8, e));
    const size = 24 + 8 * elements.length;
    assert.deepEqual(collect(new GcDescReader(memory), mt(24, true), obj, size), [
      [16, 0x7f0000000010],
      [32, 0x7f0000000030],
    ]);
  });

  it('array of structs: nptrs/skip items repeat per element', () => {
    const { memory, view } = flatMemory(BASE, 0x4000);
    // Element = { ref, int, int, ref } = 24 bytes: items (nptrs 1, skip 8), (nptrs 1, skip 0).
    setU64(view, MT - 8, -2);
    setU64(view, MT - 8 - 16 + 8, 16); // startoffset of the elements
    view.setUint32(MT - 24 - BASE, 1, true);
    view.setUint32(MT - 24 - BASE + 4, 8, true);
    view.setUint32(MT - 32 - BASE, 1, true);
    view.setUint32(MT - 32 - BASE + 4, 0, true);
    const obj = 0x102000;
    const count = 2;
    for (let i = 0; i < count; i++) {
      setU64(view, obj + 16 + i * 24, 0x7f0000000100 + i);
      setU64(view, obj + 16 + i * 24 + 8, 0xdeadbeef); // ints, not references
      setU64(view, obj + 16 + i * 24 + 16, 0x7f0000000200 + i);
    }
    const size = 24 + count * 24;
    assert.deepEqual(collect(new GcDescReader(memory), mt(24, true), obj, size), [
      [16, 0x7f0000000100],
      [32, 0x7f0000000200],
      [40, 0x7f0000000101],
      [56, 0x7f0000000201],
    ]);
  });

  it('array of structs whose first reference is not at the element start (Dictionary Entry: int, int, key, value)', () => {
    const { memory, view } = flatMemory(BASE, 0x4000);
    // Entry = { int hashCode, int next, ref key, ref value } = 24 bytes: startoffset 16 + 8, one item (2, skip 8).
    setU64(view, MT - 8, -1);
    setU64(view, MT - 8 - 16 + 8, 24);
    view.setUint32(MT - 24 - BASE, 2, true);
    view.setUint32(MT - 24 - BASE + 4, 8, true);
    const obj = 0x102000;
    const count = 3;
    for (let i = 0; i < count; i++) {
      setU64(view, obj + 16 + i * 24, 0x0000000500000007); // hashCode and next: never references
      setU64(view, obj + 16 + i * 24 + 8, 0x7f0000000100 + i);
      setU64(view, obj + 16 + i * 24 + 16, i === 1 ? 0 : 0x7f0000000200 + i);
    }
    const size = 24 + count * 24;
    assert.deepEqual(collect(new GcDescReader(memory), mt(24, true), obj, size), [
      [24, 0x7f0000000100],
      [32, 0x7f0000000200],
      [48, 0x7f0000000101],
      [72, 0x7f0000000102],
      [80, 0x7f0000000202],
    ]);
  });

  it('value-array items that do not cover exactly one element are a LayoutCheckError', () => {
    const { memory, view } = flatMemory(BASE, 0x4000);
    setU64(view, MT - 8, -1);
    setU64(view, MT - 8 - 16 + 8, 16);
    view.setUint32(MT - 24 - BASE, 1, true);
    view.setUint32(MT - 24 - BASE + 4, 0, true); // 8 bytes per element, but elements are 24
    assert.throws(() => new GcDescReader(memory).read(mt(24, true)), /covers 8 bytes per element/);
    // A start offset past the first element is rejected too.
    setU64(view, MT - 8 - 16 + 8, 16 + 24);
    assert.throws(() => new GcDescReader(memory).read(mt(24, true)), /at offset 40/);
  });

  it('an implausible series count is a LayoutCheckError, not a guess', () => {
    const { memory, view } = flatMemory(BASE, 0x4000);
    setU64(view, MT - 8, 1 << 20);
    assert.throws(() => new GcDescReader(memory).read(mt(24, false)), /implausible GCDesc series count/);
  });
});
