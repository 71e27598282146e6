/**
 * ECMA-335 metadata of one module (II.24): the metadata root, its streams, and the lookups that name types,
 * fields and methods. Reads lazily from one byte array; names are cached per token.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import { BlobHeap, GuidHeap, StringHeap, UserStringHeap } from './metadata-heaps';
import { CodedIndex, Col, DEFAULT_METADATA_LIMITS, MetadataLimits, MetadataTables, TableId, decodeCodedIndex, encodeCodedIndex } from './metadata-tables';
import { LazyBytes, type FillBytes } from './lazy-bytes';
import { PeImage } from './pe-image';
import { MethodSig, TypeSig, decodeFieldSignature, decodeMethodSignature, decodeMethodSpecSignature, decodeTypeSignature } from './signature-decoder';

/** Namespace and name of a TypeDef or TypeRef row, as stored (generic arity suffix kept). */
export interface TypeName {
  readonly namespace: string;
  readonly name: string;
}

/** A TypeRef row (II.22.38). */
export interface TypeRefInfo extends TypeName {
  /** Module (0x00), ModuleRef (0x1A), AssemblyRef (0x23) or TypeRef (0x01, enclosing type) token; 0 when absent. */
  readonly resolutionScope: number;
}

/** The identity in an Assembly (II.22.2) or AssemblyRef (II.22.5) row. */
export interface AssemblyIdentity {
  readonly name: string;
  readonly version: string;
  readonly culture: string;
  readonly flags: number;
}

/** A Param row (II.22.33): sequence 0 is the return value. */
export interface ParamInfo {
  readonly token: number;
  readonly sequence: number;
  readonly flags: number;
  readonly name: string;
}

/** A MemberRef row (II.22.25). */
export interface MemberRefInfo {
  /** TypeDef, TypeRef, ModuleRef, MethodDef or TypeSpec token. */
  readonly parent: number;
  readonly name: string;
  /** #Blob index of the signature (decode with `decodeMemberRefSignature`). */
  readonly signature: number;
}

/** A GenericParam row (II.22.20). */
export interface GenericParamInfo {
  readonly token: number;
  readonly number: number;
  readonly flags: number;
  readonly name: string;
}

/** `TypeAttributes` bits used to describe types (II.23.1.15). */
export const TypeAttributes = {
  VisibilityMask: 0x7,
  NestedPublic: 0x2,
  Interface: 0x20,
  Abstract: 0x80,
  Sealed: 0x100,
  SpecialName: 0x400,
} as const;

/** `FieldAttributes` bits (II.23.1.5). */
export const FieldAttributes = {
  Static: 0x10,
  Literal: 0x40,
  HasFieldRVA: 0x100,
} as const;

/** `MethodAttributes` bits (II.23.1.10). */
export const MethodAttributes = {
  Static: 0x10,
  Virtual: 0x40,
  Abstract: 0x400,
  SpecialName: 0x800,
} as const;

const utf8Encoder = new TextEncoder();
const METADATA_SIGNATURE = 0x424a5342; // "BSJB", II.24.2.1
const MAX_VERSION_LENGTH = 255; // II.24.2.1: the version string is at most 255 bytes (padded)

/** The RID of `token` after checking it belongs to `table`; throws `DumpFormatError` otherwise. */
function ridOf(token: number, table: number): number {
  if (token >>> 24 !== table) throw new DumpFormatError(`metadata: token 0x${(token >>> 0).toString(16).padStart(8, '0')} is not in table 0x${table.toString(16)}`);
  return token & 0xffffff;
}

function tokenOf(table: number, rid: number): number {
  return ((table << 24) | rid) >>> 0;
}

/** The metadata of one module; construct with `fromBytes`/`fromPeImage`. Every method throws `DumpFormatError`
 * for malformed metadata or a token of the wrong table or out of range. */
export class EcmaMetadata {
  /** The version string of the metadata root (e.g. `v4.0.30319`). */
  readonly versionString: string;
  /** Stream names in header order (unknown streams are kept here and otherwise ignored). */
  readonly streamNames: readonly string[];
  /** True for an uncompressed (`#-`) table stream, which may carry Ptr indirection tables. */
  readonly isUncompressed: boolean;
  readonly tables: MetadataTables;
  readonly strings: StringHeap;
  readonly blobs: BlobHeap;
  readonly guids: GuidHeap;
  readonly userStrings: UserStringHeap;
  readonly limits: MetadataLimits;
  private readonly typeFullNames: (string | undefined)[] = [];
  private readonly enclosingCache: Int32Array;

