/**
 * Delegate objects → target and method, for every shape (research/code-and-stacks-net10.md §2.4–§3): closed instance,
 * open and closed static, multicast (every element), open virtual. The fields are found by name through the
 * FieldDescs of System.Delegate / System.MulticastDelegate, never by fixed offsets (their order changes in .NET 11).
 */
import { DumpsleuthError, LayoutCheckError, LimitExceededError } from '../../errors';
import { FieldDescReader } from '../field-desc';
import type { MethodTableInfo } from '../method-table';
import type { CodeAddressInfo, CodeResolver } from './code-resolver';

/** One invocation of a delegate: the object it calls on and the method it calls. */
export interface DelegateInvocation {
  /** The delegate object this element comes from (the delegate itself unless it is multicast). */
  readonly delegate: number;
  /** `_target` (for static and open delegates the runtime stores the delegate itself here). */
  readonly target: number;
  /** 0 when the method could not be found (SOS prints `(unknown)`). */
  readonly methodDesc: number;
  /** How the method was found: which field, and whether through method code or a precode. */
  readonly resolvedFrom: '_methodPtrAux' | '_methodPtr' | '_invocationCount' | 'none';
  readonly resolution: CodeAddressInfo | undefined;
  readonly methodPtr: number;
  readonly methodPtrAux: number;
}

/** A delegate's decoded fields and its invocations in invocation order. */
export interface DelegateInfo {
  readonly address: number;
  readonly methodTable: number;
  readonly invocations: readonly DelegateInvocation[];
  /** The invocations in the order SOS's dumpdelegate prints them (its LIFO work stack reverses multicast lists). */
  readonly sosOrder: readonly DelegateInvocation[];
}

interface DelegateFieldOffsets {
  readonly target: number;
  readonly methodPtr: number;
  readonly methodPtrAux: number;
  readonly invocationList: number;
  readonly invocationCount: number;
}

const MAX_INVOCATIONS = 1_000_000;
const MAX_PARENT_DEPTH = 64;

/** Decodes delegates. */
export class DelegateReader {
  private offsets?: DelegateFieldOffsets;
  private readonly fields: FieldDescReader;
  private readonly delegateMTs = new Map<number, boolean>();

  constructor(private readonly code: CodeResolver) {
    this.fields = new FieldDescReader(code.parts.runtime, code.parts.methodTables);
  }

  /** True when `mt` derives from System.Delegate (SOS IsDerivedFrom by name). */
  isDelegateType(mt: number): boolean {
    let known = this.delegateMTs.get(mt);
    if (known === undefined) {
      known = false;
      const mts = this.code.parts.methodTables;
      let cur = mts.tryRead(mt);
      for (let depth = 0; cur && depth < MAX_PARENT_DEPTH; depth++) {
        if (this.code.parts.names.dacName(cur.address) === 'System.Delegate') {
          known = true;
          if (!this.offsets) this.offsets = this.findOffsets(mts.read(mt));
          break;
        }
        cur = cur.parent !== 0 ? mts.tryRead(cur.parent) : undefined;
      }
      this.delegateMTs.set(mt, known);
    }
    return known;
  }

