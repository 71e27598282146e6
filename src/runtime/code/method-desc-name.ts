/**
 * The minimum of MethodDescs the code commands need (RuntimeTypeSystem contract: MethodDesc, MethodDescChunk,
 * InstantiatedMethodDesc) and SOS's method name (`GetMethodDescName`: DAC type name + `.` + name + method
 * instantiation + SigFormat parameter list; research/names-and-sos-output.md §A3.1).
 * Interim: the objects layer's `runtime/method-desc.ts` (MethodDescReader) is meant to replace this file.
 */
import { DumpsleuthError, LayoutCheckError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { MethodTableReader } from '../method-table';
import type { ModuleReader } from '../loader';
import type { TypeNameNode, TypeNameResolver } from '../type-names';
import { formatSigParams } from '../metadata/type-name-format';

/** MethodDesc classifications (method.hpp MethodClassification). */
export const MethodClassification = { IL: 0, FCall: 1, PInvoke: 2, EEImpl: 3, Array: 4, Instantiated: 5, ComInterop: 6, Dynamic: 7 } as const;

const FLAGS_NON_VTABLE_SLOT = 0x8;
const FLAGS_HAS_NATIVE_CODE_SLOT = 0x20;
const FLAGS_STATIC = 0x80;
const FLAGS3_HAS_STABLE_ENTRY_POINT = 0x1000;
const FLAGS3_HAS_PRECODE = 0x2000;
const FLAGS3_ELIGIBLE_FOR_TIERING = 0x8000;

/** The decoded fields of one MethodDesc. */
export interface MethodDescInfo {
  readonly address: number;
  readonly chunk: number;
  readonly methodTable: number;
  readonly token: number;
  readonly slot: number;
  readonly flags: number;
  readonly flags3: number;
  readonly classification: number;
  readonly isStatic: boolean;
  readonly isEligibleForTiering: boolean;
  readonly hasStableEntryPoint: boolean;
  readonly hasPrecode: boolean;
  /** Address of the native-code slot, 0 when the MethodDesc has none. */
  readonly nativeCodeSlot: number;
  /** Address of the non-vtable entry-point slot, 0 when the entry point is in the MethodTable's slots. */
  readonly nonVtableSlot: number;
  /** Type handles of a generic method's instantiation (empty for a non-generic method). */
  readonly methodInstantiation: readonly number[];
}

/** Reads MethodDescs and renders their SOS names; cached per address. */
export class MethodDescNames {
  private readonly infos = new Map<number, MethodDescInfo>();
  private readonly names = new Map<number, string>();
  private readonly sizeTable: number;

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly modules: ModuleReader,
    private readonly types: TypeNameResolver,
  ) {
    this.sizeTable = rt.descriptor.global('MethodDescSizeTable');
  }

  /** The MethodDesc at `md`, validated through its chunk's MethodTable.
   * @throws LayoutCheckError when it is not a MethodDesc; UnmappedAddressError when it is not in the dump. */
  read(md: number): MethodDescInfo {
    let info = this.infos.get(md);
    if (!info) {
      info = this.decode(md);
      this.infos.set(md, info);
    }
    return info;
  }

  /** Like `read`, but undefined for an address that is not a readable MethodDesc. */
  tryRead(md: number): MethodDescInfo | undefined {
    try {
      return this.read(md);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** SOS's method name, e.g. `System.Collections.Generic.List`1[[System.__Canon, System.Private.CoreLib]].Add(System.__Canon)`;
   * `<module file>!Unknown` (as SOS prints) when the metadata is not readable. */
  name(md: number): string {
    let s = this.names.get(md);
    if (s === undefined) {
      s = this.render(md);
      this.names.set(md, s);
    }
    return s;
  }

  /** The module of the MethodDesc's MethodTable. */
  module(md: number): number {
    return this.mts.read(this.read(md).methodTable).module;
  }

  private decode(md: number): MethodDescInfo {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    if (md === 0 || md % 8 !== 0) throw new LayoutCheckError(`0x${md.toString(16)} is not a MethodDesc address`);
    const flags3 = m.readU16(md + d.offset('MethodDesc', 'Flags3AndTokenRemainder'));
    const chunkIndex = m.readU8(md + d.offset('MethodDesc', 'ChunkIndex'));
    const slot = m.readU16(md + d.offset('MethodDesc', 'Slot'));
    const flags = m.readU16(md + d.offset('MethodDesc', 'Flags'));
    const alignment = d.tryGlobal('MethodDescAlignment') ?? 8;
    const chunk = md - chunkIndex * alignment - d.size('MethodDescChunk');
    const methodTable = m.readPointer(chunk + d.offset('MethodDescChunk', 'MethodTable'));
    const count = m.readU8(chunk + d.offset('MethodDescChunk', 'Count'));
    if (chunkIndex > count * 16 + 16 || this.mts.tryRead(methodTable) === undefined) {
      throw new LayoutCheckError(`0x${md.toString(16)} is not a MethodDesc (its chunk has no valid MethodTable)`);
    }
    const remainderBits = d.tryGlobal('MethodDescTokenRemainderBitCount') ?? 12;
    const tokenRange = m.readU16(chunk + d.offset('MethodDescChunk', 'FlagsAndTokenRange')) % 2 ** (24 - remainderBits);
    const token = 0x06000000 + tokenRange * 2 ** remainderBits + (flags3 % 2 ** remainderBits);
    const classification = flags % 8;
    // s_ClassificationSizeTable[flags & (classification|HasNonVtableSlot|MethodImpl)] is the size before the native-code slot.
    const sizeBeforeNativeSlot = m.readU8(this.sizeTable + (flags % 32));
    const baseSize = m.readU8(this.sizeTable + (flags % 8));
    let methodInstantiation: number[] = [];
    if (classification === MethodClassification.Instantiated) {
      const numArgs = m.readU16(md + d.offset('InstantiatedMethodDesc', 'NumGenericArgs'));
      const perInst = m.readPointer(md + d.offset('InstantiatedMethodDesc', 'PerInstInfo'));
      if (numArgs > 64) throw new LayoutCheckError(`MethodDesc 0x${md.toString(16)} claims ${numArgs} generic arguments`);
      if (perInst !== 0) methodInstantiation = Array.from({ length: numArgs }, (_, i) => m.readPointer(perInst + i * 8));
    }
    return {
      address: md,
      chunk,
      methodTable,
      token,
      slot,
      flags,
      flags3,
      classification,
      isStatic: (flags & FLAGS_STATIC) !== 0,
      isEligibleForTiering: (flags3 & FLAGS3_ELIGIBLE_FOR_TIERING) !== 0,
      hasStableEntryPoint: (flags3 & FLAGS3_HAS_STABLE_ENTRY_POINT) !== 0,
      hasPrecode: (flags3 & FLAGS3_HAS_PRECODE) !== 0,
      nativeCodeSlot: (flags & FLAGS_HAS_NATIVE_CODE_SLOT) !== 0 ? md + sizeBeforeNativeSlot : 0,
      nonVtableSlot: (flags & FLAGS_NON_VTABLE_SLOT) !== 0 ? md + baseSize : 0,
      methodInstantiation,
    };
  }

  private render(md: number): string {
    const info = this.read(md);
    const mt = this.mts.read(info.methodTable);
    const metadata = this.types.moduleMetadata(mt.module);
    if (metadata instanceof Error) return `${this.moduleFileName(mt.module)}!Unknown`;
    const typeName = this.types.dacName(info.methodTable);
    if (info.classification === MethodClassification.Dynamic) {
      const nameAddress = this.rt.memory.readPointer(md + this.rt.descriptor.offset('DynamicMethodDesc', 'MethodName'));
      return `DynamicClass.${readUtf8(this.rt, nameAddress)}`;
    }
    try {
      const mdata = metadata.metadata;
      let text = `${typeName}.${mdata.getMethodName(info.token)}`;
      if (info.methodInstantiation.length > 0) {
        text += `[${info.methodInstantiation.map((h) => this.dacGenericArg(h)).join(',')}]`;
      }
      const sig = mdata.getMethodSignature(info.token);
      const typeArgs = this.mts.instantiation(mt).map((h) => this.sigFormatName(h));
      const methodArgs = info.methodInstantiation.map((h) => this.sigFormatName(h));
      return text + formatSigParams(mdata, sig, { typeArgs, methodArgs, nameOfTypeHandle: (h) => this.sigFormatName(h) });
    } catch (e) {
      if (e instanceof DumpsleuthError) return `${this.moduleFileName(mt.module)}!Unknown`;
      throw e;
    }
  }

  /** One generic argument in DAC style: `[Name, Assembly]`, or a bare variable name. */
  private dacGenericArg(handle: number): string {
    const node = this.types.node(handle, 0);
    const assembly = assemblyOf(node);
    const name = this.types.dacName(handle);
    return assembly === undefined ? name : `[${name}, ${assembly}]`;
  }

  /** A type handle as SigFormat prints it (sigformat.cpp AddType): CoreLib primitives short, classes with namespace. */
  private sigFormatName(handle: number): string {
    const node = this.types.node(handle, 0);
    return sigFormatOfNode(node, primitiveNameOfNode(node));
  }

  private moduleFileName(module: number): string {
    try {
      const path = this.modules.read(module).path;
      return path.slice(path.lastIndexOf('/') + 1) || 'UNKNOWN';
    } catch (e) {
      if (e instanceof DumpsleuthError) return 'UNKNOWN';
      throw e;
    }
  }
}

function assemblyOf(node: TypeNameNode): string | undefined {
  switch (node.kind) {
    case 'def':
      return node.assembly;
    case 'array':
    case 'pointer':
    case 'byref':
      return assemblyOf(node.element);
    default:
      return undefined;
  }
}

function sigFormatOfNode(node: TypeNameNode, primitive: string | undefined): string {
  if (primitive !== undefined) return primitive;
  switch (node.kind) {
    case 'def': {
      // SigFormat names a nested type by its own name only (no enclosing types).
      const base = node.segments[node.segments.length - 1]!;
      if (node.args.length === 0) return base;
      return `${base}<${node.args.map((a) => sigFormatOfNode(a, primitiveNameOfNode(a))).join(',')}>`;
    }
    case 'array':
      return sigFormatOfNode(node.element, primitiveNameOfNode(node.element)) + (node.sz ? '[]' : `[${','.repeat(Math.max(0, node.rank - 1))}]`);
    case 'pointer':
      return sigFormatOfNode(node.element, primitiveNameOfNode(node.element)) + '*';
    case 'byref':
      return sigFormatOfNode(node.element, primitiveNameOfNode(node.element)) + ' ByRef';
    case 'var':
      return node.name;
    case 'free':
      return 'Free';
    case 'unknown':
      return '**UNKNOWN TYPE**';
  }
}

const CORELIB_PRIMITIVES: Record<string, string> = {
  'System.Boolean': 'Boolean',
  'System.Char': 'Char',
  'System.SByte': 'SByte',
  'System.Byte': 'Byte',
  'System.Int16': 'Int16',
  'System.UInt16': 'UInt16',
  'System.Int32': 'Int32',
  'System.UInt32': 'UInt32',
  'System.Int64': 'Int64',
  'System.UInt64': 'UInt64',
  'System.Single': 'Single',
  'System.Double': 'Double',
  'System.IntPtr': 'IntPtr',
  'System.UIntPtr': 'UIntPtr',
  'System.Void': 'Void',
};

function primitiveNameOfNode(node: TypeNameNode): string | undefined {
  if (node.kind !== 'def' || node.segments.length !== 1 || node.assembly !== 'System.Private.CoreLib') return undefined;
  return CORELIB_PRIMITIVES[node.segments[0]!];
}

/** A NUL-terminated UTF-8 string of the target (at most 1024 bytes); '' when unreadable. */
export function readUtf8(rt: DotNetRuntime, address: number): string {
  if (address === 0) return '';
  const bytes = rt.memory.readUpTo(address, 1024);
  let end = 0;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.subarray(0, end)).toString('utf8');
}