  private constructor(
    readonly bytes: Uint8Array,
    limits: MetadataLimits,
    lazy?: LazyBytes,
  ) {
    this.limits = limits;
    const size = bytes.length;
    // The root: 16 bytes, the version string (at most 256), the stream count and the stream headers (at most 40 each).
    lazy?.ensure(0, 16 + 256 + 4 + limits.maxStreams * 40);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (size < 20) throw new DumpFormatError(`metadata: root of ${size} bytes is truncated`);
    const sig = dv.getUint32(0, true);
    if (sig !== METADATA_SIGNATURE) throw new DumpFormatError(`metadata: signature 0x${sig.toString(16)} is not "BSJB"`);
    const versionLength = dv.getUint32(12, true);
    if (versionLength > MAX_VERSION_LENGTH + 1 || 16 + versionLength + 4 > size) {
      throw new DumpFormatError(`metadata: version string length ${versionLength} is implausible`);
    }
    let version = '';
    for (let i = 0; i < versionLength && bytes[16 + i] !== 0; i++) version += String.fromCharCode(bytes[16 + i]);
    this.versionString = version;
    // II.24.2.1: the length is already a multiple of 4 in conforming files; round up like the runtime does.
    let pos = 16 + ((versionLength + 3) & ~3);
    if (pos + 4 > size) throw new DumpFormatError('metadata: root ends before the stream count');
    const streamCount = dv.getUint16(pos + 2, true);
    if (streamCount > limits.maxStreams) throw new LimitExceededError(`metadata: ${streamCount} streams (cap ${limits.maxStreams})`);
    pos += 4;
    const names: string[] = [];
    const found = new Map<string, { offset: number; size: number }>();
    for (let i = 0; i < streamCount; i++) {
      if (pos + 8 > size) throw new DumpFormatError(`metadata: stream header ${i} is truncated`);
      const offset = dv.getUint32(pos, true);
      const ssize = dv.getUint32(pos + 4, true);
      pos += 8;
      // II.24.2.2: the name is NUL-terminated ASCII of at most 32 bytes, padded to 4.
      let name = '';
      let j = 0;
      for (; j < 32; j++) {
        if (pos + j >= size) throw new DumpFormatError(`metadata: stream header ${i} name is truncated`);
        const ch = bytes[pos + j];
        if (ch === 0) break;
        name += String.fromCharCode(ch);
      }
      if (j === 32) throw new DumpFormatError(`metadata: stream header ${i} name is longer than 32 bytes`);
      pos += (j + 4) & ~3;
      if (offset > size || ssize > size - offset) throw new DumpFormatError(`metadata: stream ${name} (offset 0x${offset.toString(16)}, ${ssize} bytes) runs past the metadata`);
      names.push(name);
      // The first stream of a name wins, as in the runtime's reader.
      if (!found.has(name)) found.set(name, { offset, size: ssize });
    }
    this.streamNames = names;
    const heap = (n: string): { offset: number; size: number } => found.get(n) ?? { offset: 0, size: 0 };
    const s = heap('#Strings');
    this.strings = new StringHeap(bytes, s.offset, s.size, lazy);
    const b = heap('#Blob');
    this.blobs = new BlobHeap(bytes, b.offset, b.size, lazy);
    const g = heap('#GUID');
    this.guids = new GuidHeap(bytes, g.offset, g.size, lazy);
    const us = heap('#US');
    this.userStrings = new UserStringHeap(bytes, us.offset, us.size, lazy);
    const compressed = found.get('#~');
    const uncompressed = found.get('#-');
    const tableStream = compressed ?? uncompressed;
    if (!tableStream) throw new DumpFormatError('metadata: no #~ or #- table stream');
    this.isUncompressed = !compressed;
    this.tables = new MetadataTables(bytes, tableStream.offset, tableStream.size, { allIndexesLarge: found.has('#JTD'), limits, ...(lazy ? { lazy } : {}) });
    this.enclosingCache = new Int32Array(this.tables.rowCount(TableId.TypeDef) + 1).fill(-1);
  }

  /** Parses metadata bytes (starting with the "BSJB" root); throws `DumpFormatError` when malformed or truncated,
   * `LimitExceededError` when a count exceeds `limits`. */
  static fromBytes(bytes: Uint8Array, limits: Partial<MetadataLimits> = {}): EcmaMetadata {
    return new EcmaMetadata(bytes, { ...DEFAULT_METADATA_LIMITS, ...limits });
  }