  /** Decodes the delegate at `address`. @throws LayoutCheckError when it is not a delegate; UnmappedAddressError. */
  read(address: number): DelegateInfo {
    const m = this.code.parts.runtime.memory;
    const mt = objectMT(m.readPointer(address));
    if (!this.isDelegateType(mt)) throw new LayoutCheckError(`0x${address.toString(16)} is not a delegate`);
    const off = this.offsets!;
    const sosOrder: DelegateInvocation[] = [];
    const work = [address];
    const seen = new Set<number>();
    while (work.length > 0) {
      const d = work.pop()!;
      if (seen.has(d)) continue;
      seen.add(d);
      if (seen.size > MAX_INVOCATIONS) throw new LimitExceededError(`delegate 0x${address.toString(16)} has more than ${MAX_INVOCATIONS} invocations`);
      const target = m.readPointer(d + off.target);
      const invocationList = m.readPointer(d + off.invocationList);
      const invocationCount = m.readI32(d + off.invocationCount);
      if (invocationList === 0) {
        sosOrder.push(this.invocation(d, target));
        continue;
      }
      // Multicast: an object[] holding `_invocationCount` delegates (it may be longer than the count).
      const listMT = this.code.parts.methodTables.tryRead(objectMT(m.readPointer(invocationList)));
      if (!listMT || !listMT.isArray) continue;
      const length = m.readU32(invocationList + 8);
      if (invocationCount < 0 || invocationCount > length) continue;
      for (let i = 0; i < invocationCount; i++) {
        const element = m.readPointer(invocationList + 16 + i * 8);
        if (element !== 0 && this.code.parts.methodTables.tryRead(objectMT(m.readPointer(element)))) work.push(element);
      }
    }
    // The work stack pops the last element first; invocation order is the reverse for each multicast level.
    return { address, methodTable: mt, invocations: [...sosOrder].reverse(), sosOrder };
  }

  /** The method of one non-multicast delegate: `_methodPtrAux` first, then `_methodPtr` (SOS TryGetMethodDescriptorForDelegate);
   * an open virtual delegate keeps its MethodDesc in `_invocationCount` (comdelegate.cpp COMDelegate::GetMethodDesc). */
  private invocation(delegate: number, target: number): DelegateInvocation {
    const m = this.code.parts.runtime.memory;
    const off = this.offsets!;
    const methodPtr = m.readPointer(delegate + off.methodPtr);
    const methodPtrAux = m.readPointer(delegate + off.methodPtrAux);
    for (const [field, value] of [['_methodPtrAux', methodPtrAux], ['_methodPtr', methodPtr]] as const) {
      if (value === 0) continue;
      const r = this.code.resolveEntryPoint(value);
      if (r.kind !== 'none') return { delegate, target, methodDesc: r.methodDesc, resolvedFrom: field, resolution: r, methodPtr, methodPtrAux };
    }
    return { delegate, target, methodDesc: 0, resolvedFrom: 'none', resolution: undefined, methodPtr, methodPtrAux };
  }

  private findOffsets(mt: MethodTableInfo): DelegateFieldOffsets {
    const found = new Map<string, number>();
    for (const cls of this.fields.hierarchy(mt)) {
      const md = this.code.parts.names.moduleMetadata(this.code.parts.methodTables.read(cls.mt).module);
      if (md instanceof Error) throw md;
      for (const f of cls.fields) {
        if (f.isStatic) continue;
        // FieldDesc offsets count from the object's data, after the MethodTable pointer.
        found.set(md.metadata.getFieldName(f.token), f.offset + 8);
      }
    }
    const get = (...names: string[]): number => {
      for (const name of names) {
        const v = found.get(name);
        if (v !== undefined) return v;
      }
      throw new LayoutCheckError(`System.Delegate has no field ${names.join(' or ')} in this runtime`);
    };
    // .NET 11 folds MulticastDelegate's two fields into Delegate: `_helperObject` holds what `_invocationList` held
    // (the invocation list of a multicast delegate) and `_extraData` what `_invocationCount` held.
    return {
      target: get('_target'),
      methodPtr: get('_methodPtr'),
      methodPtrAux: get('_methodPtrAux'),
      invocationList: get('_invocationList', '_helperObject'),
      invocationCount: get('_invocationCount', '_extraData'),
    };
  }
}

/** The MethodTable of an object header word (the low bits are GC marks). */
function objectMT(word: number): number {
  return word - (word % 8);
}

/** Whether an error from decoding one delegate should be reported (not thrown) by a caller walking many. */
export function isDelegateDecodeError(e: unknown): e is DumpsleuthError {
  return e instanceof DumpsleuthError;
}
