/**
 * Reads managed objects the way SOS's dumpobj/dumparray/dumpvc see them: validation of an object start, fields by
 * FieldDesc (inherited ones first), decoded primitive values, strings, arrays and embedded value types.
 */
import { DumpsleuthError, UnmappedAddressError, UsageError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import type { EEClassInfo } from '../runtime/ee-class';
import { FieldDescReader, FieldTypeResolver, isValueElementType, type FieldDescInfo, type FieldTypeInfo } from '../runtime/field-desc';
import type { ModuleReader } from '../runtime/loader';
import type { MethodTableInfo, MethodTableReader } from '../runtime/method-table';
import { ElementType } from '../runtime/metadata';
import type { ModuleMetadata } from '../runtime/module-metadata';
import type { GcHeap, HeapSegment } from '../runtime/gc/gc-heap';
import { readStaticsBases, type StaticsBases } from '../runtime/statics';

const POINTER = 8;
/** Header + MethodTable + one pointer: the smallest object the GC allocates. */
const MIN_OBJECT_SIZE = 3 * POINTER;
const MAX_STRING_CHARS = 0x200000;
const MAX_ARRAY_RANK = 32;
const FIELD_LITERAL = 0x40;
const FIELD_STATIC = 0x10;
const TWO32 = 4294967296;

/** A field's value, decoded by its CorElementType. */
export type FieldValue =
  | { readonly kind: 'bool'; readonly value: boolean; readonly raw: number }
  | { readonly kind: 'char'; readonly value: number }
  | { readonly kind: 'int'; readonly value: number | bigint; readonly elementType: number }
  | { readonly kind: 'float'; readonly value: number; readonly elementType: number }
  | { readonly kind: 'pointer'; readonly value: number | bigint }
  | { readonly kind: 'reference'; readonly value: number }
  | { readonly kind: 'valuetype'; readonly address: number; readonly mt: number; readonly decimal?: string }
  /** A static whose storage is not allocated, or a thread static (values per thread). */
  | { readonly kind: 'none' };

/** One row of SOS's `Fields:` table. */
export interface FieldRow {
  readonly fd: FieldDescInfo;
  readonly name: string;
  readonly type: FieldTypeInfo;
  /** The Offset column: instance fields of objects count from the object start (data offset + 8). */
  readonly offset: number;
  /** Where the value lives (0 when it has no storage). */
  readonly address: number;
  readonly value: FieldValue;
  /** The enum member name for an enum-typed field whose value matches one. */
  readonly enumName?: string;
}

/** The header facts of one heap object. */
export interface ObjectInfo {
  readonly address: number;
  readonly mt: MethodTableInfo;
  /** Size as SOS reports it: BaseSize + length × ComponentSize. */
  readonly size: number;
  readonly segment?: HeapSegment;
  /** 0, 1, 2; 3 for the large and 4 for the pinned object heap; undefined for frozen objects and unknown. */
  readonly generation?: number;
}

/** What an array object holds. */
export interface ArrayInfo {
  readonly rank: number;
  readonly length: number;
  readonly bounds: readonly number[];
  readonly lowerBounds: readonly number[];
  readonly elementType: number;
  /** The element type handle (a MethodTable for every array the GC heap holds). */
  readonly elementHandle: number;
  readonly componentSize: number;
  /** Address of element 0. */
  readonly dataAddress: number;
  readonly elementIsValueType: boolean;
}

/** Reads objects and their fields; caches per MethodTable. */
export class ObjectReader {
  readonly fieldDescs: FieldDescReader;
  readonly fieldTypes: FieldTypeResolver;
  private readonly fieldNames = new Map<number, string>();
  private readonly enumNames = new Map<number, Map<string, string> | null>();

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    modules: ModuleReader,
    private readonly heap: GcHeap,
    private readonly metadataOf: (module: number) => ModuleMetadata | Error,
  ) {
    this.fieldDescs = new FieldDescReader(rt, mts);
    this.fieldTypes = new FieldTypeResolver(rt, mts, modules, metadataOf);
  }

  get memory(): MemoryReader {
    return this.rt.memory;
  }

  /** Validates that `address` starts a heap object and reads its header. `strong` also requires it to be an
   * object start found by walking its heap segment. @throws UsageError for an address that is not an object;
   * UnmappedAddressError when the memory is not in the dump. */
  readObject(address: number, strong = true): ObjectInfo {
    const m = this.rt.memory;
    if (address === 0 || address % POINTER !== 0) throw new UsageError(`0x${address.toString(16)} is not an object address (not pointer-aligned)`);
    const segment = this.heap.segments.find((s) => address >= s.start && address < s.end);
    if (!m.isMapped(address, POINTER)) throw new UnmappedAddressError(address, POINTER, 'object');
    // Two u32 reads: an arbitrary address may hold a word beyond 2^53, which is then simply not a MethodTable.
    const raw = m.readU32(address + 4) * TWO32 + m.readU32(address);
    const mtAddress = raw - (raw % 8);
    const mt = Number.isSafeInteger(mtAddress) ? this.tryReadMethodTable(mtAddress) : undefined;
    if (!mt) throw new UsageError(`0x${address.toString(16)} is not an object: its MethodTable 0x${mtAddress.toString(16)} is not valid`);
    if (strong && !segment) throw new UsageError(`0x${address.toString(16)} is not an object: it is not in the GC heap`);
    let size = mt.baseSize;
    if (mt.componentSize !== 0) size += m.readU32(address + POINTER) * mt.componentSize;
    // A single-object answer must not cost a heap walk (issue 16): an object start is checked by its MethodTable
    // (above) and by its bounds — it lies in the segment's used part, outside every allocation context's free tail.
    if (strong && segment) this.checkBounds(address, size, segment);
    // The DAC (dumpobj) reports the raw size: 22 for the empty string; only the ClrMD-based commands round up to the
    // 24-byte minimum object (dumpheap, objsize).
    return { address, mt, size, segment, generation: segment ? generationOf(segment) : undefined };
  }

  /** The MethodTable at `address`, or undefined when it is not a readable, plausible one. */
  tryReadMethodTable(address: number): MethodTableInfo | undefined {
    try {
      return this.mts.tryRead(address);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** The value of a string object. @throws UnmappedAddressError; UsageError when the length is implausible. */
  readString(address: number): string {
    const m = this.rt.memory;
    const d = this.rt.descriptor;
    const length = m.readU32(address + d.offset('String', 'm_StringLength'));
    if (length > MAX_STRING_CHARS) throw new UsageError(`string 0x${address.toString(16)} claims ${length} characters`);
    return Buffer.from(m.read(address + d.offset('String', 'm_FirstChar'), length * 2)).toString('utf16le');
  }

  /** The shape and data location of an array object. @throws UnmappedAddressError / UsageError. */
  readArray(obj: ObjectInfo): ArrayInfo {
    const m = this.rt.memory;
    const info = obj.mt;
    if (!info.isArray) throw new UsageError(`0x${obj.address.toString(16)} is not an array`);
    const length = m.readU32(obj.address + POINTER);
    const rank = this.mts.arrayRank(info);
    if (rank < 1 || rank > MAX_ARRAY_RANK) throw new UsageError(`array 0x${obj.address.toString(16)} has rank ${rank}`);
    const bounds: number[] = [];
    const lowerBounds: number[] = [];
    if (info.isSzArray) {
      bounds.push(length);
      lowerBounds.push(0);
    } else {
      // ArrayBase then INT32 bounds[rank] then INT32 lowerBounds[rank] (Object.md GetArrayData).
      const at = obj.address + 2 * POINTER;
      for (let i = 0; i < rank; i++) bounds.push(m.readI32(at + i * 4));
      for (let i = 0; i < rank; i++) lowerBounds.push(m.readI32(at + (rank + i) * 4));
    }
    const elementHandle = this.mts.arrayElementType(info);
    const elementType = this.arrayElementCorType(elementHandle);
    return {
      rank,
      length,
      bounds,
      lowerBounds,
      elementType,
      elementHandle,
      componentSize: info.componentSize,
      dataAddress: obj.address + info.baseSize - POINTER,
      elementIsValueType: isValueElementType(elementType),
    };
  }

  /** The CorElementType SOS reports for an array's elements (`Type Int32`, `VALUETYPE`, `CLASS`, `SZARRAY`). */
  arrayElementCorType(elementHandle: number): number {
    if (elementHandle % 4 !== 0) return ElementType.Ptr;
    const el = this.mts.read(elementHandle);
    if (el.isArray) return el.isSzArray ? ElementType.SzArray : ElementType.Array;
    const ee = this.fieldDescs.eeClasses.read(el.eeClass);
    // Enums report their category (VALUETYPE), true primitives their own element type.
    if ((el.flags & 0x000f0000) === 0x00070000) return ee.internalCorElementType;
    if (el.isValueType) return ElementType.ValueType;
    return ElementType.Class;
  }

  /** The rows of SOS's `Fields:` table for an object (`isValueClass` false, `dataAddress` = object address) or
   * an embedded value (`isValueClass` true, `dataAddress` = the value's address). @throws DumpsleuthError. */
  fieldRows(mt: MethodTableInfo, dataAddress: number, isValueClass: boolean): FieldRow[] {
    const rows: FieldRow[] = [];
    for (const cls of this.fieldDescs.hierarchy(mt)) {
      const clsMT = this.mts.read(cls.mt);
      let statics: StaticsBases | undefined;
      for (const fd of cls.fields) {
        const type = this.fieldTypes.fieldType(fd);
        const name = this.fieldName(clsMT, fd);
        if (!fd.isStatic) {
          const address = dataAddress === 0 ? 0 : dataAddress + fd.offset + (isValueClass ? 0 : POINTER);
          rows.push(this.row(fd, name, type, fd.offset + (isValueClass ? 0 : POINTER), address, false));
          continue;
        }
        if (fd.isThreadStatic) {
          rows.push({ fd, name, type, offset: fd.offset, address: 0, value: { kind: 'none' } });
          continue;
        }
        statics ??= readStaticsBases(this.rt, clsMT);
        const isGc = fd.elementType === ElementType.Class || fd.elementType === ElementType.ValueType;
        const base = isGc ? statics.gcStatics : statics.nonGcStatics;
        // SOS adds the object header to static offsets too (DisplayFields).
        const offset = fd.offset + POINTER;
        if (base === 0) {
          rows.push({ fd, name, type, offset, address: 0, value: { kind: 'none' } });
          continue;
        }
        rows.push(this.row(fd, name, type, offset, base + fd.offset, true));
      }
    }
    return rows;
  }

  /** The EEClass of a MethodTable. */
  eeClassOf(mt: MethodTableInfo): EEClassInfo {
    return this.fieldDescs.eeClasses.read(mt.eeClass, mt.canonicalMT);
  }

  /** Decodes the value of CorElementType `et` stored at `address`. */
  readValue(et: number, address: number, mtOfType: number): FieldValue {
    const m = this.rt.memory;
    switch (et) {
      case ElementType.Boolean: {
        const raw = m.readU8(address);
        return { kind: 'bool', value: raw !== 0, raw };
      }
      case ElementType.Char:
        return { kind: 'char', value: m.readU16(address) };
      case ElementType.I1:
        return { kind: 'int', value: (m.readU8(address) << 24) >> 24, elementType: et };
      case ElementType.U1:
        return { kind: 'int', value: m.readU8(address), elementType: et };
      case ElementType.I2:
        return { kind: 'int', value: (m.readU16(address) << 16) >> 16, elementType: et };
      case ElementType.U2:
        return { kind: 'int', value: m.readU16(address), elementType: et };
      case ElementType.I4:
        return { kind: 'int', value: m.readI32(address), elementType: et };
      case ElementType.U4:
        return { kind: 'int', value: m.readU32(address), elementType: et };
      case ElementType.I8:
      case ElementType.U8:
        return { kind: 'int', value: readInt64(m, address, et === ElementType.I8), elementType: et };
      case ElementType.R4:
        return { kind: 'float', value: new DataView(copy(m.read(address, 4))).getFloat32(0, true), elementType: et };
      case ElementType.R8:
        return { kind: 'float', value: new DataView(copy(m.read(address, 8))).getFloat64(0, true), elementType: et };
      case ElementType.I:
      case ElementType.U:
        return { kind: 'pointer', value: readInt64(m, address, false) };
      case ElementType.ValueType:
        return { kind: 'valuetype', address, mt: mtOfType, decimal: this.decimalAt(mtOfType, address) };
      default: {
        const lo = m.readU32(address);
        const hi = m.readU32(address + 4);
        return { kind: 'reference', value: hi * TWO32 + lo };
      }
    }
  }

  private row(fd: FieldDescInfo, name: string, type: FieldTypeInfo, offset: number, address: number, isStatic: boolean): FieldRow {
    let value: FieldValue;
    if (isStatic && fd.elementType === ElementType.ValueType) {
      // Struct statics live boxed: the slot holds a reference, SOS shows the slot address when it is set.
      const box = this.rt.memory.readPointer(address);
      value = box === 0 ? { kind: 'reference', value: 0 } : { kind: 'valuetype', address, mt: type.mt };
    } else {
      value = this.readValue(fd.elementType, address, type.mt);
    }
    const enumName = value.kind === 'int' && type.mt !== 0 ? this.enumMemberName(type.mt, value.value) : undefined;
    return enumName === undefined ? { fd, name, type, offset, address, value } : { fd, name, type, offset, address, value, enumName };
  }

  private fieldName(mt: MethodTableInfo, fd: FieldDescInfo): string {
    let n = this.fieldNames.get(fd.address);
    if (n === undefined) {
      const md = this.metadataOf(mt.module);
      if (md instanceof Error) throw md;
      n = md.metadata.getFieldName(fd.token);
      this.fieldNames.set(fd.address, n);
    }
    return n;
  }

  /** The name of the enum member equal to `value` when `mt` is an enum, else undefined. */
  enumMemberName(mt: number, value: number | bigint): string | undefined {
    let names = this.enumNames.get(mt);
    if (names === undefined) {
      names = this.readEnumNames(mt);
      this.enumNames.set(mt, names);
    }
    return names?.get(String(value));
  }

  private readEnumNames(mt: number): Map<string, string> | null {
    try {
      const info = this.mts.read(mt);
      if ((info.flags & 0x000f0000) !== 0x00060000 || info.parent === 0) return null;
      const md = this.metadataOf(info.module);
      if (md instanceof Error) return null;
      const names = new Map<string, string>();
      for (const f of md.metadata.getFieldsOfType(info.typeDefToken)) {
        const flags = md.metadata.getFieldFlags(f);
        if ((flags & FIELD_LITERAL) === 0 || (flags & FIELD_STATIC) === 0) continue;
        const c = md.metadata.getConstant(f);
        if (!c) continue;
        const v = constantValue(c.elementType, c.value);
        if (v !== undefined && !names.has(v)) names.set(v, md.metadata.getFieldName(f));
      }
      return names;
    } catch (e) {
      if (e instanceof DumpsleuthError) return null;
      throw e;
    }
  }

  /** The decoded value of a System.Decimal at `address`, or undefined for another type. */
  private decimalAt(mt: number, address: number): string | undefined {
    if (mt === 0) return undefined;
    try {
      const info = this.mts.read(mt);
      const md = this.metadataOf(info.module);
      if (md instanceof Error || md.metadata.getTypeDefFullName(info.typeDefToken) !== 'System.Decimal') return undefined;
      if (md.assemblyName !== 'System.Private.CoreLib') return undefined;
      const m = this.rt.memory;
      // System.Decimal: int _flags; uint _hi32; ulong _lo64 (sign bit 31, scale in bits 16-23 of _flags).
      const flags = m.readU32(address);
      const hi = BigInt(m.readU32(address + 4));
      const lo = BigInt(m.readU32(address + 8)) + (BigInt(m.readU32(address + 12)) << 32n);
      return formatDecimal((hi << 64n) + lo, (flags >>> 16) & 0xff, flags >= 0x80000000);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** Throws UsageError when an object of `size` bytes at `address` does not fit in the used part of `segment` or
   * starts in the unallocated tail of an allocation context (where no object lives). */
  private checkBounds(address: number, size: number, segment: HeapSegment): void {
    const where = `0x${address.toString(16)} is not the start of an object on the GC heap`;
    if (address + size > segment.end) throw new UsageError(`${where}: its size ${size} runs past the end of its segment`);
    for (const c of this.heap.allocContexts) {
      if (address >= c.pointer && address < c.limit + MIN_OBJECT_SIZE) throw new UsageError(`${where}: it is in an allocation context's free space`);
    }
  }
}

/** The generation number of a heap segment (3 = LOH, 4 = POH), undefined for frozen and non-regions ephemeral. */
export function generationOf(segment: HeapSegment): number | undefined {
  switch (segment.kind) {
    case 'gen0':
      return 0;
    case 'gen1':
      return 1;
    case 'gen2':
      return 2;
    case 'loh':
      return 3;
    case 'poh':
      return 4;
    default:
      return undefined;
  }
}

function readInt64(m: MemoryReader, address: number, signed: boolean): number | bigint {
  const lo = BigInt(m.readU32(address));
  const hi = BigInt(m.readU32(address + 4));
  let v = (hi << 32n) + lo;
  if (signed && hi >= 0x80000000n) v -= 1n << 64n;
  const asNumber = Number(v);
  return Number.isSafeInteger(asNumber) ? asNumber : v;
}

function copy(bytes: Uint8Array): ArrayBuffer {
  return Uint8Array.from(bytes).buffer;
}

function constantValue(et: number, b: Uint8Array): string | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (et) {
    case ElementType.Boolean:
    case ElementType.U1:
      return b.length >= 1 ? String(v.getUint8(0)) : undefined;
    case ElementType.I1:
      return b.length >= 1 ? String(v.getInt8(0)) : undefined;
    case ElementType.Char:
    case ElementType.U2:
      return b.length >= 2 ? String(v.getUint16(0, true)) : undefined;
    case ElementType.I2:
      return b.length >= 2 ? String(v.getInt16(0, true)) : undefined;
    case ElementType.I4:
      return b.length >= 4 ? String(v.getInt32(0, true)) : undefined;
    case ElementType.U4:
      return b.length >= 4 ? String(v.getUint32(0, true)) : undefined;
    case ElementType.I8:
      return b.length >= 8 ? String(v.getBigInt64(0, true)) : undefined;
    case ElementType.U8:
      return b.length >= 8 ? String(v.getBigUint64(0, true)) : undefined;
    default:
      return undefined;
  }
}

function formatDecimal(mantissa: bigint, scale: number, negative: boolean): string {
  let digits = mantissa.toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return negative && mantissa !== 0n ? '-' + digits : digits;
}
