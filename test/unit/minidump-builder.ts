// Builds small Windows minidumps (MDMP) byte by byte for the minidump reader's unit tests: a header, a stream
// directory, SystemInfo, MiscInfo, ThreadList with AMD64 CONTEXTs, ModuleList with names, Memory64List and
// MemoryList. Layouts as in minidumpapiset.h.

/** One memory range of the dump. */
export interface MemorySpec {
  readonly start: number;
  readonly bytes: Buffer;
}

/** One thread: id, TEB address and registers by name (rip, rsp, rbp, rax, ...). */
export interface ThreadSpec {
  readonly id: number;
  readonly teb: number;
  readonly registers: Readonly<Record<string, bigint>>;
}

/** One module: base, size, PE timestamp and path. */
export interface ModuleSpec {
  readonly base: number;
  readonly size: number;
  readonly timeDateStamp: number;
  readonly name: string;
}

/** What goes into a built minidump. */
export interface MinidumpSpec {
  readonly processorArchitecture?: number;
  readonly processId?: number;
  readonly threads?: readonly ThreadSpec[];
  readonly modules?: readonly ModuleSpec[];
  /** Written through Memory64List (one contiguous data block at the end of the file). */
  readonly memory64?: readonly MemorySpec[];
  /** Written through the 32-bit MemoryList. */
  readonly memory32?: readonly MemorySpec[];
  /** Overrides the Memory64List's range count (hostile input). */
  readonly memory64Count?: number;
  /** An ExceptionStream naming the thread that raised it. */
  readonly exception?: { readonly threadId: number; readonly code: number; readonly address: number };
}

const CONTEXT_OFFSETS: Record<string, number> = {
  rax: 0x78, rcx: 0x80, rdx: 0x88, rbx: 0x90, rsp: 0x98, rbp: 0xa0, rsi: 0xa8, rdi: 0xb0, r8: 0xb8, r9: 0xc0,
  r10: 0xc8, r11: 0xd0, r12: 0xd8, r13: 0xe0, r14: 0xe8, r15: 0xf0, rip: 0xf8,
};

