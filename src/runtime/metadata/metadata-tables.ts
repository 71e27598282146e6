/**
 * The table stream (`#~` / `#-`, ECMA-335 II.24.2.6): header, row counts, index sizes, and row layouts of every
 * table of II.22, so a column of any row is read with a few integer operations and no allocation.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import type { LazyBytes } from './lazy-bytes';

/** Table numbers (the high byte of a token), ECMA-335 II.22. */
export const TableId = {
  Module: 0x00,
  TypeRef: 0x01,
  TypeDef: 0x02,
  FieldPtr: 0x03,
  Field: 0x04,
  MethodPtr: 0x05,
  MethodDef: 0x06,
  ParamPtr: 0x07,
  Param: 0x08,
  InterfaceImpl: 0x09,
  MemberRef: 0x0a,
  Constant: 0x0b,
  CustomAttribute: 0x0c,
  FieldMarshal: 0x0d,
  DeclSecurity: 0x0e,
  ClassLayout: 0x0f,
  FieldLayout: 0x10,
  StandAloneSig: 0x11,
  EventMap: 0x12,
  EventPtr: 0x13,
  Event: 0x14,
  PropertyMap: 0x15,
  PropertyPtr: 0x16,
  Property: 0x17,
  MethodSemantics: 0x18,
  MethodImpl: 0x19,
  ModuleRef: 0x1a,
  TypeSpec: 0x1b,
  ImplMap: 0x1c,
  FieldRVA: 0x1d,
  EncLog: 0x1e,
  EncMap: 0x1f,
  Assembly: 0x20,
  AssemblyProcessor: 0x21,
  AssemblyOS: 0x22,
  AssemblyRef: 0x23,
  AssemblyRefProcessor: 0x24,
  AssemblyRefOS: 0x25,
  File: 0x26,
  ExportedType: 0x27,
  ManifestResource: 0x28,
  NestedClass: 0x29,
  GenericParam: 0x2a,
  MethodSpec: 0x2b,
  GenericParamConstraint: 0x2c,
} as const;

/** A table number from `TableId`. */
export type TableId = (typeof TableId)[keyof typeof TableId];

/** Number of tables ECMA-335 defines (0x00..0x2C); a valid-mask bit above this cannot be sized. */
export const TABLE_COUNT = 0x2d;

/** Coded index kinds (ECMA-335 II.24.2.6), numbered as in `CODED_INDEXES`. */
export const CodedIndex = {
  TypeDefOrRef: 0,
  HasConstant: 1,
  HasCustomAttribute: 2,
  HasFieldMarshal: 3,
  HasDeclSecurity: 4,
  MemberRefParent: 5,
  HasSemantics: 6,
  MethodDefOrRef: 7,
  MemberForwarded: 8,
  Implementation: 9,
  CustomAttributeType: 10,
  ResolutionScope: 11,
  TypeOrMethodDef: 12,
} as const;

/** A coded index kind from `CodedIndex`. */
export type CodedIndex = (typeof CodedIndex)[keyof typeof CodedIndex];

const T = TableId;
const NONE = -1;
/** Tables per tag of each coded index, in tag order; NONE marks tags ECMA-335 leaves unused. */
const CODED_INDEXES: readonly (readonly number[])[] = [
  [T.TypeDef, T.TypeRef, T.TypeSpec],
  [T.Field, T.Param, T.Property],
  [
    T.MethodDef, T.Field, T.TypeRef, T.TypeDef, T.Param, T.InterfaceImpl, T.MemberRef, T.Module, T.DeclSecurity,
    T.Property, T.Event, T.StandAloneSig, T.ModuleRef, T.TypeSpec, T.Assembly, T.AssemblyRef, T.File,
    T.ExportedType, T.ManifestResource, T.GenericParam, T.GenericParamConstraint, T.MethodSpec,
  ],
  [T.Field, T.Param],
  [T.TypeDef, T.MethodDef, T.Assembly],
  [T.TypeDef, T.TypeRef, T.ModuleRef, T.MethodDef, T.TypeSpec],
  [T.Event, T.Property],
  [T.MethodDef, T.MemberRef],
  [T.Field, T.MethodDef],
  [T.File, T.AssemblyRef, T.ExportedType],
  [NONE, NONE, T.MethodDef, T.MemberRef, NONE],
  [T.Module, T.ModuleRef, T.AssemblyRef, T.TypeRef],
  [T.TypeDef, T.MethodDef],
];

