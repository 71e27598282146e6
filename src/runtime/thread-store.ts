/**
 * Managed threads from the runtime's ThreadStore (Thread contract of the descriptor).
 */
import { LayoutCheckError, LimitExceededError, MissingRuntimeDataError, UnmappedAddressError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

/** `Thread::m_State` bits used by SOS's clrthreads (threads.h). */
export const ThreadStateBits = {
  AbortRequested: 0x1,
  Hijacked: 0x80,
  Background: 0x200,
  Unstarted: 0x400,
  Dead: 0x800,
  ThreadPoolWorker: 0x01000000,
  CompletionPortThread: 0x08000000,
} as const;

/** The ThreadStore's own counters, as SOS prints them in the clrthreads summary. */
export interface ThreadStoreCounts {
  readonly threadCount: number;
  readonly unstarted: number;
  readonly background: number;
  readonly pending: number;
  readonly dead: number;
}

/** One runtime `Thread` object. */
export interface ClrThread {
  readonly address: number;
  readonly managedId: number;
  readonly osId: number;
  readonly state: number;
  readonly preemptiveGCDisabled: boolean;
  /** Address of the GC handle that holds the managed System.Threading.Thread object (0 when none). */
  readonly exposedObjectHandle: number;
  /** The managed System.Threading.Thread object (0 when none or unreadable). */
  readonly exposedObject: number;
  /** Address of the handle of the last thrown exception (0 when none). */
  readonly lastThrownObjectHandle: number;
  readonly lastThrownObject: number;
  readonly allocContextPointer: number;
  readonly allocContextLimit: number;
  /** The innermost explicit Frame, or 0 when the chain is empty (FRAME_TOP). */
  readonly frame: number;
  readonly isDead: boolean;
  readonly isBackground: boolean;
  readonly isUnstarted: boolean;
  readonly isFinalizer: boolean;
  readonly isGC: boolean;
  readonly isThreadPoolWorker: boolean;
  readonly isCompletionPort: boolean;
}

const MAX_THREADS = 1_000_000;

/** Reads the ThreadStore's counters. @throws MissingRuntimeDataError / UnmappedAddressError. */
export function readThreadStoreCounts(rt: DotNetRuntime): ThreadStoreCounts {
  const d = rt.descriptor;
  const store = rt.readGlobalPointer('ThreadStore');
  const m = rt.memory;
  return {
    threadCount: m.readI32(store + d.offset('ThreadStore', 'ThreadCount')),
    unstarted: m.readI32(store + d.offset('ThreadStore', 'UnstartedCount')),
    background: m.readI32(store + d.offset('ThreadStore', 'BackgroundCount')),
    pending: m.readI32(store + d.offset('ThreadStore', 'PendingCount')),
    dead: m.readI32(store + d.offset('ThreadStore', 'DeadCount')),
  };
}

/**
 * How the Thread contract's version links the list (docs/design/datacontracts/Thread.md): on version 1 (.NET 10)
 * `FirstThreadLink` and `Thread.LinkNext` point at the next Thread's embedded SLink, so the Thread is the link minus
 * `LinkNext`'s offset; on "c1" (.NET 11) they point at the Thread itself.
 * @throws MissingRuntimeDataError for a Thread contract version dumpsleuth does not implement.
 */
export function threadLinkAdjustment(rt: Pick<DotNetRuntime, 'descriptor' | 'version'>): number {
  const version = rt.descriptor.contracts.get('Thread');
  switch (version) {
    case '1':
      return rt.descriptor.offset('Thread', 'LinkNext');
    case 'c1':
      return 0;
    default:
      throw new MissingRuntimeDataError(`the runtime (${rt.version ?? 'unknown version'}) describes Thread contract version ${version ?? '(none)'}; dumpsleuth implements versions 1 and c1`);
  }
}

/** Highest managed thread id believed (ids are small, reused integers handed out by the ThreadStore). */
const MAX_MANAGED_ID = 1 << 24;

/** Walks the ThreadStore's thread list (dead threads included) in list order. Every link is checked (aligned,
 * readable, a plausible managed id, no more threads than the store counts), so a wrong link is an error, never a
 * list of garbage threads.
 * @throws LayoutCheckError when a link does not lead to a Thread; LimitExceededError when the list does not end. */
export function readThreads(rt: Pick<DotNetRuntime, 'descriptor' | 'memory' | 'readGlobalPointer' | 'version'>): ClrThread[] {
  const d = rt.descriptor;
  const m = rt.memory;
  const store = rt.readGlobalPointer('ThreadStore');
  const linkAdjustment = threadLinkAdjustment(rt);
  const linkNextOffset = d.offset('Thread', 'LinkNext');
  const storeCount = m.readI32(store + d.offset('ThreadStore', 'ThreadCount'));
  const finalizer = safePointer(rt, 'FinalizerThread');
  const gcThread = safePointer(rt, 'GCThread');
  const handleField = d.has('Thread', 'ExposedObject') ? 'ExposedObject' : 'GCHandle';
  const off = {
    id: d.offset('Thread', 'Id'),
    osId: d.offset('Thread', 'OSId'),
    state: d.offset('Thread', 'State'),
    preemptive: d.offset('Thread', 'PreemptiveGCDisabled'),
    handle: d.offset('Thread', handleField),
    lastThrown: d.offset('Thread', 'LastThrownObject'),
    frame: d.offset('Thread', 'Frame'),
    rtl: d.offset('Thread', 'RuntimeThreadLocals'),
  };
  const result: ClrThread[] = [];
  const seen = new Set<number>();
  let link = m.readPointer(store + d.offset('ThreadStore', 'FirstThreadLink'));
  while (link !== 0) {
    const t = link - linkAdjustment;
    if (seen.has(t)) throw new LayoutCheckError(`the thread list links back to Thread 0x${t.toString(16)} after ${result.length} threads; the thread list cannot be trusted`);
    seen.add(t);
    if (result.length >= MAX_THREADS) throw new LimitExceededError(`more than ${MAX_THREADS} threads in the ThreadStore list`);
    const where = result.length === 0 ? 'ThreadStore.FirstThreadLink' : `Thread 0x${result[result.length - 1]!.address.toString(16)}.LinkNext`;
    checkThreadLink(rt, t, off.id, where, result.length, storeCount);
    const state = m.readU32(t + off.state);
    const exposedObjectHandle = m.readPointer(t + off.handle);
    const lastThrownObjectHandle = m.readPointer(t + off.lastThrown);
    const [allocContextPointer, allocContextLimit] = readThreadAllocContext(rt, t + off.rtl);
    result.push({
      address: t,
      managedId: m.readU32(t + off.id),
      osId: m.readU64(t + off.osId),
      state,
      preemptiveGCDisabled: m.readU32(t + off.preemptive) !== 0,
      exposedObjectHandle,
      exposedObject: derefHandle(rt, exposedObjectHandle),
      lastThrownObjectHandle,
      lastThrownObject: derefHandle(rt, lastThrownObjectHandle),
      allocContextPointer,
      allocContextLimit,
      frame: readFrameLink(rt, t + off.frame),
      isDead: (state & ThreadStateBits.Dead) !== 0,
      isBackground: (state & ThreadStateBits.Background) !== 0,
      isUnstarted: (state & ThreadStateBits.Unstarted) !== 0,
      isFinalizer: t === finalizer,
      isGC: t === gcThread,
      isThreadPoolWorker: (state & ThreadStateBits.ThreadPoolWorker) !== 0,
      isCompletionPort: (state & ThreadStateBits.CompletionPortThread) !== 0,
    });
    link = m.readPointer(t + linkNextOffset);
  }
  return result;
}

function checkThreadLink(rt: Pick<DotNetRuntime, 'memory' | 'version'>, t: number, idOffset: number, where: string, index: number, storeCount: number): void {
  const bad = (why: string): LayoutCheckError =>
    new LayoutCheckError(`thread list link ${where} = 0x${t.toString(16)} (Thread contract of .NET ${rt.version ?? '?'}): ${why}; the thread list cannot be trusted`);
  if (t <= 0 || t % 8 !== 0) throw bad('not an aligned address');
  if (index >= storeCount) throw bad(`more threads than ThreadStore.ThreadCount (${storeCount})`);
  let id: number;
  try {
    id = rt.memory.readU32(t + idOffset);
  } catch (e) {
    if (e instanceof UnmappedAddressError) throw bad('not in the dump');
    throw e;
  }
  if (id === 0 || id > MAX_MANAGED_ID) throw bad(`its managed id would be ${id}`);
}

function safePointer(rt: Pick<DotNetRuntime, 'readGlobalPointer'>, global: string): number {
  try {
    return rt.readGlobalPointer(global);
  } catch {
    return 0;
  }
}

function derefHandle(rt: Pick<DotNetRuntime, 'memory'>, handle: number): number {
  if (handle === 0) return 0;
  try {
    return rt.memory.readPointer(handle);
  } catch {
    return 0;
  }
}

/** Thread → RuntimeThreadLocals* → EEAllocContext → GCAllocContext {Pointer, Limit}. [0, 0] when absent. */
function readThreadAllocContext(rt: Pick<DotNetRuntime, 'descriptor' | 'memory'>, rtlFieldAddress: number): [number, number] {
  const d = rt.descriptor;
  const m = rt.memory;
  const rtl = m.readPointer(rtlFieldAddress);
  if (rtl === 0) return [0, 0];
  let ctx = rtl + d.offset('RuntimeThreadLocals', 'AllocContext');
  if (d.has('EEAllocContext', 'GCAllocationContext')) ctx += d.offset('EEAllocContext', 'GCAllocationContext');
  try {
    const ptr = m.readPointer(ctx + d.offset('GCAllocContext', 'Pointer'));
    const limit = m.readPointer(ctx + d.offset('GCAllocContext', 'Limit'));
    return [ptr, limit];
  } catch {
    return [0, 0];
  }
}

/** A Frame link: FRAME_TOP is all ones (beyond 2^53), which means "no more frames". */
function readFrameLink(rt: Pick<DotNetRuntime, 'descriptor' | 'memory'>, address: number): number {
  const lo = rt.memory.readU32(address);
  const hi = rt.memory.readU32(address + 4);
  if (lo === 0xffffffff && hi === 0xffffffff) return 0;
  return rt.memory.readPointer(address);
}
