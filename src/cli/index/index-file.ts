/**
 * One file of the per-dump index: a small JSON header and named binary sections (typed arrays or JSON), each with
 * its length and CRC-32 (the header its SHA-256), so a truncated, corrupt or foreign file is refused rather than read. Layout:
 * `magic (8) | header length u32 | reserved u32 | SHA-256 of the header (32) | header JSON | sections, 8-aligned`.
 * Files are written to a temporary name in the same folder and renamed, so a reader never sees half a file.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { DumpsleuthError } from '../../errors';

/** The index file is missing, unreadable, truncated, corrupt or of another format: rebuild, never read it. */
export class IndexFileError extends DumpsleuthError {}

const MAGIC = Buffer.from('DSLIDX01', 'latin1');
const PREFIX = 8 + 4 + 4 + 32;
/** Headers are small (identity, section list); anything bigger is not ours. */
const MAX_HEADER = 1 << 20;
/** Node's readSync/writeSync move at most 2 GiB per call. */
const IO_CHUNK = 1 << 30;
/** Bytes read (and checksummed) at once when a section is loaded: small enough to stay in the CPU's cache. */
const READ_CHUNK = 2 << 20;

/** The element types a section can hold. */
export type SectionType = 'f64' | 'u32' | 'i32' | 'json';

/** A section's place in the file, as recorded in the header. */
interface SectionEntry {
  readonly name: string;
  readonly type: SectionType;
  readonly offset: number;
  readonly bytes: number;
  /** CRC-32 of the section's bytes: catches truncation and corruption at several GB/s (SHA-256 would double the
   * time the second process spends reading a 20 M-object index; nothing here defends against a forger). */
  readonly crc32: number;
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
  let at = 0;
  sections.forEach((s, k) => {
    const body = bodies[k]!;
    entries.push({ name: s.name, type: s.type, offset: at, bytes: body.length, crc32: crc32(body) });
    at = align8(at + body.length);
  });
  const headerJson = Buffer.from(JSON.stringify({ ...header, sections: entries, sectionBytes: at }), 'utf8');
  const dataStart = align8(PREFIX + headerJson.length);
  const prefix = Buffer.alloc(dataStart);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(headerJson.length, 8);
  const digest = createHash('sha256').update(headerJson).digest();
  digest.copy(prefix, 16);
  headerJson.copy(prefix, PREFIX);
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

/** An open index file whose header has been checked; sections are read and verified on demand. */
export class IndexFile {
  private data?: Uint8Array;

  private constructor(
    private readonly fd: number,
    readonly header: IndexHeader,
    /** The header's SHA-256 (what derived parts record as their source). */
    readonly digest: string,
    private readonly sections: ReadonlyMap<string, SectionEntry>,
    private readonly dataStart: number,
    private readonly sectionBytes: number,
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
      if (headerLength > MAX_HEADER || PREFIX + headerLength > size) throw new IndexFileError(`${file} is truncated or corrupt (header of ${headerLength} bytes)`);
      const headerJson = Buffer.alloc(headerLength);
      if (fs.readSync(fd, headerJson, 0, headerLength, PREFIX) !== headerLength) throw new IndexFileError(`${file} is truncated`);
      const digest = createHash('sha256').update(headerJson).digest();
      if (!digest.equals(prefix.subarray(16, 48))) throw new IndexFileError(`${file}: header checksum mismatch`);
      const parsed = JSON.parse(headerJson.toString('utf8')) as IndexHeader & { sections: SectionEntry[]; sectionBytes: number };
      if (parsed.key !== key) throw new IndexFileError(`${file} belongs to another dump or version (stale)`);
      if (parsed.part !== part) throw new IndexFileError(`${file} holds part ${String(parsed.part)}, not ${part}`);
      const dataStart = align8(PREFIX + headerLength);
      if (size !== dataStart + parsed.sectionBytes) throw new IndexFileError(`${file} has ${size} bytes, its header says ${dataStart + parsed.sectionBytes} (truncated or extended)`);
      const sections = new Map(parsed.sections.map((s) => [s.name, s]));
      return new IndexFile(fd, { part: parsed.part, key: parsed.key, meta: parsed.meta }, digest.toString('hex'), sections, dataStart, parsed.sectionBytes);
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

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Reads a section into its own ArrayBuffer and checks its CRC-32. @throws IndexFileError. */
  private bytes(name: string, type: SectionType): Uint8Array {
    const s = this.sections.get(name);
    if (s === undefined) throw new IndexFileError(`index part ${this.header.part} has no section ${name}`);
    if (s.type !== type) throw new IndexFileError(`index section ${name} holds ${s.type}, not ${type}`);
    const width = type === 'f64' ? 8 : type === 'json' ? 1 : 4;
    if (s.bytes % width !== 0) throw new IndexFileError(`index section ${name} has ${s.bytes} bytes, not a multiple of ${width}`);
    if (s.offset % 8 !== 0 || s.offset + s.bytes > this.sectionBytes) throw new IndexFileError(`index section ${name} lies outside the file`);
    // One buffer for every section of the file (one large allocation, not one per section; its pages are only
    // touched when read), filled in chunks whose CRC is taken while they are still in the CPU's cache.
    this.data ??= new Uint8Array(new ArrayBuffer(this.sectionBytes));
    const out = this.data.subarray(s.offset, s.offset + s.bytes);
    let crc = 0;
    for (let done = 0; done < s.bytes; ) {
      let n: number;
      try {
        n = fs.readSync(this.fd, out, done, Math.min(READ_CHUNK, s.bytes - done), this.dataStart + s.offset + done);
      } catch (e) {
        throw new IndexFileError(`index section ${name} is unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (n <= 0) throw new IndexFileError(`index section ${name} is truncated`);
      crc = crc32(out.subarray(done, done + n), crc);
      done += n;
    }
    if (crc !== s.crc32) throw new IndexFileError(`index section ${name}: checksum mismatch (corrupt)`);
    return out;
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
