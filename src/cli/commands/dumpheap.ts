/**
 * `dumpheap`: every object of the GC heap, filtered, with SOS's statistics table (C# DumpHeapService layout).
 */
import { IndexedHeapHistogram, type HistogramRow } from '../../analysis/heap-histogram';
import { readStringPrefix, StringGrouper, type StringGroup } from '../../analysis/string-stats';
import { UsageError } from '../../errors';
import { forEachObject } from '../../heap/heap-walker';
import { MethodTableIndex } from '../../heap/method-table-index';
import { countObjectsByType } from '../../heap/type-count-walk';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, n0, right, x12 } from '../format';
import { lazyResult } from '../lazy-result';
import type { Session } from '../session';
import { parallelWalkOf } from './parallel-walk-options';
import { rootCache } from './root-cache';
import { reportWalkProblems, reportNameProblems } from './warnings';

/** Free blocks smaller than this are not worth a line in the fragmentation table (SOS: 512 KiB). */
const FRAGMENTATION_BLOCK_MIN_SIZE = 512 * 1024;

/** The dumpheap command. */
export const dumpheapCommand: Command = {
  name: 'dumpheap',
  aliases: [],
  summary: 'Walk the GC heap: objects, or per-type statistics with -stat',
  usage: 'dumpheap [-stat] [-type <substring>] [-mt <MethodTable>] [-min <size>] [-max <size>] [-short] [-strings] [-bycount] [-live | -dead]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpheap', args, ['stat', 'short', 'strings', 'bycount', 'live', 'dead'], ['type', 'mt', 'min', 'max']);
    if (opts.positional.length) throw new UsageError(`dumpheap: unexpected argument "${opts.positional[0]}"`);
    const typeFilter = opts.values.get('type');
    const mtFilter = opts.values.has('mt') ? addressArg('dumpheap', opts.values.get('mt'), 'MethodTable') : undefined;
    const min = opts.values.has('min') ? numberArg('dumpheap', opts.values.get('min')!, 'size') : undefined;
    const max = opts.values.has('max') ? numberArg('dumpheap', opts.values.get('max')!, 'size') : undefined;
    const stat = opts.flags.has('stat');
    const short = opts.flags.has('short');
    const names = session.names;
    const heap = session.heap;
    if (!heap.isValidForTraversal) session.warn('the GC heap was being changed when the dump was taken: the walk may be incomplete');

    // Type filters depend on the MethodTable only: decide once per MethodTable (0 undecided, 1 keep, 2 skip).
    const stringMt = session.runtime.readGlobalPointer('StringMethodTable');
    const wantStrings = opts.flags.has('strings');
    let decision = new Uint8Array(256);
    const decide = (mt: number): number => {
      if (mtFilter !== undefined && mt !== mtFilter) return 2;
      if (wantStrings && mt !== stringMt) return 2;
      if (typeFilter !== undefined && !names.clrmdName(mt).includes(typeFilter)) return 2;
      return 1;
    };
    // -live / -dead: reachability from the roots SOS's LiveObjectService uses (handles, finalizer queue, stacks).
    const wantLive = opts.flags.has('live');
    const wantDead = opts.flags.has('dead');
    if (wantLive && wantDead) throw new UsageError('dumpheap: -live and -dead exclude each other');
    let liveGraph: { graph: import('../../heap/object-graph').ObjectGraph; live: Uint8Array } | undefined;
    if (wantLive || wantDead) {
      const cache = rootCache(session);
      liveGraph = { graph: cache.graph, live: cache.live };
      if (cache.stackRoots.some((r) => !r.precise)) {
        session.warn('liveness uses a conservative scan of thread stacks: objects held only by stale stack words count as live');
      }
    }
    const index = new MethodTableIndex();
    const histogram = new IndexedHeapHistogram();
    const objects: { address: number; mt: number; size: number }[] = [];
    const keepObjects = !stat;
    const strings = wantStrings ? new StringGrouper() : undefined;
    const memory = session.runtime.memory;
    // SOS's fragmentation table (DumpHeapService): a free block of at least 0.5 MB directly followed, in the filtered
    // sequence, by a live object at its end address, outside the large object heap.
    const printFragmentation = !short && !wantStrings;
    const fragmentation: { free: number; size: number; next: number; nextMt: number }[] = [];
    let lastFree = -1;
    let lastFreeSize = 0;
    // -stat on one thread, filtered by type only (-type, -mt: per MethodTable), counts inside the walk
    // (type-count-walk.ts) and keeps the rows of the types that pass: same answer, no call per object. In the filtered
    // sequence a Free block is followed by the object after it only when both pass the filter: the fragmentation lines
    // are those of the whole heap whose Free and following types pass.
    const parallel = parallelWalkOf(session);
    const countInWalk = stat && !wantStrings && min === undefined && max === undefined && !liveGraph && parallel === undefined;
    const counted = countInWalk ? countObjectsByType(heap, session.methodTables, memory, index) : undefined;
    if (counted) {
      const kept = new Set<number>();
      for (const i of counted.order) {
        const mt = index.addresses[i]!;
        if (decide(mt) !== 1) continue;
        kept.add(mt);
        histogram.addCounted(i, counted.counts[i]!, counted.sizes[i]!);
      }
      if (printFragmentation) for (const f of counted.fragmentation) if (kept.has(heap.freeObjectMethodTable) && kept.has(f.nextMt)) fragmentation.push(f);
    }
    const problems = counted ? [...counted.problems] : forEachObject(
      heap,
      session.methodTables,
      session.runtime.memory,
      (address, mt, size, segment, mtIndex) => {
        if (mtIndex >= decision.length) {
          const grown = new Uint8Array(decision.length * 2 + mtIndex);
          grown.set(decision);
          decision = grown;
        }
        let d = decision[mtIndex]!;
        if (d === 0) d = decision[mtIndex] = decide(mt);
        if (d === 2) return;
        if (min !== undefined && size < min) return;
        if (max !== undefined && size > max) return;
        if (liveGraph) {
          const i = liveGraph.graph.indexOf(address);
          const isLive = i >= 0 && liveGraph.live[i] === 1;
          if (isLive !== wantLive) return;
        }
        histogram.add(mtIndex, size);
        if (keepObjects) objects.push({ address, mt, size });
        if (printFragmentation) {
          const isFree = mt === heap.freeObjectMethodTable;
          if (lastFree >= 0 && !isFree && lastFree + lastFreeSize === address && segment.kind !== 'loh') {
            fragmentation.push({ free: lastFree, size: lastFreeSize, next: address, nextMt: mt });
          }
          if (isFree && size >= FRAGMENTATION_BLOCK_MIN_SIZE) {
            lastFree = address;
            lastFreeSize = size;
          } else {
            lastFree = -1;
          }
        }
        if (strings) strings.add(readStringPrefix(memory, address), size);
      },
      undefined,
      index,
      parallel,
    );
    reportWalkProblems(session, problems);

    if (strings) return stringsResult(session, strings.sorted(), stat ? undefined : objects, histogram.totalCount, histogram.totalSize);

    const rows = histogram.sorted((i) => index.addresses[i]!, opts.flags.has('bycount') ? 'count' : 'size');
    // Every name is asked for once, here (before the name warnings are taken): the text and the JSON share them, and
    // objects and fragmentation rows are of the rows' types (both pass the same filters).
    const rowNames = rows.map((r) => names.clrmdName(r.mt));
    const nameOf = new Map<number, string>();
    if (!stat || fragmentation.length > 0) for (let i = 0; i < rows.length; i++) nameOf.set(rows[i]!.mt, rowNames[i]!);
    const lines: string[] = [];
    if (short) {
      for (const o of objects) lines.push(x12(o.address));
    } else if (histogram.totalCount > 0) {
      // SOS prints nothing at all when nothing matched.
      if (!stat) {
        lines.push(`${right('Address', 16)} ${right('MT', 16)} ${right('Size', 14)}`);
        for (const o of objects) {
          lines.push(`${right(x12(o.address), 16)} ${right(x12(o.mt), 16)} ${right(n0(o.size), 14)} ${o.mt === heap.freeObjectMethodTable ? 'Free' : ''}`);
        }
        lines.push('');
      }
      for (const line of statisticsLines(rows, rowNames)) lines.push(line);
      lines.push(`Total ${n0(histogram.totalCount)} objects, ${n0(histogram.totalSize)} bytes`);
    }
    if (fragmentation.length > 0 && !short) {
      lines.push('', 'Fragmented blocks larger than 0.5 MB:', `${right('Address', 16)} ${right('Size', 14)} ${right('Followed By', 16)}`);
      for (const f of fragmentation) lines.push(`${right(x12(f.free), 16)} ${right(n0(f.size), 14)} ${right(x12(f.next), 16)} ${nameOf.get(f.nextMt)!}`);
    }
    reportNameProblems(session);
    // Built only under --json (or for a caller that reads it): the text answer does not pay for a second table.
    return lazyResult(lines.join('\n'), () => {
      const json: Record<string, unknown> = {
        types: rows.map((r, i) => ({ mt: hexJson(r.mt), name: rowNames[i]!, count: r.count, totalSize: r.totalSize })),
        totalCount: histogram.totalCount,
        totalSize: histogram.totalSize,
      };
      json.fragmentation = fragmentation.map((f) => ({ address: hexJson(f.free), size: f.size, followedBy: hexJson(f.next), followedByType: nameOf.get(f.nextMt)! }));
      if (!stat) json.objects = objects.map((o) => ({ address: hexJson(o.address), mt: hexJson(o.mt), name: nameOf.get(o.mt)!, size: o.size }));
      return json;
    });
  },
};

