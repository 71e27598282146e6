/**
 * The size of a MethodDesc and the offsets of its optional slots, from its flags (RuntimeTypeSystem contract).
 * .NET 10 exports the runtime's own table (`MethodDescSizeTable`, indexed by the low six flag bits); .NET 11 drops
 * it and the cDAC computes the size from the described types: the classification's type (MethodDesc,
 * FCallMethodDesc, ...) plus, in this order, NonVtableSlot (0x8), MethodImpl (0x10), NativeCodeSlot (0x20) and
 * AsyncMethodData (0x40, new in 11).
 */
import { MissingRuntimeDataError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

const CLASSIFICATION_MASK = 0x7;
const HAS_NON_VTABLE_SLOT = 0x8;
const HAS_METHOD_IMPL = 0x10;
const HAS_NATIVE_CODE_SLOT = 0x20;
const HAS_ASYNC_METHOD_DATA = 0x40;
const TABLE_MASK = 0x3f;

/** The descriptor type of each MethodDesc classification (mcIL .. mcDynamic). */
const CLASSIFICATION_TYPES = ['MethodDesc', 'FCallMethodDesc', 'PInvokeMethodDesc', 'EEImplMethodDesc', 'ArrayMethodDesc', 'InstantiatedMethodDesc', 'CLRToCOMCallMethodDesc', 'DynamicMethodDesc'];

/** MethodDesc sizes of one runtime. */
export class MethodDescSizes {
  private constructor(
    private readonly rt: Pick<DotNetRuntime, 'descriptor' | 'memory' | 'version'>,
    /** The runtime's table (.NET 10), or undefined when sizes come from the described types (.NET 11). */
    private readonly table: number | undefined,
  ) {}

  /** Chooses the runtime's table when it exports one, else the described types. */
  static of(rt: Pick<DotNetRuntime, 'descriptor' | 'memory' | 'version'>): MethodDescSizes {
    return new MethodDescSizes(rt, rt.descriptor.tryGlobal('MethodDescSizeTable'));
  }

  /** True when sizes are read from the runtime's own table. */
  get fromTable(): boolean {
    return this.table !== undefined;
  }

  /** The whole MethodDesc (classification and every optional slot its flags announce). */
  total(flags: number): number {
    return this.partial(flags, HAS_NON_VTABLE_SLOT | HAS_METHOD_IMPL | HAS_NATIVE_CODE_SLOT | HAS_ASYNC_METHOD_DATA);
  }

  /** Offset of the non-vtable slot (right after the classification's part). */
  nonVtableSlotOffset(flags: number): number {
    return this.partial(flags, 0);
  }

  /** Offset of the native code slot (after the non-vtable slot and MethodImpl, when present). */
  nativeCodeSlotOffset(flags: number): number {
    return this.partial(flags, HAS_NON_VTABLE_SLOT | HAS_METHOD_IMPL);
  }

  /** Size of the classification's part plus the optional slots in `optional` that the flags have. */
  private partial(flags: number, optional: number): number {
    const f = flags & (CLASSIFICATION_MASK | optional);
    if (this.table !== undefined) return this.rt.memory.readU8(this.table + (f & TABLE_MASK));
    const d = this.rt.descriptor;
    const typeName = CLASSIFICATION_TYPES[f & CLASSIFICATION_MASK]!;
    if (!d.has(typeName)) throw new MissingRuntimeDataError(`the runtime (${this.rt.version ?? '?'}) describes no ${typeName}, needed for a MethodDesc of classification ${f & CLASSIFICATION_MASK}`);
    let size = d.size(typeName);
    if ((f & HAS_NON_VTABLE_SLOT) !== 0) size += d.size('NonVtableSlot');
    if ((f & HAS_METHOD_IMPL) !== 0) size += d.size('MethodImpl');
    if ((f & HAS_NATIVE_CODE_SLOT) !== 0) size += d.size('NativeCodeSlot');
    if ((f & HAS_ASYNC_METHOD_DATA) !== 0) size += d.size('AsyncMethodData');
    return size;
  }
}
