/**
 * Waste: live strings with the same value many times (dotMemory's "string duplicates"). Every copy past the first is
 * memory an intern pool or a shared constant would save.
 */
import type { MemoryReader } from '../../dump/memory-reader';
import { DumpsleuthError } from '../../errors';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { bytesText, methodTablesNamed, plural } from './rule-support';

/** Bytes duplicates must waste before the rule reports them (and at least 1% of the live heap). */
export const DUPLICATE_MIN_BYTES = 64 * 1024;

// Strings longer than this are grouped by length and their first characters: enough to tell values apart.
const MAX_CHARS = 1024;
const STRING_LENGTH_OFFSET = 8;
const STRING_CHARS_OFFSET = 12;
const PREVIEW_CHARS = 80;
/** Bytes read at once by the string reader (strings are read in address order). */
const WINDOW_BYTES = 4 << 20;
const TOP = 10;
const NO_RUN = 0xffffffff;
const EMPTY = new Uint8Array(0);

/** FNV-1a over `length` bytes of `bytes` from `offset`, as an unsigned 32-bit number. */
function hashBytes(bytes: Uint8Array, offset: number, length: number): number {
  let h = 0x811c9dc5;
  for (let k = offset, end = offset + length; k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
  return h >>> 0;
}

/** True when `a` equals `b[offset, offset + length)`. */
function sameBytes(a: Uint8Array, b: Uint8Array, offset: number, length: number): boolean {
  if (a.length !== length) return false;
  for (let k = 0; k < length; k++) if (a[k] !== b[offset + k]) return false;
  return true;
}

/** The first 80 characters of a string object. */
function preview(ctx: RuleContext, address: number): string {
  const m = ctx.runtime.memory;
  return Buffer.from(m.read(address + STRING_CHARS_OFFSET, Math.min(m.readU32(address + STRING_LENGTH_OFFSET), PREVIEW_CHARS) * 2)).toString('utf16le');
}

/** Reads the first MAX_CHARS characters of string objects visited in address order through one reused window. */
class StringPrefixReader {
  private readonly window = new Uint8Array(WINDOW_BYTES);
  private start = 0;
  private end = 0;
  /** After a successful `read`: the characters are `bytes[offset, offset + length)`. */
  bytes: Uint8Array = this.window;
  offset = 0;
  length = 0;

  constructor(private readonly memory: MemoryReader) {}

  /** Reads the prefix of the string at `address`; false when its length or characters are not in the dump. */
  read(address: number): boolean {
    const first = address + STRING_LENGTH_OFFSET;
    if (first < this.start || first + 4 > this.end) this.fill(first);
    if (first + 4 <= this.end) {
      const w = this.window;
      const at = first - this.start;
      const chars = (w[at]! | (w[at + 1]! << 8) | (w[at + 2]! << 16) | (w[at + 3]! << 24)) >>> 0;
      const length = Math.min(chars, MAX_CHARS) * 2;
      if (first + 4 + length > this.end) this.fill(first);
      if (first + 4 + length <= this.end) {
        this.bytes = this.window;
        this.offset = first + 4 - this.start;
        this.length = length;
        return true;
      }
    }
    return this.readSlowly(address);
  }

  /** The rule's original reads (they throw where the dump lacks the memory). */
  private readSlowly(address: number): boolean {
    const m = this.memory;
    try {
      this.bytes = m.read(address + STRING_CHARS_OFFSET, Math.min(m.readU32(address + STRING_LENGTH_OFFSET), MAX_CHARS) * 2);
    } catch (e) {
      if (e instanceof DumpsleuthError) return false;
      throw e;
    }
    this.offset = 0;
    this.length = this.bytes.length;
    return true;
  }

  private fill(address: number): void {
    let n = 0;
    try {
      if (this.memory.readUpToInto) n = this.memory.readUpToInto(address, this.window, 0, this.window.length);
      else {
        const got = this.memory.readUpTo(address, this.window.length);
        this.window.set(got);
        n = got.length;
      }
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      n = 0;
    }
    this.start = address;
    this.end = address + n;
  }
}

/** Stable LSD radix sort of `0..n-1` by `keys` (unsigned 32-bit): equal keys keep ascending order. */
function sortByKey(keys: Uint32Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const tmp = new Uint32Array(n);
  const counts = new Uint32Array(65537);
  for (let k = 0; k < n; k++) counts[(keys[k]! & 0xffff) + 1]!++;
  for (let d = 0; d < 65536; d++) counts[d + 1]! += counts[d]!;
  for (let k = 0; k < n; k++) tmp[counts[keys[k]! & 0xffff]!++] = k;
  counts.fill(0);
  for (let k = 0; k < n; k++) counts[(keys[k]! >>> 16) + 1]!++;
  for (let d = 0; d < 65536; d++) counts[d + 1]! += counts[d]!;
  for (let k = 0; k < n; k++) {
    const o = tmp[k]!;
    order[counts[keys[o]! >>> 16]!++] = o;
  }
  return order;
}

/** The most wasteful duplicate groups, best first: most bytes wasted, then (the order the rule has always listed
 * ties in) the first string of the group's (hash, length) bucket, then the group's first string. */
class TopGroups {
  readonly wasted: number[] = [];
  readonly bucketFirst: number[] = [];
  readonly first: number[] = [];
  readonly count: number[] = [];

  offer(wasted: number, bucketFirst: number, first: number, count: number): void {
    let at = this.wasted.length;
    while (at > 0 && this.before(wasted, bucketFirst, first, at - 1)) at--;
    if (at >= TOP) return;
    this.wasted.splice(at, 0, wasted);
    this.bucketFirst.splice(at, 0, bucketFirst);
    this.first.splice(at, 0, first);
    this.count.splice(at, 0, count);
    if (this.wasted.length > TOP) {
      this.wasted.pop();
      this.bucketFirst.pop();
      this.first.pop();
      this.count.pop();
    }
  }

  /** True when the group (wasted, bucketFirst, first) ranks before entry `k`. */
  private before(wasted: number, bucketFirst: number, first: number, k: number): boolean {
    if (wasted !== this.wasted[k]) return wasted > this.wasted[k]!;
    if (bucketFirst !== this.bucketFirst[k]) return bucketFirst < this.bucketFirst[k]!;
    return first < this.first[k]!;
  }
}

/** Reports live strings duplicated many times and the bytes the copies waste. */
export const duplicateStringsRule: LeakRule<RuleContext> = {
  id: 'duplicate-strings',
  description: 'Live strings with the same value many times, and the bytes the extra copies waste',
  run(ctx: RuleContext): Finding[] {
    const stringMts = methodTablesNamed(ctx, 'System.String');
    if (stringMts.length === 0) return [];
    const g = ctx.graph;
    const live = ctx.live;
    const sizes = g.sizes;
    const m = ctx.runtime.memory;
    const isString = (mt: number): boolean => {
      for (let k = 0; k < stringMts.length; k++) if (stringMts[k] === mt) return true;
      return false;
    };
    let liveBytes = 0;
    let strings = 0;
    for (let i = 0; i < g.count; i++) {
      if (!live[i]) continue;
      liveBytes += sizes[i]!;
      if (isString(g.mtOf(i))) strings++;
    }
    // Per live string (in address order, which is index order): its object index, a hash of its first MAX_CHARS
    // characters and their byte count. Equal values have equal hashes, so sorting by hash puts every group in one
    // run and bytes are compared only within runs: no per-string objects, no decoding into JS strings.
    const index = new Uint32Array(strings);
    const hash = new Uint32Array(strings);
    const byteLength = new Uint16Array(strings);
    const reader = new StringPrefixReader(m);
    let n = 0;
    for (let i = 0; i < g.count; i++) {
      if (!live[i] || !isString(g.mtOf(i))) continue;
      if (!reader.read(g.addresses[i]!)) continue;
      index[n] = i;
      hash[n] = hashBytes(reader.bytes, reader.offset, reader.length);
      byteLength[n] = reader.length;
      n++;
    }
    // Number the runs of equal hashes with two or more strings; each string's run number replaces its hash
    // (NO_RUN: alone in its run, so its value is unique).
    const order = sortByKey(hash, n);
    const run = hash;
    const runSizes: number[] = [];
    for (let k = 0; k < n; ) {
      const h = hash[order[k]!]!;
      let end = k + 1;
      while (end < n && hash[order[end]!] === h) end++;
      const id = end - k > 1 ? runSizes.length : NO_RUN;
      if (id !== NO_RUN) runSizes.push(end - k);
      for (let r = k; r < end; r++) run[order[r]!] = id;
      k = end;
    }

    // Split each run into groups of equal values, reading the strings again in address order (random reads of a
    // multi-GB dump cost a cache window each). A group is known by its first string and a copy of its bytes, kept
    // until the run's last string has been read.
    const runHead = new Int32Array(runSizes.length).fill(-1);
    const runLeft = Uint32Array.from(runSizes);
    const groupNext: number[] = [];
    const groupFirst: number[] = [];
    const groupCount: number[] = [];
    const groupBucketFirst: number[] = [];
    const groupBytes: Uint8Array[] = [];
    let wasted = 0;
    let copies = 0;
    const top = new TopGroups();
    for (let s = 0; s < n; s++) {
      const r = run[s]!;
      if (r === NO_RUN) continue;
      if (reader.read(g.addresses[index[s]!]!)) {
        const size = sizes[index[s]!]!;
        let bucketFirst = s;
        let found = -1;
        for (let c = runHead[r]!; c >= 0; c = groupNext[c]!) {
          const f = groupFirst[c]!;
          if (byteLength[f] !== byteLength[s]) continue;
          bucketFirst = groupBucketFirst[c]!;
          if (sizes[index[f]!] === size && sameBytes(groupBytes[c]!, reader.bytes, reader.offset, reader.length)) {
            found = c;
            break;
          }
        }
        if (found >= 0) groupCount[found]!++;
        else {
          groupNext.push(runHead[r]!);
          runHead[r] = groupFirst.length;
          groupFirst.push(s);
          groupCount.push(1);
          groupBucketFirst.push(bucketFirst);
          groupBytes.push(reader.bytes.slice(reader.offset, reader.offset + reader.length));
        }
      }
      if (--runLeft[r]! > 0) continue;
      for (let c = runHead[r]!; c >= 0; c = groupNext[c]!) {
        groupBytes[c] = EMPTY;
        const count = groupCount[c]!;
        if (count < 2) continue;
        const size = sizes[index[groupFirst[c]!]!]!;
        wasted += (count - 1) * size;
        copies += count - 1;
        top.offer((count - 1) * size, groupBucketFirst[c]!, groupFirst[c]!, count);
      }
    }
    if (wasted < Math.max(DUPLICATE_MIN_BYTES, liveBytes / 100)) return [];
    const best = top.wasted.map((w, k) => ({ value: preview(ctx, g.addresses[index[top.first[k]!]!]!), count: top.count[k]!, wastedBytes: w, example: g.addresses[index[top.first[k]!]!]! }));
    return [
      {
        rule: duplicateStringsRule.id,
        title: `Duplicate strings waste ${bytesText(wasted)}`,
        severity: 'info',
        verdict: `${plural(copies, 'string')} repeat a value another live string already has, wasting ${bytesText(wasted)}; the most copied: "${best[0]!.value}" ×${best[0]!.count}.`,
        objectCount: copies,
        retainedBytes: wasted,
        chain: [],
        examples: best.slice(0, 5).map((b) => b.example),
        verify: ['dumpheap -strings'],
        confidence: 'high',
        details: { top: best.map((b) => ({ value: b.value, count: b.count, wastedBytes: b.wastedBytes })) },
      },
    ];
  },
};
