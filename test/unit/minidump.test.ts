import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { openDump } from '../../src/dump/open-dump';
import { findModuleExport } from '../../src/dump/module-exports';
import { DumpFormatError, LimitExceededError, UnmappedAddressError } from '../../src/errors';
import { writeTemp } from './elf-core-builder';
import { buildMinidump, buildPeImage, type MinidumpSpec } from './minidump-builder';

const IMAGE_BASE = 0x180000000;
const stack = Buffer.alloc(0x2000, 0x5a);
stack.writeUInt32LE(0xcafef00d, 0x1ff0);
const heap = Buffer.alloc(0x100, 0x11);

function validSpec(): MinidumpSpec {
  return {
    processId: 4242,
    threads: [
      { id: 0x1a4, teb: 0x3000, registers: { rip: 0x180001234n, rsp: 0x7fe000n, rbp: 0x7fe100n, rax: 0xffffffffffffffffn, r15: 0x15n } },
      { id: 0x2b8, teb: 0x5000, registers: { rip: 0x180002000n, rsp: 0x7fd000n, rbp: 0n } },
    ],
    // The executable comes first in a module list.
    modules: [
      { base: 0x140000000, size: 0x1000, timeDateStamp: 0x11111111, name: 'C:\\app\\App.exe' },
      { base: IMAGE_BASE, size: 0x1000, timeDateStamp: 0x6a89b724, name: 'C:\\app\\coreclr.dll' },
    ],
    memory64: [
      { start: IMAGE_BASE, bytes: buildPeImage({ DotNetRuntimeContractDescriptor: 0x900, g_dacTable: 0x940, Alpha: 0x10 }, 0x6a89b724, 0x1000) },
      { start: 0x7fe000 - 0x1000, bytes: stack },
    ],
    memory32: [{ start: 0x20000000, bytes: heap }],
  };
}

test('a valid minidump yields its format, threads with AMD64 registers, modules, memory and PE exports', () => {
  const dump = openDump(writeTemp('valid.dmp', buildMinidump(validSpec())));
  try {
    assert.equal(dump.format, 'minidump');
    assert.equal(dump.os, 'windows');
    assert.equal(dump.architecture, 'x64');
    assert.equal(dump.processId, 4242);
    assert.equal(dump.processName, 'App');
    assert.deepEqual(dump.threads.map((t) => t.tid), [0x1a4, 0x2b8]);
    const t = dump.threads[0]!;
    assert.equal(t.instructionPointer, 0x180001234);
    assert.equal(t.stackPointer, 0x7fe000);
    assert.equal(t.framePointer, 0x7fe100);
    assert.equal(t.registers['rax'], 0xffffffffffffffffn);
    assert.equal(t.registers['r15'], 0x15n);
    assert.deepEqual(dump.modules.map((m) => [m.path, m.baseAddress, m.endAddress, m.format]), [
      ['C:\\app\\App.exe', 0x140000000, 0x140001000, 'unknown'],
      ['C:\\app\\coreclr.dll', IMAGE_BASE, IMAGE_BASE + 0x1000, 'pe'],
    ]);
    assert.equal(dump.modules[1]!.peTimeDateStamp, 0x6a89b724);
    assert.equal(dump.modules[1]!.fileVersion, '10.0.1226.42308');
    assert.match(dump.warnings.join('\n'), /1 image\(s\) are not in the dump \(C:\\app\\App\.exe\)/);
    assert.equal(dump.memory.readU32(0x7fe000 - 0x1000 + 0x1ff0), 0xcafef00d);
    assert.equal(dump.memory.readU8(0x20000000 + 0xff), 0x11);
    assert.throws(() => dump.memory.readU8(0x20000100), UnmappedAddressError);
    assert.equal(findModuleExport(dump.memory, IMAGE_BASE, 'DotNetRuntimeContractDescriptor')?.address, IMAGE_BASE + 0x900);
    assert.equal(findModuleExport(dump.memory, IMAGE_BASE, 'g_dacTable')?.address, IMAGE_BASE + 0x940);
    assert.equal(findModuleExport(dump.memory, IMAGE_BASE, 'Alpha')?.address, IMAGE_BASE + 0x10);
    assert.equal(findModuleExport(dump.memory, IMAGE_BASE, 'g_dacTabl'), undefined);
    assert.equal(findModuleExport(dump.memory, IMAGE_BASE, 'Zeta'), undefined);
    assert.equal(dump.truncation, undefined);
  } finally {
    dump.close();
  }
});