/** Bits needed for the tag of each coded index: ceil(log2(number of tags)). */
const CODED_TAG_BITS = CODED_INDEXES.map((tables) => Math.ceil(Math.log2(tables.length)));

// Column kinds: non-negative = simple index into that table; the rest are the constants below.
const U16 = -1;
const U32 = -2;
const STR = -3;
const GUID = -4;
const BLOB = -5;
const CODED = -100; // CODED - k = coded index k
const C = (k: CodedIndex): number => CODED - k;
const CI = CodedIndex;

/** Columns of each table in order (ECMA-335 II.22.2–II.22.39). */
const SCHEMA: readonly (readonly number[])[] = [
  /* 00 Module */ [U16, STR, GUID, GUID, GUID],
  /* 01 TypeRef */ [C(CI.ResolutionScope), STR, STR],
  /* 02 TypeDef */ [U32, STR, STR, C(CI.TypeDefOrRef), T.Field, T.MethodDef],
  /* 03 FieldPtr */ [T.Field],
  /* 04 Field */ [U16, STR, BLOB],
  /* 05 MethodPtr */ [T.MethodDef],
  /* 06 MethodDef */ [U32, U16, U16, STR, BLOB, T.Param],
  /* 07 ParamPtr */ [T.Param],
  /* 08 Param */ [U16, U16, STR],
  /* 09 InterfaceImpl */ [T.TypeDef, C(CI.TypeDefOrRef)],
  /* 0A MemberRef */ [C(CI.MemberRefParent), STR, BLOB],
  /* 0B Constant: Type u8 + padding u8 read as one u16 */ [U16, C(CI.HasConstant), BLOB],
  /* 0C CustomAttribute */ [C(CI.HasCustomAttribute), C(CI.CustomAttributeType), BLOB],
  /* 0D FieldMarshal */ [C(CI.HasFieldMarshal), BLOB],
  /* 0E DeclSecurity */ [U16, C(CI.HasDeclSecurity), BLOB],
  /* 0F ClassLayout */ [U16, U32, T.TypeDef],
  /* 10 FieldLayout */ [U32, T.Field],
  /* 11 StandAloneSig */ [BLOB],
  /* 12 EventMap */ [T.TypeDef, T.Event],
  /* 13 EventPtr */ [T.Event],
  /* 14 Event */ [U16, STR, C(CI.TypeDefOrRef)],
  /* 15 PropertyMap */ [T.TypeDef, T.Property],
  /* 16 PropertyPtr */ [T.Property],
  /* 17 Property */ [U16, STR, BLOB],
  /* 18 MethodSemantics */ [U16, T.MethodDef, C(CI.HasSemantics)],
  /* 19 MethodImpl */ [T.TypeDef, C(CI.MethodDefOrRef), C(CI.MethodDefOrRef)],
  /* 1A ModuleRef */ [STR],
  /* 1B TypeSpec */ [BLOB],
  /* 1C ImplMap */ [U16, C(CI.MemberForwarded), STR, T.ModuleRef],
  /* 1D FieldRVA */ [U32, T.Field],
  /* 1E EncLog */ [U32, U32],
  /* 1F EncMap */ [U32],
  /* 20 Assembly */ [U32, U16, U16, U16, U16, U32, BLOB, STR, STR],
  /* 21 AssemblyProcessor */ [U32],
  /* 22 AssemblyOS */ [U32, U32, U32],
  /* 23 AssemblyRef */ [U16, U16, U16, U16, U32, BLOB, STR, STR, BLOB],
  /* 24 AssemblyRefProcessor */ [U32, T.AssemblyRef],
  /* 25 AssemblyRefOS */ [U32, U32, U32, T.AssemblyRef],
  /* 26 File */ [U32, STR, BLOB],
  /* 27 ExportedType */ [U32, U32, STR, STR, C(CI.Implementation)],
  /* 28 ManifestResource */ [U32, U32, STR, C(CI.Implementation)],
  /* 29 NestedClass */ [T.TypeDef, T.TypeDef],
  /* 2A GenericParam */ [U16, U16, C(CI.TypeOrMethodDef), STR],
  /* 2B MethodSpec */ [C(CI.MethodDefOrRef), BLOB],
  /* 2C GenericParamConstraint */ [T.GenericParam, C(CI.TypeDefOrRef)],
];

