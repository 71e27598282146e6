/**
 * The sync block table (`g_pSyncTable`, descriptor global `SyncTableEntries`) and the Monitor state in each
 * SyncBlock's `AwareLock`, as SOS's `syncblk` reads them.
 */
import { LayoutCheckError, LimitExceededError } from '../errors';
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
}

/**
 * Reads every used entry of the sync block table (index 1 up to the last entry in use).
 * @throws LayoutCheckError when a SyncBlock's back pointer does not name its own index (the AwareLock layout of this
 * runtime is not the one assumed); MissingRuntimeDataError / UnmappedAddressError when the table is unreadable.
 */
export function readSyncBlocks(rt: DotNetRuntime): SyncBlockEntry[] {
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
