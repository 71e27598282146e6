/**
 * The SyncBlocks waiting for the finalizer thread to clean them up (`SyncBlockCache::m_pCleanupBlockList`, syncblk.h),
 * which SOS's `finalizequeue` lists first. .NET 11's descriptor names the cache (`SyncBlockCache` global,
 * `CleanupBlockList`, `SyncBlock.LinkNext`); .NET 10's does not, so there the cache is found through `g_dacTable`,
 * where dacvars.h declares `SyncBlockCache::s_pSyncBlockCache` a few entries after `g_pSyncTable` (anchored on the
 * descriptor's `SyncTableEntries`, the address of g_pSyncTable), and the cache must validate against the sync table.
 */
import { DumpsleuthError, LayoutCheckError, LimitExceededError, MissingRuntimeDataError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';

const DAC_TABLE_SEARCH_SLOTS = 256;
const MAX_CLEANUP_BLOCKS = 1_000_000;

/** The cleanup list: how many SyncBlocks wait, and their addresses where the runtime says where a SyncBlock's link
 * lies (undefined on .NET 10). */
export interface SyncBlockCleanup {
  /** The address of `SyncBlockCache::s_pSyncBlockCache`'s target (the cache). */
  readonly cache: number;
  readonly count: number;
  readonly syncBlocks: readonly number[] | undefined;
  /** Where the cache was found: the descriptor's `SyncBlockCache` global, or g_dacTable's slot after g_pSyncTable. */
  readonly source: 'descriptor' | 'g_dacTable';
}

/** The address of the `SyncBlockCache::s_pSyncBlockCache` variable.
 * @throws MissingRuntimeDataError when neither the descriptor nor g_dacTable gives it. */
export function syncBlockCacheVariable(rt: DotNetRuntime): { address: number; source: SyncBlockCleanup['source'] } {
  const fromDescriptor = rt.descriptor.tryGlobal('SyncBlockCache');
  if (fromDescriptor !== undefined) return { address: fromDescriptor, source: 'descriptor' };
  return { address: syncBlockCacheFromDacTable(rt), source: 'g_dacTable' };
}

/** The `SyncBlockCache::s_pSyncBlockCache` variable through g_dacTable: one of the few entries after the one holding
 * `&g_pSyncTable` (dacvars.h declares it soon after; which entries lie between depends on the build), the first whose
 * cache validates: its `m_FreeSyncTableIndex` (offset 108 in .NET 11's descriptor, the same class on 10) names the
 * first unused entry of the sync block table, whose predecessors are used.
 * @throws MissingRuntimeDataError when g_dacTable, the anchor or a validating entry is absent. */
export function syncBlockCacheFromDacTable(rt: DotNetRuntime): number {
  const m = rt.memory;
  const table = rt.findCoreclrSymbol('g_dacTable');
  if (table === undefined) throw new MissingRuntimeDataError('libcoreclr exports no g_dacTable: the SyncBlock cleanup list cannot be found');
  const anchor = rt.descriptor.global('SyncTableEntries');
  for (let i = 0; i < DAC_TABLE_SEARCH_SLOTS && m.isMapped(table + i * 8, 8); i++) {
    if (m.readPointer(table + i * 8) !== anchor) continue;
    for (let k = 1; k <= ENTRIES_AFTER_ANCHOR; k++) {
      const candidate = tryRead(() => m.readPointer(table + (i + k) * 8));
      if (candidate !== undefined && isSyncBlockCacheVariable(rt, candidate)) return candidate;
    }
    break;
  }
  throw new MissingRuntimeDataError('g_dacTable has no SyncBlockCache entry near g_pSyncTable: the SyncBlock cleanup list cannot be found');
}

/** dacvars.h: on Windows the COM cleanup list and the runtime's load address and size lie between. */
const ENTRIES_AFTER_ANCHOR = 4;
const STATIC_NEIGHBOURHOOD = 0x10000;

function isSyncBlockCacheVariable(rt: DotNetRuntime, variable: number): boolean {
  const m = rt.memory;
  return (
    tryRead(() => {
      const cache = m.readPointer(variable);
      // The cache is a static instance placed next to the pointer (syncblk.cpp: `new (&g_SyncBlockCacheInstance)`).
      if (cache === 0 || cache % 8 !== 0 || Math.abs(cache - variable) > STATIC_NEIGHBOURHOOD) return false;
      const cleanup = m.readPointer(cache);
      return cleanup === 0 || (cleanup % 8 === 0 && m.isMapped(cleanup, 8));
    }) === true
  );
}

function tryRead<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** Reads the cleanup list. @throws MissingRuntimeDataError / UnmappedAddressError / LayoutCheckError when the cache
 * cannot be found or read; LimitExceededError for a list that does not end. */
export function readSyncBlockCleanup(rt: DotNetRuntime): SyncBlockCleanup {
  const m = rt.memory;
  const d = rt.descriptor;
  const { address, source } = syncBlockCacheVariable(rt);
  const cache = m.readPointer(address);
  if (cache === 0) throw new MissingRuntimeDataError('SyncBlockCache::s_pSyncBlockCache is null');
  const listOffset = d.types.get('SyncBlockCache')?.fields?.get('CleanupBlockList')?.offset ?? 0;
  const linkOffset = d.types.get('SyncBlock')?.fields?.get('LinkNext')?.offset;
  const links: number[] = [];
  const seen = new Set<number>();
  // SLink: the first word is the next link; the list head points at a SyncBlock's m_Link.
  for (let link = m.readPointer(cache + listOffset); link !== 0; link = m.readPointer(link)) {
    if (seen.has(link)) throw new LayoutCheckError(`the SyncBlock cleanup list returns to 0x${link.toString(16)}`);
    if (links.length >= MAX_CLEANUP_BLOCKS) throw new LimitExceededError('the SyncBlock cleanup list does not end');
    seen.add(link);
    links.push(link);
  }
  return { cache, count: links.length, syncBlocks: linkOffset === undefined ? undefined : links.map((l) => l - linkOffset), source };
}

/** `readSyncBlockCleanup`, or the reason it failed. */
export function tryReadSyncBlockCleanup(rt: DotNetRuntime): SyncBlockCleanup | Error {
  try {
    return readSyncBlockCleanup(rt);
  } catch (e) {
    if (e instanceof DumpsleuthError) return e;
    throw e;
  }
}
