/**
 * One file of the per-dump index: a small JSON header and named binary sections (typed arrays or JSON). Every
 * section is cut into 64 KiB pages, each with its CRC-32 in a page table after the header; the header and the page
 * table together carry a SHA-256. So a process can read one page of a section (`PagedSection`: the one object an
 * answer needs) and still never use a byte that is not as written: a truncated, corrupt or foreign file is refused
 * on open (magic, digest, key, length), a corrupt page on the read that touches it. Layout:
 * `magic (8) | header length u32 | page table length u32 | SHA-256 of header + page table (32) | header JSON |
 * page CRC-32s (u32 each) | sections, 8-aligned`.
 * Files are written to a temporary name in the same folder and renamed, so a reader never sees half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DumpsleuthError } from '../../errors';

/** The index file is missing, unreadable, truncated, corrupt or of another format: rebuild, never read it. */
export class IndexFileError extends DumpsleuthError {}

const MAGIC = Buffer.from('DSLIDX02', 'latin1');
const PREFIX = 8 + 4 + 4 + 32;
/** Headers are small (identity, section list); anything bigger is not ours. */
const MAX_HEADER = 1 << 20;
/** Node's readSync/writeSync move at most 2 GiB per call. */
const IO_CHUNK = 1 << 30;
/** The unit of checksums and of random reads: small enough that one lookup reads little, big enough that the page
 * table stays small (64 KiB of CRCs per GiB of index). */
export const INDEX_PAGE = 64 * 1024;
/** Pages read at once when a whole section is loaded (2 MiB: checksummed while still in the CPU's cache). */
const PAGES_PER_READ = 32;

/** The element types a section can hold. */
export type SectionType = 'f64' | 'u32' | 'i32' | 'json';

/** A section's place in the file, as recorded in the header. */
interface SectionEntry {
  readonly name: string;
  readonly type: SectionType;
  readonly offset: number;
  readonly bytes: number;
  /** Index of the section's first page in the page table (page CRC-32s catch truncation and corruption at
   * several GB/s; SHA-256 would double the time a whole-section read takes; nothing here defends against a forger). */
  readonly firstPage: number;
}

/** What the header of every index file holds besides the section list. */
export interface IndexHeader {
  /** Which part of the index this file is (graph, roots, reverse, dominators). */
  readonly part: string;
  /** The index key: dump identity and code version (see dump-identity.ts); a file with another key is stale. */
  readonly key: string;
  /** Free-form facts of the part (counts, the digest of the part it was derived from). */
  readonly meta: Record<string, unknown>;
}

/** A section to write. */
export type SectionData = { readonly name: string } & (
  | { readonly type: 'f64'; readonly data: Float64Array }
  | { readonly type: 'u32'; readonly data: Uint32Array }
  | { readonly type: 'i32'; readonly data: Int32Array }
  | { readonly type: 'json'; readonly data: unknown }
);

/** Writes an index file atomically (temporary file + rename) and returns its digest (the header's SHA-256) and
 * size. @throws the fs error when the folder cannot be written. */
export function writeIndexFile(file: string, header: IndexHeader, sections: readonly SectionData[]): { digest: string; bytes: number } {
  const bodies = sections.map((s) => (s.type === 'json' ? Buffer.from(JSON.stringify(s.data), 'utf8') : Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength)));
  // Offsets depend on the header's length, which depends on the offsets' digits: lay out with a header of fixed
  // padding (offsets are relative to the first section, then shifted by the final header size).
  const entries: SectionEntry[] = [];
  const pageCrcs: number[] = [];
  let at = 0;
  sections.forEach((s, k) => {
    const body = bodies[k]!;
    entries.push({ name: s.name, type: s.type, offset: at, bytes: body.length, firstPage: pageCrcs.length });
    for (let p = 0; p < body.length; p += INDEX_PAGE) pageCrcs.push(crc32(body.subarray(p, Math.min(body.length, p + INDEX_PAGE))));
    at = align8(at + body.length);
  });
  const headerJson = Buffer.from(JSON.stringify({ ...header, sections: entries, sectionBytes: at, pageBytes: INDEX_PAGE }), 'utf8');
  const table = Buffer.from(Uint32Array.from(pageCrcs).buffer);
  const dataStart = align8(PREFIX + headerJson.length + table.length);
  const prefix = Buffer.alloc(dataStart);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerJson.length, 8);
  prefix.writeUInt32LE(table.length, 12);
  const digest = createHash('sha256').update(headerJson).update(table).digest();
  digest.copy(prefix, 16);
  headerJson.copy(prefix, PREFIX);
  table.copy(prefix, PREFIX + headerJson.length);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    writeAll(fd, prefix, 0);
    entries.forEach((e, k) => writeAll(fd, bodies[k]!, dataStart + e.offset));
    fs.ftruncateSync(fd, dataStart + at);
    // No fsync: a file cut short by a crash fails the length and CRC checks and is rebuilt, so durability is not
    // worth a flush of hundreds of MB before the command can exit.
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(temp, file);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  return { digest: digest.toString('hex'), bytes: dataStart + at };
}

