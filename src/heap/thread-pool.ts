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
