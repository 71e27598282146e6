import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { AddressSpace } from '../../src/dump/address-space';
import { findExportedSymbol, gnuHash } from '../../src/dump/elf-symbols';
import { FileWindowCache } from '../../src/dump/file-window-cache';
import { writeTemp } from './elf-core-builder';

/**
 * One page laid out as a loaded shared object: ELF header @0, PT_LOAD + PT_DYNAMIC phdrs @64, dynamic @0x200,
 * GNU hash @0x300, symtab @0x400 (null, foo, DotNetRuntimeContractDescriptor), strtab @0x500.
 */
function image(base: number, relocated: boolean): Buffer {
  const b = Buffer.alloc(4096);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2; b[5] = 1; b[6] = 1;
  b.writeUInt16LE(3, 16); b.writeUInt16LE(62, 18);
  b.writeBigUInt64LE(64n, 32); b.writeUInt16LE(56, 54); b.writeUInt16LE(2, 56);
  const ph = (o: number, type: number, vaddr: number, size: number): void => {
    b.writeUInt32LE(type, o); b.writeUInt32LE(4, o + 4);
    b.writeBigUInt64LE(BigInt(vaddr), o + 8); b.writeBigUInt64LE(BigInt(vaddr), o + 16);
    b.writeBigUInt64LE(BigInt(size), o + 32); b.writeBigUInt64LE(BigInt(size), o + 40); b.writeBigUInt64LE(4096n, o + 48);
  };
  ph(64, 1, 0, 4096);
  ph(120, 2, 0x200, 0x60);
  const ptr = (v: number): bigint => BigInt(relocated ? base + v : v);
  const dyn: [number, bigint][] = [[0x6ffffef5, ptr(0x300)], [6, ptr(0x400)], [5, ptr(0x500)], [10, 0x40n], [0, 0n]];
  dyn.forEach(([tag, v], i) => { b.writeBigUInt64LE(BigInt(tag), 0x200 + i * 16); b.writeBigUInt64LE(v, 0x208 + i * 16); });
  const names = ['foo', 'DotNetRuntimeContractDescriptor'];
  const strtab = Buffer.from('\0foo\0DotNetRuntimeContractDescriptor\0');
  strtab.copy(b, 0x500);
  // Symbols 1..2, values 0x1234 and 0x6a6f70, sizes 8 and 40; defined (shndx 1).
  [[1, 0x1234, 8], [5, 0x6a6f70, 40]].forEach(([name, value, size], i) => {
    const o = 0x400 + (i + 1) * 24;
    b.writeUInt32LE(name!, o); b[o + 4] = 0x11; b.writeUInt16LE(1, o + 6);
    b.writeBigUInt64LE(BigInt(value!), o + 8); b.writeBigUInt64LE(BigInt(size!), o + 16);
  });
  // GNU hash: 1 bucket, symoffset 1, bloom size 1 (all ones), shift 6; chain ends at the last symbol.
  b.writeUInt32LE(1, 0x300); b.writeUInt32LE(1, 0x304); b.writeUInt32LE(1, 0x308); b.writeUInt32LE(6, 0x30c);
  b.writeBigUInt64LE(0xffffffffffffffffn, 0x310);
  b.writeUInt32LE(1, 0x318);
  names.forEach((n, i) => {
    const h = gnuHash(Buffer.from(n)) & ~1;
    b.writeUInt32LE((i === names.length - 1 ? h | 1 : h) >>> 0, 0x31c + i * 4);
  });
  return b;
}

for (const relocated of [true, false]) {
  test(`findExportedSymbol through DT_GNU_HASH (${relocated ? 'absolute' : 'relative'} dynamic pointers)`, () => {
    const base = 0x7f0000000000;
    const f = new FileWindowCache(writeTemp('image.so', image(base, relocated)));
    const space = new AddressSpace([{ start: base, end: base + 4096, source: f, fileOffset: 0, origin: 'core' }]);
    try {
      assert.deepEqual(findExportedSymbol(space, base, 'DotNetRuntimeContractDescriptor'), { address: base + 0x6a6f70, size: 40 });
      assert.deepEqual(findExportedSymbol(space, base, 'foo'), { address: base + 0x1234, size: 8 });
      assert.equal(findExportedSymbol(space, base, 'g_dacTable'), undefined);
      assert.equal(findExportedSymbol(space, base + 4096, 'foo'), undefined, 'no ELF header there');
    } finally {
      f.close();
    }
  });
}

test('gnuHash matches the reference values of dl_new_hash', () => {
  assert.equal(gnuHash(Buffer.from('')), 5381);
  assert.equal(gnuHash(Buffer.from('printf')), 0x156b2bb8);
});
