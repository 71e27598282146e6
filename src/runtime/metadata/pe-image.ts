/**
 * A PE/COFF image (ECMA-335 II.25) over an abstract byte source, in the mapped (loaded) or flat (file) layout,
 * with the CLI header that leads to the metadata.
 */
import { DumpFormatError, DumpsleuthError } from '../../errors';

/** Random access to the bytes of one image; offsets are RVAs for a mapped layout and file offsets for a flat one. */
export interface PeByteSource {
  /** `length` bytes at `offset`; may return fewer bytes at the end of the source, or throw a `DumpsleuthError`
   * (such as `UnmappedAddressError`), which `PeImage` passes on unchanged. */
  read(offset: number, length: number): Uint8Array;
}

/** Options of a `PeImage`. */
export interface PeImageOptions {
  /** True when sections sit at their RVAs (the runtime's `FLAG_MAPPED`); false for a file on disk. */
  isMapped: boolean;
}

/** One entry of the section table (PE/COFF "Section Table"). */
export interface PeSection {
  readonly name: string;
  readonly virtualSize: number;
  readonly virtualAddress: number;
  readonly sizeOfRawData: number;
  readonly pointerToRawData: number;
  readonly characteristics: number;
}

/** An RVA + size pair from the data directories or the CLI header. */
export interface PeDirectory {
  readonly rva: number;
  readonly size: number;
}

/** The CLI header (`IMAGE_COR20_HEADER`, ECMA-335 II.25.3.3). */
export interface CliHeader {
  readonly cb: number;
  readonly majorRuntimeVersion: number;
  readonly minorRuntimeVersion: number;
  readonly metadata: PeDirectory;
  readonly flags: number;
  readonly entryPointToken: number;
  readonly resources: PeDirectory;
  readonly strongNameSignature: PeDirectory;
  /** The ReadyToRun header (`READYTORUN_HEADER`, "RTR") in R2R images; rva 0 otherwise. */
  readonly managedNativeHeader: PeDirectory;
}

/** `COMIMAGE_FLAGS_*` bits of `CliHeader.flags` (ECMA-335 II.25.3.3.1). */
export const CliHeaderFlags = {
  ilOnly: 0x1,
  required32Bit: 0x2,
  ilLibrary: 0x4,
  strongNameSigned: 0x8,
  nativeEntryPoint: 0x10,
  trackDebugData: 0x10000,
  preferred32Bit: 0x20000,
} as const;

const MAX_SECTIONS = 96; // PE/COFF: "the Windows loader limits the number of sections to 96"
const MAX_LFANEW = 0x1000_0000;
const MAX_DIRECTORIES = 16;
const COM_DESCRIPTOR_DIRECTORY = 14;
const PE32_MAGIC = 0x10b;
const PE32_PLUS_MAGIC = 0x20b;

/** Wraps an in-memory byte array (a file read from disk, or a test's bytes) as a `PeByteSource`. */
export function byteArraySource(bytes: Uint8Array): PeByteSource {
  return {
    read(offset: number, length: number): Uint8Array {
      const end = Math.min(bytes.length, offset + length);
      return offset >= bytes.length || offset < 0 ? new Uint8Array(0) : bytes.subarray(offset, end);
    },
  };
}

/** A parsed PE image; the constructor throws `DumpFormatError` for a missing, malformed or truncated header. */
export class PeImage {
  readonly isMapped: boolean;
  /** `IMAGE_FILE_HEADER.Machine` (0x8664 x64, 0xaa64 arm64, 0x14c i386; R2R images xor it with an OS value). */
  readonly machine: number;
  readonly timeDateStamp: number;
  readonly characteristics: number;
  /** True for PE32+ (64-bit optional header). */
  readonly isPe32Plus: boolean;
  readonly imageBase: number;
  readonly sizeOfImage: number;
  readonly sizeOfHeaders: number;
  readonly sections: readonly PeSection[];
  readonly dataDirectories: readonly PeDirectory[];
  /** The CLI header, or undefined for a native (non-.NET) image. */
  readonly cliHeader: CliHeader | undefined;

