import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { openDump } from '../../src/dump/open-dump';
import { DumpFormatError, DumpsleuthError, LimitExceededError, UnmappedAddressError } from '../../src/errors';
import { auxv, buildCore, fileNote, prpsinfo, prstatusX64, writeTemp, type NoteSpec } from './elf-core-builder';

const pageA = Buffer.alloc(4096, 0xaa);
const pageB = Buffer.alloc(4096, 0xbb);
pageA.writeUInt32LE(0x11223344, 4092);
pageB.writeUInt32LE(0x00012345, 0);

function validNotes(): NoteSpec[] {
  return [
    { name: 'CORE', type: 3, desc: prpsinfo(1234, 'myapp') },
    { name: 'CORE', type: 6, desc: auxv([[33, 0x7fff0000], [7, 0x30000]]) },
    { name: 'CORE', type: 0x46494c45, desc: fileNote([
      { start: 0x20000, end: 0x21000, pageOffset: 2, path: '/nonexistent/libfoo.so' },
      { start: 0x10000, end: 0x12000, pageOffset: 0, path: '/nonexistent/libfoo.so' },
    ]) },
    { name: 'CORE', type: 1, desc: prstatusX64(1234, { rip: 0x401000n, rsp: 0x7ffe0000n, rbp: 0xffffffffffffffffn }) },
    { name: 'CORE', type: 2, desc: Buffer.alloc(512) },
    { name: 'CORE', type: 1, desc: prstatusX64(1240, { rip: 0x402000n, rsp: 0x7ffd0000n, rbp: 0x7ffd0100n, r8: 0x88n, r9: 0x99n }) },
  ];
}

function validCore(): Buffer {
  return buildCore(validNotes(), [{ vaddr: 0x10000, bytes: pageA }, { vaddr: 0x11000, bytes: pageB }]);
}

test('a valid core yields threads, registers, process info, modules and readable memory', () => {
  const dump = openDump(writeTemp('valid.core', validCore()));
  try {
    assert.equal(dump.architecture, 'x64');
    assert.equal(dump.pointerSize, 8);
    assert.equal(dump.processId, 1234);
    assert.equal(dump.processName, 'myapp');
    assert.equal(dump.createdByCreatedump, false);
    assert.deepEqual(dump.threads.map((t) => t.tid), [1234, 1240]);
    const [main, second] = dump.threads;
    assert.equal(main!.instructionPointer, 0x401000);
    assert.equal(main!.stackPointer, 0x7ffe0000);
    assert.equal(main!.framePointer, undefined, 'rbp ≥ 2^53 is not an address');
    assert.equal(main!.registers['rbp'], 0xffffffffffffffffn);
    assert.equal(second!.registers['r8'], 0x88n, 'r8 follows r9 in user_regs_struct');
    assert.equal(second!.registers['r9'], 0x99n);
    assert.equal(second!.framePointer, 0x7ffd0100);
    assert.deepEqual(dump.auxv.map((e) => [e.type, e.value]), [[33, 0x7fff0000], [7, 0x30000]]);
    assert.equal(dump.segments.length, 2);
    assert.equal(dump.modules.length, 1);
    const mod = dump.modules[0]!;
    assert.equal(mod.path, '/nonexistent/libfoo.so');
    assert.equal(mod.baseAddress, 0x10000);
    assert.equal(mod.endAddress, 0x21000);
    assert.equal(dump.fileMappings.find((m) => m.start === 0x20000)!.fileOffset, 0x2000);
    // The mapping at 0x20000 is not in the core and the file does not exist.
    assert.ok(dump.warnings.some((w) => w.includes('/nonexistent/libfoo.so') && w.includes('not found on disk')));
    // A read spanning the two adjacent segments.
    const span = dump.memory.read(0x10ffc, 8);
    assert.deepEqual([...span], [0x44, 0x33, 0x22, 0x11, 0x45, 0x23, 0x01, 0x00]);
    assert.equal(dump.memory.readU64(0x10ffc), 0x0001234511223344);
    assert.equal(dump.memory.readU32(0x11000), 0x12345);
    assert.throws(() => dump.memory.read(0x11ffc, 8), UnmappedAddressError);
    assert.equal(dump.memory.readUpTo(0x11ffc, 8).length, 4);
    assert.throws(() => dump.memory.readU64(0x10000), DumpFormatError, '0xaaaa... does not fit in 2^53');
  } finally {
    dump.close();
  }
});

test('bytes beyond p_filesz (memsz > filesz) read as unmapped, not zeros', () => {
  const core = buildCore(validNotes(), [{ vaddr: 0x10000, bytes: pageA, memsz: 0x3000 }]);
  const dump = openDump(writeTemp('memsz.core', core), { noImageOverlays: true });
  try {
    assert.equal(dump.memory.isMapped(0x10000, 0x1000), true);
    assert.equal(dump.memory.isMapped(0x11000, 1), false);
  } finally {
    dump.close();
  }
});

