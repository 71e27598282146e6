/**
 * Decoding of signature blobs (ECMA-335 II.23.2) into plain type descriptions.
 */
import { DumpFormatError, LimitExceededError } from '../../errors';
import { readCompressedPacked } from './metadata-heaps';
import { DEFAULT_METADATA_LIMITS, MetadataLimits } from './metadata-tables';

/** `CorElementType` values (ECMA-335 II.23.1.16). */
export const ElementType = {
  End: 0x00,
  Void: 0x01,
  Boolean: 0x02,
  Char: 0x03,
  I1: 0x04,
  U1: 0x05,
  I2: 0x06,
  U2: 0x07,
  I4: 0x08,
  U4: 0x09,
  I8: 0x0a,
  U8: 0x0b,
  R4: 0x0c,
  R8: 0x0d,
  String: 0x0e,
  Ptr: 0x0f,
  ByRef: 0x10,
  ValueType: 0x11,
  Class: 0x12,
  Var: 0x13,
  Array: 0x14,
  GenericInst: 0x15,
  TypedByRef: 0x16,
  I: 0x18,
  U: 0x19,
  FnPtr: 0x1b,
  Object: 0x1c,
  SzArray: 0x1d,
  MVar: 0x1e,
  CModReqd: 0x1f,
  CModOpt: 0x20,
  Internal: 0x21,
  Modifier: 0x40,
  Sentinel: 0x41,
  Pinned: 0x45,
} as const;

/** A type as a signature describes it. Tokens are TypeDef (0x02), TypeRef (0x01) or TypeSpec (0x1B) tokens. */
export type TypeSig =
  | { readonly kind: 'primitive'; readonly elementType: number }
  | { readonly kind: 'class' | 'valuetype'; readonly token: number }
  | { readonly kind: 'var' | 'mvar'; readonly index: number }
  | { readonly kind: 'szarray' | 'ptr' | 'byref' | 'pinned'; readonly element: TypeSig }
  | { readonly kind: 'array'; readonly element: TypeSig; readonly rank: number; readonly sizes: readonly number[]; readonly lowerBounds: readonly number[] }
  | { readonly kind: 'genericinst'; readonly isValueType: boolean; readonly token: number; readonly args: readonly TypeSig[] }
  | { readonly kind: 'fnptr'; readonly method: MethodSig }
  | { readonly kind: 'modified'; readonly required: boolean; readonly modifier: number; readonly element: TypeSig }
  | { readonly kind: 'internal'; readonly handle: number };

/** Calling-convention byte bits of a method signature (II.23.2.1–II.23.2.3). */
export const SigCallConv = {
  Default: 0x0,
  C: 0x1,
  StdCall: 0x2,
  ThisCall: 0x3,
  FastCall: 0x4,
  VarArg: 0x5,
  Unmanaged: 0x9,
  Field: 0x6,
  LocalSig: 0x7,
  Property: 0x8,
  GenericInst: 0xa,
  Generic: 0x10,
  HasThis: 0x20,
  ExplicitThis: 0x40,
} as const;

/** A decoded MethodDefSig/MethodRefSig/StandAloneMethodSig (II.23.2.1–II.23.2.3) or PropertySig (II.23.2.5). */
export interface MethodSig {
  /** The raw first byte (calling convention in the low nibble plus HASTHIS/EXPLICITTHIS/GENERIC). */
  readonly header: number;
  readonly genericParamCount: number;
  readonly returnType: TypeSig;
  readonly params: readonly TypeSig[];
  /** Index in `params` of the first parameter after a SENTINEL (vararg extras), or -1. */
  readonly sentinelIndex: number;
}

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
    readonly end: number,
    readonly limits: MetadataLimits,
  ) {}

  u8(): number {
    if (this.pos >= this.end) throw new DumpFormatError('metadata: signature ends early');
    return this.bytes[this.pos++];
  }

  peek(): number {
    if (this.pos >= this.end) throw new DumpFormatError('metadata: signature ends early');
    return this.bytes[this.pos];
  }

  compressed(): number {
    const packed = readCompressedPacked(this.bytes, this.pos, this.end);
    this.pos += packed & 7;
    return Math.floor(packed / 8);
  }

  // II.23.2: signed values are rotated so that the sign bit is the LSB of the encoded width.
  compressedSigned(): number {
    const packed = readCompressedPacked(this.bytes, this.pos, this.end);
    const n = packed & 7;
    this.pos += n;
    const v = Math.floor(packed / 8);
    const bits = n === 1 ? 7 : n === 2 ? 14 : 29;
    const magnitude = v >>> 1;
    return (v & 1) === 0 ? magnitude : magnitude - (1 << (bits - 1));
  }

  count(what: string): number {
    const n = this.compressed();
    if (n > this.limits.maxSignatureItems) throw new LimitExceededError(`metadata: signature ${what} count ${n} exceeds cap ${this.limits.maxSignatureItems}`);
    return n;
  }

  // II.23.2.8 TypeDefOrRefOrSpecEncoded: rid << 2 | tag (0 TypeDef, 1 TypeRef, 2 TypeSpec).
  typeDefOrRef(): number {
    const v = this.compressed();
    const tag = v & 3;
    if (tag === 3) throw new DumpFormatError(`metadata: signature type token 0x${v.toString(16)} has invalid tag 3`);
    const table = tag === 0 ? 0x02 : tag === 1 ? 0x01 : 0x1b;
    return ((table << 24) | (v >>> 2)) >>> 0;
  }
}

