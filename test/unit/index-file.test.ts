// The per-dump index's file format on synthetic bytes: a round trip of every section type, and refusal (a typed
// IndexFileError, never data) of a file that is truncated, extended, corrupt in a section, its header or its page
// table, of another key or part, or not an index file at all; page-by-page reads find every element, and a corrupt
// page in the middle of a section is refused on the read that touches it while the other pages still read.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { INDEX_PAGE, IndexFile, IndexFileError, tableCrc32, writeIndexFile } from '../../src/cli/index/index-file';

const KEY = 'k'.repeat(64);

function sample(dir: string): string {
  const file = path.join(dir, 'graph.dsi');
  writeIndexFile(file, { part: 'graph', key: KEY, meta: { objects: 3 } }, [
    { name: 'addresses', type: 'f64', data: Float64Array.from([0x7f0000001000, 0x7f0000001020, 2 ** 52]) },
    { name: 'sizes', type: 'u32', data: Uint32Array.from([24, 32, 0xffffffff]) },
    { name: 'idom', type: 'i32', data: Int32Array.from([-2, 0, -1]) },
    { name: 'empty', type: 'u32', data: new Uint32Array(0) },
    { name: 'problems', type: 'json', data: { walk: [], note: 'ünïcode' } },
  ]);
  return file;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-index-file-'));
}

function refused(file: string, pattern: RegExp, read: (f: IndexFile) => unknown = (f) => f.f64('addresses'), key = KEY, part = 'graph'): void {
  assert.throws(
    () => {
      const f = IndexFile.open(file, key, part);
      try {
        read(f);
      } finally {
        f.close();
      }
    },
    (e: unknown) => e instanceof IndexFileError && pattern.test(e.message),
  );
}

