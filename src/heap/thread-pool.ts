/**
 * The portable thread pool's state as .NET keeps it in C#: `PortableThreadPool` (limits, CPU utilization and the
 * packed `ThreadCounts`) and `ThreadPoolWorkQueue` (the global queues, ConcurrentQueue segments of work items).
 */
import { LayoutCheckError, LimitExceededError } from '../errors';
import { readIntPath, readRefPath } from './managed-fields';
import type { ObjectReader } from './object-reader';

/** What SOS's `threadpool` prints for the portable thread pool. */
export interface ThreadPoolState {
  readonly cpuUtilization: number;
  readonly minThreads: number;
  readonly maxThreads: number;
  /** `ThreadCounts.NumExistingThreads`. */
  readonly total: number;
  /** `ThreadCounts.NumProcessingWork`. */
  readonly running: number;
}

/** Reads the `PortableThreadPool` object at `address`. @throws LayoutCheckError when its fields are not the .NET 8+ ones. */
export function readThreadPoolState(objects: ObjectReader, address: number): ThreadPoolState {
  const data = BigInt(readIntPath(objects, address, ['_separated', 'counts', '_data']));
  // ThreadCounts packs three shorts: processing work (bits 0-15), existing threads (16-31), goal (32-47).
  const running = Number(data & 0xffffn);
  const total = Number((data >> 16n) & 0xffffn);
  return {
    cpuUtilization: Number(readIntPath(objects, address, ['_cpuUtilization'])),
    minThreads: Number(readIntPath(objects, address, ['_minThreads'])),
    maxThreads: Number(readIntPath(objects, address, ['_maxThreads'])),
    total,
    running,
  };
}

const MAX_ITEMS = 10_000_000;
const MAX_SEGMENTS = 100_000;

/** The work items of the `ThreadPoolWorkQueue` at `address` waiting in its global queues (high-priority first, as
 * the dispatcher takes them, then the normal queue), in queue order. */
export function readGlobalWorkItems(objects: ObjectReader, address: number): number[] {
  const items: number[] = [];
  for (const field of ['highPriorityWorkItems', 'workItems']) {
    const queue = readRefPath(objects, address, [field]);
    if (queue !== 0) readConcurrentQueue(objects, queue, items);
  }
  return items;
}

/** Appends the items of a `ConcurrentQueue<object>` (its segments' slots from head to tail). */
export function readConcurrentQueue(objects: ObjectReader, queue: number, out: number[]): void {
  let segment = readRefPath(objects, queue, ['_head']);
  for (let n = 0; segment !== 0; n++) {
    if (n >= MAX_SEGMENTS) throw new LimitExceededError(`ConcurrentQueue 0x${queue.toString(16)} has more than ${MAX_SEGMENTS} segments`);
    const head = Number(readIntPath(objects, segment, ['_headAndTail', 'Head']));
    const tail = Number(readIntPath(objects, segment, ['_headAndTail', 'Tail']));
    const mask = Number(readIntPath(objects, segment, ['_slotsMask']));
    const slots = readRefPath(objects, segment, ['_slots']);
    const array = objects.readArray(objects.readObject(slots, false));
    if (mask + 1 !== array.length || tail - head > array.length || tail < head) {
      throw new LayoutCheckError(`ConcurrentQueue segment 0x${segment.toString(16)}: head ${head}, tail ${tail}, mask ${mask} do not fit its ${array.length} slots`);
    }
    if (out.length + (tail - head) > MAX_ITEMS) throw new LimitExceededError(`the thread pool queues hold more than ${MAX_ITEMS} items`);
    // Slot<object> is { Item, SequenceNumber }: the reference comes first.
    for (let i = head; i < tail; i++) {
      const item = objects.memory.readPointer(array.dataAddress + (i & mask) * array.componentSize);
      if (item !== 0) out.push(item);
    }
    segment = readRefPath(objects, segment, ['_nextSegment']);
  }
}

/** SOS reads at most this many slots of a local queue's array (a bound against a corrupt length). */
const MAX_LOCAL_SLOTS = 8192;

/** The work items of a worker's local queue (`ThreadPoolWorkQueue+WorkStealingQueue` at `address`): the non-null
 * slots of its `m_array` in index order, as SOS's `threadpool -wi` lists them (pops and steals null the slot they
 * take, so a non-null slot is a queued item). @throws LayoutCheckError when `m_array` is missing or not an array. */
export function readWorkStealingQueue(objects: ObjectReader, address: number): number[] {
  const arrayAddress = readRefPath(objects, address, ['m_array']);
  if (arrayAddress === 0) return [];
  const array = objects.readArray(objects.readObject(arrayAddress, false));
  if (array.elementIsValueType) throw new LayoutCheckError(`WorkStealingQueue 0x${address.toString(16)}: m_array is not an object array`);
  const items: number[] = [];
  const n = Math.min(MAX_LOCAL_SLOTS, array.length);
  for (let i = 0; i < n; i++) {
    const item = objects.memory.readPointer(array.dataAddress + i * array.componentSize);
    if (item !== 0) items.push(item);
  }
  return items;
}

/** The `_assignableWorkItems` queue of a `ThreadPoolWorkQueue` (the Windows thread pool's; absent on other
 * builds), 0 when the type has no such field or it is null. */
export function readAssignableWorkItemsQueue(objects: ObjectReader, address: number): number {
  try {
    return readRefPath(objects, address, ['_assignableWorkItems']);
  } catch (error) {
    if (error instanceof LayoutCheckError) return 0;
    throw error;
  }
}