function readType(c: Cursor, depth: number): TypeSig {
  if (depth > c.limits.maxSignatureDepth) throw new LimitExceededError(`metadata: signature nests deeper than ${c.limits.maxSignatureDepth}`);
  const et = c.u8();
  switch (et) {
    case ElementType.Void:
    case ElementType.Boolean:
    case ElementType.Char:
    case ElementType.I1:
    case ElementType.U1:
    case ElementType.I2:
    case ElementType.U2:
    case ElementType.I4:
    case ElementType.U4:
    case ElementType.I8:
    case ElementType.U8:
    case ElementType.R4:
    case ElementType.R8:
    case ElementType.String:
    case ElementType.TypedByRef:
    case ElementType.I:
    case ElementType.U:
    case ElementType.Object:
      return { kind: 'primitive', elementType: et };
    case ElementType.Ptr:
      return { kind: 'ptr', element: readType(c, depth + 1) };
    case ElementType.ByRef:
      return { kind: 'byref', element: readType(c, depth + 1) };
    case ElementType.Pinned:
      return { kind: 'pinned', element: readType(c, depth + 1) };
    case ElementType.SzArray:
      return { kind: 'szarray', element: readType(c, depth + 1) };
    case ElementType.ValueType:
      return { kind: 'valuetype', token: c.typeDefOrRef() };
    case ElementType.Class:
      return { kind: 'class', token: c.typeDefOrRef() };
    case ElementType.Var:
      return { kind: 'var', index: c.compressed() };
    case ElementType.MVar:
      return { kind: 'mvar', index: c.compressed() };
    case ElementType.CModReqd:
    case ElementType.CModOpt: {
      const modifier = c.typeDefOrRef();
      return { kind: 'modified', required: et === ElementType.CModReqd, modifier, element: readType(c, depth + 1) };
    }
    case ElementType.Array: {
      // II.23.2.13 ArrayShape: rank, numSizes sizes..., numLoBounds loBounds...
      const element = readType(c, depth + 1);
      const rank = c.count('array rank');
      if (rank === 0) throw new DumpFormatError('metadata: array signature with rank 0');
      const numSizes = c.count('array size');
      if (numSizes > rank) throw new DumpFormatError(`metadata: array signature has ${numSizes} sizes for rank ${rank}`);
      const sizes: number[] = [];
      for (let i = 0; i < numSizes; i++) sizes.push(c.compressed());
      const numLo = c.count('array bound');
      if (numLo > rank) throw new DumpFormatError(`metadata: array signature has ${numLo} lower bounds for rank ${rank}`);
      const lowerBounds: number[] = [];
      for (let i = 0; i < numLo; i++) lowerBounds.push(c.compressedSigned());
      return { kind: 'array', element, rank, sizes, lowerBounds };
    }
    case ElementType.GenericInst: {
      const kindByte = c.u8();
      if (kindByte !== ElementType.Class && kindByte !== ElementType.ValueType) {
        throw new DumpFormatError(`metadata: GENERICINST of element type 0x${kindByte.toString(16)}`);
      }
      const token = c.typeDefOrRef();
      const argc = c.count('generic argument');
      if (argc === 0) throw new DumpFormatError('metadata: GENERICINST with no arguments');
      const args: TypeSig[] = [];
      for (let i = 0; i < argc; i++) args.push(readType(c, depth + 1));
      return { kind: 'genericinst', isValueType: kindByte === ElementType.ValueType, token, args };
    }
    case ElementType.FnPtr:
      return { kind: 'fnptr', method: readMethod(c, depth + 1) };
    case ElementType.Internal: {
      // Only runtime-made signatures carry this; the handle is a target pointer (8 bytes on our targets).
      if (c.pos + 8 > c.end) throw new DumpFormatError('metadata: ELEMENT_TYPE_INTERNAL runs past its signature');
      const dv = new DataView(c.bytes.buffer, c.bytes.byteOffset + c.pos, 8);
      const hi = dv.getUint32(4, true);
      if (hi >= 0x200000) throw new DumpFormatError('metadata: ELEMENT_TYPE_INTERNAL handle does not fit in 53 bits');
      c.pos += 8;
      return { kind: 'internal', handle: hi * 0x1_0000_0000 + dv.getUint32(0, true) };
    }
    default:
      throw new DumpFormatError(`metadata: unknown element type 0x${et.toString(16)} in signature`);
  }
}

