import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContractDescriptorJson } from '../../src/runtime/contract-descriptor';
import { findCoreclrVersionString, productVersionFromFileVersion, versionFromCoreclrPath } from '../../src/runtime/runtime-version';
import type { MemoryReader } from '../../src/dump/memory-reader';
import { UnmappedAddressError } from '../../src/errors';

function memoryOf(base: number, bytes: Uint8Array): MemoryReader {
  const slice = (a: number, l: number): Uint8Array => {
    if (a < base || a >= base + bytes.length) return new Uint8Array(0);
    return bytes.subarray(a - base, Math.min(bytes.length, a - base + l));
  };
  const fail = (a: number): never => {
    throw new UnmappedAddressError(a, 1, 'test');
  };
  return {
    pointerSize: 8,
    read: (a, l) => (slice(a, l).length === l ? slice(a, l) : fail(a)),
    readUpTo: slice,
    isMapped: (a, l) => slice(a, l).length === l,
    readU8: fail,
    readU16: fail,
    readU32: fail,
    readI32: fail,
    readU64: fail,
    readPointer: fail,
  };
}

describe('runtime version', () => {
  it('derives the product version from the file version stamp', () => {
    assert.equal(productVersionFromFileVersion('10.0.1526.53008'), '10.0.15');
    assert.equal(productVersionFromFileVersion('10.0.1226.42308'), '10.0.12');
    assert.equal(productVersionFromFileVersion('11.0.26.53018'), '11.0.0');
    assert.equal(productVersionFromFileVersion('garbage'), undefined);
    assert.equal(versionFromCoreclrPath('/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so'), '10.0.12');
    assert.equal(versionFromCoreclrPath('/app/libcoreclr.so'), undefined);
  });

  it('finds the @(#)Version string across a chunk boundary and after a hole', () => {
    const text = Buffer.from('@(#)Version 10.0.1526.53008 @Commit: 8e0f8ed2312954727f8919d7d1c2f78b483b4ee7\0', 'latin1');
    const bytes = new Uint8Array((1 << 20) + 4096);
    bytes.set(text, (1 << 20) - 5);
    const base = 0x10000;
    const found = findCoreclrVersionString(memoryOf(base, bytes), base - 8192, base + bytes.length);
    assert.deepEqual(found, { fileVersion: '10.0.1526.53008', commit: '8e0f8ed2312954727f8919d7d1c2f78b483b4ee7' });
    assert.equal(findCoreclrVersionString(memoryOf(base, new Uint8Array(8192)), base, base + 8192), undefined);
  });

  it('keeps contract versions as the descriptor states them', () => {
    const d = parseContractDescriptorJson(JSON.stringify({ version: 0, baseline: 'empty', types: {}, globals: {}, contracts: { Thread: 'c1', ExecutionManager: 2 } }), []);
    assert.equal(d.contracts.get('Thread'), 'c1');
    assert.equal(d.contracts.get('ExecutionManager'), '2');
    assert.throws(() => parseContractDescriptorJson(JSON.stringify({ contracts: { Thread: [1] } }), []), /contract Thread has version/);
  });
});