  /** Parses metadata of `size` bytes read on demand through `fill` (a page at a time, on first use: see
   * lazy-bytes.ts); throws like `fromBytes`, and later reads throw what `fill` throws. */
  static fromLazyBytes(size: number, fill: FillBytes, limits: Partial<MetadataLimits> = {}): EcmaMetadata {
    const lazy = new LazyBytes(size, fill);
    return new EcmaMetadata(lazy.bytes, { ...DEFAULT_METADATA_LIMITS, ...limits }, lazy);
  }

  /** Parses the metadata named by a PE image's CLI header; throws like `fromBytes` and `PeImage.metadataBytes`. */
  static fromPeImage(image: PeImage, limits: Partial<MetadataLimits> = {}): EcmaMetadata {
    return EcmaMetadata.fromBytes(image.metadataBytes(), limits);
  }

  /** Rows in table `table` (0 when absent). */
  rowCount(table: TableId): number {
    return this.tables.rowCount(table);
  }

  /** Column `col` (see `Col`) of row `rid` of `table`, raw (heap offsets and coded indexes undecoded). */
  readColumn(table: TableId, rid: number, col: number): number {
    return this.tables.read(table, rid, col);
  }

  /** Decodes a coded index column of a row into a token (0 for null). */
  readCodedColumn(table: TableId, rid: number, col: number, kind: CodedIndex): number {
    return decodeCodedIndex(kind, this.tables.read(table, rid, col));
  }

  /** The string of a #Strings column of a row. */
  readStringColumn(table: TableId, rid: number, col: number): string {
    return this.strings.get(this.tables.read(table, rid, col));
  }

  // ---- Module and assembly ----

  /** The Module row's name (II.22.30), e.g. `System.Private.CoreLib.dll`. */
  getModuleName(): string {
    return this.rowCount(TableId.Module) > 0 ? this.readStringColumn(TableId.Module, 1, Col.Module.Name) : '';
  }

  /** The module version id (MVID) from the Module row, as a GUID string. */
  getMvid(): string {
    return this.rowCount(TableId.Module) > 0 ? this.guids.get(this.tables.read(TableId.Module, 1, Col.Module.Mvid)) : '';
  }

  /** The Assembly row (II.22.2), or undefined for a netmodule. */
  getAssembly(): AssemblyIdentity | undefined {
    if (this.rowCount(TableId.Assembly) === 0) return undefined;
    const r = (c: number): number => this.tables.read(TableId.Assembly, 1, c);
    const A = Col.Assembly;
    return {
      name: this.strings.get(r(A.Name)),
      version: `${r(A.MajorVersion)}.${r(A.MinorVersion)}.${r(A.BuildNumber)}.${r(A.RevisionNumber)}`,
      culture: this.strings.get(r(A.Culture)),
      flags: r(A.Flags),
    };
  }

  /** The assembly simple name SOS's DAC style prints after a generic argument (the Assembly row's Name). */
  getAssemblySimpleName(): string {
    return this.getAssembly()?.name ?? this.getModuleName().replace(/\.(dll|exe|netmodule)$/i, '');
  }

  /** AssemblyRef row `token` (0x23xxxxxx). */
  getAssemblyRef(token: number): AssemblyIdentity {
    const rid = ridOf(token, TableId.AssemblyRef);
    const r = (c: number): number => this.tables.read(TableId.AssemblyRef, rid, c);
    const A = Col.AssemblyRef;
    return {
      name: this.strings.get(r(A.Name)),
      version: `${r(A.MajorVersion)}.${r(A.MinorVersion)}.${r(A.BuildNumber)}.${r(A.RevisionNumber)}`,
      culture: this.strings.get(r(A.Culture)),
      flags: r(A.Flags),
    };
  }

  /** ModuleRef row `token`'s name (0x1Axxxxxx). */
  getModuleRefName(token: number): string {
    return this.readStringColumn(TableId.ModuleRef, ridOf(token, TableId.ModuleRef), Col.ModuleRef.Name);
  }

  // ---- TypeDef ----

  /** Namespace and name of TypeDef `token` (0x02xxxxxx). */
  getTypeDefName(token: number): TypeName {
    const rid = ridOf(token, TableId.TypeDef);
    return {
      namespace: this.readStringColumn(TableId.TypeDef, rid, Col.TypeDef.Namespace),
      name: this.readStringColumn(TableId.TypeDef, rid, Col.TypeDef.Name),
    };
  }

  /** `Namespace.Outer+Inner` for TypeDef `token`, arity suffixes kept (``List`1``), unescaped; cached. Throws
   * `LimitExceededError` for a nesting chain deeper than the cap (a cycle). */
  getTypeDefFullName(token: number): string {
    const rid = ridOf(token, TableId.TypeDef);
    const hit = this.typeFullNames[rid];
    if (hit !== undefined) return hit;
    const segments = this.getTypeDefSegments(token);
    const full = segments.join('+');
    this.typeFullNames[rid] = full;
    return full;
  }

