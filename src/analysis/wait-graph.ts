/**
 * The wait-for graph of a hung process: which thread holds which lock (Monitor owners from the sync block table,
 * `System.Threading.Lock` owners from the object's `_owningThreadId`) and which thread waits to enter which lock
 * (its stack is in Monitor.Enter / Lock.Enter, and exactly one lock held by another thread is referenced from the
 * stack of those entry frames). Only provable edges are kept: an ambiguous waiter has no edge.
 */
import { DumpsleuthError } from '../errors';
import type { ObjectGraph } from '../heap/object-graph';
import type { ObjectReader } from '../heap/object-reader';
import type { CodeResolver } from '../runtime/code/code-resolver';
import type { StackFrame, StackWalk } from '../runtime/code/stack-walker';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import { managedLockReader } from '../heap/managed-lock';
import { readSyncBlocks } from '../runtime/sync-block-table';
import type { ClrThread } from '../runtime/thread-store';
import type { TypeNameResolver } from '../runtime/type-names';

/** A lock some thread holds. */
export interface HeldLock {
  readonly object: number;
  readonly kind: 'Monitor' | 'Lock';
  /** The owning thread's managed id (Monitor) or OS thread id (Lock keeps `_owningThreadId` as the OS id on CoreCLR,
   * checked on the hang scenario's dump against clrthreads). */
  readonly ownerId: number;
  readonly recursion: number;
}

/** A thread blocked entering a lock. */
export interface LockWait {
  readonly thread: ClrThread;
  readonly lock: HeldLock;
  readonly owner: ClrThread;
  /** The first frame outside the lock's entry methods: the method that asked for the lock. */
  readonly callerMethodDesc: number;
  /** The thread's managed frames, innermost first (methods only). */
  readonly methods: readonly number[];
}

/** What the wait-for graph needs. */
export interface WaitGraphInputs {
  readonly runtime: DotNetRuntime;
  readonly graph: ObjectGraph;
  readonly objects: ObjectReader;
  readonly names: TypeNameResolver;
  readonly code: CodeResolver;
  readonly threads: readonly ClrThread[];
  walkThread(thread: ClrThread): StackWalk | undefined;
}

/** The locks held and the provable waits. */
export interface WaitGraph {
  readonly held: ReadonlyMap<number, HeldLock>;
  readonly waits: readonly LockWait[];
}

const ENTRY_METHOD = /^System\.Threading\.(Monitor\.(Enter|TryEnter|ReliableEnter)|Lock\.(Enter|TryEnter))/;
const FRAMEWORK_WAIT = /^System\.Threading\./;
const MAX_SCAN_BYTES = 1 << 20;