/** SOS's `Statistics:` header and one `MT Count TotalSize Class Name` line per row, columns as wide as their widest
 * value; each number is formatted once (a compiler's dump has thousands of rows). */
function statisticsLines(rows: readonly HistogramRow[], rowNames: readonly string[]): string[] {
  const n = rows.length;
  const mts = new Array<string>(n);
  const counts = new Array<string>(n);
  const sizes = new Array<string>(n);
  let mtWidth = 2;
  let countWidth = 5;
  let sizeWidth = 9;
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const mt = (mts[i] = x12(r.mt));
    const count = (counts[i] = n0(r.count));
    const size = (sizes[i] = n0(r.totalSize));
    if (mt.length > mtWidth) mtWidth = mt.length;
    if (count.length > countWidth) countWidth = count.length;
    if (size.length > sizeWidth) sizeWidth = size.length;
  }
  const out = new Array<string>(n + 2);
  out[0] = 'Statistics:';
  out[1] = `${right('MT', mtWidth)} ${right('Count', countWidth)} ${right('TotalSize', sizeWidth)} Class Name`;
  for (let i = 0; i < n; i++) out[i + 2] = `${mts[i]!} ${right(counts[i]!, countWidth)} ${right(sizes[i]!, sizeWidth)} ${rowNames[i]!}`;
  return out;
}