  /** The `+`-separated parts of `getTypeDefFullName`, outermost first; the first carries the namespace. */
  getTypeDefSegments(token: number): string[] {
    const parts: string[] = [];
    let t = token;
    for (let depth = 0; ; depth++) {
      if (depth > this.limits.maxNestingDepth) throw new LimitExceededError(`metadata: type 0x${token.toString(16)} is nested deeper than ${this.limits.maxNestingDepth}`);
      const enclosing = this.getEnclosingType(t);
      const n = this.getTypeDefName(t);
      // A nested type's own namespace is normally empty; SOS still prints it when present (TypeString).
      parts.push(n.namespace ? `${n.namespace}.${n.name}` : n.name);
      if (enclosing === 0) break;
      t = enclosing;
    }
    return parts.reverse();
  }

  /** `getTypeDefFullName` with the generic arity suffix (`` `N``) removed from every segment. */
  getTypeDefFullNameWithoutArity(token: number): string {
    return this.getTypeDefSegments(token).map(stripArity).join('+');
  }

  /** TypeAttributes of TypeDef `token` (II.23.1.15). */
  getTypeDefFlags(token: number): number {
    return this.tables.read(TableId.TypeDef, ridOf(token, TableId.TypeDef), Col.TypeDef.Flags);
  }

  /** The base type (TypeDef/TypeRef/TypeSpec token) of TypeDef `token`, or 0 (interfaces, `System.Object`). */
  getTypeDefExtends(token: number): number {
    return this.readCodedColumn(TableId.TypeDef, ridOf(token, TableId.TypeDef), Col.TypeDef.Extends, CodedIndex.TypeDefOrRef);
  }

  /** The TypeDef named `namespace`.`name` whose enclosing type is `enclosing` (0: top level), or 0 when none; the
   * last such row when several match. Compares the #Strings bytes of each row in place (no name index, no strings
   * made), so one lookup in a module of thousands of types costs a pass over its TypeDef rows. */
  findTypeDef(namespace: string, name: string, enclosing: number): number {
    const nameBytes = utf8Encoder.encode(name);
    const namespaceBytes = utf8Encoder.encode(namespace);
    const TD = Col.TypeDef;
    for (let rid = this.rowCount(TableId.TypeDef); rid >= 1; rid--) {
      if (!this.strings.equals(this.tables.read(TableId.TypeDef, rid, TD.Name), nameBytes)) continue;
      if (!this.strings.equals(this.tables.read(TableId.TypeDef, rid, TD.Namespace), namespaceBytes)) continue;
      const token = tokenOf(TableId.TypeDef, rid);
      if (this.getEnclosingType(token) === enclosing) return token;
    }
    return 0;
  }

  /** The top-level TypeDefs of `namespace` named in `names`, by name (the last row of a name wins), in one pass over
   * the TypeDef rows: a namespace is compared once per #Strings offset (rows share their namespace's string), and
   * only the names of rows in `namespace` are read. */
  findTopLevelTypeDefs(namespace: string, names: readonly string[]): Map<string, number> {
    const wanted = new Set(names);
    const namespaceBytes = utf8Encoder.encode(namespace);
    const namespaceMatch = new Map<number, boolean>();
    const out = new Map<string, number>();
    const TD = Col.TypeDef;
    for (let rid = 1; rid <= this.rowCount(TableId.TypeDef); rid++) {
      const ns = this.tables.read(TableId.TypeDef, rid, TD.Namespace);
      let match = namespaceMatch.get(ns);
      if (match === undefined) namespaceMatch.set(ns, (match = this.strings.equals(ns, namespaceBytes)));
      if (!match) continue;
      const name = this.strings.get(this.tables.read(TableId.TypeDef, rid, TD.Name));
      const token = tokenOf(TableId.TypeDef, rid);
      if (wanted.has(name) && this.getEnclosingType(token) === 0) out.set(name, token);
    }
    return out;
  }

  /** The enclosing TypeDef token of a nested TypeDef (NestedClass, II.22.32), or 0 for a top-level type. */
  getEnclosingType(token: number): number {
    const rid = ridOf(token, TableId.TypeDef);
    if (rid < 1 || rid > this.rowCount(TableId.TypeDef)) throw new DumpFormatError(`metadata: TypeDef row ${rid} does not exist`);
    const cached = this.enclosingCache[rid];
    if (cached >= 0) return cached === 0 ? 0 : tokenOf(TableId.TypeDef, cached);
    const row = this.findRow(TableId.NestedClass, Col.NestedClass.NestedClass, rid);
    const enclosing = row === 0 ? 0 : this.tables.read(TableId.NestedClass, row, Col.NestedClass.EnclosingClass);
    this.enclosingCache[rid] = enclosing;
    return enclosing === 0 ? 0 : tokenOf(TableId.TypeDef, enclosing);
  }