/** Builds the wait-for graph. @throws DumpsleuthError when the sync block table cannot be read. */
export function buildWaitGraph(inputs: WaitGraphInputs): WaitGraph {
  const held = new Map<number, HeldLock>();
  // On .NET 11 a Monitor is implemented by a managed Lock: a stack in Monitor.Enter references both the object and
  // that Lock, which are one lock (the Lock is never a lock of its own in the graph).
  const monitorOfLock = new Map<number, number>();
  for (const e of readSyncBlocks(inputs.runtime, managedLockReader(inputs.objects, inputs.names))) {
    if (e.isFree) continue;
    if (e.lockObject !== undefined) monitorOfLock.set(e.lockObject, e.object);
    if (e.holdingThreadId !== 0 && e.monitorHeld % 2 === 1) held.set(e.object, { object: e.object, kind: 'Monitor', ownerId: e.holdingThreadId, recursion: e.recursion });
  }
  for (const l of findOwnedLocks(inputs)) if (!monitorOfLock.has(l.object)) held.set(l.object, l);
  const live = inputs.threads.filter((t) => !t.isDead);
  const byId = new Map(live.map((t) => [t.managedId, t]));
  const byOsId = new Map(live.filter((t) => t.osId !== 0).map((t) => [t.osId, t]));
  const ownerOf = (lock: HeldLock): ClrThread | undefined => (lock.kind === 'Lock' ? byOsId : byId).get(lock.ownerId);
  const waits: LockWait[] = [];
  if (held.size === 0) return { held, waits };
  const m = inputs.runtime.memory;
  for (const thread of inputs.threads) {
    if (thread.isDead) continue;
    const walk = inputs.walkThread(thread);
    if (!walk) continue;
    const frames = walk.frames.filter((f): f is Extract<StackFrame, { kind: 'managed' }> => f.kind === 'managed');
    const names = frames.map((f) => inputs.code.methodDescs.name(f.methodDesc));
    // The outermost entry method of the innermost run of System.Threading frames.
    let entry = -1;
    for (let i = 0; i < frames.length && FRAMEWORK_WAIT.test(names[i]!); i++) if (ENTRY_METHOD.test(names[i]!)) entry = i;
    if (entry < 0 || entry + 1 >= frames.length) continue;
    const caller = frames[entry + 1]!;
    const from = frames[0]!.sp;
    const to = Math.min(caller.sp, from + MAX_SCAN_BYTES);
    const candidates = new Set<number>();
    for (let at = from; at < to; at += 8) {
      let word: number;
      try {
        // Two halves: a stack slot may hold any 64-bit value (-1 spilled as a long), which is no object address
        // and must not end the scan.
        const high = m.readU32(at + 4);
        if (high >= 0x200000) continue;
        word = high * 0x1_0000_0000 + m.readU32(at);
      } catch (e) {
        if (e instanceof DumpsleuthError) break;
        throw e;
      }
      const key = monitorOfLock.get(word) ?? word;
      const lock = held.get(key);
      if (lock && ownerOf(lock) !== thread) candidates.add(key);
    }
    if (candidates.size !== 1) continue;
    const lock = held.get([...candidates][0]!)!;
    const owner = ownerOf(lock);
    if (!owner) continue;
    waits.push({ thread, lock, owner, callerMethodDesc: caller.methodDesc, methods: frames.map((f) => f.methodDesc) });
  }
  return { held, waits };
}

/** The cycles of the wait-for graph (each thread waits for at most one lock), each listed from its lowest thread id. */
export function findDeadlocks(graph: WaitGraph): LockWait[][] {
  const next = new Map(graph.waits.map((w) => [w.thread.managedId, w]));
  const cycles: LockWait[][] = [];
  const done = new Set<number>();
  for (const start of next.keys()) {
    const path: number[] = [];
    const onPath = new Set<number>();
    let at: number | undefined = start;
    while (at !== undefined && !done.has(at) && !onPath.has(at)) {
      path.push(at);
      onPath.add(at);
      at = next.get(at)?.owner.managedId;
    }
    if (at !== undefined && onPath.has(at)) {
      const cycle = path.slice(path.indexOf(at));
      const lowest = cycle.indexOf(Math.min(...cycle));
      cycles.push([...cycle.slice(lowest), ...cycle.slice(0, lowest)].map((id) => next.get(id)!));
    }
    for (const id of path) done.add(id);
  }
  return cycles;
}

/** `System.Threading.Lock` objects with an owner (`_owningThreadId` ≠ 0). */
function findOwnedLocks(inputs: WaitGraphInputs): HeldLock[] {
  const g = inputs.graph;
  const out: HeldLock[] = [];
  const isLock = new Map<number, boolean>();
  let owningOffset: number | undefined;
  let recursionOffset: number | undefined;
  for (let i = 0; i < g.count; i++) {
    const mt = g.mtOf(i);
    let known = isLock.get(mt);
    if (known === undefined) {
      known = safeName(inputs.names, mt) === 'System.Threading.Lock';
      isLock.set(mt, known);
    }
    if (!known) continue;
    const address = g.addresses[i]!;
    if (owningOffset === undefined) {
      const info = inputs.objects.readObject(address, false);
      const rows = inputs.objects.fieldRows(info.mt, address, false);
      owningOffset = rows.find((r) => r.name === '_owningThreadId')?.offset;
      recursionOffset = rows.find((r) => r.name === '_recursionCount')?.offset;
      if (owningOffset === undefined) return out;
    }
    const owner = inputs.runtime.memory.readU32(address + owningOffset);
    if (owner === 0) continue;
    const recursion = recursionOffset === undefined ? 0 : inputs.runtime.memory.readU32(address + recursionOffset) + 1;
    out.push({ object: address, kind: 'Lock', ownerId: owner, recursion });
  }
  return out;
}

function safeName(names: TypeNameResolver, mt: number): string {
  try {
    return names.clrmdName(mt);
  } catch (e) {
    if (e instanceof DumpsleuthError) return '';
    throw e;
  }
}
