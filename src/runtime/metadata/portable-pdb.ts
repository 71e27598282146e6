/**
 * A portable PDB (github.com/dotnet/runtime docs/design/specs/PortablePdb-Metadata.md): ECMA-335 metadata whose
 * `#Pdb` stream holds the PDB id (the GUID the image's CodeView entry names, and a stamp) and whose tables start with
 * Document (0x30) and MethodDebugInformation (0x31, row = MethodDef rid). Only what source lines need is read: the
 * documents' names and each method's sequence points.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import { readCompressedPacked } from './metadata-heaps';

/** One sequence point: an IL offset and the source line it starts (hidden points have `hidden`). */
export interface SequencePoint {
  readonly ilOffset: number;
  readonly document: number;
  readonly startLine: number;
  readonly hidden: boolean;
}

const METADATA_SIGNATURE = 0x424a5342; // 'BSJB'
const DOCUMENT = 0x30;
const METHOD_DEBUG_INFORMATION = 0x31;
const HIDDEN_LINE = 0xfeefee;
const MAX_POINTS = 1_000_000;

/** Reads a portable PDB from its bytes. */
export class PortablePdb {
  /** The PDB id's GUID (16 bytes, as the image's RSDS record stores it). */
  readonly guid: Uint8Array;
  private readonly view: DataView;
  private readonly blobStart: number;
  private readonly blobSize: number;
  private readonly documentStart: number;
  private readonly documentRowSize: number;
  private readonly documentRows: number;
  private readonly methodStart: number;
  private readonly methodRowSize: number;
  private readonly methodRows: number;
  private readonly blobIndexSize: number;
  private readonly guidIndexSize: number;
  private readonly documentIndexSize: number;
  private readonly names = new Map<number, string>();

