// The counting walk (src/heap/type-count-walk.ts) against the visitor walk (forEachObject) with dumpheap's
// accumulation written out here, on a synthetic heap made to hit the counting walk's edges: MethodTables that share a
// cache slot (address bits 3..10 equal, or the same low half under another high half), an allocation context to step over, Free blocks of 0.5 MB and more followed
// by an object (in the small and the large object heap), the empty string (smaller than the minimum object), mark
// bits in a MethodTable pointer, an array longer than 2^31 bytes, a bad MethodTable with a resynchronisation, and a
// segment whose last object runs past its end. The real-dump check is test/real/counting-walk.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemoryReader } from '../../src/dump/memory-reader';
import { forEachObject } from '../../src/heap/heap-walker';
import { MethodTableIndex } from '../../src/heap/method-table-index';
import { countObjectsByType, FRAGMENTATION_BLOCK_MIN_SIZE } from '../../src/heap/type-count-walk';
import type { AllocContext, GcHeap, HeapSegment } from '../../src/runtime/gc/gc-heap';
import type { MethodTableInfo, MethodTableReader } from '../../src/runtime/method-table';

const BASE = 0x7f0000000000;
const FREE = 0x7f1000001000;
// Two MethodTables 2 KiB apart share a slot of the 256-slot cache; a third elsewhere.
const NODE = 0x7f1000002010;
const NODE_TWIN = NODE + 256 * 8;
const STRING = 0x7f1000003028;
const BYTES = 0x7f1000004040;
// Same low 32 bits as NODE, another high half.
const NODE_HIGH = NODE + 2 ** 32;
const TYPES = new Map<number, { baseSize: number; componentSize: number }>([
  [FREE, { baseSize: 24, componentSize: 1 }],
  [NODE, { baseSize: 40, componentSize: 0 }],
  [NODE_TWIN, { baseSize: 32, componentSize: 0 }],
  [STRING, { baseSize: 22, componentSize: 2 }],
  [BYTES, { baseSize: 24, componentSize: 1 }],
  [NODE_HIGH, { baseSize: 48, componentSize: 0 }],
]);

/** A sparse little-endian memory: the segments' bytes, written object by object. */
class Memory implements MemoryReader {
  readonly pointerSize = 8;
  readonly bytes: Uint8Array;
  constructor(readonly start: number, size: number) {
    this.bytes = new Uint8Array(size);
  }
  object(address: number, mt: number, length = 0): void {
    const o = address - this.start;
    const v = new DataView(this.bytes.buffer);
    v.setUint32(o, mt % 2 ** 32, true);
    v.setUint32(o + 4, Math.floor(mt / 2 ** 32), true);
    v.setUint32(o + 8, length, true);
  }
  readUpToInto(address: number, target: Uint8Array, targetOffset: number, length: number): number {
    const o = address - this.start;
    if (o < 0 || o >= this.bytes.length) return 0;
    const n = Math.min(length, this.bytes.length - o);
    target.set(this.bytes.subarray(o, o + n), targetOffset);
    return n;
  }
  readUpTo(address: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    return out.subarray(0, this.readUpToInto(address, out, 0, length));
  }
  read(address: number, length: number): Uint8Array {
    return this.readUpTo(address, length);
  }
  isMapped(address: number, length: number): boolean {
    return address >= this.start && address + length <= this.start + this.bytes.length;
  }
  readU8(): number {
    throw new Error('unused');
  }
  readU16(): number {
    throw new Error('unused');
  }
  readU32(): number {
    throw new Error('unused');
  }
  readI32(): number {
    throw new Error('unused');
  }
  readU64(): number {
    throw new Error('unused');
  }
  readPointer(): number {
    throw new Error('unused');
  }
}

const mts = {
  tryRead(mt: number): MethodTableInfo | undefined {
    const t = TYPES.get(mt);
    return t === undefined ? undefined : ({ address: mt, ...t } as unknown as MethodTableInfo);
  },
} as unknown as MethodTableReader;

function segment(kind: HeapSegment['kind'], start: number, end: number): HeapSegment {
  return { address: start - 0x1000, heapIndex: 0, kind, start, end, allocated: end, committed: end, reserved: end, flags: 0 };
}

/** Lays out objects from `start`; returns the end address. `length` for arrays and strings. */
function lay(memory: Memory, start: number, objects: readonly (readonly [number, number?])[]): number {
  let at = start;
  for (const [mt, length = 0] of objects) {
    memory.object(at, mt, length);
    const t = TYPES.get(mt - (mt % 8)) ?? { baseSize: 24, componentSize: 0 };
    const size = Math.max(24, t.baseSize + length * t.componentSize);
    at += Math.ceil(size / 8) * 8;
  }
  return at;
}

