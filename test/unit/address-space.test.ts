import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { AddressSpace, type MemoryRegion } from '../../src/dump/address-space';
import { FileWindowCache } from '../../src/dump/file-window-cache';
import { UnmappedAddressError } from '../../src/errors';
import { writeTemp } from './elf-core-builder';

/** A file whose byte at offset i is i % 251, so any read can be checked against its offset. */
function patternFile(size: number): FileWindowCache {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  // Small windows so reads cross window boundaries.
  return new FileWindowCache(writeTemp('pattern.bin', bytes), { windowSize: 256, maxWindows: 3 });
}

const expected = (fileOffset: number, length: number): number[] => Array.from({ length }, (_, i) => (fileOffset + i) % 251);

test('reads inside, across adjacent regions, and at gaps', () => {
  const f = patternFile(10_000);
  const core: MemoryRegion[] = [
    { start: 0x2000, end: 0x2400, source: f, fileOffset: 0, origin: 'core' },
    { start: 0x1000, end: 0x1100, source: f, fileOffset: 5000, origin: 'core' },
    { start: 0x2400, end: 0x2500, source: f, fileOffset: 3000, origin: 'core' },
  ];
  const space = new AddressSpace(core);
  try {
    assert.deepEqual([...space.read(0x2010, 300)], expected(0x10, 300), 'crosses cache windows');
    assert.deepEqual([...space.read(0x23fe, 4)], [...expected(0x3fe, 2), ...expected(3000, 2)], 'crosses regions');
    assert.deepEqual([...space.read(0x1000, 2)], expected(5000, 2));
    assert.equal(space.readU16(0x23ff), expected(0x3ff, 1)[0]! | (expected(3000, 1)[0]! << 8));
    assert.equal(space.readU32(0x20fe), Buffer.from(expected(0xfe, 4)).readUInt32LE(0));
    assert.equal(space.isMapped(0x2000, 0x500), true);
    assert.equal(space.isMapped(0x10ff, 2), false);
    assert.equal(space.readUpTo(0x24f0, 100).length, 0x10);
    assert.throws(() => space.read(0x24f0, 0x20), (e: unknown) => e instanceof UnmappedAddressError && e.address === 0x2500 && e.length === 0x10);
    assert.throws(() => space.readU8(0x3000), UnmappedAddressError);
    assert.throws(() => space.readU64(0x10fc), UnmappedAddressError);
    const target = new Uint8Array(0x600);
    assert.equal(space.readUpToInto(0x2000, target, 0x10, 0x5f0), 0x500);
    assert.deepEqual([...target.subarray(0x10, 0x20)], expected(0, 0x10));
    assert.equal(space.mappedBytes(0x0, 0x10000), 0x600);
  } finally {
    f.close();
  }
});

test('core bytes win over overlays; overlays fill only the gaps', () => {
  const coreFile = patternFile(4096);
  const image = patternFile(16384);
  const core: MemoryRegion[] = [{ start: 0x11000, end: 0x11100, source: coreFile, fileOffset: 100, origin: 'core' }];
  const overlay: MemoryRegion[] = [{ start: 0x10000, end: 0x12000, source: image, fileOffset: 4096, origin: 'image' }];
  const space = new AddressSpace(core, overlay);
  try {
    assert.deepEqual(space.regions.map((r) => [r.start, r.end, r.origin]), [
      [0x10000, 0x11000, 'image'], [0x11000, 0x11100, 'core'], [0x11100, 0x12000, 'image'],
    ]);
    assert.deepEqual([...space.read(0x110fe, 4)], [...expected(100 + 0xfe, 2), ...expected(4096 + 0x1100, 2)]);
    assert.deepEqual([...space.read(0x10000, 3)], expected(4096, 3));
    assert.equal(space.regionAt(0x11050)!.origin, 'core');
    assert.equal(space.mappedBytes(0x10000, 0x2000, 'image'), 0x2000 - 0x100);
  } finally {
    coreFile.close();
    image.close();
  }
});

test('big reads go through readInto without the cache and match small reads', () => {
  const f = patternFile(100_000);
  const space = new AddressSpace([{ start: 0x100000, end: 0x100000 + 100_000, source: f, fileOffset: 0, origin: 'core' }]);
  try {
    const big = new Uint8Array(90_000);
    space.readInto(0x100000 + 5, big, 0, big.length);
    assert.deepEqual([...big.subarray(89_990)], expected(5 + 89_990, 10));
    assert.throws(() => space.readInto(0x100000 + 50_000, new Uint8Array(60_000), 0, 60_000), UnmappedAddressError);
  } finally {
    f.close();
  }
});