  /** @throws DumpFormatError when the bytes are not a portable PDB. */
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u32 = (at: number) => this.u32(at);
    if (bytes.length < 32 || u32(0) !== METADATA_SIGNATURE) throw new DumpFormatError('not a portable PDB (no BSJB metadata signature)');
    const versionLength = u32(12);
    let at = 16 + versionLength + 2;
    const streamCount = this.u16(at);
    at += 2;
    const streams = new Map<string, { offset: number; size: number }>();
    for (let i = 0; i < streamCount && i < 16; i++) {
      const offset = u32(at);
      const size = u32(at + 4);
      let end = at + 8;
      while (end < bytes.length && bytes[end] !== 0) end++;
      const name = Buffer.from(bytes.subarray(at + 8, end)).toString('latin1');
      streams.set(name, { offset, size });
      at = (end + 4) & ~3;
    }
    const pdb = streams.get('#Pdb');
    const tables = streams.get('#~');
    const blob = streams.get('#Blob');
    if (!pdb || !tables || !blob) throw new DumpFormatError('not a portable PDB (no #Pdb, #~ or #Blob stream)');
    this.guid = bytes.slice(pdb.offset, pdb.offset + 16);
    this.blobStart = blob.offset;
    this.blobSize = blob.size;
    const t = tables.offset;
    const heapSizes = bytes[t + 6]!;
    const validLow = u32(t + 8);
    const validHigh = u32(t + 12);
    const rows = new Map<number, number>();
    let rowAt = t + 24;
    for (let table = 0; table < 64; table++) {
      const present = table < 32 ? (validLow >>> table) & 1 : (validHigh >>> (table - 32)) & 1;
      if (!present) continue;
      rows.set(table, u32(rowAt));
      rowAt += 4;
    }
    for (const table of rows.keys()) if (table < DOCUMENT) throw new DumpFormatError(`a portable PDB has no type-system tables, this one has table 0x${table.toString(16)}`);
    this.blobIndexSize = heapSizes & 4 ? 4 : 2;
    this.guidIndexSize = heapSizes & 2 ? 4 : 2;
    this.documentRows = rows.get(DOCUMENT) ?? 0;
    this.methodRows = rows.get(METHOD_DEBUG_INFORMATION) ?? 0;
    this.documentIndexSize = this.documentRows < 0x10000 ? 2 : 4;
    this.documentRowSize = 2 * this.blobIndexSize + 2 * this.guidIndexSize;
    this.methodRowSize = this.documentIndexSize + this.blobIndexSize;
    this.documentStart = rowAt;
    this.methodStart = this.documentStart + this.documentRows * this.documentRowSize;
    if (this.methodStart + this.methodRows * this.methodRowSize > bytes.length) throw new DumpFormatError('portable PDB: the tables run past the file');
  }

  private u32(at: number): number {
    if (at + 4 > this.bytes.length) throw new DumpFormatError('portable PDB: read past the end');
    return this.view.getUint32(at, true);
  }

  private u16(at: number): number {
    if (at + 2 > this.bytes.length) throw new DumpFormatError('portable PDB: read past the end');
    return this.view.getUint16(at, true);
  }

  private index(at: number, size: number): number {
    return size === 4 ? this.u32(at) : this.u16(at);
  }

  private blob(index: number): { start: number; end: number } {
    if (index >= this.blobSize) throw new DumpFormatError(`portable PDB: blob index ${index} outside the heap`);
    const packed = readCompressedPacked(this.bytes, this.blobStart + index, this.blobStart + this.blobSize);
    const start = this.blobStart + index + (packed & 7);
    const end = start + Math.floor(packed / 8);
    if (end > this.blobStart + this.blobSize) throw new DumpFormatError('portable PDB: a blob runs past its heap');
    return { start, end };
  }

  /** The name of Document row `rid` (1-based): its separator and UTF-8 parts joined. */
  documentName(rid: number): string {
    let name = this.names.get(rid);
    if (name !== undefined) return name;
    if (rid < 1 || rid > this.documentRows) throw new DumpFormatError(`portable PDB: no document ${rid}`);
    const { start, end } = this.blob(this.index(this.documentStart + (rid - 1) * this.documentRowSize, this.blobIndexSize));
    if (start >= end) return '';
    const separator = this.bytes[start]!;
    const parts: string[] = [];
    for (let at = start + 1; at < end; ) {
      const packed = readCompressedPacked(this.bytes, at, end);
      at += packed & 7;
      const part = Math.floor(packed / 8);
      if (part === 0) parts.push('');
      else {
        const b = this.blob(part);
        parts.push(Buffer.from(this.bytes.subarray(b.start, b.end)).toString('utf8'));
      }
    }
    name = parts.join(separator === 0 ? '' : String.fromCharCode(separator));
    this.names.set(rid, name);
    return name;
  }

  /** The sequence points of MethodDef `rid`, in IL order; empty when the method has none. */
  sequencePoints(methodRid: number): SequencePoint[] {
    if (methodRid < 1 || methodRid > this.methodRows) return [];
    const row = this.methodStart + (methodRid - 1) * this.methodRowSize;
    let document = this.index(row, this.documentIndexSize);
    const blobIndex = this.index(row + this.documentIndexSize, this.blobIndexSize);
    if (blobIndex === 0) return [];
    const { start, end } = this.blob(blobIndex);
    let at = start;
    const unsigned = () => {
      const packed = readCompressedPacked(this.bytes, at, end);
      at += packed & 7;
      return Math.floor(packed / 8);
    };
    const signed = () => {
      const packed = readCompressedPacked(this.bytes, at, end);
      const n = packed & 7;
      at += n;
      const v = Math.floor(packed / 8);
      const bits = n === 1 ? 7 : n === 2 ? 14 : 29;
      return (v & 1) === 0 ? v >>> 1 : (v >>> 1) - (1 << (bits - 1));
    };
    unsigned(); // LocalSignature
    if (document === 0) document = unsigned();
    const points: SequencePoint[] = [];
    let il = 0;
    let line = 0;
    let column = 0;
    let first = true;
    let firstVisible = true;
    while (at < end) {
      if (points.length >= MAX_POINTS) throw new LimitExceededError(`portable PDB: method ${methodRid} has more than ${MAX_POINTS} sequence points`);
      const deltaIl = unsigned();
      if (!first && deltaIl === 0) {
        document = unsigned();
        continue;
      }
      il = first ? deltaIl : il + deltaIl;
      first = false;
      const deltaLines = unsigned();
      const deltaColumns = deltaLines === 0 ? unsigned() : signed();
      if (deltaLines === 0 && deltaColumns === 0) {
        points.push({ ilOffset: il, document, startLine: HIDDEN_LINE, hidden: true });
        continue;
      }
      if (firstVisible) {
        line = unsigned();
        column = unsigned();
        firstVisible = false;
      } else {
        line += signed();
        column += signed();
      }
      points.push({ ilOffset: il, document, startLine: line, hidden: false });
    }
    void column;
    return points;
  }
}
