/**
 * Managed threads from the runtime's ThreadStore (Thread contract of the descriptor).
 */
import { LimitExceededError } from '../errors';
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

/** Walks the ThreadStore's thread list (dead threads included) in list order.
 * @throws LimitExceededError when the list does not end (corrupt dump). */
export function readThreads(rt: DotNetRuntime): ClrThread[] {
  const d = rt.descriptor;
  const m = rt.memory;
  const store = rt.readGlobalPointer('ThreadStore');
  const linkOffset = d.offset('Thread', 'LinkNext');
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
    const t = link - linkOffset;
    if (seen.has(t)) break;
    seen.add(t);
    if (result.length >= MAX_THREADS) throw new LimitExceededError(`more than ${MAX_THREADS} threads in the ThreadStore list`);
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
    link = m.readPointer(t + linkOffset);
  }
  return result;
}

function safePointer(rt: DotNetRuntime, global: string): number {
  try {
    return rt.readGlobalPointer(global);
  } catch {
    return 0;
  }
}

function derefHandle(rt: DotNetRuntime, handle: number): number {
  if (handle === 0) return 0;
  try {
    return rt.memory.readPointer(handle);
  } catch {
    return 0;
  }
}

/** Thread → RuntimeThreadLocals* → EEAllocContext → GCAllocContext {Pointer, Limit}. [0, 0] when absent. */
function readThreadAllocContext(rt: DotNetRuntime, rtlFieldAddress: number): [number, number] {
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
function readFrameLink(rt: DotNetRuntime, address: number): number {
  const lo = rt.memory.readU32(address);
  const hi = rt.memory.readU32(address + 4);
  if (lo === 0xffffffff && hi === 0xffffffff) return 0;
  return rt.memory.readPointer(address);
}
