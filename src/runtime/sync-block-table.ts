/**
 * The sync block table (`g_pSyncTable`, descriptor global `SyncTableEntries`) and the Monitor state in each
 * SyncBlock's `AwareLock`, as SOS's `syncblk` reads them.
 */
import { LayoutCheckError, LimitExceededError, MissingRuntimeDataError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

/**
 * .NET 10's `AwareLock` (syncblk.h) at the start of each SyncBlock; the descriptor describes only `InteropInfo`.
 * `m_lockState` (u32), `m_Recursion` (u32), `m_HoldingThreadId` (managed id, u32), `m_HoldingOSThreadId` (size_t),
 * `m_TransientPrecious` (i32), `m_dwSyncIndex` (u32, the back pointer to the table index, checked below).
 */
const AwareLockLayout = {
  lockState: 0,
  recursion: 4,
  holdingThreadId: 8,
  holdingOSThreadId: 16,
  syncIndex: 28,
} as const;

/** `AwareLock::LockState` bits (syncblk.h): bit 0 is "locked", the waiter count starts at bit 6. */
const IS_LOCKED_MASK = 1;
const WAITER_COUNT_SHIFT = 6;
/** `SyncBlock::m_dwSyncIndex` keeps flags above the index (the top bit marks a precious sync block). */
const SYNC_INDEX_MASK = 0x7fffffff;

const MAX_SYNC_BLOCKS = 10_000_000;

/** One entry of the sync block table. */
export interface SyncBlockEntry {
  /** The table index (the number in the object header), from 1. */
  readonly index: number;
  readonly syncBlock: number;
  /** The object the entry belongs to (0 when free). */
  readonly object: number;
  /** On the free list (the object slot holds the next free index with bit 0 set). */
  readonly isFree: boolean;
  /** SOS's MonitorHeld: 1 when locked, plus 2 per waiting thread. */
  readonly monitorHeld: number;
  readonly recursion: number;
  /** Managed id of the owning thread (0 when not held). */
  readonly holdingThreadId: number;
  readonly holdingOSThreadId: number;
  /** Threads blocked waiting to enter (from the lock state's waiter count). */
  readonly waiterCount: number;
  /** The managed `System.Threading.Lock` that implements this Monitor (.NET 11), when there is one. */
  readonly lockObject?: number;
}

/** The fields of a managed `System.Threading.Lock` (read by the caller, which knows managed field layouts). */
export interface ManagedLockState {
  readonly state: number;
  readonly owningThreadId: number;
  readonly recursionCount: number;
}

/** Reads a `System.Threading.Lock` object's `_state`, `_owningThreadId` and `_recursionCount`; throws when the object
 * is not a Lock. */
export type ManagedLockReader = (lockObject: number) => ManagedLockState;

/**
 * Reads every used entry of the sync block table (index 1 up to the last entry in use). On a runtime whose
 * descriptor describes `SyncBlock.Lock` (.NET 11, SyncBlock contract c1) a Monitor is either a thin lock word in the
 * SyncBlock or a managed `System.Threading.Lock` behind a handle, read through `readLock` (SyncBlock.md
 * TryGetLockInfo); waiters are not counted there (the DAC reports none either).
 * @throws LayoutCheckError when a SyncBlock's back pointer does not name its own index (the AwareLock layout of this
 * runtime is not the one assumed); MissingRuntimeDataError / UnmappedAddressError when the table is unreadable.
 */
export function readSyncBlocks(rt: DotNetRuntime, readLock?: ManagedLockReader): SyncBlockEntry[] {
  const d = rt.descriptor;
  const m = rt.memory;
  const table = rt.readGlobalPointer('SyncTableEntries');
  const stride = d.size('SyncTableEntry');
  const blockOffset = d.offset('SyncTableEntry', 'SyncBlock');
  // SyncTableEntry is { SyncBlock, Object }; the descriptor names only the first field.
  const objectOffset = blockOffset === 0 ? 8 : 0;
  const entries: SyncBlockEntry[] = [];
  // Entries past the last one handed out are zero (SyncBlockCache::m_FreeSyncTableIndex is not described).
  for (let index = 1; ; index++) {
    if (index > MAX_SYNC_BLOCKS) throw new LimitExceededError(`the sync block table has more than ${MAX_SYNC_BLOCKS} entries`);
    const at = table + index * stride;
    let syncBlock: number;
    let object: number;
    try {
      syncBlock = m.readPointer(at + blockOffset);
      object = m.readPointer(at + objectOffset);
    } catch {
      break;
    }
    if (syncBlock === 0 && object === 0) break;
    const isFree = object % 2 === 1 || syncBlock === 0;
    if (isFree) {
      entries.push({ index, syncBlock, object: 0, isFree, monitorHeld: 0, recursion: 0, holdingThreadId: 0, holdingOSThreadId: 0, waiterCount: 0 });
      continue;
    }
    if (d.has('SyncBlock', 'Lock')) {
      entries.push(describedSyncBlock(rt, index, syncBlock, object, readLock));
      continue;
    }
    const backIndex = m.readU32(syncBlock + AwareLockLayout.syncIndex) & SYNC_INDEX_MASK;
    if (backIndex !== index) {
      throw new LayoutCheckError(
        `SyncBlock 0x${syncBlock.toString(16)} of sync table entry ${index} names index ${backIndex}: this runtime's AwareLock layout is not the .NET 10 one dumpsleuth reads`,
      );
    }
    const state = m.readU32(syncBlock + AwareLockLayout.lockState);
    const waiterCount = state >>> WAITER_COUNT_SHIFT;
    entries.push({
      index,
      syncBlock,
      object,
      isFree,
      monitorHeld: (state & IS_LOCKED_MASK) + waiterCount * 2,
      recursion: m.readU32(syncBlock + AwareLockLayout.recursion),
      holdingThreadId: m.readU32(syncBlock + AwareLockLayout.holdingThreadId),
      holdingOSThreadId: m.readPointer(syncBlock + AwareLockLayout.holdingOSThreadId),
      waiterCount,
    });
  }
  return entries;
}

/** One SyncBlock of a runtime that describes it (.NET 11): a managed Lock behind `SyncBlock.Lock` (a handle), else
 * the thin lock word `SyncBlock.ThinLock` (owner id and recursion under the descriptor's masks). */
function describedSyncBlock(rt: DotNetRuntime, index: number, syncBlock: number, object: number, readLock: ManagedLockReader | undefined): SyncBlockEntry {
  const d = rt.descriptor;
  const m = rt.memory;
  const base = { index, syncBlock, object, isFree: false, holdingOSThreadId: 0, waiterCount: 0 };
  const handle = m.readPointer(syncBlock + d.offset('SyncBlock', 'Lock'));
  const lockObject = handle === 0 ? 0 : m.readPointer(handle);
  if (lockObject !== 0) {
    if (readLock === undefined) throw new MissingRuntimeDataError(`sync block ${index} holds a managed Lock, which this reader cannot read`);
    const lock = readLock(lockObject);
    const held = (lock.state & IS_LOCKED_MASK) !== 0;
    // The DAC counts the first acquisition as recursion 1, as AwareLock did; Lock counts re-entries only.
    return { ...base, monitorHeld: held ? 1 : 0, recursion: held ? lock.recursionCount + 1 : 0, holdingThreadId: held ? lock.owningThreadId : 0, lockObject };
  }
  const thin = m.readU32(syncBlock + d.offset('SyncBlock', 'ThinLock'));
  const owner = thin & d.global('SyncBlockMaskLockThreadId');
  const recursion = owner === 0 ? 0 : (thin & d.global('SyncBlockMaskLockRecursionLevel')) >>> d.global('SyncBlockRecursionLevelShift');
  return { ...base, monitorHeld: owner === 0 ? 0 : 1, recursion, holdingThreadId: owner };
}
