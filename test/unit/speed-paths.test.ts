// Unit tests of the interactive-speed pieces (issue 16): the window cache's read-ahead, the runtime's type hash and
// the one-module command lookup.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FileWindowCache } from '../../src/dump/file-window-cache';
import { hashInstantiatedType, hashParamType, ELEMENT_TYPE_SZARRAY } from '../../src/runtime/type-hash';
import { MODULE_OF, findCommandLazily } from '../../src/cli/command-loader';
import { COMMANDS } from '../../src/cli/commands';
import { writeTemp } from './elf-core-builder';

function patternBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) % 253;
  return bytes;
}

test('window cache with read-ahead returns the file bytes for sequential, backward and random reads', () => {
  const bytes = patternBytes(70_000);
  const path = writeTemp('read-ahead.bin', bytes);
  const f = new FileWindowCache(path, { windowSize: 256, maxWindows: 12, readAhead: 4 });
  const check = (offset: number, length: number): void => assert.deepEqual(Buffer.from(f.read(offset, length)), bytes.subarray(offset, offset + length), `${offset}+${length}`);
  for (let at = 0; at + 100 <= bytes.length; at += 97) check(at, 100); // sequential, across windows and read-ahead runs
  for (let at = bytes.length - 300; at >= 0; at -= 1013) check(at, 300); // backward
  let seed = 12345;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const at = seed % (bytes.length - 600);
    check(at, 1 + (seed % 600));
  }
  // The last window is short, and windowFor keeps its contract: the window starts at offset - offset % windowSize.
  const last = bytes.length - 5;
  const w = f.windowFor(last);
  assert.equal(w[last % 256], bytes[last]);
  assert.equal(w.length, bytes.length % 256);
  f.close();
});

test('type hash: djb2 over the token and type-argument handles, as typehash.cpp (low 32 bits of INT_PTR arithmetic)', () => {
  // Reference computed with 64-bit BigInt arithmetic, truncated at the end as the runtime's (DWORD) cast does.
  const reference = (values: bigint[]): number => {
    let h = 5381n;
    for (const v of values) h = ((h << 5n) + h) ^ v;
    return Number(BigInt.asUintN(32, h));
  };
  const args = [0x7fdd6248dd58, 0x7fdd624630e0, 0x7f9d4c400102];
  assert.equal(hashInstantiatedType(0x0200055e, args), reference([0x0200055en, ...args.map(BigInt)]));
  assert.equal(hashInstantiatedType(0x02000001, []), reference([0x02000001n]));
  assert.equal(hashParamType(ELEMENT_TYPE_SZARRAY, 0x7fdd624622d8), reference([BigInt(ELEMENT_TYPE_SZARRAY), 0x7fdd624622d8n]));
});

test('the one-module command lookup finds the same command as the full table for every name and alias', () => {
  for (const c of COMMANDS) {
    for (const name of [c.name, ...c.aliases]) {
      assert.equal(findCommandLazily(name), c, name);
      assert.equal(findCommandLazily(`!${name.toUpperCase()}`), c, `!${name.toUpperCase()}`);
    }
  }
  for (const name of Object.keys(MODULE_OF)) assert.ok(COMMANDS.some((c) => c.name === name || c.aliases.includes(name)), `${name} is in MODULE_OF but not a command`);
  assert.equal(findCommandLazily('no-such-command'), undefined);
});