function readMethod(c: Cursor, depth: number): MethodSig {
  const header = c.u8();
  const genericParamCount = header & SigCallConv.Generic ? c.count('generic parameter') : 0;
  const paramCount = c.count('parameter');
  const returnType = readType(c, depth + 1);
  const params: TypeSig[] = [];
  let sentinelIndex = -1;
  for (let i = 0; i < paramCount; i++) {
    if (c.peek() === ElementType.Sentinel) {
      c.pos++;
      sentinelIndex = i;
    }
    params.push(readType(c, depth + 1));
  }
  return { header, genericParamCount, returnType, params, sentinelIndex };
}

/** Decodes the type at `bytes[start, end)` (a TypeSpec blob, II.23.2.14); throws `DumpFormatError` for a malformed
 * blob, `LimitExceededError` for nesting or counts above the caps. */
export function decodeTypeSignature(bytes: Uint8Array, start: number, end: number, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): TypeSig {
  return readType(new Cursor(bytes, start, end, limits), 0);
}

/** Decodes a FieldSig (II.23.2.4: 0x06, custom modifiers, type); throws `DumpFormatError` for a malformed blob. */
export function decodeFieldSignature(bytes: Uint8Array, start: number, end: number, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): TypeSig {
  const c = new Cursor(bytes, start, end, limits);
  const h = c.u8();
  if ((h & 0x0f) !== SigCallConv.Field) throw new DumpFormatError(`metadata: field signature starts with 0x${h.toString(16)}, not 0x06`);
  return readType(c, 0);
}

/** Decodes a method (or property) signature (II.23.2.1–II.23.2.5); throws `DumpFormatError` for a malformed blob,
 * `LimitExceededError` for counts above the caps. */
export function decodeMethodSignature(bytes: Uint8Array, start: number, end: number, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): MethodSig {
  return readMethod(new Cursor(bytes, start, end, limits), 0);
}

/** Decodes a MethodSpec instantiation blob (II.23.2.15: 0x0A, count, types); throws `DumpFormatError` when malformed. */
export function decodeMethodSpecSignature(bytes: Uint8Array, start: number, end: number, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): TypeSig[] {
  const c = new Cursor(bytes, start, end, limits);
  const h = c.u8();
  if (h !== SigCallConv.GenericInst) throw new DumpFormatError(`metadata: method spec blob starts with 0x${h.toString(16)}, not 0x0A`);
  const n = c.count('generic argument');
  const args: TypeSig[] = [];
  for (let i = 0; i < n; i++) args.push(readType(c, 0));
  return args;
}

/** Decodes a LocalVarSig (II.23.2.6: 0x07, count, types with their PINNED / BYREF / modifiers); throws
 * `DumpFormatError` for a malformed blob, `LimitExceededError` for counts above the caps. */
export function decodeLocalVarSignature(bytes: Uint8Array, start: number, end: number, limits: MetadataLimits = DEFAULT_METADATA_LIMITS): TypeSig[] {
  const c = new Cursor(bytes, start, end, limits);
  const h = c.u8();
  if (h !== SigCallConv.LocalSig) throw new DumpFormatError(`metadata: local signature starts with 0x${h.toString(16)}, not 0x07`);
  const n = c.count('local');
  const locals: TypeSig[] = [];
  for (let i = 0; i < n; i++) locals.push(readType(c, 0));
  return locals;
}
