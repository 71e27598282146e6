/**
 * Strings grouped by value (for `dumpheap -strings`): duplicate strings are a classic waste of memory.
 * Grouping follows SOS's DumpHeapService: the key is the first 1,024 characters plus the object size, groups keep
 * first-seen (heap walk) order, and the listing is sorted by total size, ascending and stable.
 */
import { LimitExceededError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import { forEachObject, type WalkProblem } from '../heap/heap-walker';
import type { GcHeap } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';

/** One distinct string value (of one object size). */
export interface StringGroup {
  /** The first `maxChars` characters of the strings. */
  readonly value: string;
  /** The size of each object of the group, as SOS reports it. */
  readonly size: number;
  readonly count: number;
  /** count × size. */
  readonly totalSize: number;
}

/** The heap's strings grouped by value, sorted by total size ascending, with the walk's problems. */
export interface StringStats {
  readonly groups: StringGroup[];
  readonly totalCount: number;
  readonly totalSize: number;
  readonly problems: WalkProblem[];
}

/** How many characters of each string SOS reads (ClrObject.AsString(1024)): strings that differ only later, with
 * the same size, share a group. */
export const STRING_PREFIX_CHARS = 1024;
const MAX_GROUPS = 10_000_000;
// String layout on 64-bit: MethodTable*, int32 length, then UTF-16 characters (String.m_FirstChar at 12).
const LENGTH_OFFSET = 8;
const FIRST_CHAR_OFFSET = 12;

/** The first `maxChars` characters of the System.String at `address`. @throws UnmappedAddressError. */
export function readStringPrefix(memory: MemoryReader, address: number, maxChars = STRING_PREFIX_CHARS): string {
  const length = memory.readU32(address + LENGTH_OFFSET);
  const n = Math.min(length, maxChars);
  return n === 0 ? '' : Buffer.from(memory.read(address + FIRST_CHAR_OFFSET, n * 2)).toString('utf16le');
}

/** Accumulates strings into groups keyed by (value, size), in first-seen order. */
export class StringGrouper {
  private readonly map = new Map<string, { value: string; size: number; count: number }>();
  private count = 0;
  private bytes = 0;

  /** Adds one string object of `size` bytes whose (prefix) value is `value`. @throws LimitExceededError. */
  add(value: string, size: number): void {
    // The size goes first so the key is unambiguous whatever the value holds.
    const key = `${size}:${value}`;
    let g = this.map.get(key);
    if (!g) {
      if (this.map.size >= MAX_GROUPS) throw new LimitExceededError(`more than ${MAX_GROUPS} distinct strings`);
      g = { value, size, count: 0 };
      this.map.set(key, g);
    }
    g.count++;
    this.count++;
    this.bytes += size;
  }

  /** Strings added so far. */
  get totalCount(): number {
    return this.count;
  }

  /** Bytes of the strings added so far. */
  get totalSize(): number {
    return this.bytes;
  }

  /** The groups, by total size ascending; ties keep first-seen order (Array.prototype.sort is stable). */
  sorted(): StringGroup[] {
    const list = [...this.map.values()].map((g) => ({ value: g.value, size: g.size, count: g.count, totalSize: g.count * g.size }));
    list.sort((a, b) => a.totalSize - b.totalSize);
    return list;
  }
}

/** Walks the heap and groups every `System.String` (MethodTable `stringMT`) by its first `maxChars` characters and
 * size. @throws LimitExceededError past the group cap. */
export function computeStringStats(heap: GcHeap, mts: MethodTableReader, memory: MemoryReader, stringMT: number, maxChars = STRING_PREFIX_CHARS): StringStats {
  const grouper = new StringGrouper();
  const problems = forEachObject(heap, mts, memory, (address, mt, size) => {
    if (mt === stringMT) grouper.add(readStringPrefix(memory, address, maxChars), size);
  });
  return { groups: grouper.sorted(), totalCount: grouper.totalCount, totalSize: grouper.totalSize, problems };
}
