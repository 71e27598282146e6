/**
 * GC handles from the handle tables: `g_HandleTableMap` → buckets → one `HandleTable` per slot → `TableSegment`
 * chain → blocks of 64 handles (research/gc-net10.md §5; dotnet/runtime src/coreclr/gc/handletablepriv.h).
 * .NET 10's contract descriptor does not describe these, so the fixed 64-bit layouts live here, each checked
 * (segment alignment, the segment's back-pointer to its table, line counters) before any handle is believed.
 */
import { LayoutCheckError, LimitExceededError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { GcDacVars } from './gc-dac-vars';
import type { GcSubDescriptor } from './gc-sub-descriptor';

/** Handle kinds by their runtime number (gcinterface.h `HandleType`); names in the JSON's camelCase. */
export const HANDLE_KIND_NAMES = [
  'weakShort',
  'weakLong',
  'strong',
  'pinned',
  'variable',
  'refCounted',
  'dependent',
  'asyncPinned',
  'sizedRef',
  'weakWinRT',
  'weakInteriorPointer',
  'crossReference',
] as const;

/** A handle kind name. */
export type HandleKind = (typeof HANDLE_KIND_NAMES)[number];

/** One GC handle with a non-null target. */
export interface GcHandle {
  /** The handle's own address (what SOS prints in the Handle column). */
  readonly address: number;
  readonly kind: HandleKind;
  /** The runtime's handle type number. */
  readonly type: number;
  /** The object the handle refers to. */
  readonly target: number;
  /** The extra info word: the secondary object of a dependent handle, the interior location of a weak interior
   * pointer handle, the context of a cross-reference handle; 0 otherwise or when absent. */
  readonly secondary: number;
  /** Index of the bucket (0 is the global handle store) and of the slot (per processor on server GC). */
  readonly bucket: number;
  readonly slot: number;
}

/** True for the kinds the GC treats as roots (ClrMD `ClrHandle.IsStrong`; ref-counted handles count as strong
 * because their count is not readable without the COM interop data). */
export function isStrongHandleKind(kind: HandleKind): boolean {
  return kind === 'strong' || kind === 'pinned' || kind === 'asyncPinned' || kind === 'sizedRef' || kind === 'refCounted';
}

const HANDLE_SEGMENT_SIZE = 0x10000;
const HANDLE_HEADER_SIZE = 0x1000;
const HANDLES_PER_BLOCK = 64;
const BLOCKS_PER_SEGMENT = 120;
const BLOCK_INVALID = 0xff;
const TABLE_MAP_SIZE = 10;
const MAX_MAPS = 1024;
const MAX_SLOTS = 1024;
const MAX_SEGMENTS = 65536;

/** TableSegment offsets (packed, 64-bit) that depend on HANDLE_MAX_INTERNAL_TYPES (13 on .NET 10, 12 before). */
export interface SegmentLayout {
  readonly types: number;
  readonly segmentListInTable: number;
  readonly nextSegment: number;
  readonly handleTable: number;
  readonly emptyLine: number;
}
const LAYOUTS: readonly SegmentLayout[] = [
  { types: 13, segmentListInTable: 0x38, nextSegment: 0x7ce, handleTable: 0x7d6, emptyLine: 0x7e0 },
  { types: 12, segmentListInTable: 0x30, nextSegment: 0x7c8, handleTable: 0x7d0, emptyLine: 0x7da },
];
const Seg = { rgAllocation: 0x1e0, rgBlockType: 0x618, rgUserData: 0x690, rgTail: 0x780 } as const;

/** Order in which SOS's DAC handle walker lists kinds (daccess.cpp default type list first, then the rest). */
const KIND_ORDER = [0, 1, 2, 3, 6, 8, 5, 7, 9, 10, 11, 4];

/** How many handle tables (slots) each bucket has, and what said so. */
export interface HandleSlotCount {
  readonly count: number;
  /** `workstation`: one slot (getNumberOfSlots); `TotalCpuCount`: the GC's processor count, which sized the tables
   * (GC sub-descriptor, .NET 11); `probe`: .NET 10 records no count, so slots were read until one did not validate. */
  readonly source: 'workstation' | 'TotalCpuCount' | 'probe';
}

/** The slot count from the runtime's own data: 1 on workstation GC, the GC's `TotalCpuCount` on server GC where the
 * GC publishes it (.NET 11's GC sub-descriptor); undefined when the runtime records none (.NET 10 server GC).
 * @throws LayoutCheckError when the published count is implausible. */
export function handleSlotCountOf(rt: DotNetRuntime, vars: GcDacVars, sub: GcSubDescriptor | undefined): HandleSlotCount | undefined {
  if (!vars.isServer) return { count: 1, source: 'workstation' };
  const address = sub?.descriptor.tryGlobal('TotalCpuCount');
  if (address === undefined || address === 0) return undefined;
  const count = rt.memory.readU32(address);
  if (count < 1 || count > MAX_SLOTS) throw new LayoutCheckError(`the GC's TotalCpuCount reads ${count}`);
  return { count, source: 'TotalCpuCount' };
}

/** Enumerates every non-null GC handle of the runtime, kind by kind within each segment as SOS lists them. Each bucket
 * has `known.count` slots when the runtime records that number (handleSlotCountOf); otherwise (.NET 10 server GC) the
 * global bucket's slots are read until one is null or does not validate, which can never end before the GC's heap
 * count (each heap has its slot). A table, segment or handle that fails its checks costs only itself: it is skipped
 * and described in `problems`. `walk.slots` receives the count used and its source.
 * @throws LayoutCheckError when not even the global handle table validates; LimitExceededError on runaway lists. */
export function readGcHandles(
  rt: DotNetRuntime,
  vars: GcDacVars,
  problems: string[] = [],
  known?: HandleSlotCount,
  walk: { slots?: HandleSlotCount } = {},
  sub?: GcSubDescriptor,
): GcHandle[] {
  const m = rt.memory;
  const layouts = sub === undefined ? LAYOUTS : [layoutFromSubDescriptor(sub)];
  const out: GcHandle[] = [];
  let map = vars.handleTableMap;
  let bucketBase = 0;
  const seenMaps = new Set<number>();
  // Every bucket has the same number of slots (objecthandle.cpp getNumberOfSlots(): 1 on workstation GC, the
  // processor count at startup on server GC).
  let slotCount: number | undefined = known?.count ?? (vars.isServer ? undefined : 1);
  const heapCount = vars.isServer ? heapCountOf(rt, vars) : 1;
  let tablesRead = 0;
  let badHandles = 0;
  while (map !== 0) {
    if (seenMaps.has(map) || seenMaps.size >= MAX_MAPS) throw new LimitExceededError('the handle table map list does not end');
    seenMaps.add(map);
    const buckets = m.readPointer(map);
    for (let i = 0; i < TABLE_MAP_SIZE && buckets !== 0; i++) {
      const bucket = m.readPointer(buckets + i * 8);
      if (bucket === 0) continue;
      const tables = tryPointer(rt, bucket);
      if (tables === undefined || tables === 0) {
        problems.push(`handle bucket ${bucketBase + i} at 0x${bucket.toString(16)} is unreadable; its handles are not listed`);
        continue;
      }
      const probing = slotCount === undefined;
      const limit = slotCount ?? MAX_SLOTS;
      let j = 0;
      for (; j < limit; j++) {
        const table = tryPointer(rt, tables + j * 8);
        const layout = table === undefined || table === 0 ? undefined : detectLayout(rt, table, layouts);
        if (probing && j > 0 && (table === undefined || layout === undefined)) {
          // Past the last slot lies unrelated memory, which ends the walk; before the GC's heap count it cannot.
          if (j < heapCount) {
            problems.push(
              `handle table slot ${j} of bucket ${bucketBase + i} (0x${(table ?? 0).toString(16)}) does not validate although the GC has ${heapCount} heaps; the handles of slots ${j}..${heapCount - 1} and later are not listed`,
            );
          }
          break;
        }
        if (table === undefined || layout === undefined) {
          problems.push(`handle table slot ${j} of bucket ${bucketBase + i} (0x${(table ?? 0).toString(16)}) does not validate; its handles are not listed`);
          continue;
        }
        badHandles += readTable(rt, table, layout, bucketBase + i, j, out, problems);
        tablesRead++;
      }
      if (probing) slotCount = Math.max(1, j);
    }
    map = tryPointer(rt, map + 8) ?? 0;
    bucketBase += TABLE_MAP_SIZE;
  }
  if (tablesRead === 0) throw new LayoutCheckError(`no handle table validates (handle table map at 0x${vars.handleTableMap.toString(16)})`);
  if (badHandles > 0) problems.push(`${badHandles} handles skipped: their value is not an address`);
  walk.slots = known ?? { count: slotCount ?? 1, source: 'probe' };
  return out;
}

/** The server GC's current heap count (`*n_heaps`), 1 when unreadable or implausible. */
function heapCountOf(rt: DotNetRuntime, vars: GcDacVars): number {
  try {
    const n = vars.nHeaps === 0 ? 1 : rt.memory.readI32(vars.nHeaps);
    return n >= 1 && n <= MAX_SLOTS ? n : 1;
  } catch {
    return 1;
  }
}

function tryPointer(rt: DotNetRuntime, address: number): number | undefined {
  try {
    return rt.memory.readPointer(address);
  } catch {
    return undefined;
  }
}

function detectLayout(rt: DotNetRuntime, table: number, layouts: readonly SegmentLayout[]): SegmentLayout | undefined {
  const m = rt.memory;
  if (table % 8 !== 0 || !m.isMapped(table, 0x40)) return undefined;
  for (const layout of layouts) {
    // Any word here may be unrelated native memory (a probe past the last slot): unreadable means "not a table".
    const seg = tryPointer(rt, table + layout.segmentListInTable);
    if (seg === undefined || seg === 0 || seg % HANDLE_SEGMENT_SIZE !== 0 || !m.isMapped(seg + layout.handleTable, 8)) continue;
    if (tryPointer(rt, seg + layout.handleTable) === table) return layout;
  }
  return undefined;
}

/** Reads one table's segments; a segment that fails its checks ends that table's list with a problem (the chain
 * past it cannot be trusted). Returns how many handles held a value that is not an address. */
function readTable(rt: DotNetRuntime, table: number, layout: SegmentLayout, bucket: number, slot: number, out: GcHandle[], problems: string[]): number {
  const m = rt.memory;
  let seg = m.readPointer(table + layout.segmentListInTable);
  const seen = new Set<number>();
  let bad = 0;
  while (seg !== 0) {
    if (seen.has(seg)) {
      problems.push(`handle table 0x${table.toString(16)}: its segment list returns to 0x${seg.toString(16)}; the walk stops there`);
      break;
    }
    seen.add(seg);
    if (seen.size > MAX_SEGMENTS) throw new LimitExceededError(`handle table 0x${table.toString(16)} has more than ${MAX_SEGMENTS} segments`);
    const before = out.length;
    try {
      bad += readSegment(rt, table, layout, seg, bucket, slot, out);
      seg = m.readPointer(seg + layout.nextSegment);
    } catch (e) {
      if (e instanceof LimitExceededError) throw e;
      out.length = before;
      problems.push(`handle segment 0x${seg.toString(16)} of table 0x${table.toString(16)}: ${(e as Error).message}; its handles and any later segments are not listed`);
      break;
    }
  }
  return bad;
}

function readSegment(rt: DotNetRuntime, table: number, layout: SegmentLayout, seg: number, bucket: number, slot: number, out: GcHandle[]): number {
  const m = rt.memory;
  const dataBlockType = layout.types - 1;
  let bad = 0;
  if (seg % HANDLE_SEGMENT_SIZE !== 0 || m.readPointer(seg + layout.handleTable) !== table) {
    throw new LayoutCheckError(`handle segment 0x${seg.toString(16)} does not point back to its table 0x${table.toString(16)}`);
  }
  const emptyLine = m.readU8(seg + layout.emptyLine);
  if (emptyLine > BLOCKS_PER_SEGMENT) throw new LayoutCheckError(`handle segment 0x${seg.toString(16)} has empty line ${emptyLine}`);
  const header = m.read(seg, HANDLE_HEADER_SIZE).slice();
  for (const type of KIND_ORDER) {
    if (type >= dataBlockType) continue;
    const tail = header[Seg.rgTail + type]!;
    if (tail === BLOCK_INVALID) continue;
    if (tail >= emptyLine) throw new LayoutCheckError(`handle segment 0x${seg.toString(16)}: type ${type} chain starts past the used blocks`);
    // The chain is circular: the tail's successor is the head.
    const head = header[Seg.rgAllocation + tail]!;
    let block = head;
    let steps = 0;
    do {
      if (block >= emptyLine || ++steps > BLOCKS_PER_SEGMENT) {
        throw new LayoutCheckError(`handle segment 0x${seg.toString(16)}: type ${type} block chain is broken`);
      }
      if (header[Seg.rgBlockType + block] !== type) {
        throw new LayoutCheckError(`handle segment 0x${seg.toString(16)}: block ${block} on the type ${type} chain has type ${header[Seg.rgBlockType + block]}`);
      }
      bad += readBlock(rt, seg, header, block, type, bucket, slot, out);
      block = header[Seg.rgAllocation + block]!;
    } while (block !== head);
  }
  return bad;
}

function readBlock(rt: DotNetRuntime, seg: number, header: Uint8Array, block: number, type: number, bucket: number, slot: number, out: GcHandle[]): number {
  const m = rt.memory;
  const first = seg + HANDLE_HEADER_SIZE + block * HANDLES_PER_BLOCK * 8;
  const userBlock = header[Seg.rgUserData + block]!;
  const kind = HANDLE_KIND_NAMES[type]!;
  let bad = 0;
  for (let k = 0; k < HANDLES_PER_BLOCK; k++) {
    const address = first + k * 8;
    // Free and cached handles hold null; SOS counts only non-null ones.
    const lo = m.readU32(address);
    const hi = m.readU32(address + 4);
    if (lo === 0 && hi === 0) continue;
    // A handle whose value cannot be an address costs that handle only (counted by the caller).
    if (hi >= 0x200000) {
      bad++;
      continue;
    }
    const target = hi * 0x100000000 + lo;
    let secondary = 0;
    if (userBlock !== BLOCK_INVALID) secondary = tryPointer(rt, seg + HANDLE_HEADER_SIZE + (userBlock * HANDLES_PER_BLOCK + k) * 8) ?? 0;
    out.push({ address, kind, type, target, secondary, bucket, slot });
  }
  return bad;
}

/** The handle table layout the GC sub-descriptor (11) states: its HandleTable, TableSegment offsets and handle
 * constants must be those of one known layout (the fields it does not state, the block types, back-pointer and empty
 * line, sit at that layout's offsets). @throws LayoutCheckError naming the first difference. */
export function layoutFromSubDescriptor(sub: GcSubDescriptor): SegmentLayout {
  const d = sub.descriptor;
  const checks: [string, number, number][] = [
    ['HandleSegmentSize', d.global('HandleSegmentSize'), HANDLE_SEGMENT_SIZE],
    ['HandlesPerBlock', d.global('HandlesPerBlock'), HANDLES_PER_BLOCK],
    ['HandleBlocksPerSegment', d.global('HandleBlocksPerSegment'), BLOCKS_PER_SEGMENT],
    ['BlockInvalid', d.global('BlockInvalid'), BLOCK_INVALID],
    ['InitialHandleTableArraySize', d.global('InitialHandleTableArraySize'), TABLE_MAP_SIZE],
    ['HandleTableMap.BucketsPtr', d.offset('HandleTableMap', 'BucketsPtr'), 0],
    ['HandleTableMap.Next', d.offset('HandleTableMap', 'Next'), 8],
    ['HandleTableBucket.Table', d.offset('HandleTableBucket', 'Table'), 0],
    ['TableSegment.RgAllocation', d.offset('TableSegment', 'RgAllocation'), Seg.rgAllocation],
    ['TableSegment.RgTail', d.offset('TableSegment', 'RgTail'), Seg.rgTail],
    ['TableSegment.RgUserData', d.offset('TableSegment', 'RgUserData'), Seg.rgUserData],
    ['TableSegment.RgValue', d.offset('TableSegment', 'RgValue'), HANDLE_HEADER_SIZE],
  ];
  for (const [what, stated, known] of checks) {
    if (stated !== known) throw new LayoutCheckError(`the GC sub-descriptor's ${what} is ${stated}; the handle table layout dumpsleuth reads has ${known}`);
  }
  const types = d.global('HandleMaxInternalTypes');
  const segmentList = d.offset('HandleTable', 'SegmentList');
  const next = d.offset('TableSegment', 'NextSegment');
  const layout = LAYOUTS.find((l) => l.types === types && l.segmentListInTable === segmentList && l.nextSegment === next);
  if (!layout) throw new LayoutCheckError(`the GC sub-descriptor's handle table layout (${types} types, SegmentList ${segmentList}, NextSegment ${next}) is not one dumpsleuth knows`);
  return layout;
}
