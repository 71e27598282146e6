/**
 * Builds synthetic ELF64 little-endian core files byte by byte for the unit tests (no real dumps in tests).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** One note to write: owner name, type, descriptor. */
export interface NoteSpec {
  name: string;
  type: number;
  desc: Buffer;
}

/** One PT_LOAD to write: address and bytes (filesz == memsz unless `memsz` is given). */
export interface LoadSpec {
  vaddr: number;
  bytes: Buffer;
  memsz?: number;
}

/** Fields of the ELF header a test may override. */
export interface HeaderSpec {
  elfClass?: number;
  data?: number;
  type?: number;
  machine?: number;
  phnum?: number;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Encodes notes as a PT_NOTE payload (name and desc padded to 4, name padding filled with junk like createdump). */
export function encodeNotes(notes: readonly NoteSpec[]): Buffer {
  const parts: Buffer[] = [];
  for (const n of notes) {
    const name = Buffer.from(n.name + '\0', 'latin1');
    const header = Buffer.alloc(12);
    header.writeUInt32LE(name.length, 0);
    header.writeUInt32LE(n.desc.length, 4);
    header.writeUInt32LE(n.type, 8);
    const namePadded = Buffer.alloc(align(name.length, 4), 0x58);
    name.copy(namePadded);
    parts.push(header, namePadded, n.desc, Buffer.alloc(align(n.desc.length, 4) - n.desc.length));
  }
  return Buffer.concat(parts);
}

/** Builds a core: header, program headers (PT_NOTE first, then PT_LOADs), notes, then page-aligned load bytes. */
export function buildCore(notes: readonly NoteSpec[], loads: readonly LoadSpec[], header: HeaderSpec = {}): Buffer {
  const noteBytes = encodeNotes(notes);
  const phnum = 1 + loads.length;
  const phoff = 64;
  const noteOffset = phoff + phnum * 56;
  let dataOffset = align(noteOffset + noteBytes.length, 4096);
  const ehdr = Buffer.alloc(64);
  ehdr.write('\x7fELF', 0, 'latin1');
  ehdr[4] = header.elfClass ?? 2;
  ehdr[5] = header.data ?? 1;
  ehdr[6] = 1;
  ehdr[7] = 3;
  ehdr.writeUInt16LE(header.type ?? 4, 16);
  ehdr.writeUInt16LE(header.machine ?? 62, 18);
  ehdr.writeUInt32LE(1, 20);
  ehdr.writeBigUInt64LE(BigInt(phoff), 32);
  ehdr.writeUInt16LE(64, 52);
  ehdr.writeUInt16LE(56, 54);
  ehdr.writeUInt16LE(header.phnum ?? phnum, 56);
  const phdrs = Buffer.alloc(phnum * 56);
  const ph = (i: number, type: number, flags: number, offset: number, vaddr: number, filesz: number, memsz: number): void => {
    const o = i * 56;
    phdrs.writeUInt32LE(type, o);
    phdrs.writeUInt32LE(flags, o + 4);
    phdrs.writeBigUInt64LE(BigInt(offset), o + 8);
    phdrs.writeBigUInt64LE(BigInt(vaddr), o + 16);
    phdrs.writeBigUInt64LE(BigInt(filesz), o + 32);
    phdrs.writeBigUInt64LE(BigInt(memsz), o + 40);
    phdrs.writeBigUInt64LE(4096n, o + 48);
  };
  ph(0, 4, 0, noteOffset, 0, noteBytes.length, 0);
  const blobs: Buffer[] = [];
  loads.forEach((l, i) => {
    ph(i + 1, 1, 6, dataOffset, l.vaddr, l.bytes.length, l.memsz ?? l.bytes.length);
    blobs.push(l.bytes);
    dataOffset += l.bytes.length;
  });
  const head = Buffer.concat([ehdr, phdrs, noteBytes]);
  return Buffer.concat([head, Buffer.alloc(align(head.length, 4096) - head.length), ...blobs]);
}

/** An x64 NT_PRSTATUS descriptor (336 bytes) for `tid`, with rip/rsp/rbp and r8/r9 set to recognisable values. */
export function prstatusX64(tid: number, regs: { rip: bigint; rsp: bigint; rbp: bigint; r8?: bigint; r9?: bigint }): Buffer {
  const b = Buffer.alloc(336);
  b.writeInt32LE(tid, 32);
  b.writeInt32LE(4242, 40);
  const reg = (index: number, v: bigint): void => {
    b.writeBigUInt64LE(v, 112 + index * 8);
  };
  reg(4, regs.rbp);
  reg(8, regs.r9 ?? 9n);
  reg(9, regs.r8 ?? 8n);
  reg(16, regs.rip);
  reg(19, regs.rsp);
  return b;
}

/** An NT_PRPSINFO descriptor with `pid` and the command name `name`. */
export function prpsinfo(pid: number, name: string): Buffer {
  const b = Buffer.alloc(136);
  b.writeInt32LE(pid, 24);
  b.write(name.slice(0, 15), 40, 'latin1');
  return b;
}

/** An NT_FILE descriptor for `entries` (page size 4096). */
export function fileNote(entries: readonly { start: number; end: number; pageOffset: number; path: string }[], countOverride?: bigint): Buffer {
  const head = Buffer.alloc(16 + entries.length * 24);
  head.writeBigUInt64LE(countOverride ?? BigInt(entries.length), 0);
  head.writeBigUInt64LE(4096n, 8);
  entries.forEach((e, i) => {
    head.writeBigUInt64LE(BigInt(e.start), 16 + i * 24);
    head.writeBigUInt64LE(BigInt(e.end), 24 + i * 24);
    head.writeBigUInt64LE(BigInt(e.pageOffset), 32 + i * 24);
  });
  return Buffer.concat([head, ...entries.map((e) => Buffer.from(e.path + '\0'))]);
}

/** An NT_AUXV descriptor from (type, value) pairs, terminated by AT_NULL. */
export function auxv(pairs: readonly [number, number][]): Buffer {
  const b = Buffer.alloc((pairs.length + 1) * 16);
  pairs.forEach(([t, v], i) => {
    b.writeBigUInt64LE(BigInt(t), i * 16);
    b.writeBigUInt64LE(BigInt(v), i * 16 + 8);
  });
  return b;
}

/** Writes `bytes` to a fresh temporary file and returns its path. */
export function writeTemp(name: string, bytes: Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-test-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}