  /** Field tokens (0x04xxxxxx) declared by TypeDef `token`, in declaration order. */
  getFieldsOfType(token: number): number[] {
    return this.memberList(token, Col.TypeDef.FieldList, TableId.Field, TableId.FieldPtr);
  }

  /** MethodDef tokens (0x06xxxxxx) declared by TypeDef `token`, in declaration order. */
  getMethodsOfType(token: number): number[] {
    return this.memberList(token, Col.TypeDef.MethodList, TableId.MethodDef, TableId.MethodPtr);
  }

  /** The TypeDef token that declares Field `token`, or 0 when none does. */
  getDeclaringTypeOfField(token: number): number {
    return this.ownerOf(ridOf(token, TableId.Field), Col.TypeDef.FieldList, TableId.FieldPtr);
  }

  /** The TypeDef token that declares MethodDef `token`, or 0 when none does. */
  getDeclaringTypeOfMethod(token: number): number {
    return this.ownerOf(ridOf(token, TableId.MethodDef), Col.TypeDef.MethodList, TableId.MethodPtr);
  }

  /** Interface tokens (TypeDef/TypeRef/TypeSpec) TypeDef `token` implements directly (InterfaceImpl, II.22.23). */
  getInterfaceImpls(token: number): number[] {
    const rid = ridOf(token, TableId.TypeDef);
    const out: number[] = [];
    this.forEachRowWithKey(TableId.InterfaceImpl, Col.InterfaceImpl.Class, rid, (row) => {
      out.push(this.readCodedColumn(TableId.InterfaceImpl, row, Col.InterfaceImpl.Interface, CodedIndex.TypeDefOrRef));
    });
    return out;
  }

  /** ClassLayout (II.22.8) of TypeDef `token`, or undefined when it has none. */
  getClassLayout(token: number): { packingSize: number; classSize: number } | undefined {
    const row = this.findRow(TableId.ClassLayout, Col.ClassLayout.Parent, ridOf(token, TableId.TypeDef));
    if (row === 0) return undefined;
    return {
      packingSize: this.tables.read(TableId.ClassLayout, row, Col.ClassLayout.PackingSize),
      classSize: this.tables.read(TableId.ClassLayout, row, Col.ClassLayout.ClassSize),
    };
  }

  /** GenericParam rows owned by a TypeDef or MethodDef `owner` token, ordered by number (II.22.20). */
  getGenericParams(owner: number): GenericParamInfo[] {
    const key = encodeCodedIndex(CodedIndex.TypeOrMethodDef, owner);
    if (key < 0) throw new DumpFormatError(`metadata: 0x${owner.toString(16)} cannot own generic parameters`);
    const out: GenericParamInfo[] = [];
    this.forEachRowWithKey(TableId.GenericParam, Col.GenericParam.Owner, key, (row) => {
      out.push({
        token: tokenOf(TableId.GenericParam, row),
        number: this.tables.read(TableId.GenericParam, row, Col.GenericParam.Number),
        flags: this.tables.read(TableId.GenericParam, row, Col.GenericParam.Flags),
        name: this.readStringColumn(TableId.GenericParam, row, Col.GenericParam.Name),
      });
    });
    return out.sort((a, b) => a.number - b.number);
  }

  /** Name of GenericParam `token` (0x2Axxxxxx), e.g. `T` or `TKey`. */
  getGenericParamName(token: number): string {
    return this.readStringColumn(TableId.GenericParam, ridOf(token, TableId.GenericParam), Col.GenericParam.Name);
  }

  // ---- Field ----

  /** Name of Field `token` (0x04xxxxxx). */
  getFieldName(token: number): string {
    return this.readStringColumn(TableId.Field, ridOf(token, TableId.Field), Col.Field.Name);
  }

  /** FieldAttributes of Field `token` (II.23.1.5). */
  getFieldFlags(token: number): number {
    return this.tables.read(TableId.Field, ridOf(token, TableId.Field), Col.Field.Flags);
  }

  /** The decoded type of Field `token` (its FieldSig, II.23.2.4). */
  getFieldSignature(token: number): TypeSig {
    const blob = this.tables.read(TableId.Field, ridOf(token, TableId.Field), Col.Field.Signature);
    return this.decodeBlob(blob, decodeFieldSignature);
  }