  /** Throws `DumpFormatError` when the DOS/PE headers, section table or CLI header are malformed or truncated;
   * the source's own errors (e.g. `UnmappedAddressError`) pass through unchanged. */
  constructor(
    private readonly source: PeByteSource,
    options: PeImageOptions,
  ) {
    this.isMapped = options.isMapped;
    const dos = this.readAt(0, 64, 'DOS header');
    if (dos[0] !== 0x4d || dos[1] !== 0x5a) throw new DumpFormatError('PE image: no "MZ" DOS signature');
    const lfanew = view(dos).getUint32(0x3c, true);
    if (lfanew < 64 || lfanew > MAX_LFANEW) throw new DumpFormatError(`PE image: e_lfanew 0x${lfanew.toString(16)} is implausible`);
    const nt = view(this.readAt(lfanew, 24, 'PE signature and COFF header'));
    if (nt.getUint32(0, true) !== 0x00004550) throw new DumpFormatError('PE image: no "PE\\0\\0" signature at e_lfanew');
    this.machine = nt.getUint16(4, true);
    const numberOfSections = nt.getUint16(6, true);
    if (numberOfSections > MAX_SECTIONS) throw new DumpFormatError(`PE image: ${numberOfSections} sections (more than ${MAX_SECTIONS})`);
    this.timeDateStamp = nt.getUint32(8, true);
    const sizeOfOptionalHeader = nt.getUint16(20, true);
    this.characteristics = nt.getUint16(22, true);
    const optStart = lfanew + 24;
    const magicBytes = view(this.readAt(optStart, 2, 'optional header magic'));
    const magic = magicBytes.getUint16(0, true);
    if (magic !== PE32_MAGIC && magic !== PE32_PLUS_MAGIC) throw new DumpFormatError(`PE image: unknown optional header magic 0x${magic.toString(16)}`);
    this.isPe32Plus = magic === PE32_PLUS_MAGIC;
    // Data directories start at 96 (PE32) or 112 (PE32+) within the optional header.
    const dirStart = this.isPe32Plus ? 112 : 96;
    if (sizeOfOptionalHeader < dirStart) throw new DumpFormatError(`PE image: optional header of ${sizeOfOptionalHeader} bytes is too small`);
    const opt = view(this.readAt(optStart, sizeOfOptionalHeader, 'optional header'));
    this.imageBase = this.isPe32Plus ? readU64(opt, 24, 'ImageBase') : opt.getUint32(28, true);
    this.sizeOfImage = opt.getUint32(56, true);
    this.sizeOfHeaders = opt.getUint32(60, true);
    const numberOfRvaAndSizes = opt.getUint32(dirStart - 4, true);
    const dirCount = Math.min(numberOfRvaAndSizes, MAX_DIRECTORIES, Math.floor((sizeOfOptionalHeader - dirStart) / 8));
    const dirs: PeDirectory[] = [];
    for (let i = 0; i < dirCount; i++) {
      dirs.push({ rva: opt.getUint32(dirStart + i * 8, true), size: opt.getUint32(dirStart + i * 8 + 4, true) });
    }
    this.dataDirectories = dirs;
    const secStart = optStart + sizeOfOptionalHeader;
    const sec = this.readAt(secStart, numberOfSections * 40, 'section table');
    const sv = view(sec);
    const sections: PeSection[] = [];
    for (let i = 0; i < numberOfSections; i++) {
      const o = i * 40;
      let name = '';
      for (let j = 0; j < 8 && sec[o + j] !== 0; j++) name += String.fromCharCode(sec[o + j]);
      sections.push({
        name,
        virtualSize: sv.getUint32(o + 8, true),
        virtualAddress: sv.getUint32(o + 12, true),
        sizeOfRawData: sv.getUint32(o + 16, true),
        pointerToRawData: sv.getUint32(o + 20, true),
        characteristics: sv.getUint32(o + 36, true),
      });
    }
    this.sections = sections;
    this.cliHeader = this.readCliHeader();
  }

