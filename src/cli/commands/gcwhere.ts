/**
 * `gcwhere <address>`: which GC heap, region/segment and generation an address is in, in the table dotnet-dump's
 * GCWhereCommand prints (a ClrMD command: a segment's object range, its committed memory from the page its first
 * object is on, and the reserved rest up to the region's end). A lookup in the segment list: no heap walk.
 */
import type { HeapSegment } from '../../runtime/gc/gc-heap';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left } from '../format';
import type { Session } from '../session';

/** Committed memory starts at the page of the first object, as eeheap's committed sizes count it (ClrMD). */
const PAGE = 4096;

function committedStart(s: HeapSegment): number {
  return s.start - (s.start % PAGE);
}

/** ClrMD's generation column: the reserved tail first, then the segment's kind; regions hold one generation. */
function generationOf(s: HeapSegment, address: number): string {
  if (address >= s.committed && address < s.reserved) return 'reserve';
  switch (s.kind) {
    case 'frozen':
      return 'frozen';
    case 'poh':
      return 'pinned';
    case 'loh':
      return 'large';
    case 'gen0':
      return '0';
    case 'gen1':
      return '1';
    case 'gen2':
      return '2';
    default:
      // The ephemeral segment of the segments GC holds gen0 and gen1 by generation start addresses, which this
      // lookup does not read: SOS's own "unknown" mark rather than a guess.
      return '???';
  }
}

function range(from: number, to: number): string {
  return `${from.toString(16)}-${to.toString(16)}`;
}

/** The gcwhere command. */
export const gcwhereCommand: Command = {
  name: 'gcwhere',
  aliases: [],
  summary: 'Which GC heap, region/segment and generation an address is in',
  usage: 'gcwhere <address>',
  help: {
    options: [['<address>', 'any address (hex, with or without 0x): an object, or memory inside a region or segment']],
    examples: ['gcwhere <address>'],
    sos: 'gcwhere',
    notes:
      'Generation is 0, 1, 2, large, pinned or frozen (NonGC heap), or "reserve" for reserved memory past the committed ' +
      'part. An address in no region or segment prints "Address <address> not found in the managed heap."',
  },
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('gcwhere', args, [], []);
    const address = addressArg('gcwhere', opts.positional[0]);
    const heap = session.heap;
    const hits = heap.segments
      .filter((s) => (address >= s.start && address < s.end) || (address >= committedStart(s) && address < s.reserved))
      .sort((a, b) => a.heapIndex - b.heapIndex || a.address - b.address);
    const rows = hits.map((s) => ({
      segment: s,
      generation: generationOf(s, address),
      allocated: range(s.start, s.end),
      committed: range(committedStart(s), s.committed),
      reserved: range(s.committed, s.reserved),
    }));
    const json = {
      address: hexJson(address),
      found: rows.length > 0,
      segments: rows.map((r) => ({
        heap: r.segment.heapIndex,
        segment: hexJson(r.segment.address),
        kind: r.segment.kind,
        generation: r.generation,
        inObjectRange: address >= r.segment.start && address < r.segment.end,
        allocated: { start: hexJson(r.segment.start), end: hexJson(r.segment.end) },
        committed: { start: hexJson(committedStart(r.segment)), end: hexJson(r.segment.committed) },
        reserved: { start: hexJson(r.segment.committed), end: hexJson(r.segment.reserved) },
      })),
    };
    if (rows.length === 0) return { text: `Address ${address.toString(16)} not found in the managed heap.`, json };
    // The range columns are as wide as the longer of a segment's committed and reserved ranges (ClrMD's table).
    const width = Math.max(...rows.map((r) => (r.segment.committed - committedStart(r.segment) > r.segment.reserved - r.segment.committed ? r.committed.length : r.reserved.length)));
    const line = (cells: readonly string[]) => [left(cells[0]!, 16), left(cells[1]!, 6), left(cells[2]!, 16), left(cells[3]!, 10), ...cells.slice(4).map((c) => left(c, width))].join(' ');
    const lines = [line(['Address', 'Heap', 'Segment', 'Generation', 'Allocated', 'Committed', 'Reserved'])];
    for (const r of rows) lines.push(line([address.toString(16), String(r.segment.heapIndex), r.segment.address.toString(16), r.generation, r.allocated, r.committed, r.reserved]));
    return { text: lines.join('\n'), json };
  },
};
