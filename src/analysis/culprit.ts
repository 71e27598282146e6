/**
 * Culprit attribution: walking one retention path, name every async operation on it with its state (read from the
 * framework's own state fields, by name), resolve every delegate on it (and the callbacks the operations hold) to
 * target + method, and blame the method closest to the symptom that is user code. Only framework types are named
 * here; whatever user types the path holds are found by module, never by name.
 */
import type { Confidence, Culprit } from './finding';
import { NO_OBJECT } from '../heap/object-graph';
import { ElementType } from '../runtime/metadata';
import { AnalysisContext, type FieldLayout, type ResolvedMethod, type RetentionPath } from './analysis-context';

/** What kind of asynchronous operation an object is. */
export type AsyncOperationKind = 'socket-operation' | 'socket-async-event-args' | 'overlapped' | 'task-completion-source' | 'apm-async-result';

/** One asynchronous operation object and its state as its own fields say. */
export interface AsyncOperation {
  readonly index: number;
  readonly kind: AsyncOperationKind;
  /** True when its state says it has not completed; false when it has; undefined when no field says (an
   * IAsyncResult whose IsCompleted is computed). */
  readonly pending: boolean | undefined;
  /** `field = value` evidence, e.g. `_state = Waiting`, `_pNativeOverlapped = 0x7f..`. */
  readonly state: string;
  /** What a person calls it: "socket receive operation", "Overlapped packed and never freed", ... */
  readonly label: string;
}

/** A delegate found on or next to a path, with what it calls. */
export interface CallbackLink {
  /** Graph index of the delegate. */
  readonly delegate: number;
  /** Graph index of the object whose field holds it, and that field. */
  readonly holder: number;
  readonly field: string;
  readonly target: number;
  readonly method: ResolvedMethod;
  /** A delegate, or an async method's state machine box (then `delegate` is the box and the method is named from
   * the state machine's type). */
  readonly via: 'delegate' | 'state-machine';
  /** Position on the path (of the delegate, or of the operation it hangs off). */
  readonly position: number;
  readonly onPath: boolean;
}

/** The result of walking one path. */
export interface CulpritAnalysis {
  readonly culprit?: Culprit;
  readonly callback?: CallbackLink;
  /** The APM state object that also holds the callback (the `AsyncState` / user token of the operation). */
  readonly stateObject?: { readonly index: number; readonly field: string };
  /** Async operations on the path, root first. */
  readonly operations: readonly AsyncOperation[];
  /** Every delegate found, root first. */
  readonly callbacks: readonly CallbackLink[];
  readonly confidence: Confidence;
  /** SOS-style commands that prove each link, in the order a person would run them. */
  readonly verify: readonly string[];
}

// Task.m_stateFlags bits (Task.cs TASK_STATE_*): completed means ran to completion, faulted or canceled.
const TASK_STATE_FAULTED = 0x200000;
const TASK_STATE_CANCELED = 0x400000;
const TASK_STATE_RAN_TO_COMPLETION = 0x1000000;
const TASK_COMPLETED_MASK = TASK_STATE_FAULTED | TASK_STATE_CANCELED | TASK_STATE_RAN_TO_COMPLETION;

/** Field names that hold an APM operation's state object or a SocketAsyncEventArgs' user token. */
const STATE_OBJECT_FIELDS = ['<AsyncState>k__BackingField', '_asyncState', 'm_asyncState', 'AsyncState', '_userToken', 'm_UserToken', '<UserToken>k__BackingField', '_state', 'm_stateObject', '<State>k__BackingField'];
/** Field names of an IAsyncResult's own completion flag. */
const COMPLETED_FIELDS = ['<IsCompleted>k__BackingField', '_isCompleted', 'm_isCompleted', '_completed', 'm_completed', 'm_IsCompleted', '_isComplete'];
const TASK_FIELDS = ['_task', 'm_task', '<Task>k__BackingField'];
const SEARCH_DEPTH = 10;
const SEARCH_NODES = 4_000;

const hex = (a: number): string => '0x' + a.toString(16);

/** The state of a Task object (`m_stateFlags`): completed or not; undefined when the object is not a Task. */
export function taskCompletion(ctx: AnalysisContext, index: number): { completed: boolean; flags: number } | undefined {
  if (!ctx.derivesFrom(ctx.graph.mtOf(index), 'System.Threading.Tasks.Task')) return undefined;
  const flags = AnalysisContext.numeric(ctx.fieldValue(index, ['m_stateFlags'])?.value);
  if (flags === undefined) return undefined;
  return { completed: (flags & TASK_COMPLETED_MASK) !== 0, flags };
}

