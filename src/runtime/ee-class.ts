/**
 * EEClass (RuntimeTypeSystem contract): the per-type data that generic instantiations share with their canonical
 * MethodTable — field and method lists and their counts.
 */
import { LayoutCheckError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

/** The decoded fields of one EEClass. */
export interface EEClassInfo {
  readonly address: number;
  /** The canonical MethodTable the EEClass belongs to (it points back). */
  readonly methodTable: number;
  /** The FieldDescs this class introduces (not its parents'), instance fields first. */
  readonly fieldDescList: number;
  readonly methodDescChunk: number;
  /** TypeAttributes of the TypeDef. */
  readonly corTypeAttr: number;
  /** The CorElementType the runtime uses for the type (I4 for an enum of int, VALUETYPE, CLASS...). */
  readonly internalCorElementType: number;
  /** Instance fields including every parent's. */
  readonly numInstanceFields: number;
  readonly numMethods: number;
  /** Static fields of this class only, thread statics included. */
  readonly numStaticFields: number;
  readonly numThreadStaticFields: number;
  readonly numNonVirtualSlots: number;
}

/** Reads and caches EEClasses. */
export class EEClassReader {
  private readonly cache = new Map<number, EEClassInfo>();
  private readonly off: {
    mt: number;
    fields: number;
    chunk: number;
    attr: number;
    elementType: number;
    numInstance: number;
    numMethods: number;
    numStatic: number;
    numThreadStatic: number;
    numNonVirtual: number;
  };

  constructor(private readonly rt: DotNetRuntime) {
    const d = rt.descriptor;
    this.off = {
      mt: d.offset('EEClass', 'MethodTable'),
      fields: d.offset('EEClass', 'FieldDescList'),
      chunk: d.offset('EEClass', 'MethodDescChunk'),
      attr: d.offset('EEClass', 'CorTypeAttr'),
      elementType: d.offset('EEClass', 'InternalCorElementType'),
      numInstance: d.offset('EEClass', 'NumInstanceFields'),
      numMethods: d.offset('EEClass', 'NumMethods'),
      numStatic: d.offset('EEClass', 'NumStaticFields'),
      numThreadStatic: d.offset('EEClass', 'NumThreadStaticFields'),
      numNonVirtual: d.offset('EEClass', 'NumNonVirtualSlots'),
    };
  }

  /** The EEClass at `address`. @throws UnmappedAddressError; LayoutCheckError when `expectedMT` is given and the
   * EEClass does not point back at it. */
  read(address: number, expectedMT?: number): EEClassInfo {
    let info = this.cache.get(address);
    if (info === undefined) {
      const m = this.rt.memory;
      const o = this.off;
      info = {
        address,
        methodTable: m.readPointer(address + o.mt),
        fieldDescList: m.readPointer(address + o.fields),
        methodDescChunk: m.readPointer(address + o.chunk),
        corTypeAttr: m.readU32(address + o.attr),
        internalCorElementType: m.readU8(address + o.elementType),
        numInstanceFields: m.readU16(address + o.numInstance),
        numMethods: m.readU16(address + o.numMethods),
        numStaticFields: m.readU16(address + o.numStatic),
        numThreadStaticFields: m.readU16(address + o.numThreadStatic),
        numNonVirtualSlots: m.readU16(address + o.numNonVirtual),
      };
      this.cache.set(address, info);
    }
    if (expectedMT !== undefined && info.methodTable !== expectedMT) {
      throw new LayoutCheckError(`EEClass 0x${address.toString(16)} does not belong to MethodTable 0x${expectedMT.toString(16)}`);
    }
    return info;
  }
}