/** An open index file whose header and page table have been checked; sections are read and verified on demand,
 * whole (`f64`, `u32`, `i32`, `json`) or page by page (`paged`). */
export class IndexFile {
  private data?: Uint8Array;

  private constructor(
    private readonly fd: number,
    readonly header: IndexHeader,
    /** The SHA-256 of header and page table (what derived parts record as their source). */
    readonly digest: string,
    private readonly sections: ReadonlyMap<string, SectionEntry>,
    private readonly pageCrcs: Uint32Array,
    private readonly dataStart: number,
    private readonly sectionBytes: number,
    private readonly file: string,
  ) {}

  /** Opens `file` and checks its magic, header digest, key and length. @throws IndexFileError for anything that is
   * not an intact index file of `key` (a missing file included). */
  static open(file: string, key: string, part: string): IndexFile {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new IndexFileError(`cannot open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      const size = fs.fstatSync(fd).size;
      const prefix = Buffer.alloc(PREFIX);
      if (size < PREFIX || fs.readSync(fd, prefix, 0, PREFIX, 0) !== PREFIX) throw new IndexFileError(`${file} is truncated (${size} bytes)`);
      if (!prefix.subarray(0, 8).equals(MAGIC)) throw new IndexFileError(`${file} is not a dumpsleuth index file of this format`);
      const headerLength = prefix.readUInt32LE(8);
      const tableLength = prefix.readUInt32LE(12);
      if (headerLength > MAX_HEADER || tableLength % 4 !== 0 || PREFIX + headerLength + tableLength > size) {
        throw new IndexFileError(`${file} is truncated or corrupt (header of ${headerLength} bytes, page table of ${tableLength})`);
      }
      const headerAndTable = Buffer.alloc(headerLength + tableLength);
      if (fs.readSync(fd, headerAndTable, 0, headerAndTable.length, PREFIX) !== headerAndTable.length) throw new IndexFileError(`${file} is truncated`);
      const digest = createHash('sha256').update(headerAndTable).digest();
      if (!digest.equals(prefix.subarray(16, 48))) throw new IndexFileError(`${file}: header checksum mismatch`);
      const parsed = JSON.parse(headerAndTable.subarray(0, headerLength).toString('utf8')) as IndexHeader & { sections: SectionEntry[]; sectionBytes: number; pageBytes: number };
      if (parsed.key !== key) throw new IndexFileError(`${file} belongs to another dump or version (stale)`);
      if (parsed.part !== part) throw new IndexFileError(`${file} holds part ${String(parsed.part)}, not ${part}`);
      if (parsed.pageBytes !== INDEX_PAGE) throw new IndexFileError(`${file} has pages of ${parsed.pageBytes} bytes, not ${INDEX_PAGE}`);
      const dataStart = align8(PREFIX + headerLength + tableLength);
      if (size !== dataStart + parsed.sectionBytes) throw new IndexFileError(`${file} has ${size} bytes, its header says ${dataStart + parsed.sectionBytes} (truncated or extended)`);
      const table = headerAndTable.subarray(headerLength);
      const pageCrcs = new Uint32Array(tableLength / 4);
      for (let k = 0; k < pageCrcs.length; k++) pageCrcs[k] = table.readUInt32LE(k * 4);
      const sections = new Map(parsed.sections.map((s) => [s.name, s]));
      return new IndexFile(fd, { part: parsed.part, key: parsed.key, meta: parsed.meta }, digest.toString('hex'), sections, pageCrcs, dataStart, parsed.sectionBytes, file);
    } catch (e) {
      fs.closeSync(fd);
      if (e instanceof IndexFileError) throw e;
      throw new IndexFileError(`${file} is unreadable: ${(e as Error).message}`);
    }
  }

  has(name: string): boolean {
    return this.sections.has(name);
  }

  f64(name: string): Float64Array {
    const b = this.bytes(name, 'f64');
    return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
  }

  u32(name: string): Uint32Array {
    const b = this.bytes(name, 'u32');
    return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }

  i32(name: string): Int32Array {
    const b = this.bytes(name, 'i32');
    return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }

  json(name: string): unknown {
    const text = Buffer.from(this.bytes(name, 'json')).toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new IndexFileError(`index section ${name} is not JSON: ${(e as Error).message}`);
    }
  }

  /** The section's type: 'f64' or 'u32' for sections written either way (sizes). */
  typeOf(name: string): SectionType | undefined {
    return this.sections.get(name)?.type;
  }

  /** A section read page by page on demand (the file stays open until `close`). @throws IndexFileError when the
   * section is missing or of another type. */
  paged(name: string, type: 'f64' | 'u32' | 'i32'): PagedSection {
    const s = this.entry(name, type);
    return new PagedSection(name, type, s.bytes / (type === 'f64' ? 8 : 4), (page, out) => this.readPage(s, page, out));
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** The section's entry, checked against the file. @throws IndexFileError. */
  private entry(name: string, type: SectionType): SectionEntry {
    const s = this.sections.get(name);
    if (s === undefined) throw new IndexFileError(`index part ${this.header.part} has no section ${name}`);
    if (s.type !== type) throw new IndexFileError(`index section ${name} holds ${s.type}, not ${type}`);
    const width = type === 'f64' ? 8 : type === 'json' ? 1 : 4;
    if (s.bytes % width !== 0) throw new IndexFileError(`index section ${name} has ${s.bytes} bytes, not a multiple of ${width}`);
    if (s.offset % 8 !== 0 || s.offset + s.bytes > this.sectionBytes) throw new IndexFileError(`index section ${name} lies outside the file`);
    if (s.firstPage + Math.ceil(s.bytes / INDEX_PAGE) > this.pageCrcs.length) throw new IndexFileError(`index section ${name} has pages beyond the page table`);
    return s;
  }

  /** Reads page `page` of section `s` into `out` (at least one page long) and checks its CRC-32; returns its length.
   * @throws IndexFileError for a short read or a checksum mismatch. */
  private readPage(s: SectionEntry, page: number, out: Uint8Array): number {
    const at = page * INDEX_PAGE;
    const length = Math.min(INDEX_PAGE, s.bytes - at);
    if (!(length > 0)) throw new IndexFileError(`index section ${s.name} has no page ${page}`);
    this.readExactly(s, out, 0, length, at);
    if (crc32(out.subarray(0, length)) !== this.pageCrcs[s.firstPage + page]) {
      throw new IndexFileError(`index section ${s.name} of ${this.file}: page ${page} checksum mismatch (corrupt)`);
    }
    return length;
  }

  private readExactly(s: SectionEntry, out: Uint8Array, outOffset: number, length: number, sectionOffset: number): void {
    for (let done = 0; done < length; ) {
      let n: number;
      try {
        n = fs.readSync(this.fd, out, outOffset + done, Math.min(IO_CHUNK, length - done), this.dataStart + s.offset + sectionOffset + done);
      } catch (e) {
        throw new IndexFileError(`index section ${s.name} is unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (n <= 0) throw new IndexFileError(`index section ${s.name} is truncated`);
      done += n;
    }
  }