/** The Ptr table whose presence and size also govern list columns into a table (II.24.2.6 on `#-` streams). */
const PTR_TABLE_OF: Partial<Record<number, number>> = {
  [T.Field]: T.FieldPtr,
  [T.MethodDef]: T.MethodPtr,
  [T.Param]: T.ParamPtr,
  [T.Event]: T.EventPtr,
  [T.Property]: T.PropertyPtr,
};

/** Caps on counts read from metadata. */
export interface MetadataLimits {
  /** Rows per table; a token's RID has 24 bits, so more cannot be addressed. */
  maxRowsPerTable: number;
  /** Streams in the metadata root. */
  maxStreams: number;
  /** Nesting depth of a signature type (a hostile blob could nest without end). */
  maxSignatureDepth: number;
  /** Parameters of a method signature, arguments of a generic instantiation, dimensions of an array. */
  maxSignatureItems: number;
  /** Depth of type nesting (NestedClass chains). */
  maxNestingDepth: number;
}

/** Default caps: generous for real assemblies, small enough to stop hostile input early. */
export const DEFAULT_METADATA_LIMITS: MetadataLimits = {
  maxRowsPerTable: 0x00ff_ffff,
  maxStreams: 64,
  maxSignatureDepth: 128,
  maxSignatureItems: 0xffff,
  maxNestingDepth: 64,
};

/** `HeapSizes` bits of the table stream header (II.24.2.6; 0x40 per System.Reflection.Metadata's HeapSizeFlag). */
const HEAP_STRING_4 = 0x01;
const HEAP_GUID_4 = 0x02;
const HEAP_BLOB_4 = 0x04;
const HEAP_EXTRA_DATA = 0x40;

/** Parsed table stream: row counts, row sizes, column offsets and widths, over the metadata bytes. */
export class MetadataTables {
  readonly majorVersion: number;
  readonly minorVersion: number;
  readonly heapSizes: number;
  /** Present-table bits 0..31 and 32..63 of the `Valid` mask. */
  readonly validLow: number;
  readonly validHigh: number;
  readonly sortedLow: number;
  readonly sortedHigh: number;
  /** Row count per table (0 when absent). */
  readonly rowCounts: Uint32Array = new Uint32Array(TABLE_COUNT);
  /** Byte offset of each table's first row within the metadata bytes. */
  readonly tableOffsets: Float64Array = new Float64Array(TABLE_COUNT);
  readonly rowSizes: Uint16Array = new Uint16Array(TABLE_COUNT);
  // Per table, columns at [table * 16 + col]: byte offset within a row, and width (1, 2 or 4).
  private readonly colOffsets = new Uint8Array(TABLE_COUNT * 16);
  private readonly colWidths = new Uint8Array(TABLE_COUNT * 16);
  private readonly codedSizes: Uint8Array = new Uint8Array(CODED_INDEXES.length);
  private readonly dv: DataView;
  private readonly lazy: LazyBytes | undefined;