/** The async-operation reading of object `index`, or undefined when it is not an operation this module knows. */
export function describeAsyncOperation(ctx: AnalysisContext, index: number): AsyncOperation | undefined {
  const mt = ctx.graph.mtOf(index);
  const hierarchy = ctx.typeHierarchy(mt);
  const has = (name: string) => hierarchy.includes(name);
  if (has('System.Net.Sockets.SocketAsyncContext+AsyncOperation')) {
    const s = enumField(ctx, index, ['_state']);
    if (!s) return undefined;
    // AsyncOperation.State: Waiting (queued, not started) and Running are in flight; Complete/Canceled are done.
    const pending = s.name !== undefined ? /^(Waiting|Running)/.test(s.name) : s.number <= 1;
    const shortName = ctx.typeName(index).replace(/^.*\+/, '');
    const what = /Receive|Read/i.test(shortName) ? 'receive' : /Send|Write/i.test(shortName) ? 'send' : /Accept/i.test(shortName) ? 'accept' : /Connect/i.test(shortName) ? 'connect' : '';
    return { index, kind: 'socket-operation', pending, state: `_state = ${s.text}`, label: `socket ${what ? what + ' ' : ''}operation (${shortName})` };
  }
  if (has('System.Net.Sockets.SocketAsyncEventArgs')) {
    const s = enumField(ctx, index, ['_operating']);
    if (!s) return undefined;
    const pending = s.name !== undefined ? s.name === 'InProgress' : s.number === 1;
    return { index, kind: 'socket-async-event-args', pending, state: `_operating = ${s.text}`, label: pending ? 'SocketAsyncEventArgs in use' : 'SocketAsyncEventArgs' };
  }
  if (has('System.Threading.Overlapped') || has('System.Threading.OverlappedData')) {
    const v = ctx.fieldValue(index, ['_pNativeOverlapped', 'm_pNativeOverlapped']);
    const native = AnalysisContext.numeric(v?.value);
    if (native === undefined) return undefined;
    return { index, kind: 'overlapped', pending: native !== 0, state: `${v!.field.name} = ${hex(native)}`, label: native !== 0 ? 'Overlapped packed and never freed' : 'Overlapped (not packed)' };
  }
  if (ctx.derivesFrom(mt, 'System.Threading.Tasks.TaskCompletionSource')) {
    const f = ctx.findField(mt, TASK_FIELDS);
    const task = f ? ctx.referenceOf(index, f) : NO_OBJECT;
    const t = task !== NO_OBJECT ? taskCompletion(ctx, task) : undefined;
    if (!t) return undefined;
    return { index, kind: 'task-completion-source', pending: !t.completed, state: `_task.m_stateFlags = ${hex(t.flags)}`, label: t.completed ? 'TaskCompletionSource (set)' : 'TaskCompletionSource never set' };
  }
  const callbackField = ctx.fieldsOf(mt).find((f) => f.typeName === 'System.AsyncCallback');
  if (callbackField) {
    const taskField = ctx.findField(mt, TASK_FIELDS);
    const stateField = ctx.findField(mt, STATE_OBJECT_FIELDS);
    if (!taskField && !stateField && !/AsyncResult$/.test(ctx.typeName(index))) return undefined;
    if (taskField) {
      const task = ctx.referenceOf(index, taskField);
      const t = task !== NO_OBJECT ? taskCompletion(ctx, task) : undefined;
      if (t) return { index, kind: 'apm-async-result', pending: !t.completed, state: `${taskField.name}.m_stateFlags = ${hex(t.flags)}`, label: t.completed ? 'APM IAsyncResult (completed)' : 'APM IAsyncResult not completed' };
    }
    const done = ctx.fieldValue(index, COMPLETED_FIELDS);
    const n = AnalysisContext.numeric(done?.value);
    if (n !== undefined) return { index, kind: 'apm-async-result', pending: n === 0, state: `${done!.field.name} = ${n}`, label: n === 0 ? 'APM IAsyncResult not completed' : 'APM IAsyncResult (completed)' };
    return { index, kind: 'apm-async-result', pending: undefined, state: 'IsCompleted is computed (no field)', label: 'APM IAsyncResult' };
  }
  return undefined;
}