test('a core cut inside a PT_LOAD keeps the bytes that exist and warns', () => {
  const core = validCore();
  const dump = openDump(writeTemp('cut.core', core.subarray(0, core.length - 4096 - 100)), { noImageOverlays: true });
  try {
    assert.ok(dump.warnings.some((w) => w.includes('truncated')));
    assert.equal(dump.memory.isMapped(0x10000, 4096 - 100), true);
    assert.equal(dump.memory.isMapped(0x10000 + 4096 - 100, 1), false);
    assert.equal(dump.memory.isMapped(0x11000, 1), false);
  } finally {
    dump.close();
  }
});

test('a core cut inside its notes or program headers is one DumpFormatError', () => {
  const core = validCore();
  assert.throws(() => openDump(writeTemp('notes.core', core.subarray(0, 64 + 3 * 56 + 20))), (e: unknown) => e instanceof DumpFormatError && /truncated.*notes/.test(e.message));
  assert.throws(() => openDump(writeTemp('phdrs.core', core.subarray(0, 64 + 30))), (e: unknown) => e instanceof DumpFormatError && /truncated.*program headers/.test(e.message));
  assert.throws(() => openDump(writeTemp('ehdr.core', core.subarray(0, 40))), (e: unknown) => e instanceof DumpFormatError && /truncated/.test(e.message));
});

test('hostile counts are capped', () => {
  // PN_XNUM: the real count comes from section header 0's sh_info; make it 2,000,000.
  const core = Buffer.from(validCore());
  core.writeUInt16LE(0xffff, 56);
  const shoff = core.length;
  core.writeBigUInt64LE(BigInt(shoff), 40);
  const sh0 = Buffer.alloc(64);
  sh0.writeUInt32LE(2_000_000, 44);
  assert.throws(() => openDump(writeTemp('xnum.core', Buffer.concat([core, sh0]))), LimitExceededError);
  // An NT_FILE count far beyond the note's size.
  const notes = validNotes();
  notes[2] = { name: 'CORE', type: 0x46494c45, desc: fileNote([{ start: 0x10000, end: 0x11000, pageOffset: 0, path: '/x' }], 1n << 40n) };
  assert.throws(() => openDump(writeTemp('ntfile.core', buildCore(notes, []))), LimitExceededError);
  notes[2] = { name: 'CORE', type: 0x46494c45, desc: fileNote([{ start: 0x10000, end: 0x11000, pageOffset: 0, path: '/x' }], 1000n) };
  assert.throws(() => openDump(writeTemp('ntfile2.core', buildCore(notes, []))), DumpFormatError);
  // A note whose descsz runs past its segment.
  const bad = Buffer.from(validCore());
  bad.writeUInt32LE(0x7fffffff, 64 + 3 * 56 + 4);
  assert.throws(() => openDump(writeTemp('descsz.core', bad)), (e: unknown) => e instanceof DumpFormatError && /runs past/.test(e.message));
});

test('inputs that are not x64/arm64 little-endian ELF64 cores get one clear message', () => {
  const expectError = (bytes: Buffer, pattern: RegExp): void => {
    assert.throws(() => openDump(writeTemp('input', bytes)), (e: unknown) => e instanceof DumpsleuthError && pattern.test(e.message));
  };
  expectError(Buffer.alloc(0), /not an ELF core dump: .*empty/);
  expectError(Buffer.from('hello, this is text\n'), /not an ELF core dump/);
  expectError(buildCore(validNotes(), [], { type: 2 }), /is an ELF executable, not a core dump/);
  expectError(buildCore(validNotes(), [], { type: 3 }), /shared object or PIE executable, not a core dump/);
  expectError(buildCore(validNotes(), [], { elfClass: 1 }), /32-bit little-endian ELF/);
  expectError(buildCore(validNotes(), [], { data: 2 }), /64-bit big-endian ELF/);
  expectError(buildCore(validNotes(), [], { machine: 40 }), /unsupported architecture \(e_machine 40\)/);
  assert.throws(() => openDump('/nonexistent/dir/x.core'), (e: unknown) => e instanceof DumpsleuthError && e.message === 'no such file: /nonexistent/dir/x.core');
  assert.throws(() => openDump(os.tmpdir()), (e: unknown) => e instanceof DumpsleuthError && /is a directory/.test(e.message));
});

test('a real ELF executable on this machine is rejected as not a core', { skip: !fs.existsSync('/bin/ls') }, () => {
  assert.throws(() => openDump('/bin/ls'), (e: unknown) => e instanceof DumpFormatError && /not a core dump/.test(e.message));
});

test('an arm64 core decodes pc/sp from user_pt_regs', () => {
  const pr = Buffer.alloc(392);
  pr.writeInt32LE(77, 32);
  pr.writeBigUInt64LE(0x7000n, 112 + 29 * 8);
  pr.writeBigUInt64LE(0x8000n, 112 + 31 * 8);
  pr.writeBigUInt64LE(0x9000n, 112 + 32 * 8);
  const dump = openDump(writeTemp('arm64.core', buildCore([{ name: 'CORE', type: 1, desc: pr }], [], { machine: 183 })));
  try {
    assert.equal(dump.architecture, 'arm64');
    const t = dump.threads[0]!;
    assert.deepEqual([t.tid, t.framePointer, t.stackPointer, t.instructionPointer], [77, 0x7000, 0x8000, 0x9000]);
  } finally {
    dump.close();
  }
});
