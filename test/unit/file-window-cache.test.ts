// The dump reader's small-read cache (issue 16): hits stamp, misses carve windows from shared slabs, eviction drops
// the stalest windows in a batch. Checked on a file whose every byte is known from its offset.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { AddressSpace, type MemoryRegion } from '../../src/dump/address-space';
import { FileWindowCache } from '../../src/dump/file-window-cache';
import { writeTemp } from './elf-core-builder';

const byteAt = (offset: number): number => (offset * 13 + (offset >> 9)) % 251;

function patternPath(size: number, name: string): string {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = byteAt(i);
  return writeTemp(name, bytes);
}

test('a small cache under random, repeated and sequential reads returns the file bytes, and views outlive eviction', () => {
  const size = 200_000;
  const f = new FileWindowCache(patternPath(size, 'window-cache.bin'), { windowSize: 512, maxWindows: 9, readAhead: 4 });
  const check = (offset: number, length: number, bytes: Uint8Array): void => {
    for (let i = 0; i < length; i++) if (bytes[i] !== byteAt(offset + i)) assert.fail(`byte ${offset + i}: ${bytes[i]} != ${byteAt(offset + i)}`);
  };
  // A view taken first must keep its bytes while hundreds of windows come and go (the address space's last-window
  // shortcut relies on it).
  const early = f.read(1000, 200);
  let seed = 7;
  for (let i = 0; i < 5000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const hot = i % 3 === 0;
    const at = hot ? 4096 + (seed % 1024) : seed % (size - 700);
    const length = 1 + (seed % 700);
    check(at, length, f.read(at, length));
  }
  for (let at = 0; at + 300 <= size; at += 250) check(at, 300, f.read(at, 300));
  check(1000, 200, early);
  f.close();
});

test('the address space reads fields of one window without a look-up, and stays inside its region', () => {
  const size = 20_000;
  const f = new FileWindowCache(patternPath(size, 'window-fields.bin'), { windowSize: 256, maxWindows: 4 });
  // Two regions whose file bytes are adjacent but whose addresses are not: a read past the first region's end
  // must not be answered from the window that also holds the second region's bytes.
  const core: MemoryRegion[] = [
    { start: 0x10000, end: 0x10080, source: f, fileOffset: 0, origin: 'core' },
    { start: 0x20080, end: 0x20200, source: f, fileOffset: 0x80, origin: 'core' },
  ];
  const space = new AddressSpace(core);
  const u32 = (o: number): number => (byteAt(o) | (byteAt(o + 1) << 8) | (byteAt(o + 2) << 16) | (byteAt(o + 3) << 24)) >>> 0;
  for (let o = 0; o + 4 <= 0x80; o += 4) assert.equal(space.readU32(0x10000 + o), u32(o));
  assert.throws(() => space.readU32(0x10080), /0x10080/);
  for (let o = 0x80; o + 4 <= 0x200; o += 4) assert.equal(space.readU32(0x20000 + o), u32(o));
  assert.equal(space.readU32(0x1007c), u32(0x7c));
  f.close();
});

test('transient reads: the same values and errors as cached reads while scratch windows are reused', () => {
  const size = 200_000;
  // Every eighth byte small, so aligned words fit in 2^53 and others mostly do not.
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 8 === 7 ? 0 : i % 8 === 6 ? byteAt(i) & 0x1f : byteAt(i);
  const f = new FileWindowCache(writeTemp('window-transient.bin', bytes), { windowSize: 256, maxWindows: 8 });
  const core: MemoryRegion[] = [
    { start: 0x100000, end: 0x100000 + 160_000, source: f, fileOffset: 0, origin: 'core' },
    { start: 0x200000, end: 0x200000 + 40_000, source: f, fileOffset: 160_000, origin: 'core' },
  ];
  const space = new AddressSpace(core);
  // The pattern's words are often past 2^53: then both must throw the same error.
  const outcome = (read: () => number): string => {
    try {
      return String(read());
    } catch (e) {
      return `error: ${(e as Error).message}`;
    }
  };
  const same = (address: number): void => assert.equal(outcome(() => space.readPointerTransient(address)), outcome(() => space.readPointer(address)), `0x${address.toString(16)}`);
  let fits = 0;
  // Words at every alignment (some straddle a window or the region's end: they fall back), over 625 windows (the
  // scratch holds 256), transient first so its own read is what is checked.
  let seed = 99;
  for (let i = 0; i < 6000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const o = seed % (160_000 - 8);
    const v = outcome(() => space.readPointerTransient(0x100000 + o));
    if (!v.startsWith('error')) {
      fits++;
      assert.equal(Number(v) % 2 ** 32, bytes.readUInt32LE(o), `low half at ${o}`);
      assert.equal(Math.floor(Number(v) / 2 ** 32), bytes.readUInt32LE(o + 4), `high half at ${o}`);
    }
    same(0x100000 + o);
  }
  assert.ok(fits > 100, `only ${fits} words below 2^53`);
  for (let o = 0; o + 8 <= 40_000; o += 1003) same(0x200000 + o);
  assert.throws(() => space.readPointerTransient(0x100000 + 160_000 - 4), /not in the dump/);
  assert.throws(() => space.readPointerTransient(0x400000), /0x400000/);
  f.close();
});