  /** Parses the table stream at `[start, start+size)` of `bytes`; throws `DumpFormatError` for a malformed
   * header or tables that do not fit the stream, `LimitExceededError` for a row count above the cap. */
  constructor(
    bytes: Uint8Array,
    start: number,
    size: number,
    options: { allIndexesLarge: boolean; limits: MetadataLimits; lazy?: LazyBytes },
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const end = start + size;
    if (size < 24 || end > bytes.length) throw new DumpFormatError(`metadata: table stream of ${size} bytes is truncated`);
    this.lazy = options.lazy;
    // The header: 24 bytes, a row count per present table (at most 64), and the optional extra data word.
    this.lazy?.ensure(start, Math.min(size, 24 + 64 * 4 + 4));
    const dv = this.dv;
    this.majorVersion = bytes[start + 4];
    this.minorVersion = bytes[start + 5];
    this.heapSizes = bytes[start + 6];
    this.validLow = dv.getUint32(start + 8, true);
    this.validHigh = dv.getUint32(start + 12, true);
    this.sortedLow = dv.getUint32(start + 16, true);
    this.sortedHigh = dv.getUint32(start + 20, true);
    // Bits above 0x2C name tables II.22 does not define (e.g. Portable PDB tables): their rows cannot be sized.
    if (this.validHigh >>> (TABLE_COUNT - 32) !== 0) {
      throw new DumpFormatError(`metadata: valid mask 0x${this.validHigh.toString(16)}${this.validLow.toString(16).padStart(8, '0')} has unknown tables`);
    }
    let pos = start + 24;
    for (let t = 0; t < TABLE_COUNT; t++) {
      if (!this.isPresent(t)) continue;
      if (pos + 4 > end) throw new DumpFormatError('metadata: table stream ends inside the row counts');
      const n = dv.getUint32(pos, true);
      pos += 4;
      if (n > options.limits.maxRowsPerTable) {
        throw new LimitExceededError(`metadata: table 0x${t.toString(16)} claims ${n} rows (cap ${options.limits.maxRowsPerTable})`);
      }
      this.rowCounts[t] = n;
    }
    if (this.heapSizes & HEAP_EXTRA_DATA) pos += 4;
    const large = options.allIndexesLarge;
    const strSize = large || this.heapSizes & HEAP_STRING_4 ? 4 : 2;
    const guidSize = large || this.heapSizes & HEAP_GUID_4 ? 4 : 2;
    const blobSize = large || this.heapSizes & HEAP_BLOB_4 ? 4 : 2;
    const tableIndexSize = (t: number): number => {
      if (large) return 4;
      const ptr = PTR_TABLE_OF[t];
      const rows = Math.max(this.rowCounts[t], ptr === undefined ? 0 : this.rowCounts[ptr]);
      return rows >= 0x10000 ? 4 : 2;
    };
    for (let k = 0; k < CODED_INDEXES.length; k++) {
      let maxRows = 0;
      for (const t of CODED_INDEXES[k]) if (t !== NONE) maxRows = Math.max(maxRows, this.rowCounts[t]);
      this.codedSizes[k] = large || maxRows >= 1 << (16 - CODED_TAG_BITS[k]) ? 4 : 2;
    }
    for (let t = 0; t < TABLE_COUNT; t++) {
      let off = 0;
      const cols = SCHEMA[t];
      for (let c = 0; c < cols.length; c++) {
        const kind = cols[c];
        let w: number;
        if (kind === U16) w = 2;
        else if (kind === U32) w = 4;
        else if (kind === STR) w = strSize;
        else if (kind === GUID) w = guidSize;
        else if (kind === BLOB) w = blobSize;
        else if (kind <= CODED) w = this.codedSizes[CODED - kind];
        else w = tableIndexSize(kind);
        this.colOffsets[t * 16 + c] = off;
        this.colWidths[t * 16 + c] = w;
        off += w;
      }
      this.rowSizes[t] = off;
    }
    // Tables follow the header back to back in table-number order (II.24.2.6).
    for (let t = 0; t < TABLE_COUNT; t++) {
      this.tableOffsets[t] = pos;
      const bytesOfTable = this.rowCounts[t] * this.rowSizes[t];
      if (pos + bytesOfTable > end) {
        throw new DumpFormatError(`metadata: table 0x${t.toString(16)} (${this.rowCounts[t]} rows of ${this.rowSizes[t]} bytes) runs past the table stream`);
      }
      pos += bytesOfTable;
    }
  }

  /** True when the `Valid` mask marks table `t` present. */
  isPresent(t: number): boolean {
    return t < 32 ? ((this.validLow >>> t) & 1) === 1 : ((this.validHigh >>> (t - 32)) & 1) === 1;
  }

  /** True when the `Sorted` mask marks table `t` sorted by its key column. */
  isSorted(t: number): boolean {
    return t < 32 ? ((this.sortedLow >>> t) & 1) === 1 : ((this.sortedHigh >>> (t - 32)) & 1) === 1;
  }

  /** Rows in table `t` (0 when absent). */
  rowCount(t: number): number {
    return this.rowCounts[t];
  }

  /** Column `col` of row `rid` (1-based) of table `t`, as an unsigned number; throws `DumpFormatError` for a bad RID. */
  read(t: number, rid: number, col: number): number {
    if (rid < 1 || rid > this.rowCounts[t]) {
      throw new DumpFormatError(`metadata: row ${rid} of table 0x${t.toString(16)} does not exist (${this.rowCounts[t]} rows)`);
    }
    const o = this.tableOffsets[t] + (rid - 1) * this.rowSizes[t] + this.colOffsets[t * 16 + col];
    const w = this.colWidths[t * 16 + col];
    if (this.lazy !== undefined) this.lazy.ensure(o, w);
    return w === 2 ? this.dv.getUint16(o, true) : w === 4 ? this.dv.getUint32(o, true) : this.dv.getUint8(o);
  }