  /** The file offset (flat) or RVA (mapped) of `length` bytes at `rva`; throws `DumpFormatError` when no section holds them. */
  rvaToOffset(rva: number, length = 0): number {
    if (this.isMapped) return rva;
    if (rva + length <= this.sizeOfHeaders) return rva;
    for (const s of this.sections) {
      // A section's bytes on disk are its first SizeOfRawData bytes; the rest of VirtualSize is zero fill.
      const span = Math.max(s.virtualSize, s.sizeOfRawData);
      if (rva >= s.virtualAddress && rva < s.virtualAddress + span) {
        const delta = rva - s.virtualAddress;
        if (delta + length > s.sizeOfRawData) {
          throw new DumpFormatError(`PE image: RVA 0x${rva.toString(16)}+${length} runs past the raw data of section ${s.name}`);
        }
        return s.pointerToRawData + delta;
      }
    }
    throw new DumpFormatError(`PE image: RVA 0x${rva.toString(16)} is in no section`);
  }

  /** Exactly `length` bytes at `rva` (a view into the source); throws `DumpFormatError` when out of range or truncated,
   * and passes on the source's own errors (e.g. `UnmappedAddressError`). */
  readRva(rva: number, length: number): Uint8Array {
    return this.readAt(this.rvaToOffset(rva, length), length, `RVA 0x${rva.toString(16)}`);
  }

  /** Where the metadata block named by the CLI header lies in the source (offset as `readRva` would read it) and its
   * size; throws `DumpFormatError` for a non-.NET image or a block outside every section. */
  metadataLocation(): { offset: number; size: number } {
    const cli = this.cliHeader;
    if (!cli) throw new DumpFormatError('PE image: no CLI header (not a .NET assembly)');
    if (cli.metadata.rva === 0 || cli.metadata.size === 0) throw new DumpFormatError('PE image: CLI header has no metadata directory');
    return { offset: this.rvaToOffset(cli.metadata.rva, cli.metadata.size), size: cli.metadata.size };
  }

  /** A private copy of the metadata block named by the CLI header; throws `DumpFormatError` for a non-.NET image,
   * and passes on the source's own errors (e.g. `UnmappedAddressError`). */
  metadataBytes(): Uint8Array {
    const cli = this.cliHeader;
    if (!cli) throw new DumpFormatError('PE image: no CLI header (not a .NET assembly)');
    if (cli.metadata.rva === 0 || cli.metadata.size === 0) throw new DumpFormatError('PE image: CLI header has no metadata directory');
    const bytes = this.readRva(cli.metadata.rva, cli.metadata.size);
    // A read that already made a buffer of its own (a block larger than a cache window) is not copied again: the
    // metadata of a large assembly is megabytes, and two copies showed in a single-object command's peak RSS.
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  }

  private readCliHeader(): CliHeader | undefined {
    const dir = this.dataDirectories[COM_DESCRIPTOR_DIRECTORY];
    if (!dir || dir.rva === 0) return undefined;
    // II.25.3.3: the header is 72 bytes; older writers may state a larger cb, never a smaller one.
    const v = view(this.readRva(dir.rva, 72));
    const cb = v.getUint32(0, true);
    if (cb < 72) throw new DumpFormatError(`PE image: CLI header size ${cb} is smaller than 72`);
    const d = (o: number): PeDirectory => ({ rva: v.getUint32(o, true), size: v.getUint32(o + 4, true) });
    return {
      cb,
      majorRuntimeVersion: v.getUint16(4, true),
      minorRuntimeVersion: v.getUint16(6, true),
      metadata: d(8),
      flags: v.getUint32(16, true),
      entryPointToken: v.getUint32(20, true),
      resources: d(24),
      strongNameSignature: d(32),
      managedNativeHeader: d(64),
    };
  }

  private readAt(offset: number, length: number, what: string): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.source.read(offset, length);
    } catch (e) {
      // The source's own typed errors (e.g. UnmappedAddressError for a page missing from a dump) keep their meaning.
      if (e instanceof DumpsleuthError) throw e;
      throw new DumpFormatError(`PE image: cannot read ${what} at 0x${offset.toString(16)} (${length} bytes): ${(e as Error).message}`);
    }
    if (bytes.length < length) throw new DumpFormatError(`PE image: ${what} at 0x${offset.toString(16)} is truncated (${bytes.length} of ${length} bytes)`);
    return bytes.length === length ? bytes : bytes.subarray(0, length);
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function readU64(v: DataView, o: number, what: string): number {
  const lo = v.getUint32(o, true);
  const hi = v.getUint32(o + 4, true);
  if (hi >= 0x200000) throw new DumpFormatError(`PE image: ${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} does not fit in 53 bits`);
  return hi * 0x1_0000_0000 + lo;
}