  /** Reads a whole section into its own ArrayBuffer and checks every page's CRC-32. @throws IndexFileError. */
  private bytes(name: string, type: SectionType): Uint8Array {
    const s = this.entry(name, type);
    // One buffer for every section of the file (one large allocation, not one per section; its pages are only
    // touched when read), filled in chunks whose pages are checked while they are still in the CPU's cache.
    this.data ??= new Uint8Array(new ArrayBuffer(this.sectionBytes));
    const out = this.data.subarray(s.offset, s.offset + s.bytes);
    const chunk = INDEX_PAGE * PAGES_PER_READ;
    for (let done = 0; done < s.bytes; done += chunk) {
      const n = Math.min(chunk, s.bytes - done);
      this.readExactly(s, out, done, n, done);
      for (let p = 0; p < n; p += INDEX_PAGE) {
        const page = (done + p) / INDEX_PAGE;
        if (crc32(out.subarray(done + p, done + Math.min(n, p + INDEX_PAGE))) !== this.pageCrcs[s.firstPage + page]) {
          throw new IndexFileError(`index section ${name}: checksum mismatch (corrupt)`);
        }
      }
    }
    return out;
  }
}

/** Pages a PagedSection keeps (LRU): 32 MiB at most, while a gcroot of one object touches a few hundred. */
const CACHED_PAGES = 512;