/** The bytes of a minidump built from `spec`. */
export function buildMinidump(spec: MinidumpSpec): Buffer {
  const chunks: Buffer[] = [];
  let offset = 0;
  const place = (b: Buffer): number => {
    const at = offset;
    chunks.push(b);
    offset += b.length;
    return at;
  };
  const streams: { type: number; rva: number; size: number }[] = [];
  const streamCount = spec.exception === undefined ? 6 : 7;
  place(Buffer.alloc(32));
  const dirAt = place(Buffer.alloc(12 * streamCount));

  const sys = Buffer.alloc(56);
  sys.writeUInt16LE(spec.processorArchitecture ?? 9, 0);
  sys.writeUInt8(2, 6);
  sys.writeUInt32LE(10, 8);
  sys.writeUInt32LE(19045, 16);
  sys.writeUInt32LE(2, 20);
  streams.push({ type: 7, rva: place(sys), size: sys.length });

  const misc = Buffer.alloc(24);
  misc.writeUInt32LE(24, 0);
  misc.writeUInt32LE(spec.processId === undefined ? 0 : 1, 4);
  misc.writeUInt32LE(spec.processId ?? 0, 8);
  streams.push({ type: 15, rva: place(misc), size: misc.length });

  const threads = spec.threads ?? [];
  const contextRvas = threads.map((t) => {
    const ctx = Buffer.alloc(0x4d0);
    for (const [name, value] of Object.entries(t.registers)) ctx.writeBigUInt64LE(value, CONTEXT_OFFSETS[name]!);
    return place(ctx);
  });
  const threadList = Buffer.alloc(4 + 48 * threads.length);
  threadList.writeUInt32LE(threads.length, 0);
  threads.forEach((t, i) => {
    const o = 4 + 48 * i;
    threadList.writeUInt32LE(t.id, o);
    threadList.writeBigUInt64LE(BigInt(t.teb), o + 16);
    threadList.writeUInt32LE(0x4d0, o + 40);
    threadList.writeUInt32LE(contextRvas[i]!, o + 44);
  });
  streams.push({ type: 3, rva: place(threadList), size: threadList.length });

  const modules = spec.modules ?? [];
  const nameRvas = modules.map((m) => {
    const text = Buffer.from(m.name, 'utf16le');
    const b = Buffer.alloc(4 + text.length + 2);
    b.writeUInt32LE(text.length, 0);
    text.copy(b, 4);
    return place(b);
  });
  const moduleList = Buffer.alloc(4 + 108 * modules.length);
  moduleList.writeUInt32LE(modules.length, 0);
  modules.forEach((m, i) => {
    const o = 4 + 108 * i;
    moduleList.writeBigUInt64LE(BigInt(m.base), o);
    moduleList.writeUInt32LE(m.size, o + 8);
    moduleList.writeUInt32LE(m.timeDateStamp, o + 16);
    moduleList.writeUInt32LE(nameRvas[i]!, o + 20);
    moduleList.writeUInt32LE(0xfeef04bd, o + 24);
    moduleList.writeUInt32LE((10 << 16) | 0, o + 32);
    moduleList.writeUInt32LE((1226 << 16) | 42308, o + 36);
  });
  streams.push({ type: 4, rva: place(moduleList), size: moduleList.length });

  const m32 = spec.memory32 ?? [];
  const m32DataRvas = m32.map((m) => place(m.bytes));
  const memList = Buffer.alloc(4 + 16 * m32.length);
  memList.writeUInt32LE(m32.length, 0);
  m32.forEach((m, i) => {
    memList.writeBigUInt64LE(BigInt(m.start), 4 + 16 * i);
    memList.writeUInt32LE(m.bytes.length, 4 + 16 * i + 8);
    memList.writeUInt32LE(m32DataRvas[i]!, 4 + 16 * i + 12);
  });
  streams.push({ type: 5, rva: place(memList), size: memList.length });

  const m64 = spec.memory64 ?? [];
  const m64List = Buffer.alloc(16 + 16 * m64.length);
  const m64At = place(m64List);
  m64List.writeBigUInt64LE(BigInt(spec.memory64Count ?? m64.length), 0);
  m64List.writeBigUInt64LE(BigInt(offset), 8);
  m64.forEach((m, i) => {
    m64List.writeBigUInt64LE(BigInt(m.start), 16 + 16 * i);
    m64List.writeBigUInt64LE(BigInt(m.bytes.length), 16 + 16 * i + 8);
    place(m.bytes);
  });
  streams.push({ type: 9, rva: m64At, size: m64List.length });

  if (spec.exception !== undefined) {
    const e = Buffer.alloc(168);
    e.writeUInt32LE(spec.exception.threadId, 0);
    e.writeUInt32LE(spec.exception.code, 8);
    e.writeBigUInt64LE(BigInt(spec.exception.address), 24);
    streams.push({ type: 6, rva: place(e), size: e.length });
  }

  const file = Buffer.concat(chunks);
  file.writeUInt32LE(0x504d444d, 0);
  file.writeUInt32LE(0xa793, 4);
  file.writeUInt32LE(streams.length, 8);
  file.writeUInt32LE(dirAt, 12);
  streams.forEach((s, i) => {
    file.writeUInt32LE(s.type, dirAt + 12 * i);
    file.writeUInt32LE(s.size, dirAt + 12 * i + 4);
    file.writeUInt32LE(s.rva, dirAt + 12 * i + 8);
  });
  return file;
}

/** A one-page PE32+ image (mapped layout) exporting `exports` (name → RVA), with the given timestamp and size. */
export function buildPeImage(exports: Readonly<Record<string, number>>, timeDateStamp: number, sizeOfImage: number): Buffer {
  const b = Buffer.alloc(4096);
  b.writeUInt16LE(0x5a4d, 0);
  b.writeUInt32LE(0x80, 0x3c);
  b.writeUInt32LE(0x00004550, 0x80);
  b.writeUInt16LE(0x8664, 0x84);
  b.writeUInt32LE(timeDateStamp, 0x88);
  const opt = 0x80 + 24;
  b.writeUInt16LE(0x20b, opt);
  b.writeUInt32LE(sizeOfImage, opt + 56);
  b.writeUInt32LE(16, opt + 108);
  const names = Object.keys(exports).sort();
  const dir = 0x400;
  const functions = dir + 40;
  const nameTable = functions + 4 * names.length;
  const ordinals = nameTable + 4 * names.length;
  let strings = ordinals + 2 * names.length;
  b.writeUInt32LE(dir, opt + 112);
  b.writeUInt32LE(1, dir + 16);
  b.writeUInt32LE(names.length, dir + 20);
  b.writeUInt32LE(names.length, dir + 24);
  b.writeUInt32LE(functions, dir + 28);
  b.writeUInt32LE(nameTable, dir + 32);
  b.writeUInt32LE(ordinals, dir + 36);
  names.forEach((name, i) => {
    b.writeUInt32LE(exports[name]!, functions + 4 * i);
    b.writeUInt32LE(strings, nameTable + 4 * i);
    b.writeUInt16LE(i, ordinals + 2 * i);
    strings += b.write(`${name}\0`, strings, 'latin1');
  });
  // The directory's size matters: an export whose RVA falls inside it is a forwarder string, not code or data.
  b.writeUInt32LE(strings - dir, opt + 116);
  return b;
}