/** An int field read with its enum member name when its type is an enum. */
function enumField(ctx: AnalysisContext, index: number, names: readonly string[]): { number: number; name?: string; text: string } | undefined {
  const v = ctx.fieldValue(index, names);
  const n = AnalysisContext.numeric(v?.value);
  if (v === undefined || n === undefined) return undefined;
  const name = ctx.enumName(v.field, v.value);
  return name !== undefined ? { number: n, name, text: `${n} (${name})` } : { number: n, text: String(n) };
}

/** The delegate-typed reference fields of object `index` that are set, with the delegate's graph index. */
function delegateFields(ctx: AnalysisContext, index: number): { field: FieldLayout; delegate: number }[] {
  const out: { field: FieldLayout; delegate: number }[] = [];
  for (const f of ctx.fieldsOf(ctx.graph.mtOf(index))) {
    if (f.elementType !== ElementType.Class && f.elementType !== ElementType.Object) continue;
    const d = ctx.referenceOf(index, f);
    if (d !== NO_OBJECT && ctx.isDelegate(ctx.graph.mtOf(d))) out.push({ field: f, delegate: d });
  }
  return out;
}

/** The links of a delegate: one per invocation whose method resolves. */
function callbackLinks(ctx: AnalysisContext, delegate: number, holder: number, field: string, position: number, onPath: boolean): CallbackLink[] {
  const info = ctx.readDelegate(delegate);
  if (!info) return [];
  const out: CallbackLink[] = [];
  for (const inv of info.invocations) {
    const method = ctx.method(inv.methodDesc);
    if (method) out.push({ delegate, holder, field, target: inv.target, method, via: 'delegate', position, onPath });
  }
  return out;
}

/** Walks `path` (root first; the last node is the symptom object) and attributes it. */
export function analyzePath(ctx: AnalysisContext, path: RetentionPath): CulpritAnalysis {
  const operations: AsyncOperation[] = [];
  const callbacks: CallbackLink[] = [];
  const nodes = path.nodes;
  for (let k = 0; k < nodes.length; k++) {
    const v = nodes[k]!;
    if (k > 0 && ctx.isDelegate(ctx.graph.mtOf(v))) callbacks.push(...callbackLinks(ctx, v, nodes[k - 1]!, ctx.slotName(nodes[k - 1]!, path.edges[k]!), k, true));
    const op = describeAsyncOperation(ctx, v);
    if (op) {
      operations.push(op);
      // The callbacks an operation holds beside the path (the path may run through its state object instead).
      for (const { field, delegate } of delegateFields(ctx, v)) {
        if (nodes[k + 1] === delegate) continue;
        callbacks.push(...callbackLinks(ctx, delegate, v, field.name, k, false));
      }
    }
  }
  // Nearest the symptom wins; on the path beats beside it at the same position.
  const user = callbacks.filter((c) => c.method.isUser).sort((a, b) => b.position - a.position || Number(b.onPath) - Number(a.onPath));
  const callback = user[0];
  const stateObject = callback ? findStateObject(ctx, path, operations, callback) : undefined;
  const symptom = nodes[nodes.length - 1]!;
  let culprit: Culprit | undefined;
  if (callback) {
    const pendingOps = operations.filter((o) => o.pending !== false);
    const via = pendingOps.length > 0 ? ` of a pending ${pendingOps[pendingOps.length - 1]!.label}` : '';
    culprit = {
      method: callback.method.name,
      type: callback.method.type,
      module: callback.method.module,
      evidence: `target of the ${ctx.typeName(callback.delegate)} held by ${ctx.typeName(callback.holder)}.${callback.field}${via}; it keeps ${ctx.typeName(symptom)} ${hex(ctx.graph.addresses[symptom]!)} reachable`,
    };
  }
  const pendingCount = operations.filter((o) => o.pending === true).length;
  const confidence: Confidence = callback && pendingCount > 0 ? 'high' : callback || pendingCount > 0 ? 'medium' : 'low';
  return { culprit, callback, stateObject, operations, callbacks, confidence, verify: verifyCommands(ctx, path, operations, callback, stateObject) };
}

