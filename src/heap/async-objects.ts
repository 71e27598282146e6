/**
 * The async "stacks" on the GC heap as dotnet-dump's `dumpasync` synthesizes them: every Task (async state machine
 * boxes included), its state flags, a box's compiler-generated state machine and await state (`<>1__state`), and
 * its continuations (`m_continuationObject`, followed through continuation wrappers and continuation lists to the
 * task or box that will run). A task nothing continues to is the top of a chain.
 */
import { DumpsleuthError, LimitExceededError } from '../errors';
import type { MethodTableInfo } from '../runtime/method-table';
import type { ObjectReader } from './object-reader';

/** Where a field lives: a reference (`ref` its value), an embedded struct (`mt` its MethodTable) or another value. */
export interface FieldSlot {
  readonly address: number;
  readonly kind: 'reference' | 'valuetype' | 'other';
  readonly mt: number;
  readonly ref: number;
}

/** One task-like object of an async chain. */
export interface AsyncObject {
  readonly address: number;
  readonly mt: number;
  /** True for `AsyncTaskMethodBuilder<T>+AsyncStateMachineBox<TStateMachine>`. */
  readonly isStateMachine: boolean;
  /** `m_stateFlags`. */
  readonly stateFlags: number;
  /** The box's `StateMachine` (a struct inside the box in release builds, an object in debug builds). */
  readonly stateMachine?: { readonly address: number; readonly mt: number; readonly isValueType: boolean };
  /** `<>1__state`: -1 running or not started, -2 finished, n ≥ 0 suspended at await n. */
  readonly awaitState: number;
  /** Continuation objects (resolved), in `m_continuationObject` / list order; they need not be tasks. */
  readonly continuations: number[];
  /** True when no other collected object has this one as a continuation. */
  topLevel: boolean;
}

/** The task state bits a completed task has (RanToCompletion | Faulted | Canceled). */
export const TASK_STATE_COMPLETED_MASK = 0x1600000;

/** Options for collecting (as dumpasync's `--completed`). */
export interface CollectAsyncOptions {
  readonly includeCompleted: boolean;
}

const MAX_OBJECTS = 10_000_000;
const MAX_LIST = 1_000_000;
const BOX_PREFIX = 'System.Runtime.CompilerServices.AsyncTaskMethodBuilder<';
const CONTINUATION_WRAPPER = 'System.Runtime.CompilerServices.AsyncMethodBuilderCore+ContinuationWrapper';

/** True for an async state machine box type name (dotnet-dump matches the name the same way). */
export function isStateMachineBoxName(name: string): boolean {
  return name.startsWith(BOX_PREFIX) && name.indexOf('AsyncStateMachineBox', BOX_PREFIX.length) >= 0;
}

/** Reads tasks and their continuations; `nameOf` gives ClrMD's type name of a MethodTable. */
export class AsyncObjectReader {
  private readonly isTaskCache = new Map<number, boolean>();
  /** System.Threading.Tasks.Task's MethodTable, once a task has been seen. */
  taskMethodTable = 0;
  private readonly fieldCache = new Map<string, { delta: number; kind: FieldSlot['kind']; mt: number } | null>();

  constructor(
    readonly objects: ObjectReader,
    private readonly nameOf: (mt: number) => string,
  ) {}

  /** True when `mt` is System.Threading.Tasks.Task or derives from it. Decided once per MethodTable of the chain
   * (every ancestor visited is remembered too), naming only non-generic types: Task is not generic, and naming a
   * generic instantiation is the costly part of a heap-wide scan. */
  isTask(mt: number): boolean {
    const known = this.isTaskCache.get(mt);
    if (known !== undefined) return known;
    const chain: number[] = [];
    let result = false;
    let taskAt = -1;
    let cur: MethodTableInfo | undefined = this.objects.tryReadMethodTable(mt);
    for (let depth = 0; cur && depth < 64; depth++) {
      const cached = this.isTaskCache.get(cur.address);
      if (cached !== undefined) {
        result = cached;
        break;
      }
      chain.push(cur.address);
      if (!cur.hasInstantiation && this.nameOf(cur.address) === 'System.Threading.Tasks.Task') {
        this.taskMethodTable = cur.address;
        taskAt = chain.length - 1;
        break;
      }
      cur = cur.parent !== 0 ? this.objects.tryReadMethodTable(cur.parent) : undefined;
    }
    // Task and everything below it in the chain are tasks; a chain that ended elsewhere shares its end's answer.
    for (let i = 0; i < chain.length; i++) this.isTaskCache.set(chain[i]!, taskAt >= 0 ? i <= taskAt : result);
    return this.isTaskCache.get(mt) ?? false;
  }

  /** Decodes one task object; undefined when it lacks `m_stateFlags` (dotnet-dump skips such objects). */
  read(address: number, mt: number): Omit<AsyncObject, 'topLevel'> | undefined {
    const m = this.objects.memory;
    const flagsRow = this.field(address, mt, false, 'm_stateFlags');
    if (!flagsRow) return undefined;
    const stateFlags = m.readI32(flagsRow.address);
    const isStateMachine = isStateMachineBoxName(this.nameOf(mt));
    let stateMachine: AsyncObject['stateMachine'];
    let awaitState = 0;
    if (isStateMachine) {
      const sm = this.field(address, mt, false, 'StateMachine');
      if (sm?.kind === 'valuetype' && sm.mt !== 0) stateMachine = { address: sm.address, mt: sm.mt, isValueType: true };
      else if (sm?.kind === 'reference' && sm.ref !== 0 && this.validObject(sm.ref)) stateMachine = { address: sm.ref, mt: this.mtOf(sm.ref), isValueType: false };
      if (stateMachine) {
        const state = this.field(stateMachine.address, stateMachine.mt, stateMachine.isValueType, '<>1__state');
        if (state) awaitState = m.readI32(state.address);
      }
    }
    const continuations: number[] = [];
    const cont = this.field(address, mt, false, 'm_continuationObject');
    if (cont?.kind === 'reference' && cont.ref !== 0 && this.validObject(cont.ref)) {
      this.addContinuation(this.resolveContinuation(cont.ref), continuations);
    }
    return { address, mt, isStateMachine, stateFlags, ...(stateMachine ? { stateMachine } : {}), awaitState, continuations };
  }