  /** Number of columns of table `t`. */
  columnCount(t: number): number {
    return SCHEMA[t].length;
  }

  /** Width in bytes of column `col` of table `t` (2 or 4 for indexes). */
  columnWidth(t: number, col: number): number {
    return this.colWidths[t * 16 + col];
  }
}

/** Decodes coded index `value` of kind `kind` into a token (`table << 24 | rid`), or 0 for a null reference;
 * throws `DumpFormatError` for a tag that names no table. */
export function decodeCodedIndex(kind: CodedIndex, value: number): number {
  const bits = CODED_TAG_BITS[kind];
  const tag = value & ((1 << bits) - 1);
  const rid = value >>> bits;
  const table = CODED_INDEXES[kind][tag];
  if (table === undefined || table === NONE) throw new DumpFormatError(`metadata: coded index 0x${value.toString(16)} has invalid tag ${tag}`);
  return rid === 0 ? 0 : ((table << 24) | rid) >>> 0;
}

/** Encodes a token as coded index `kind` (the inverse of `decodeCodedIndex`), or -1 when the table is not allowed. */
export function encodeCodedIndex(kind: CodedIndex, token: number): number {
  const tag = CODED_INDEXES[kind].indexOf(token >>> 24);
  if (tag < 0) return -1;
  return (token & 0xffffff) * (1 << CODED_TAG_BITS[kind]) + tag;
}

/** Column numbers of the tables the rest of the tool reads, named as in ECMA-335 II.22. */
export const Col = {
  Module: { Generation: 0, Name: 1, Mvid: 2, EncId: 3, EncBaseId: 4 },
  TypeRef: { ResolutionScope: 0, Name: 1, Namespace: 2 },
  TypeDef: { Flags: 0, Name: 1, Namespace: 2, Extends: 3, FieldList: 4, MethodList: 5 },
  Field: { Flags: 0, Name: 1, Signature: 2 },
  MethodDef: { RVA: 0, ImplFlags: 1, Flags: 2, Name: 3, Signature: 4, ParamList: 5 },
  Param: { Flags: 0, Sequence: 1, Name: 2 },
  InterfaceImpl: { Class: 0, Interface: 1 },
  MemberRef: { Class: 0, Name: 1, Signature: 2 },
  Constant: { Type: 0, Parent: 1, Value: 2 },
  CustomAttribute: { Parent: 0, Type: 1, Value: 2 },
  ClassLayout: { PackingSize: 0, ClassSize: 1, Parent: 2 },
  FieldLayout: { Offset: 0, Field: 1 },
  StandAloneSig: { Signature: 0 },
  EventMap: { Parent: 0, EventList: 1 },
  Event: { EventFlags: 0, Name: 1, EventType: 2 },
  PropertyMap: { Parent: 0, PropertyList: 1 },
  Property: { Flags: 0, Name: 1, Type: 2 },
  MethodSemantics: { Semantics: 0, Method: 1, Association: 2 },
  MethodImpl: { Class: 0, MethodBody: 1, MethodDeclaration: 2 },
  ModuleRef: { Name: 0 },
  TypeSpec: { Signature: 0 },
  ImplMap: { MappingFlags: 0, MemberForwarded: 1, ImportName: 2, ImportScope: 3 },
  FieldRVA: { RVA: 0, Field: 1 },
  Assembly: { HashAlgId: 0, MajorVersion: 1, MinorVersion: 2, BuildNumber: 3, RevisionNumber: 4, Flags: 5, PublicKey: 6, Name: 7, Culture: 8 },
  AssemblyRef: { MajorVersion: 0, MinorVersion: 1, BuildNumber: 2, RevisionNumber: 3, Flags: 4, PublicKeyOrToken: 5, Name: 6, Culture: 7, HashValue: 8 },
  ExportedType: { Flags: 0, TypeDefId: 1, TypeName: 2, TypeNamespace: 3, Implementation: 4 },
  NestedClass: { NestedClass: 0, EnclosingClass: 1 },
  GenericParam: { Number: 0, Flags: 1, Owner: 2, Name: 3 },
  MethodSpec: { Method: 0, Instantiation: 1 },
  GenericParamConstraint: { Owner: 0, Constraint: 1 },
} as const;
