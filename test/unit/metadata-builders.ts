/**
 * Builders of small, valid ECMA-335 metadata blocks and PE images for the metadata parser tests.
 */

/** A cell of a table row: a raw number, a string (interned in #Strings) or bytes (interned in #Blob). */
export type Cell = number | string | Uint8Array;

/** Widths per table from ECMA-335 II.22 for small heaps and tables: 2/4 fixed, 'S' #Strings, 'B' #Blob, 'G' #GUID,
 * 'I' any 2-byte table or coded index (all tables here are tiny). */
const LAYOUT: Record<number, readonly (2 | 4 | 'S' | 'B' | 'G' | 'I')[]> = {
  0x00: [2, 'S', 'G', 'G', 'G'],
  0x01: ['I', 'S', 'S'],
  0x02: [4, 'S', 'S', 'I', 'I', 'I'],
  0x03: ['I'],
  0x04: [2, 'S', 'B'],
  0x06: [4, 2, 2, 'S', 'B', 'I'],
  0x08: [2, 2, 'S'],
  0x1b: ['B'],
  0x20: [4, 2, 2, 2, 2, 4, 'B', 'S', 'S'],
  0x23: [2, 2, 2, 2, 4, 'B', 'S', 'S', 'B'],
  0x29: ['I', 'I'],
  0x2a: [2, 2, 'I', 'S'],
};

/** Options of `buildMetadata`. */
export interface MetadataSpec {
  tables: Record<number, Cell[][]>;
  /** Tables marked sorted in the header. */
  sorted?: number[];
  /** Write #Strings indexes as 4 bytes (HeapSizes bit 0x01). */
  largeStrings?: boolean;
  guids?: Uint8Array[];
  userStrings?: string[];
  /** Replace row counts written in the header (table -> count), to build hostile input. */
  overrideRowCounts?: Record<number, number>;
  tableStreamName?: string;
}

class Out {
  bytes: number[] = [];
  u8(v: number): void {
    this.bytes.push(v & 0xff);
  }
  u16(v: number): void {
    this.u8(v);
    this.u8(v >>> 8);
  }
  u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }
  raw(b: ArrayLike<number>): void {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
  }
  pad4(): void {
    while (this.bytes.length % 4) this.bytes.push(0);
  }
}

/** Builds a metadata root (BSJB) with #~, #Strings, #US, #GUID and #Blob streams from `spec`. */
export function buildMetadata(spec: MetadataSpec): Uint8Array {
  const strings = new Out();
  strings.u8(0);
  const stringIndex = new Map<string, number>();
  const str = (s: string): number => {
    if (s === '') return 0;
    let i = stringIndex.get(s);
    if (i === undefined) {
      i = strings.bytes.length;
      strings.raw(new TextEncoder().encode(s));
      strings.u8(0);
      stringIndex.set(s, i);
    }
    return i;
  };
  const blobs = new Out();
  blobs.u8(0);
  const blob = (b: Uint8Array): number => {
    if (b.length === 0) return 0;
    const i = blobs.bytes.length;
    blobs.raw(compressed(b.length));
    blobs.raw(b);
    return i;
  };
  const tables = new Out();
  let validLow = 0;
  let validHigh = 0;
  const ids = Object.keys(spec.tables).map(Number).sort((a, b) => a - b);
  for (const t of ids) {
    if (t < 32) validLow |= 1 << t;
    else validHigh |= 1 << (t - 32);
  }
  let sortedLow = 0;
  let sortedHigh = 0;
  for (const t of spec.sorted ?? []) {
    if (t < 32) sortedLow |= 1 << t;
    else sortedHigh |= 1 << (t - 32);
  }
  tables.u32(0);
  tables.u8(2);
  tables.u8(0);
  tables.u8(spec.largeStrings ? 1 : 0);
  tables.u8(1);
  tables.u32(validLow >>> 0);
  tables.u32(validHigh >>> 0);
  tables.u32(sortedLow >>> 0);
  tables.u32(sortedHigh >>> 0);
  for (const t of ids) tables.u32(spec.overrideRowCounts?.[t] ?? spec.tables[t].length);
  for (const t of ids) {
    for (const row of spec.tables[t]) {
      const layout = LAYOUT[t];
      if (!layout || layout.length !== row.length) throw new Error(`builder: bad row for table ${t}`);
      row.forEach((cell, i) => {
        const kind = layout[i];
        const v = typeof cell === 'string' ? str(cell) : cell instanceof Uint8Array ? blob(cell) : cell;
        if (kind === 4 || (kind === 'S' && spec.largeStrings)) tables.u32(v);
        else tables.u16(v);
      });
    }
  }
  tables.pad4();
  strings.pad4();
  blobs.pad4();
  const guids = new Out();
  for (const g of spec.guids ?? []) guids.raw(g);
  const us = new Out();
  us.u8(0);
  for (const s of spec.userStrings ?? []) {
    us.u8(s.length * 2 + 1);
    for (const ch of s) us.u16(ch.charCodeAt(0));
    us.u8(0);
  }
  us.pad4();
  const streams: [string, number[]][] = [
    [spec.tableStreamName ?? '#~', tables.bytes],
    ['#Strings', strings.bytes],
    ['#US', us.bytes],
    ['#GUID', guids.bytes],
    ['#Blob', blobs.bytes],
  ];
  const version = 'v4.0.30319';
  const header = new Out();
  header.u32(0x424a5342);
  header.u16(1);
  header.u16(1);
  header.u32(0);
  header.u32(12);
  header.raw(new TextEncoder().encode(version));
  header.pad4();
  header.u16(0);
  header.u16(streams.length);
  let headerSize = header.bytes.length;
  for (const [name] of streams) headerSize += 8 + ((name.length + 4) & ~3);
  let offset = headerSize;
  for (const [name, data] of streams) {
    header.u32(offset);
    header.u32(data.length);
    header.raw(new TextEncoder().encode(name));
    header.u8(0);
    header.pad4();
    offset += data.length;
  }
  for (const [, data] of streams) header.raw(data);
  return Uint8Array.from(header.bytes);
}