// dotnet-dump sizes the -strings table for Console.WindowWidth, which is 80 when its output is not a terminal (the
// way the tests run it): strings that need sanitizing are cut to 80 - countWidth - sizeWidth - 2 characters.
const SOS_WINDOW_WIDTH = 80;
const MAX_STRING_COLUMN = 128;

/** `dumpheap -strings`: the string listing (unless -stat), then `Statistics:` with one `count totalSize value` row
 * per group and no header or total (DumpHeapService.PrintHeap, DisplayKind.Strings). */
function stringsResult(session: Session, groups: readonly StringGroup[], objects: readonly { address: number; mt: number; size: number }[] | undefined, totalCount: number, totalSize: number): { text: string; json: unknown } {
  const lines: string[] = [];
  if (groups.length > 0) {
    if (objects) {
      lines.push(`${right('Address', 16)} ${right('MT', 16)} ${right('Size', 14)}`);
      for (const o of objects) lines.push(`${right(x12(o.address), 16)} ${right(x12(o.mt), 16)} ${right(n0(o.size), 14)} `);
      lines.push('');
    }
    const countWidth = Math.max(5, ...groups.map((g) => n0(g.count).length));
    // SOS's sizeLen takes the count width by mistake (Math.Max(countLen, "TotalSize".Length)); kept for equal cuts.
    const sizeWidth = Math.max(countWidth, 'TotalSize'.length);
    const possible = SOS_WINDOW_WIDTH - countWidth - sizeWidth - 2;
    const maxChars = possible > 16 ? Math.min(possible, MAX_STRING_COLUMN) : MAX_STRING_COLUMN;
    lines.push('Statistics:');
    for (const g of groups) lines.push(`${right(n0(g.count), 14)} ${right(n0(g.totalSize), 14)} ${sanitizeForSos(g.value, maxChars)}`);
  }
  reportNameProblems(session);
  const json: Record<string, unknown> = {
    strings: groups.map((g) => ({ value: g.value, count: g.count, size: g.size, totalSize: g.totalSize })),
    totalCount,
    totalSize,
  };
  if (objects) json.objects = objects.map((o) => ({ address: hexJson(o.address), size: o.size }));
  return { text: lines.join('\n'), json };
}

/** SOS's Sanitize: a string of letters and digits only is shown whole; any other is cut to `maxChars` and every
 * character that is not a letter, digit, punctuation or space becomes '.' (per UTF-16 unit, as C# chars). */
export function sanitizeForSos(value: string, maxChars: number): string {
  let plain = true;
  for (let i = 0; i < value.length && plain; i++) plain = LETTER_OR_DIGIT.test(value[i]!);
  if (plain) return value;
  let out = '';
  const n = Math.min(value.length, maxChars);
  for (let i = 0; i < n; i++) {
    const ch = value[i]!;
    out += LETTER_OR_DIGIT.test(ch) || PUNCTUATION.test(ch) || ch === ' ' ? ch : '.';
  }
  return out;
}

// char.IsLetterOrDigit: categories L* and Nd; char.IsPunctuation: P*. A lone surrogate matches neither.
const LETTER_OR_DIGIT = /^[\p{L}\p{Nd}]$/u;
const PUNCTUATION = /^\p{P}$/u;