function syntheticHeap(): { heap: GcHeap; memory: Memory } {
  const memory = new Memory(BASE, 8 << 20);
  const big = FRAGMENTATION_BLOCK_MIN_SIZE; // a Free block of exactly 0.5 MB: counts
  // gen0: alternating twins, the empty string, a pointer with mark bits, an allocation context, big Free blocks
  // followed by an object (a line each) and by another Free block (no line).
  const gen0Start = BASE + 0x1000;
  let at = lay(memory, gen0Start, [[NODE], [NODE_TWIN], [NODE], [NODE_HIGH], [NODE], [STRING, 0], [NODE_TWIN + 1], [NODE], [STRING, 5], [NODE_HIGH]]);
  const context: AllocContext = { pointer: at, limit: at + 256 };
  at = context.limit + 24;
  at = lay(memory, at, [[NODE], [FREE, big - 24], [NODE_TWIN], [FREE, 100], [NODE], [FREE, big], [FREE, 50], [NODE], [FREE, big + 8], [STRING, 2]]);
  const gen0 = segment('gen0', gen0Start, at);
  // gen2: a bad MethodTable after two good objects, then objects the walk resynchronises on.
  const gen2Start = BASE + 0x300000;
  at = lay(memory, gen2Start, [[NODE], [STRING, 3], [0x1234560], [NODE], [NODE_TWIN], [NODE], [STRING, 9], [NODE_TWIN]]);
  const gen2 = segment('gen2', gen2Start, at);
  // Another small segment whose last object runs past its end.
  const gen1Start = BASE + 0x380000;
  at = lay(memory, gen1Start, [[NODE], [NODE_TWIN]]);
  const gen1 = segment('gen1', gen1Start, at - 8);
  // LOH: a Free block ≥ 0.5 MB followed by an object (no fragmentation line there), an array of more than 2^31 bytes
  // whose header is all the walk reads (its bytes lie past the memory: the segment ends after it).
  const lohStart = BASE + 0x400000;
  at = lay(memory, lohStart, [[BYTES, 90_000], [FREE, 2 * big], [BYTES, 100_000]]);
  memory.object(at, BYTES, 2 ** 31 + 8);
  const loh = segment('loh', lohStart, at + 24 + 2 ** 31 + 8);
  const heap = { segments: [gen0, gen2, gen1, loh], allocContexts: [context], freeObjectMethodTable: FREE } as unknown as GcHeap;
  return { heap, memory };
}

test('the counting walk equals the visitor walk with dumpheap -stat accumulation on a synthetic heap', () => {
  const { heap, memory } = syntheticHeap();
  const counted = countObjectsByType(heap, mts, memory);

  const index = new MethodTableIndex();
  const counts = new Map<number, { count: number; size: number }>();
  const fragmentation: { free: number; size: number; next: number; nextMt: number }[] = [];
  let lastFree = -1;
  let lastFreeSize = 0;
  let totalCount = 0;
  let totalSize = 0;
  const problems = forEachObject(heap, mts, memory, (address, mt, size, seg, mtIndex) => {
    const row = counts.get(mtIndex) ?? { count: 0, size: 0 };
    row.count++;
    row.size += size;
    counts.set(mtIndex, row);
    totalCount++;
    totalSize += size;
    const isFree = mt === FREE;
    if (lastFree >= 0 && !isFree && lastFree + lastFreeSize === address && seg.kind !== 'loh') fragmentation.push({ free: lastFree, size: lastFreeSize, next: address, nextMt: mt });
    if (isFree && size >= FRAGMENTATION_BLOCK_MIN_SIZE) {
      lastFree = address;
      lastFreeSize = size;
    } else lastFree = -1;
  }, undefined, index);

  assert.deepEqual(counted.order, [...counts.keys()]);
  assert.deepEqual(counted.order.map((i) => counted.index.addresses[i]), [...counts.keys()].map((i) => index.addresses[i]));
  assert.deepEqual(counted.order.map((i) => [counted.counts[i], counted.sizes[i]]), [...counts.values()].map((r) => [r.count, r.size]));
  assert.equal(counted.totalCount, totalCount);
  assert.equal(counted.totalSize, totalSize);
  assert.deepEqual(counted.fragmentation, fragmentation);
  assert.deepEqual(counted.problems, problems);

  // The heap was built to exercise each edge: both twins counted, two fragmentation lines (gen0 only), the bad
  // MethodTable stepped over, the overrunning object reported, the huge array counted at its full size.
  assert.deepEqual(fragmentation.map((f) => f.nextMt), [NODE_TWIN, STRING]);
  assert.deepEqual(problems.map((p) => [p.segment.kind, p.resumedAt !== undefined]), [['gen2', true], ['gen1', false]]);
  const twin = counted.order.find((i) => counted.index.addresses[i] === NODE_TWIN)!;
  assert.equal(counted.counts[twin], 5);
  const bytes = counted.order.find((i) => counted.index.addresses[i] === BYTES)!;
  assert.equal(counted.sizes[bytes], 24 + 90_000 + 24 + 100_000 + 24 + 2 ** 31 + 8);
});