/** The APM state object next to the callback: an operation's state field whose object holds the same delegate. */
function findStateObject(ctx: AnalysisContext, path: RetentionPath, operations: readonly AsyncOperation[], callback: CallbackLink): { index: number; field: string } | undefined {
  const candidates = [...operations.map((o) => o.index), callback.holder];
  for (const holder of candidates) {
    const f = ctx.findField(ctx.graph.mtOf(holder), STATE_OBJECT_FIELDS);
    if (!f) continue;
    const state = ctx.referenceOf(holder, f);
    if (state === NO_OBJECT) continue;
    const held = delegateFields(ctx, state).find((d) => d.delegate === callback.delegate);
    if (held) return { index: state, field: held.field.name };
  }
  // A state object on the path itself that holds the callback.
  for (const v of path.nodes) {
    if (v === callback.holder) continue;
    const held = delegateFields(ctx, v).find((d) => d.delegate === callback.delegate);
    if (held && ctx.isUserType(ctx.graph.mtOf(v))) return { index: v, field: held.field.name };
  }
  return undefined;
}

/** gcroot of the symptom, dumpobj of its state and of every pending operation, of the callback's holder and state
 * object, dumpdelegate of the callback, and ip2md (or dumpmd when never compiled) of its method. */
function verifyCommands(ctx: AnalysisContext, path: RetentionPath, operations: readonly AsyncOperation[], callback: CallbackLink | undefined, stateObject: { index: number } | undefined): string[] {
  const a = (i: number) => hex(ctx.graph.addresses[i]!);
  const symptom = path.nodes[path.nodes.length - 1]!;
  const out = [`gcroot ${a(symptom)}`, `dumpobj ${a(symptom)}`];
  for (const op of operations) if (op.pending !== false) out.push(`dumpobj ${a(op.index)}`);
  if (callback) {
    out.push(`dumpobj ${a(callback.holder)}`);
    if (stateObject) out.push(`dumpobj ${a(stateObject.index)}`);
    if (callback.via === 'delegate') {
      out.push(`dumpdelegate ${a(callback.delegate)}`);
      out.push(callback.method.codeAddress !== 0 ? `ip2md ${hex(callback.method.codeAddress)}` : `dumpmd ${hex(callback.method.methodDesc)}`);
    } else out.push(`dumpobj ${a(callback.delegate)}`);
  }
  return [...new Set(out)];
}

/** The async method an `AsyncStateMachineBox<…, Type+<Method>d__N>` runs (its `StateMachine` field's type is the
 * compiler-generated state machine, named after the method), or undefined for other objects. */
export function asyncMethodOf(ctx: AnalysisContext, index: number): ResolvedMethod | undefined {
  const mt = ctx.graph.mtOf(index);
  const field = ctx.fieldsOf(mt).find((f) => f.name === 'StateMachine' && f.typeMT !== 0);
  if (!field) return undefined;
  const smName = ctx.parts.names.clrmdName(field.typeMT);
  const m = /^(.*)\+<([^>]+)>d__\d+$/.exec(smName);
  if (!m) return undefined;
  const info = ctx.parts.methodTables.tryRead(field.typeMT);
  if (!info) return undefined;
  return { methodDesc: 0, name: `${m[1]}.${m[2]}`, type: m[1]!, module: ctx.moduleFileName(info.module), isUser: ctx.isUserModuleAddress(info.module), codeAddress: 0 };
}

/** The callback of an operation found by looking forward from it (breadth-first over references, a few levels,
 * not into user objects): the first delegate whose method is user code. */
export function findForwardCallback(ctx: AnalysisContext, start: number): CallbackLink | undefined {
  const g = ctx.graph;
  const seen = new Set<number>([start]);
  let level = [start];
  for (let depth = 0; depth < SEARCH_DEPTH && level.length > 0 && seen.size < SEARCH_NODES; depth++) {
    const next: number[] = [];
    for (const v of level) {
      for (let e = g.edgeStart[v]!; e < g.edgeStart[v + 1]!; e++) {
        const t = g.edgeTarget[e]!;
        if (seen.has(t)) continue;
        seen.add(t);
        const mt = g.mtOf(t);
        if (ctx.isDelegate(mt)) {
          const user = callbackLinks(ctx, t, v, ctx.slotName(v, e), depth + 1, false).find((c) => c.method.isUser);
          if (user) return user;
        }
        const awaiting = asyncMethodOf(ctx, t);
        if (awaiting?.isUser) return { delegate: t, holder: v, field: ctx.slotName(v, e), target: g.addresses[t]!, method: awaiting, via: 'state-machine', position: depth + 1, onPath: false };
        if (!ctx.isUserType(mt)) next.push(t);
      }
    }
    level = next;
  }
  return undefined;
}
