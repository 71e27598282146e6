/**
 * Thread-static field storage (.NET 9+): a type with thread statics has a `ThreadStaticsInfo` just before its
 * `MethodTableAuxiliaryData` holding two `TLSIndex`es (GC and non-GC); each thread's `ThreadLocalData` maps an index
 * to that thread's storage (research/gc-net10.md §6.2; the cDAC's `GetThreadLocalStaticBase`). For GC thread statics
 * the storage is an object, and a field's FieldDesc offset counts from the object's start (checked against SOS's
 * per-thread values on a server-GC dump). Non-GC thread statics are not read.
 */
import { DumpsleuthError, LayoutCheckError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';
import type { FieldDescInfo } from './field-desc';
import type { MethodTableInfo } from './method-table';
import type { ClrThread } from './thread-store';

const POINTER = 8;
const INDEX_UNALLOCATED = 0xffffffff;
const TLS_NON_COLLECTIBLE = 0;
const TLS_COLLECTIBLE = 1;
const TLS_DIRECT = 2;
const MAX_IN_FLIGHT = 10_000;

/** One thread's slot of a thread-static field. */
export interface ThreadStaticSlot {
  readonly osId: number;
  /** Where the field's value lies for that thread. */
  readonly address: number;
}

/** The `TLSIndex` raw value of a type's GC or non-GC thread statics (0xffffffff when not allocated yet).
 * @throws MissingRuntimeDataError when the descriptor lacks ThreadStaticsInfo; UnmappedAddressError. */
export function threadStaticsIndex(rt: DotNetRuntime, mt: MethodTableInfo, gc: boolean): number {
  const d = rt.descriptor;
  const aux = rt.memory.readPointer(mt.address + d.offset('MethodTable', 'AuxiliaryData'));
  const info = aux - d.size('ThreadStaticsInfo');
  return rt.memory.readU32(info + d.offset('ThreadStaticsInfo', gc ? 'GCTlsIndex' : 'NonGCTlsIndex'));
}

/** The base of one thread's storage for `rawIndex` (0 when the thread has none), as GetThreadLocalStaticBase.
 * @throws DumpsleuthError when the thread's data is unreadable; LayoutCheckError for an unknown index type. */
export function threadLocalStaticBase(rt: DotNetRuntime, thread: ClrThread, rawIndex: number): number {
  if (rawIndex === INDEX_UNALLOCATED) return 0;
  const d = rt.descriptor;
  const m = rt.memory;
  const tld = m.readPointer(thread.address + d.offset('Thread', 'ThreadLocalDataPtr'));
  if (tld === 0) return 0;
  const offset = rawIndex & 0xffffff;
  const type = rawIndex >>> 24;
  let base = 0;
  if (type === TLS_NON_COLLECTIBLE) {
    if (m.readI32(tld + d.offset('ThreadLocalData', 'NonCollectibleTlsDataCount')) > offset) {
      const array = m.readPointer(tld + d.offset('ThreadLocalData', 'NonCollectibleTlsArrayData'));
      const unused = d.tryGlobal('NumberOfTlsOffsetsNotUsedInNoncollectibleArray') ?? 0;
      const dataStart = d.tryGlobal('PtrArrayOffsetToDataArray') ?? 2 * POINTER;
      base = m.readPointer(array + dataStart + (offset - unused) * POINTER);
    }
  } else if (type === TLS_COLLECTIBLE) {
    if (m.readI32(tld + d.offset('ThreadLocalData', 'CollectibleTlsDataCount')) > offset) {
      // An array of handles: the storage object is the handle's target.
      const handle = m.readPointer(m.readPointer(tld + d.offset('ThreadLocalData', 'CollectibleTlsArrayData')) + offset * POINTER);
      base = handle === 0 ? 0 : m.readPointer(handle);
    }
  } else if (type === TLS_DIRECT) {
    base = tld + offset;
  } else {
    throw new LayoutCheckError(`TLSIndex 0x${rawIndex.toString(16)} has an unknown type ${type}`);
  }
  if (base !== 0) return base;
  // Storage being set up when the dump was taken is on the in-flight list.
  let flight = m.readPointer(tld + d.offset('ThreadLocalData', 'InFlightData'));
  for (let n = 0; flight !== 0 && n < MAX_IN_FLIGHT; n++) {
    if (m.readU32(flight + d.offset('InFlightTLSData', 'TlsIndex')) === rawIndex) {
      const handle = m.readPointer(flight + d.offset('InFlightTLSData', 'TLSData'));
      return handle === 0 ? 0 : m.readPointer(handle);
    }
    flight = m.readPointer(flight + d.offset('InFlightTLSData', 'Next'));
  }
  return 0;
}

/** Each thread's slot of GC thread-static field `fd` of `mt` (threads without storage left out), or undefined when the
 * field is not read (non-GC thread statics, generic types whose storage is per instantiation).
 * @throws DumpsleuthError when the type's index is unreadable. */
export function threadStaticSlots(rt: DotNetRuntime, mt: MethodTableInfo, fd: FieldDescInfo, threads: readonly ClrThread[], isGc: boolean): ThreadStaticSlot[] | undefined {
  if (!isGc || mt.hasInstantiation) return undefined;
  const raw = threadStaticsIndex(rt, mt, true);
  const out: ThreadStaticSlot[] = [];
  for (const t of threads) {
    let base: number;
    try {
      base = threadLocalStaticBase(rt, t, raw);
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      continue;
    }
    // Thread-static FieldDesc offsets already count the storage object's MethodTable pointer.
    if (base !== 0) out.push({ osId: t.osId, address: base + fd.offset });
  }
  return out;
}