  /** Where the field `name` of the object (or struct) at `address` with MethodTable `mt` lives and what it holds
   * (a reference, or an embedded struct with its MethodTable); cached by MethodTable. */
  field(address: number, mt: number, isValueType: boolean, name: string): FieldSlot | undefined {
    const key = `${mt}|${isValueType ? 1 : 0}|${name}`;
    let shape = this.fieldCache.get(key);
    if (shape === undefined) {
      const info = this.objects.tryReadMethodTable(mt);
      const row = info ? this.objects.fieldRows(info, address, isValueType).find((r) => r.name === name && !r.fd.isStatic) : undefined;
      shape = row
        ? { delta: row.address - address, kind: row.value.kind === 'reference' ? 'reference' : row.value.kind === 'valuetype' ? 'valuetype' : 'other', mt: row.value.kind === 'valuetype' ? row.value.mt : 0 }
        : null;
      this.fieldCache.set(key, shape);
    }
    if (shape === null) return undefined;
    const at = address + shape.delta;
    return { address: at, kind: shape.kind, mt: shape.mt, ref: shape.kind === 'reference' ? this.objects.memory.readPointer(at) : 0 };
  }

  /** The reference held by `name`, 0 when absent, null or not a readable object. */
  refField(address: number, name: string): number {
    const mt = this.mtOf(address);
    if (mt === 0) return 0;
    const row = this.field(address, mt, false, name);
    if (!row || row.kind !== 'reference' || row.ref === 0) return 0;
    return this.validObject(row.ref) ? row.ref : 0;
  }

  /** The MethodTable of an object, 0 when it is not readable. */
  mtOf(address: number): number {
    try {
      const raw = this.objects.memory.readPointer(address);
      const mt = raw - (raw % 8);
      return this.objects.tryReadMethodTable(mt) ? mt : 0;
    } catch (e) {
      if (e instanceof DumpsleuthError) return 0;
      throw e;
    }
  }

  private validObject(address: number): boolean {
    return this.mtOf(address) !== 0;
  }

  /** Follows a continuation to what will run: a box as is; a task continuation's `m_task`; an action (or an action
   * wrapper's `m_action`) to its `_target`, unwrapping a ContinuationWrapper. */
  resolveContinuation(continuation: number): number {
    const mt = this.mtOf(continuation);
    if (mt !== 0 && this.isTask(mt) && isStateMachineBoxName(this.nameOf(mt))) return continuation;
    const task = this.refField(continuation, 'm_task');
    if (task !== 0) return task;
    let current = continuation;
    const action = this.refField(current, 'm_action');
    if (action !== 0) current = action;
    const target = this.refField(current, '_target');
    if (target !== 0) {
      current = target;
      if (this.nameOf(this.mtOf(current)) === CONTINUATION_WRAPPER) {
        const inner = this.refField(current, '_continuation');
        if (inner !== 0) {
          current = inner;
          const innerTarget = this.refField(current, '_target');
          if (innerTarget !== 0) current = innerTarget;
        }
      }
    }
    return current;
  }

  private addContinuation(continuation: number, out: number[]): void {
    const name = this.nameOf(this.mtOf(continuation));
    if (!name.startsWith('System.Collections.Generic.List<')) {
      out.push(continuation);
      return;
    }
    const items = this.refField(continuation, '_items');
    if (items === 0) return;
    const array = this.objects.readArray(this.objects.readObject(items, false));
    if (array.rank !== 1) return;
    if (array.length > MAX_LIST) throw new LimitExceededError(`continuation list 0x${continuation.toString(16)} has ${array.length} items`);
    for (let i = 0; i < array.length; i++) {
      const item = this.objects.memory.readPointer(array.dataAddress + i * array.componentSize);
      if (item !== 0 && this.validObject(item)) out.push(this.resolveContinuation(item));
    }
  }
}

/** Collects the async objects of the heap in heap order (`forEach` walks the heap: address, MethodTable, size) and
 * marks the top of each chain. */
export function collectAsyncObjects(
  reader: AsyncObjectReader,
  forEach: (visit: (address: number, mt: number, size: number) => void) => void,
  options: CollectAsyncOptions,
): Map<number, AsyncObject> {
  const found = new Map<number, AsyncObject>();
  forEach((address, mt, size) => {
    // dotnet-dump skips objects too small to be tasks before asking their type.
    if (size <= 24 || !reader.isTask(mt) || found.has(address)) return;
    const obj = reader.read(address, mt);
    if (!obj) return;
    if (!options.includeCompleted && (obj.stateFlags & TASK_STATE_COMPLETED_MASK) !== 0) return;
    if (found.size >= MAX_OBJECTS) throw new LimitExceededError(`more than ${MAX_OBJECTS} tasks on the heap`);
    found.set(address, { ...obj, topLevel: true });
  });
  for (const obj of found.values()) {
    for (const c of obj.continuations) {
      const next = found.get(c);
      if (next) next.topLevel = false;
    }
  }
  return found;
}