  /** Explicit offset of Field `token` (FieldLayout, II.22.16), or undefined. */
  getFieldLayoutOffset(token: number): number | undefined {
    const row = this.findRow(TableId.FieldLayout, Col.FieldLayout.Field, ridOf(token, TableId.Field));
    return row === 0 ? undefined : this.tables.read(TableId.FieldLayout, row, Col.FieldLayout.Offset);
  }

  /** RVA of Field `token`'s initial data (FieldRVA, II.22.18), or undefined. */
  getFieldRva(token: number): number | undefined {
    const row = this.findRow(TableId.FieldRVA, Col.FieldRVA.Field, ridOf(token, TableId.Field));
    return row === 0 ? undefined : this.tables.read(TableId.FieldRVA, row, Col.FieldRVA.RVA);
  }

  /** Constant (II.22.9) of a Field, Param or Property `token`: its element type and the value bytes, or undefined. */
  getConstant(token: number): { elementType: number; value: Uint8Array } | undefined {
    const key = encodeCodedIndex(CodedIndex.HasConstant, token);
    if (key < 0) throw new DumpFormatError(`metadata: 0x${token.toString(16)} cannot have a constant`);
    const row = this.findRow(TableId.Constant, Col.Constant.Parent, key);
    if (row === 0) return undefined;
    return {
      elementType: this.tables.read(TableId.Constant, row, Col.Constant.Type) & 0xff,
      value: this.blobs.get(this.tables.read(TableId.Constant, row, Col.Constant.Value)),
    };
  }

  // ---- MethodDef and Param ----

  /** Name of MethodDef `token` (0x06xxxxxx). */
  getMethodName(token: number): string {
    return this.readStringColumn(TableId.MethodDef, ridOf(token, TableId.MethodDef), Col.MethodDef.Name);
  }

  /** MethodAttributes of MethodDef `token` (II.23.1.10). */
  getMethodFlags(token: number): number {
    return this.tables.read(TableId.MethodDef, ridOf(token, TableId.MethodDef), Col.MethodDef.Flags);
  }

  /** MethodImplAttributes of MethodDef `token` (II.23.1.11). */
  getMethodImplFlags(token: number): number {
    return this.tables.read(TableId.MethodDef, ridOf(token, TableId.MethodDef), Col.MethodDef.ImplFlags);
  }

  /** RVA of MethodDef `token`'s IL body, 0 for abstract/extern methods. */
  getMethodRva(token: number): number {
    return this.tables.read(TableId.MethodDef, ridOf(token, TableId.MethodDef), Col.MethodDef.RVA);
  }

  /** The decoded MethodDefSig of MethodDef `token` (II.23.2.1). */
  getMethodSignature(token: number): MethodSig {
    const blob = this.tables.read(TableId.MethodDef, ridOf(token, TableId.MethodDef), Col.MethodDef.Signature);
    return this.decodeBlob(blob, decodeMethodSignature);
  }

  /** Param rows of MethodDef `token` (II.22.33), in table order. */
  getParamsOfMethod(token: number): ParamInfo[] {
    const rid = ridOf(token, TableId.MethodDef);
    const [first, last] = this.listRange(TableId.MethodDef, rid, Col.MethodDef.ParamList, TableId.Param, TableId.ParamPtr);
    const out: ParamInfo[] = [];
    for (let i = first; i < last; i++) {
      const p = this.derefPtr(TableId.ParamPtr, i);
      out.push({
        token: tokenOf(TableId.Param, p),
        sequence: this.tables.read(TableId.Param, p, Col.Param.Sequence),
        flags: this.tables.read(TableId.Param, p, Col.Param.Flags),
        name: this.readStringColumn(TableId.Param, p, Col.Param.Name),
      });
    }
    return out;
  }

  // ---- References and specs ----

  /** TypeRef `token` (0x01xxxxxx): namespace, name and resolution scope. */
  getTypeRef(token: number): TypeRefInfo {
    const rid = ridOf(token, TableId.TypeRef);
    return {
      namespace: this.readStringColumn(TableId.TypeRef, rid, Col.TypeRef.Namespace),
      name: this.readStringColumn(TableId.TypeRef, rid, Col.TypeRef.Name),
      resolutionScope: this.readCodedColumn(TableId.TypeRef, rid, Col.TypeRef.ResolutionScope, CodedIndex.ResolutionScope),
    };
  }

  /** `Namespace.Name` of a TypeDef or TypeRef token without enclosing types (as SOS's SigFormat prints it). */
  getTypeDefOrRefSimpleName(token: number): string {
    const n = token >>> 24 === TableId.TypeRef ? this.getTypeRef(token) : this.getTypeDefName(token);
    return n.namespace ? `${n.namespace}.${n.name}` : n.name;
  }

