/**
 * MethodDescs (RuntimeTypeSystem contract): the MethodDescChunk walk of a class, tokens, slots, entry points,
 * native code and the DAC-style method names SOS prints (`Namespace.Type.Method(Int32, System.String)`).
 *
 * Layout facts used (descriptor fields plus RuntimeTypeSystem.md): a chunk's real count is `Count + 1` and its
 * size `(Size + 1) * MethodDescAlignment`; a MethodDesc's size and slot offsets come from MethodDescSizes
 * (the runtime's table on 10, the described types on 11). Every chunk is checked: its MethodDescs must fill it exactly.
 */
import { DumpsleuthError, LayoutCheckError, LimitExceededError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';
import { EEClassReader } from './ee-class';
import { MethodDescSizes } from './method-desc-sizes';
import type { ModuleReader } from './loader';
import type { MethodTableInfo, MethodTableReader } from './method-table';
import { formatSigParams, type SigFormatContext } from './metadata';
import type { ModuleMetadata } from './module-metadata';
import type { TypeNameNode, TypeNameResolver } from './type-names';

const CLASSIFICATION_MASK = 0x7;
const CLASSIFICATION_ARRAY = 4;
const CLASSIFICATION_INSTANTIATED = 5;
const CLASSIFICATION_DYNAMIC = 7;
const MAX_METHOD_GENERIC_ARGS = 64;
const HAS_NON_VTABLE_SLOT = 0x8;
const HAS_NATIVE_CODE_SLOT = 0x20;
const FLAGS3_HAS_STABLE_ENTRY_POINT = 0x1000;
const FLAGS3_HAS_PRECODE = 0x2000;
const CHUNK_TOKEN_RANGE_MASK = 0xfff;
const MAX_CHUNKS = 100_000;
const MAX_PARENT_DEPTH = 1_000;
const MAX_SLOTS = 65_535;
/** `MethodTable::NO_SLOT`; SOS prints it as 0xFFFFFFFF. */
const NO_SLOT = 0xffff;

/** How SOS's `dumpmt -md` classifies a method's code. */
export type JitState = 'JIT' | 'PreJIT' | 'FCALL' | 'NONE';

/** One decoded MethodDesc. */
export interface MethodDescInfo {
  readonly address: number;
  readonly chunk: number;
  /** The MethodTable of the chunk (the canonical MT for shared generic code). */
  readonly methodTable: number;
  readonly token: number;
  readonly slot: number;
  readonly flags: number;
  readonly flags3: number;
  readonly classification: number;
  readonly size: number;
  /** The entry point stored in the MethodDesc's own slot (HasNonVtableSlot), else undefined. */
  readonly nonVtableSlot?: number;
  /** The native code the MethodDesc records (its native code slot or stable entry point), 0 when none. */
  readonly nativeCode: number;
  /** Type handles of a generic method's instantiation (empty for a non-generic method). */
  readonly methodInstantiation: readonly number[];
}

/** One row of `dumpmt -md`: a vtable slot or a method introduced outside the vtable. */
export interface MethodSlotEntry {
  readonly entryPoint: number;
  readonly methodDesc: number;
  readonly slot: number;
}

/** Reads MethodDescs and names them; caches per MethodDesc and per class. */
export class MethodDescReader {
  private readonly cache = new Map<number, MethodDescInfo>();
  private readonly perClass = new Map<number, MethodDescInfo[]>();
  private readonly sizes: MethodDescSizes;
  private readonly alignment: number;
  private readonly tokenBits: number;
  private readonly eeClasses: EEClassReader;
  private imageRanges?: (readonly [number, number])[];

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly names: TypeNameResolver,
    private readonly modules: ModuleReader,
  ) {
    const d = rt.descriptor;
    this.sizes = MethodDescSizes.of(rt);
    this.alignment = d.global('MethodDescAlignment');
    this.tokenBits = d.global('MethodDescTokenRemainderBitCount');
    this.eeClasses = new EEClassReader(rt);
  }

  /** The MethodDesc at `md` (found in its chunk). @throws LayoutCheckError when `md` is not a MethodDesc of
   * its chunk; UnmappedAddressError. */
  read(md: number): MethodDescInfo {
    const hit = this.cache.get(md);
    if (hit) return hit;
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const chunkIndex = m.readU8(md + d.offset('MethodDesc', 'ChunkIndex'));
    const chunk = md - d.size('MethodDescChunk') - chunkIndex * this.alignment;
    const all = this.readChunk(chunk);
    const info = all.find((x) => x.address === md);
    if (!info) throw new LayoutCheckError(`0x${md.toString(16)} is not a MethodDesc`);
    return info;
  }

  /** The MethodDescs of one MethodDescChunk, checked to fill the chunk exactly. @throws LayoutCheckError. */
  readChunk(chunk: number): MethodDescInfo[] {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const methodTable = m.readPointer(chunk + d.offset('MethodDescChunk', 'MethodTable'));
    const count = m.readU8(chunk + d.offset('MethodDescChunk', 'Count')) + 1;
    const size = (m.readU8(chunk + d.offset('MethodDescChunk', 'Size')) + 1) * this.alignment;
    const tokenRange = m.readU16(chunk + d.offset('MethodDescChunk', 'FlagsAndTokenRange')) & CHUNK_TOKEN_RANGE_MASK;
    const first = chunk + d.size('MethodDescChunk');
    const out: MethodDescInfo[] = [];
    let at = first;
    for (let i = 0; i < count; i++) {
      const flags = m.readU16(at + d.offset('MethodDesc', 'Flags'));
      const flags3 = m.readU16(at + d.offset('MethodDesc', 'Flags3AndTokenRemainder'));
      const chunkIndex = m.readU8(at + d.offset('MethodDesc', 'ChunkIndex'));
      const mdSize = this.sizes.total(flags);
      if (mdSize === 0 || chunkIndex * this.alignment !== at - first) {
        throw new LayoutCheckError(`MethodDescChunk 0x${chunk.toString(16)}: MethodDesc ${i} at 0x${at.toString(16)} does not fit the chunk layout`);
      }
      const classification = flags & CLASSIFICATION_MASK;
      const nonVtableSlot = (flags & HAS_NON_VTABLE_SLOT) !== 0 ? m.readPointer(at + this.sizes.nonVtableSlotOffset(flags)) : undefined;
      let nativeCode = 0;
      if ((flags & HAS_NATIVE_CODE_SLOT) !== 0) {
        const slotAt = at + this.sizes.nativeCodeSlotOffset(flags);
        const raw = m.readPointer(slotAt);
        nativeCode = raw - (raw % 2);
      } else if ((flags3 & FLAGS3_HAS_STABLE_ENTRY_POINT) !== 0 && (flags3 & FLAGS3_HAS_PRECODE) === 0) {
        nativeCode = nonVtableSlot ?? 0;
      }
      let methodInstantiation: number[] = [];
      if (classification === CLASSIFICATION_INSTANTIATED) {
        const numArgs = m.readU16(at + d.offset('InstantiatedMethodDesc', 'NumGenericArgs'));
        const perInst = m.readPointer(at + d.offset('InstantiatedMethodDesc', 'PerInstInfo'));
        if (numArgs > MAX_METHOD_GENERIC_ARGS) throw new LayoutCheckError(`MethodDesc 0x${at.toString(16)} claims ${numArgs} generic arguments`);
        if (perInst !== 0) methodInstantiation = Array.from({ length: numArgs }, (_, k) => m.readPointer(perInst + k * 8));
      }
      const remainderMask = 2 ** this.tokenBits - 1;
      const info: MethodDescInfo = {
        address: at,
        chunk,
        methodTable,
        token: 0x06000000 + tokenRange * 2 ** this.tokenBits + (flags3 & remainderMask),
        slot: m.readU16(at + d.offset('MethodDesc', 'Slot')),
        flags,
        flags3,
        classification,
        size: mdSize,
        nonVtableSlot,
        nativeCode,
        methodInstantiation,
      };
      out.push(info);
      this.cache.set(at, info);
      at += mdSize;
    }
    if (at - first > size) throw new LayoutCheckError(`MethodDescChunk 0x${chunk.toString(16)}: its MethodDescs overrun the chunk`);
    return out;
  }

  /** The MethodDescs the class of `mt` introduces, in chunk order. @throws LayoutCheckError / LimitExceededError. */
  introduced(mt: MethodTableInfo): MethodDescInfo[] {
    const hit = this.perClass.get(mt.canonicalMT);
    if (hit) return hit;
    const ee = this.eeClasses.read(mt.eeClass, mt.canonicalMT);
    const out: MethodDescInfo[] = [];
    let chunk = ee.methodDescChunk;
    for (let n = 0; chunk !== 0; n++) {
      if (n > MAX_CHUNKS) throw new LimitExceededError(`EEClass 0x${ee.address.toString(16)}: the MethodDescChunk list does not end`);
      out.push(...this.readChunk(chunk));
      chunk = this.rt.memory.readPointer(chunk + this.rt.descriptor.offset('MethodDescChunk', 'Next'));
    }
    this.perClass.set(mt.canonicalMT, out);
    return out;
  }

  /** `dumpmt -md`'s rows: every vtable slot with its MethodDesc, then the introduced methods outside the vtable
   * (DacMethodTableSlotEnumerator). */
  enumerateForType(mt: MethodTableInfo): MethodSlotEntry[] {
    const numVtableSlots = this.numVtableSlots(mt);
    if (numVtableSlots > MAX_SLOTS) throw new LimitExceededError(`MethodTable 0x${mt.address.toString(16)} has ${numVtableSlots} slots`);
    // The MethodDesc of each slot: the most derived class of the parent chain that introduces that slot.
    const bySlot = new Map<number, number>();
    const chain: MethodTableInfo[] = [];
    for (let cur: MethodTableInfo | undefined = mt; cur; cur = cur.parent !== 0 ? this.mts.read(cur.parent) : undefined) {
      if (chain.length > MAX_PARENT_DEPTH) throw new LimitExceededError(`MethodTable 0x${mt.address.toString(16)}: the parent chain does not end`);
      chain.push(cur);
    }
    for (const cls of chain.reverse()) {
      for (const md of this.introduced(cls)) {
        if (md.slot < numVtableSlots && (cls === mt || md.slot < cls.numVirtuals)) bySlot.set(md.slot, md.address);
      }
    }
    const out: MethodSlotEntry[] = [];
    for (let slot = 0; slot < numVtableSlots; slot++) {
      out.push({ entryPoint: this.slotValue(mt, slot), methodDesc: bySlot.get(slot) ?? 0, slot });
    }
    for (const md of this.introduced(mt)) {
      if (md.slot < numVtableSlots) continue;
      // GetMethodEntryPointIfExists: the MethodDesc's own slot, else its (canonical) MethodTable's slot.
      let entryPoint = md.nonVtableSlot ?? 0;
      if (md.nonVtableSlot === undefined && md.slot !== NO_SLOT) {
        const owner = this.mts.read(md.methodTable);
        if (md.slot < this.numVtableSlots(owner)) entryPoint = this.slotValue(owner, md.slot);
      }
      out.push({ entryPoint, methodDesc: md.address, slot: md.slot === NO_SLOT ? 0xffffffff : md.slot });
    }
    return out;
  }

  /** Virtual slots plus, on a canonical MethodTable, the non-virtual ones kept in the vtable. */
  numVtableSlots(mt: MethodTableInfo): number {
    const ee = this.eeClasses.read(mt.eeClass, mt.canonicalMT);
    return mt.numVirtuals + (mt.canonicalMT === mt.address ? ee.numNonVirtualSlots : 0);
  }

  /** EEClass.NumMethods of the type (what dumpmt prints as `Number of Methods`). */
  numMethods(mt: MethodTableInfo): number {
    return this.eeClasses.read(mt.eeClass, mt.canonicalMT).numMethods;
  }

  /** The value of vtable slot `slot` of `mt` (MethodTable::GetSlot). */
  slotValue(mt: MethodTableInfo, slot: number): number {
    const m = this.rt.memory;
    const d = this.rt.descriptor;
    if (slot < mt.numVirtuals) {
      // Virtual slots sit in chunks of 8 reached through the indirection array after the MethodTable.
      const chunk = m.readPointer(mt.address + d.size('MethodTable') + Math.floor(slot / 8) * 8);
      return m.readPointer(chunk + (slot % 8) * 8);
    }
    // Non-virtual vtable slots live just before the MethodTableAuxiliaryData, growing backwards.
    const aux = m.readPointer(mt.address + d.offset('MethodTable', 'AuxiliaryData'));
    const offset = (m.readU16(aux + d.offset('MethodTableAuxiliaryData', 'OffsetToNonVirtualSlots')) << 16) >> 16;
    return m.readPointer(aux + offset - 8 * (1 + slot - mt.numVirtuals));
  }

  /** SOS's DAC method name (`GetMethodDescName`): the type in DAC style, `.`, the method name, a generic method's
   * instantiation as `[[Arg, Assembly],...]`, and the parameters in SigFormat style; LCG methods as
   * `DynamicClass.Name`. @throws DumpsleuthError when the module's metadata cannot be read. */
  name(md: number): string {
    const info = this.read(md);
    const mt = this.mts.read(info.methodTable);
    try {
      return this.nameOf(md, info, mt);
    } catch (e) {
      // A name that cannot be read is a loss of the command that wanted it: the module's missing metadata says why.
      if (e instanceof DumpsleuthError) this.names.recordProblem(mt.module, e.message);
      throw e;
    }
  }

  private nameOf(md: number, info: MethodDescInfo, mt: MethodTableInfo): string {
    if (info.classification === CLASSIFICATION_ARRAY && mt.isArray) return this.arrayMethodName(info, mt);
    if (info.classification === CLASSIFICATION_DYNAMIC) {
      const nameAddress = this.rt.memory.readPointer(md + this.rt.descriptor.offset('DynamicMethodDesc', 'MethodName'));
      return `DynamicClass.${readUtf8(this.rt, nameAddress)}`;
    }
    const meta = this.names.moduleMetadata(mt.module);
    if (meta instanceof Error) throw meta;
    let text = `${this.names.dacName(mt.address)}.${meta.metadata.getMethodName(info.token)}`;
    // A generic method definition (its instantiation is its own type variables) prints no instantiation, and its
    // signature keeps `!!0`; an instantiated one prints `[[Arg, Assembly],...]` and substitutes the arguments.
    const inst = info.methodInstantiation;
    const instantiated = inst.length > 0 && !inst.every((h) => this.names.node(h, 0).kind === 'var');
    if (instantiated) text += `[${inst.map((h) => this.dacGenericArg(h)).join(',')}]`;
    const sig = meta.metadata.getMethodSignature(info.token);
    // As for generic methods, a method of a generic type definition keeps `!0` for the type's variables.
    const ctx: SigFormatContext = {
      ...(mt.isGenericTypeDefinition ? {} : { typeArgs: this.mts.instantiation(mt).map((h) => this.sigName(h, 0)) }),
      ...(instantiated ? { methodArgs: inst.map((h) => this.sigName(h, 0)) } : {}),
      nameOfTypeHandle: (h) => this.sigName(h, 0),
    };
    return text + formatSigParams(meta.metadata, sig, ctx);
  }

  /** One generic argument in DAC style: `[Name, Assembly]`, or a bare type variable name. */
  private dacGenericArg(handle: number): string {
    const node = this.names.node(handle, 0);
    const name = this.names.dacName(handle);
    const assembly = assemblyOfNode(node);
    return assembly === undefined ? name : `[${name}, ${assembly}]`;
  }

  /** Array methods have no metadata: Get, Set, Address and the constructors, by their index after the virtuals
   * (ArrayMethodDesc::GetArrayFuncIndex); each index takes `rank` Int32s, Set also the element. */
  private arrayMethodName(info: MethodDescInfo, mt: MethodTableInfo): string {
    const rank = this.mts.arrayRank(mt);
    const element = this.sigName(this.mts.arrayElementType(mt), 0);
    const index = info.slot - mt.numVirtuals;
    const ints = (n: number) => Array.from({ length: n }, () => 'Int32');
    const type = this.names.dacName(mt.address);
    if (index === 0) return `${type}.Get(${ints(rank).join(', ')})`;
    if (index === 1) return `${type}.Set(${[...ints(rank), element].join(', ')})`;
    if (index === 2) return `${type}.Address(${ints(rank).join(', ')})`;
    return `${type}..ctor(${ints(rank * (index - 2)).join(', ')})`;
  }

  /** The JIT state `dumpmt -md` shows for a MethodDesc whose slot holds `entryPoint`. */
  jitState(md: number, entryPoint: number): JitState {
    // SOS first asks the code manager about the slot's value; a slot that holds native code rather than a precode
    // is also the MethodDesc's recorded native code, so the MethodDesc alone decides here.
    void entryPoint;
    const code = md !== 0 ? this.read(md).nativeCode : 0;
    if (code === 0) return 'NONE';
    if (code >= this.rt.coreclrBase && this.inCoreclr(code)) return 'FCALL';
    return this.inManagedImage(code) ? 'PreJIT' : 'JIT';
  }

  /** The metadata of the module defining `md`, for callers that need more than the name. */
  metadataOf(md: number): ModuleMetadata | Error {
    return this.names.moduleMetadata(this.mts.read(this.read(md).methodTable).module);
  }

  private sigName(handle: number, depth: number): string {
    if (depth > 32) return '**UNKNOWN TYPE**';
    const node = this.names.node(handle, 0);
    const render = (n: typeof node): string => {
      switch (n.kind) {
        case 'def': {
          const last = n.segments[n.segments.length - 1] ?? '';
          // SigFormat prints Namespace.Name of the TypeDef only (no enclosing types); primitives without namespace.
          const first = n.segments[0] ?? '';
          const ns = n.segments.length > 1 ? '' : first.includes('.') ? first.slice(0, first.lastIndexOf('.') + 1) : '';
          const simple = n.segments.length > 1 ? last : first.slice(first.lastIndexOf('.') + 1);
          const base = ns + simple;
          const prim = PRIMITIVE_SIG_NAMES[base];
          const name = n.assembly === 'System.Private.CoreLib' && prim ? prim : base;
          return n.args.length ? `${name}<${n.args.map(render).join(',')}>` : name;
        }
        case 'array':
          return render(n.element) + (n.sz ? '[]' : `[${','.repeat(n.rank - 1)}]`);
        case 'pointer':
          return render(n.element) + '*';
        case 'byref':
          return render(n.element) + ' ByRef';
        case 'var':
          return n.name;
        default:
          return '**UNKNOWN TYPE**';
      }
    };
    return render(node);
  }

  private inCoreclr(address: number): boolean {
    const mod = this.rt.host.modules.find((x) => address >= x.baseAddress && address < x.endAddress);
    return mod !== undefined && mod.baseAddress === this.rt.coreclrBase;
  }

  /** ReadyToRun code lies inside a loaded (mapped) PE image of a managed module; JIT code in the code heaps. */
  private inManagedImage(address: number): boolean {
    this.imageRanges ??= this.modules
      .enumerate()
      .filter((x) => x.isMappedLayout && x.imageSize > 0)
      .map((x) => [x.imageBase, x.imageBase + x.imageSize] as const);
    return this.imageRanges.some(([lo, hi]) => address >= lo && address < hi);
  }
}

const PRIMITIVE_SIG_NAMES: Record<string, string> = {
  'System.Void': 'Void',
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
  'System.TypedReference': 'TypedReference',
};

function assemblyOfNode(node: TypeNameNode): string | undefined {
  switch (node.kind) {
    case 'def':
      return node.assembly;
    case 'array':
    case 'pointer':
    case 'byref':
      return assemblyOfNode(node.element);
    default:
      return undefined;
  }
}

/** A NUL-terminated UTF-8 string of the target (at most 1024 bytes); '' when unreadable. */
export function readUtf8(rt: DotNetRuntime, address: number): string {
  if (address === 0) return '';
  const bytes = rt.memory.readUpTo(address, 1024);
  let end = 0;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.subarray(0, end)).toString('utf8');
}
