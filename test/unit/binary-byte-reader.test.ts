import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ByteReader, combineU64 } from '../../src/binary/byte-reader';
import { decodeElfNotes } from '../../src/binary/elf-note';
import { DumpFormatError } from '../../src/errors';

test('little-endian integers at absolute offsets', () => {
  const r = new ByteReader(Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff, 0x08, 0, 0, 0, 0, 0, 0x1f, 0]), 't');
  assert.equal(r.u8(0), 1);
  assert.equal(r.u16(0), 0x0201);
  assert.equal(r.u32(0), 0x04030201);
  assert.equal(r.i32(4), -1);
  assert.equal(r.u32(4), 0xffffffff);
  assert.equal(r.u64(8), 0x001f000000000008);
  assert.equal(r.u64Big(0), 0xffffffff04030201n);
  assert.throws(() => r.u64(0), (e: unknown) => e instanceof DumpFormatError && /does not fit in 2\^53/.test(e.message));
  assert.equal(r.tryU64(0), undefined);
  assert.equal(combineU64(0xffffffff, 0x1fffff, 'x'), Number.MAX_SAFE_INTEGER);
  assert.throws(() => combineU64(0, 0x200000, 'x'), DumpFormatError);
});

test('out-of-range reads throw "truncated" DumpFormatError, including NaN and negative offsets', () => {
  const r = new ByteReader(new Uint8Array(4), 'header');
  for (const read of [() => r.u32(1), () => r.u8(4), () => r.u64(0), () => r.u8(-1), () => r.u8(Number.NaN), () => r.bytesAt(2, 3)]) {
    assert.throws(read, (e: unknown) => e instanceof DumpFormatError && /header is truncated/.test(e.message));
  }
});

test('cstring stops at NUL or the limit', () => {
  const r = new ByteReader(Buffer.from('CORE\0PRPabc'), 'n');
  assert.equal(r.cstring(0, 5), 'CORE');
  assert.equal(r.cstring(8), 'abc');
  assert.equal(r.cstring(5, 2), 'PR');
});

test('notes with junk name padding decode; a note past its segment throws', () => {
  const note = Buffer.from([5, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, ...Buffer.from('CORE\0PRP'), 1, 2, 3, 4]);
  const notes = decodeElfNotes(note, 'seg', 10);
  assert.equal(notes.length, 1);
  assert.deepEqual([notes[0]!.name, notes[0]!.type, [...notes[0]!.desc]], ['CORE', 1, [1, 2, 3, 4]]);
  assert.throws(() => decodeElfNotes(note.subarray(0, note.length - 1), 'seg', 10), DumpFormatError);
  assert.throws(() => decodeElfNotes(Buffer.concat([note, note]), 'seg', 1), DumpFormatError);
});