  /** The decoded signature of TypeSpec `token` (0x1Bxxxxxx, II.22.39). */
  getTypeSpecSignature(token: number): TypeSig {
    const blob = this.tables.read(TableId.TypeSpec, ridOf(token, TableId.TypeSpec), Col.TypeSpec.Signature);
    return this.decodeBlob(blob, decodeTypeSignature);
  }

  /** MemberRef `token` (0x0Axxxxxx). */
  getMemberRef(token: number): MemberRefInfo {
    const rid = ridOf(token, TableId.MemberRef);
    return {
      parent: this.readCodedColumn(TableId.MemberRef, rid, Col.MemberRef.Class, CodedIndex.MemberRefParent),
      name: this.readStringColumn(TableId.MemberRef, rid, Col.MemberRef.Name),
      signature: this.tables.read(TableId.MemberRef, rid, Col.MemberRef.Signature),
    };
  }

  /** The decoded signature of MemberRef `token`: a field type or a method signature (by its first byte). */
  getMemberRefSignature(token: number): { field: TypeSig } | { method: MethodSig } {
    const blob = this.getMemberRef(token).signature;
    const start = this.blobs.dataOffset(blob);
    if (this.blobs.length(blob) > 0 && (this.bytes[start] & 0x0f) === 0x06) return { field: this.decodeBlob(blob, decodeFieldSignature) };
    return { method: this.decodeBlob(blob, decodeMethodSignature) };
  }

  /** MethodSpec `token` (0x2Bxxxxxx): the generic method (MethodDef/MemberRef token) and its type arguments. */
  getMethodSpec(token: number): { method: number; args: TypeSig[] } {
    const rid = ridOf(token, TableId.MethodSpec);
    return {
      method: this.readCodedColumn(TableId.MethodSpec, rid, Col.MethodSpec.Method, CodedIndex.MethodDefOrRef),
      args: this.decodeBlob(this.tables.read(TableId.MethodSpec, rid, Col.MethodSpec.Instantiation), decodeMethodSpecSignature),
    };
  }

  /** The raw signature blob of StandAloneSig `token` (0x11xxxxxx): locals (0x07) or a call-site method signature. */
  getStandAloneSigBlob(token: number): Uint8Array {
    return this.blobs.get(this.tables.read(TableId.StandAloneSig, ridOf(token, TableId.StandAloneSig), Col.StandAloneSig.Signature));
  }

  /** The user string of an `ldstr` token (0x70xxxxxx, #US). */
  getUserString(token: number): string {
    return this.userStrings.get(ridOf(token, 0x70));
  }

  /** P/Invoke mapping (ImplMap, II.22.22) of a Field or MethodDef `token`, or undefined. */
  getImplMap(token: number): { flags: number; importName: string; moduleRef: number } | undefined {
    const key = encodeCodedIndex(CodedIndex.MemberForwarded, token);
    if (key < 0) throw new DumpFormatError(`metadata: 0x${token.toString(16)} cannot be forwarded`);
    const row = this.findRow(TableId.ImplMap, Col.ImplMap.MemberForwarded, key);
    if (row === 0) return undefined;
    return {
      flags: this.tables.read(TableId.ImplMap, row, Col.ImplMap.MappingFlags),
      importName: this.readStringColumn(TableId.ImplMap, row, Col.ImplMap.ImportName),
      moduleRef: tokenOf(TableId.ModuleRef, this.tables.read(TableId.ImplMap, row, Col.ImplMap.ImportScope)),
    };
  }

  /** Property tokens (0x17xxxxxx) of TypeDef `token` (PropertyMap, II.22.35). */
  getPropertiesOfType(token: number): number[] {
    const row = this.findRow(TableId.PropertyMap, Col.PropertyMap.Parent, ridOf(token, TableId.TypeDef));
    if (row === 0) return [];
    const [first, last] = this.listRange(TableId.PropertyMap, row, Col.PropertyMap.PropertyList, TableId.Property, TableId.PropertyPtr);
    const out: number[] = [];
    for (let i = first; i < last; i++) out.push(tokenOf(TableId.Property, this.derefPtr(TableId.PropertyPtr, i)));
    return out;
  }

  /** Name of Property `token` (0x17xxxxxx). */
  getPropertyName(token: number): string {
    return this.readStringColumn(TableId.Property, ridOf(token, TableId.Property), Col.Property.Name);
  }