test('index file: every section type reads back exactly', () => {
  const dir = tempDir();
  const f = IndexFile.open(sample(dir), KEY, 'graph');
  try {
    assert.deepEqual([...f.f64('addresses')], [0x7f0000001000, 0x7f0000001020, 2 ** 52]);
    assert.deepEqual([...f.u32('sizes')], [24, 32, 0xffffffff]);
    assert.deepEqual([...f.i32('idom')], [-2, 0, -1]);
    assert.equal(f.u32('empty').length, 0);
    assert.deepEqual(f.json('problems'), { walk: [], note: 'ünïcode' });
    assert.deepEqual(f.header.meta, { objects: 3 });
    assert.equal(f.typeOf('sizes'), 'u32');
    assert.throws(() => f.u32('addresses'), IndexFileError, 'a section is read only as its own type');
    assert.throws(() => f.u32('missing'), IndexFileError);
  } finally {
    f.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('index file: truncated, extended, corrupt, foreign and stale files are refused', () => {
  const dir = tempDir();
  try {
    const file = sample(dir);
    const good = fs.readFileSync(file);
    const put = (bytes: Buffer): void => fs.writeFileSync(file, bytes);

    put(good.subarray(0, good.length - 8));
    refused(file, /has \d+ bytes, its header says/);
    put(good.subarray(0, 30));
    refused(file, /truncated/);
    put(Buffer.concat([good, Buffer.alloc(8)]));
    refused(file, /extended/);

    // One bit flipped in the first section (the addresses start right after the 8-aligned header).
    const headerLength = good.readUInt32LE(8);
    const tableLength = good.readUInt32LE(12);
    const dataStart = Math.ceil((48 + headerLength + tableLength) / 8) * 8;
    const flipped = Buffer.from(good);
    flipped[dataStart + 3]! ^= 0x10;
    put(flipped);
    refused(file, /addresses: checksum mismatch/);
    // The other sections of that file still read (each has its own checksum).
    const f = IndexFile.open(file, KEY, 'graph');
    assert.deepEqual([...f.u32('sizes')], [24, 32, 0xffffffff]);
    f.close();

    const header = Buffer.from(good);
    header[60]! ^= 0x01; // inside the header JSON
    put(header);
    refused(file, /header checksum mismatch/);
    const table = Buffer.from(good);
    table[48 + headerLength]! ^= 0x01; // the first page's CRC in the page table
    put(table);
    refused(file, /header checksum mismatch/);

    const magic = Buffer.from(good);
    magic[0] = 0x41;
    put(magic);
    refused(file, /not a dumpsleuth index file/);

    put(good);
    refused(file, /another dump or version \(stale\)/, undefined, 'x'.repeat(64));
    refused(file, /holds part graph, not roots/, undefined, KEY, 'roots');
    refused(path.join(dir, 'absent.dsi'), /cannot open/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('index file: the fallback CRC-32 equals zlib', () => {
  const bytes = Buffer.alloc(100_003);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
  assert.equal(tableCrc32(new Uint8Array(0)), 0);
  assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926, 'the CRC-32 check value');
  if (typeof zlib.crc32 === 'function') assert.equal(tableCrc32(bytes), zlib.crc32(bytes));
});

test('index file: paged reads find every element and refuse a corrupt page on the read that touches it', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'reverse.dsi');
    const perPage = INDEX_PAGE / 4;
    const n = perPage * 5 + 123; // five whole pages and a partial one
    const source = new Uint32Array(n);
    for (let i = 0; i < n; i++) source[i] = (i * 2654435761) >>> 0;
    const addresses = Float64Array.from({ length: 10_000 }, (_, i) => 0x7f0000000000 + i * 24);
    writeIndexFile(file, { part: 'reverse', key: KEY, meta: {} }, [
      { name: 'addresses', type: 'f64', data: addresses },
      { name: 'source', type: 'u32', data: source },
    ]);
    let f = IndexFile.open(file, KEY, 'reverse');
    const paged = f.paged('source', 'u32');
    assert.equal(paged.length, n);
    for (const i of [0, 1, perPage - 1, perPage, 3 * perPage + 7, n - 1]) assert.equal(paged.at(i), source[i], `element ${i}`);
    assert.equal(paged.pagesRead, 4, 'each page is read once: pages 0, 1, 3 and 5');
    assert.throws(() => paged.at(n), IndexFileError, 'out of range');
    // Scans across pages: the first match in a range and the count of matches, as the plain array gives them.
    const repeated = new Uint32Array(n).map((_, i) => i % 7);
    writeIndexFile(path.join(dir, 'scan.dsi'), { part: 'scan', key: KEY, meta: {} }, [{ name: 'v', type: 'u32', data: repeated }]);
    const scan = IndexFile.open(path.join(dir, 'scan.dsi'), KEY, 'scan');
    const v = scan.paged('v', 'u32');
    for (const [value, from, to] of [[3, 0, n], [6, perPage - 2, 3 * perPage + 9], [5, n - 3, n], [9, 0, n], [0, 10, 10]] as const) {
      const plain = repeated.subarray(0, to).indexOf(value, from);
      assert.equal(v.indexOf(value, from, to), plain, `indexOf(${value}, ${from}, ${to})`);
      assert.equal(v.count(value, from, to), repeated.subarray(from, to).filter((x) => x === value).length, `count(${value}, ${from}, ${to})`);
    }
    scan.close();
    const a = f.paged('addresses', 'f64');
    for (let i = 0; i < addresses.length; i += 997) assert.equal(a.at(i), addresses[i]);
    assert.throws(() => f.paged('source', 'f64'), IndexFileError, 'a section is paged only as its own type');
    f.close();

    // Flip one byte in page 2 of `source` (the middle of the section).
    const bytes = fs.readFileSync(file);
    const headerLength = bytes.readUInt32LE(8);
    const tableLength = bytes.readUInt32LE(12);
    const dataStart = Math.ceil((48 + headerLength + tableLength) / 8) * 8;
    const sourceStart = dataStart + Math.ceil((addresses.length * 8) / 8) * 8;
    bytes[sourceStart + 2 * INDEX_PAGE + 100]! ^= 0x20;
    fs.writeFileSync(file, bytes);
    f = IndexFile.open(file, KEY, 'reverse'); // the header and page table are intact: the file opens
    const broken = f.paged('source', 'u32');
    assert.equal(broken.at(perPage - 1), source[perPage - 1], 'page 0 reads');
    assert.equal(broken.at(3 * perPage), source[3 * perPage], 'page 3 reads');
    assert.throws(
      () => broken.at(2 * perPage + 25),
      (e: unknown) => e instanceof IndexFileError && /source .*page 2 checksum mismatch \(corrupt\)/.test(e.message),
    );
    assert.throws(() => f.u32('source'), /source: checksum mismatch \(corrupt\)/, 'a whole-section read refuses it too');
    assert.deepEqual([...f.f64('addresses')], [...addresses], 'the other section still reads');
    f.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