test('a PE header whose timestamp differs from the module list is reported', () => {
  const spec = validSpec();
  const dump = openDump(writeTemp('mismatch.dmp', buildMinidump({ ...spec, modules: [{ ...spec.modules![1]!, timeDateStamp: 0x12345678 }] })));
  try {
    assert.match(dump.warnings.join('\n'), /coreclr\.dll: PE header in memory \(timestamp 0x6a89b724, size 4096\) differs from the module list's \(0x12345678, 4096\)/);
  } finally {
    dump.close();
  }
});

test('the thread of the exception stream comes first, as the crashing thread of a core does', () => {
  const dump = openDump(writeTemp('exception.dmp', buildMinidump({ ...validSpec(), exception: { threadId: 0x2b8, code: 0xc0000005, address: 0x180002000 } })));
  try {
    assert.deepEqual(dump.threads.map((t) => t.tid), [0x2b8, 0x1a4]);
  } finally {
    dump.close();
  }
});

test('a minidump cut inside its memory keeps what it holds and says it is truncated', () => {
  const bytes = buildMinidump(validSpec());
  const dump = openDump(writeTemp('cut.dmp', bytes.subarray(0, bytes.length - 0x1000)));
  try {
    assert.match(dump.truncation ?? '', /is truncated: 1 memory range\(s\) \(4096 bytes\) run past the end of the file/);
    assert.equal(dump.memory.readU16(IMAGE_BASE), 0x5a4d);
    assert.throws(() => dump.memory.readU8(0x7fe000 - 0x1000 + 0x1ff0), UnmappedAddressError);
  } finally {
    dump.close();
  }
});

test('bad minidumps give one clear error', () => {
  const bytes = buildMinidump(validSpec());
  assert.throws(() => openDump(writeTemp('short.dmp', bytes.subarray(0, 20))), (e: unknown) => e instanceof DumpFormatError && /truncated inside its minidump header \(20 bytes\)/.test(e.message));
  assert.throws(() => openDump(writeTemp('dir.dmp', bytes.subarray(0, 40))), (e: unknown) => e instanceof DumpFormatError && /is truncated: its stream directory \(6 streams at offset 32\)/.test(e.message));
  const version = Buffer.from(bytes);
  version.writeUInt32LE(0x1234, 4);
  assert.throws(() => openDump(writeTemp('version.dmp', version)), (e: unknown) => e instanceof DumpFormatError && /minidump version 0x1234/.test(e.message));
  const streams = Buffer.from(bytes);
  streams.writeUInt32LE(0x7fffffff, 8);
  assert.throws(() => openDump(writeTemp('streams.dmp', streams)), LimitExceededError);
  assert.throws(() => openDump(writeTemp('ranges.dmp', buildMinidump({ ...validSpec(), memory64Count: 1e12 }))), LimitExceededError);
  assert.throws(() => openDump(writeTemp('ranges2.dmp', buildMinidump({ ...validSpec(), memory64Count: 1000 }))), (e: unknown) => e instanceof DumpFormatError && /Memory64ListStream declares 1000 ranges but its 48 bytes hold 2/.test(e.message));
  assert.throws(() => openDump(writeTemp('arm.dmp', buildMinidump({ ...validSpec(), processorArchitecture: 12 }))), (e: unknown) => e instanceof DumpFormatError && /Windows arm64 minidump; dumpsleuth reads x64 minidumps only/.test(e.message));
});