/** One section of an index file read a page at a time, each page checked when read and kept in a small LRU cache:
 * a lookup costs the pages it touches, not the section. Reads throw IndexFileError on a corrupt page. */
export class PagedSection {
  private readonly pages = new Map<number, Float64Array | Uint32Array | Int32Array>();
  private readonly perPage: number;
  /** Pages read from the file so far (for the bench and the tests). */
  pagesRead = 0;

  constructor(
    readonly name: string,
    private readonly type: 'f64' | 'u32' | 'i32',
    /** Elements in the section. */
    readonly length: number,
    private readonly read: (page: number, out: Uint8Array) => number,
  ) {
    this.perPage = INDEX_PAGE / (type === 'f64' ? 8 : 4);
  }

  /** Element `i`. @throws IndexFileError when `i` is out of range or its page is corrupt. */
  at(i: number): number {
    if (!(i >= 0 && i < this.length)) throw new IndexFileError(`index section ${this.name}: element ${i} of ${this.length} is out of range`);
    const p = Math.floor(i / this.perPage);
    let page = this.pages.get(p);
    if (page === undefined) page = this.load(p);
    else if (this.pages.size > 64) {
      // Most recently used last (Map keeps insertion order); small caches skip the bookkeeping.
      this.pages.delete(p);
      this.pages.set(p, page);
    }
    return page[i - p * this.perPage]!;
  }

  /** The first index in [from, to) whose element is `value`, or -1 (a scan page by page with the typed array's own
   * search: a link out of a 20 M-element array is found at memory speed). @throws IndexFileError as `at`. */
  indexOf(value: number, from: number, to: number): number {
    return this.scan(value, from, to, true);
  }

  /** How many elements in [from, to) are `value`. @throws IndexFileError as `at`. */
  count(value: number, from: number, to: number): number {
    return this.scan(value, from, to, false);
  }

  private scan(value: number, from: number, to: number, first: boolean): number {
    if (!(from >= 0 && to <= this.length)) throw new IndexFileError(`index section ${this.name}: range ${from}..${to} of ${this.length} is out of range`);
    let n = 0;
    for (let i = from; i < to; ) {
      const p = Math.floor(i / this.perPage);
      const base = p * this.perPage;
      if (this.pages.get(p) === undefined) this.at(i);
      const page = this.pages.get(p)!;
      const end = Math.min(to, base + this.perPage) - base;
      if (first) {
        const k = page.subarray(0, end).indexOf(value, i - base);
        if (k >= 0) return base + k;
      } else {
        for (let k = i - base; k < end; k++) if (page[k] === value) n++;
      }
      i = base + end;
    }
    return first ? -1 : n;
  }

  private load(p: number): Float64Array | Uint32Array | Int32Array {
    const bytes = new Uint8Array(INDEX_PAGE);
    const n = this.read(p, bytes);
    this.pagesRead++;
    const view = this.type === 'f64' ? new Float64Array(bytes.buffer, 0, n / 8) : this.type === 'u32' ? new Uint32Array(bytes.buffer, 0, n / 4) : new Int32Array(bytes.buffer, 0, n / 4);
    if (this.pages.size >= CACHED_PAGES) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(p, view);
    return view;
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  for (let done = 0; done < data.length; ) {
    done += fs.writeSync(fd, data, done, Math.min(IO_CHUNK, data.length - done), position + done);
  }
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (zlib's polynomial) of `data` continuing from `value`: Node's native one (20.15 and later), else
 * `tableCrc32`. */
function crc32(data: Uint8Array, value = 0): number {
  return typeof zlib.crc32 === 'function' ? zlib.crc32(data, value) : tableCrc32(data, value);
}

/** CRC-32 by the classic table-driven loop (for Node releases without `zlib.crc32`), continuing from `value`. */
export function tableCrc32(data: Uint8Array, value = 0): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
