/**
 * Strings grouped by value (for `dumpheap -strings`): duplicate strings are a classic waste of memory.
 */
import { LimitExceededError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import { forEachObject, type WalkProblem } from '../heap/heap-walker';
import type { GcHeap } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';

/** One distinct string value. */
export interface StringGroup {
  readonly value: string;
  readonly count: number;
  /** Sum of the objects' sizes as SOS reports them. */
  readonly totalSize: number;
}

/** The heap's strings grouped by value, largest total size first, with the walk's problems. */
export interface StringStats {
  readonly groups: StringGroup[];
  readonly totalCount: number;
  readonly totalSize: number;
  readonly problems: WalkProblem[];
}

const MAX_STRING_CHARS = 0x200000;
const MAX_GROUPS = 10_000_000;

/** Walks the heap and groups every `System.String` (MethodTable `stringMT`) by value; strings longer than
 * `maxChars` are grouped by their first `maxChars` characters. @throws LimitExceededError past the group cap. */
export function computeStringStats(heap: GcHeap, mts: MethodTableReader, memory: MemoryReader, stringMT: number, maxChars = 1024): StringStats {
  const groups = new Map<string, { count: number; totalSize: number }>();
  let totalCount = 0;
  let totalSize = 0;
  const problems = forEachObject(heap, mts, memory, (address, mt, size) => {
    if (mt !== stringMT) return;
    const length = memory.readU32(address + 8);
    if (length > MAX_STRING_CHARS) return;
    // String layout: MethodTable*, int length, then UTF-16 characters (String.m_FirstChar at 12 on 64-bit).
    const value = Buffer.from(memory.read(address + 12, Math.min(length, maxChars) * 2)).toString('utf16le');
    let g = groups.get(value);
    if (!g) {
      if (groups.size >= MAX_GROUPS) throw new LimitExceededError(`more than ${MAX_GROUPS} distinct strings`);
      g = { count: 0, totalSize: 0 };
      groups.set(value, g);
    }
    g.count++;
    g.totalSize += size;
    totalCount++;
    totalSize += size;
  });
  const list = [...groups.entries()].map(([value, g]) => ({ value, count: g.count, totalSize: g.totalSize }));
  list.sort((a, b) => b.totalSize - a.totalSize || b.count - a.count);
  return { groups: list, totalCount, totalSize, problems };
}