/** Options of `buildPeImage`. */
export interface PeSpec {
  metadata: Uint8Array;
  pe32?: boolean;
  /** Produce the mapped (loaded) layout: sections at their RVAs. */
  mapped?: boolean;
}

const FILE_ALIGN = 0x200;
const SECTION_RVA = 0x2000;

/** Builds a minimal PE (PE32+ unless `pe32`) with one `.text` section holding a CLI header and `metadata`. */
export function buildPeImage(spec: PeSpec): Uint8Array {
  const cliRva = SECTION_RVA;
  const mdRva = SECTION_RVA + 72;
  const rawSize = Math.ceil((72 + spec.metadata.length) / FILE_ALIGN) * FILE_ALIGN;
  const sizeOfImage = SECTION_RVA + Math.ceil(rawSize / 0x1000) * 0x1000;
  const total = spec.mapped ? sizeOfImage : FILE_ALIGN + rawSize;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b[0] = 0x4d;
  b[1] = 0x5a;
  const lfanew = 0x80;
  dv.setUint32(0x3c, lfanew, true);
  dv.setUint32(lfanew, 0x00004550, true);
  dv.setUint16(lfanew + 4, 0x8664, true);
  dv.setUint16(lfanew + 6, 1, true);
  const optSize = spec.pe32 ? 224 : 240;
  dv.setUint16(lfanew + 20, optSize, true);
  dv.setUint16(lfanew + 22, 0x2022, true);
  const opt = lfanew + 24;
  dv.setUint16(opt, spec.pe32 ? 0x10b : 0x20b, true);
  if (spec.pe32) dv.setUint32(opt + 28, 0x400000, true);
  else dv.setUint32(opt + 24, 0x400000, true);
  dv.setUint32(opt + 56, sizeOfImage, true);
  dv.setUint32(opt + 60, FILE_ALIGN, true);
  const dirs = opt + (spec.pe32 ? 96 : 112);
  dv.setUint32(dirs - 4, 16, true);
  dv.setUint32(dirs + 14 * 8, cliRva, true);
  dv.setUint32(dirs + 14 * 8 + 4, 72, true);
  const sec = opt + optSize;
  b.set(new TextEncoder().encode('.text'), sec);
  dv.setUint32(sec + 8, 72 + spec.metadata.length, true);
  dv.setUint32(sec + 12, SECTION_RVA, true);
  dv.setUint32(sec + 16, rawSize, true);
  dv.setUint32(sec + 20, FILE_ALIGN, true);
  const at = (rva: number): number => (spec.mapped ? rva : rva - SECTION_RVA + FILE_ALIGN);
  const cli = at(cliRva);
  dv.setUint32(cli, 72, true);
  dv.setUint16(cli + 4, 2, true);
  dv.setUint16(cli + 6, 5, true);
  dv.setUint32(cli + 8, mdRva, true);
  dv.setUint32(cli + 12, spec.metadata.length, true);
  dv.setUint32(cli + 16, 1, true);
  dv.setUint32(cli + 64, 0x1234, true);
  dv.setUint32(cli + 68, 0x48, true);
  b.set(spec.metadata, at(mdRva));
  return b;
}

/** ECMA-335 II.23.2 compressed unsigned integer. */
export function compressed(v: number): number[] {
  if (v < 0x80) return [v];
  if (v < 0x4000) return [0x80 | (v >> 8), v & 0xff];
  return [0xc0 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}