  /** Accessor methods of an Event or Property `token` (MethodSemantics, II.22.28): semantics bits and MethodDef token. */
  getMethodSemantics(token: number): { semantics: number; method: number }[] {
    const key = encodeCodedIndex(CodedIndex.HasSemantics, token);
    if (key < 0) throw new DumpFormatError(`metadata: 0x${token.toString(16)} has no method semantics`);
    const out: { semantics: number; method: number }[] = [];
    this.forEachRowWithKey(TableId.MethodSemantics, Col.MethodSemantics.Association, key, (row) => {
      out.push({
        semantics: this.tables.read(TableId.MethodSemantics, row, Col.MethodSemantics.Semantics),
        method: tokenOf(TableId.MethodDef, this.tables.read(TableId.MethodSemantics, row, Col.MethodSemantics.Method)),
      });
    });
    return out;
  }

  // ---- internals ----

  private decodeBlob<T>(blob: number, decode: (b: Uint8Array, s: number, e: number, l: MetadataLimits) => T): T {
    const start = this.blobs.dataOffset(blob);
    return decode(this.bytes, start, start + this.blobs.length(blob), this.limits);
  }

  // II.22: a list column holds the first member; the run ends where the next row's list starts (or the table ends).
  private listRange(table: TableId, rid: number, col: number, target: TableId, ptr: TableId): [number, number] {
    const listRows = this.rowCount(ptr) > 0 ? this.rowCount(ptr) : this.rowCount(target);
    const first = this.tables.read(table, rid, col);
    const last = rid < this.rowCount(table) ? this.tables.read(table, rid + 1, col) : listRows + 1;
    const lo = Math.max(1, first);
    const hi = Math.min(last, listRows + 1);
    return lo < hi ? [lo, hi] : [lo, lo];
  }

  private derefPtr(ptr: TableId, index: number): number {
    // II.24.2.6: in `#-` streams, lists index the Ptr table, whose single column holds the real RID.
    return this.rowCount(ptr) > 0 ? this.tables.read(ptr, index, 0) : index;
  }

  private memberList(token: number, col: number, target: TableId, ptr: TableId): number[] {
    const rid = ridOf(token, TableId.TypeDef);
    const [first, last] = this.listRange(TableId.TypeDef, rid, col, target, ptr);
    const out: number[] = [];
    for (let i = first; i < last; i++) out.push(tokenOf(target, this.derefPtr(ptr, i)));
    return out;
  }

  private ownerOf(memberRid: number, col: number, ptr: TableId): number {
    let index = memberRid;
    if (this.rowCount(ptr) > 0) {
      index = 0;
      for (let i = 1; i <= this.rowCount(ptr); i++) {
        if (this.tables.read(ptr, i, 0) === memberRid) {
          index = i;
          break;
        }
      }
      if (index === 0) return 0;
    }
    // TypeDef lists are non-decreasing: find the last TypeDef whose list starts at or before `index`.
    const n = this.rowCount(TableId.TypeDef);
    let lo = 1;
    let hi = n;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tables.read(TableId.TypeDef, mid, col) <= index) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // The last TypeDef starting at or before `index` owns it: the next one starts after it (lists are sorted).
    const listRows = this.rowCount(ptr) > 0 ? this.rowCount(ptr) : this.rowCount(col === Col.TypeDef.FieldList ? TableId.Field : TableId.MethodDef);
    return found > 0 && index <= listRows ? tokenOf(TableId.TypeDef, found) : 0;
  }

  /** First row of `table` whose column `col` equals `key` (binary search when the table is marked sorted), or 0. */
  private findRow(table: TableId, col: number, key: number): number {
    const n = this.rowCount(table);
    if (n === 0) return 0;
    if (!this.tables.isSorted(table)) {
      for (let i = 1; i <= n; i++) if (this.tables.read(table, i, col) === key) return i;
      return 0;
    }
    let lo = 1;
    let hi = n;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.tables.read(table, mid, col);
      if (v < key) lo = mid + 1;
      else {
        if (v === key) found = mid;
        hi = mid - 1;
      }
    }
    return found;
  }

  private forEachRowWithKey(table: TableId, col: number, key: number, cb: (row: number) => void): void {
    const n = this.rowCount(table);
    if (!this.tables.isSorted(table)) {
      for (let i = 1; i <= n; i++) if (this.tables.read(table, i, col) === key) cb(i);
      return;
    }
    for (let i = this.findRow(table, col, key); i !== 0 && i <= n && this.tables.read(table, i, col) === key; i++) cb(i);
  }
}

/** Removes a trailing generic arity suffix (`` `N``) from one type-name segment, as ClrMD's name parser does. */
export function stripArity(segment: string): string {
  const m = /`\d+$/.exec(segment);
  return m ? segment.slice(0, m.index) : segment;
}
