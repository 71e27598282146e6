/**
 * Waste: live strings with the same value many times (dotMemory's "string duplicates"). Every copy past the first is
 * memory an intern pool or a shared constant would save.
 */
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

interface StringGroup {
  count: number;
  /** Object size (the same for equal values). */
  readonly size: number;
  /** The first string of the group (its bytes are the group's value). */
  readonly first: number;
}

/** FNV-1a over the bytes, as an unsigned 32-bit number. */
function hashBytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < bytes.length; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
  return h >>> 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** The first 80 characters of a string object. */
function preview(ctx: RuleContext, address: number): string {
  const m = ctx.runtime.memory;
  return Buffer.from(m.read(address + STRING_CHARS_OFFSET, Math.min(m.readU32(address + STRING_LENGTH_OFFSET), PREVIEW_CHARS) * 2)).toString('utf16le');
}

/** Reports live strings duplicated many times and the bytes the copies waste. */
export const duplicateStringsRule: LeakRule<RuleContext> = {
  id: 'duplicate-strings',
  description: 'Live strings with the same value many times, and the bytes the extra copies waste',
  run(ctx: RuleContext): Finding[] {
    const stringMts = new Set(methodTablesNamed(ctx, 'System.String'));
    if (stringMts.size === 0) return [];
    const g = ctx.graph;
    const m = ctx.runtime.memory;
    // Strings are grouped by a hash of their UTF-16 bytes and compared byte for byte only within a bucket: decoding
    // every string into a JS string costs several times more on heaps with millions of them.
    const buckets = new Map<number, StringGroup[]>();
    let liveBytes = 0;
    for (let i = 0; i < g.count; i++) {
      if (!ctx.live[i]) continue;
      liveBytes += g.sizes[i]!;
      if (!stringMts.has(g.mts[i]!)) continue;
      const a = g.addresses[i]!;
      let bytes: Uint8Array;
      try {
        bytes = m.read(a + STRING_CHARS_OFFSET, Math.min(m.readU32(a + STRING_LENGTH_OFFSET), MAX_CHARS) * 2);
      } catch (e) {
        if (e instanceof DumpsleuthError) continue;
        throw e;
      }
      const key = hashBytes(bytes) * 4096 + (bytes.length % 4096);
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, (bucket = []));
      // `read` may return a view of a shared cache window: keep a copy before reading the group's bytes.
      const mine = bucket.length > 0 ? Uint8Array.from(bytes) : bytes;
      let group = bucket.find((b) => b.size === g.sizes[i]! && sameBytes(m.read(b.first + STRING_CHARS_OFFSET, mine.length), mine));
      if (group) group.count++;
      else bucket.push((group = { count: 1, size: g.sizes[i]!, first: a }));
    }
    let wasted = 0;
    let copies = 0;
    const top: { value: string; count: number; wastedBytes: number; example: number }[] = [];
    for (const bucket of buckets.values()) {
      for (const group of bucket) {
        if (group.count < 2) continue;
        wasted += (group.count - 1) * group.size;
        copies += group.count - 1;
        top.push({ value: '', count: group.count, wastedBytes: (group.count - 1) * group.size, example: group.first });
      }
    }
    if (wasted < Math.max(DUPLICATE_MIN_BYTES, liveBytes / 100)) return [];
    top.sort((a, b) => b.wastedBytes - a.wastedBytes);
    const best = top.slice(0, 10).map((b) => ({ ...b, value: preview(ctx, b.example) }));
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
