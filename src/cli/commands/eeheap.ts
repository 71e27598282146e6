/**
 * `eeheap -gc`: the GC heaps and their regions/segments per generation, with allocated and committed sizes.
 */
import { UsageError } from '../../errors';
import type { HeapSegment, SegmentKind } from '../../runtime/gc/gc-heap';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left, right, x12 } from '../format';
import type { Session } from '../session';

/** Committed bytes counted from the start of the region/segment's page, as SOS (ClrMD) counts them: a region's
 * first object sits a small header past its page-aligned start. */
const PAGE = 4096;
function committedSize(s: HeapSegment): number {
  return s.committed - (s.start - (s.start % PAGE));
}

const SECTIONS: { title: string; kinds: SegmentKind[]; perGeneration?: boolean; always?: boolean }[] = [
  { title: 'Small object heap', kinds: ['gen0', 'gen1', 'gen2', 'ephemeral'], perGeneration: true, always: true },
  { title: 'NonGC heap', kinds: ['frozen'] },
  { title: 'Large object heap', kinds: ['loh'], always: true },
  { title: 'Pinned object heap', kinds: ['poh'] },
];

/** The eeheap command (GC part). */
export const eeheapCommand: Command = {
  name: 'eeheap',
  aliases: [],
  summary: 'GC heaps: regions/segments per generation with begin, allocated, committed',
  usage: 'eeheap -gc',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('eeheap', args, ['gc', 'loader'], []);
    if (opts.flags.has('loader')) throw new UsageError('eeheap: -loader is not implemented yet; use eeheap -gc');
    const heap = session.heap;
    const sizeText = (n: number) => (n === 0 ? '' : `0x${n.toString(16)} (${n})`);
    const sizeWidth = Math.max(14, ...heap.segments.map((s) => sizeText(committedSize(s)).length), ...heap.segments.map((s) => sizeText(s.end - s.start).length));
    const header = `${right('segment', 16)} ${right('begin', 16)} ${right('allocated', 16)} ${right('committed', 16)} ${left('allocated size', sizeWidth)} ${left('committed size', sizeWidth)}`;
    const row = (s: HeapSegment) =>
      `${right(x12(s.address), 16)} ${right(x12(s.start), 16)} ${right(x12(s.end), 16)} ${right(x12(s.committed), 16)} ${left(sizeText(s.end - s.start), sizeWidth)} ${left(sizeText(committedSize(s)), sizeWidth)}`;
    const datas = heap.vars.dynamicAdaptationMode;
    const lines: string[] = ['', `DATAS = ${datas ?? ''}`, '='.repeat(40), `Number of GC Heaps: ${heap.heaps.length}`, '-'.repeat(40)];
    let allocated = 0;
    let committed = 0;
    for (const h of heap.heaps) {
      if (heap.isServer) lines.push(`Heap ${h.index} (${h.address.toString(16).padStart(16, '0')})`);
      const mine = heap.segments.filter((s) => s.heapIndex === h.index);
      for (const sec of SECTIONS) {
        const segs = mine.filter((s) => sec.kinds.includes(s.kind));
        if (!segs.length && !sec.always) continue;
        lines.push(sec.title, header);
        if (sec.perGeneration && heap.usesRegions) {
          for (const [gen, kind] of [[0, 'gen0'], [1, 'gen1'], [2, 'gen2']] as const) {
            lines.push(`generation ${gen}:`);
            for (const s of segs.filter((x) => x.kind === kind)) lines.push(row(s));
          }
        } else {
          for (const s of segs) lines.push(row(s));
        }
        for (const s of segs) {
          allocated += s.end - s.start;
          committed += committedSize(s);
        }
      }
      lines.push('-'.repeat(30));
    }
    lines.push(`GC Allocated Heap Size:    Size: 0x${allocated.toString(16)} (${allocated}) bytes.`);
    lines.push(`GC Committed Heap Size:    Size: 0x${committed.toString(16)} (${committed}) bytes.`);
    const json = {
      datas: datas ?? null,
      isServer: heap.isServer,
      usesRegions: heap.usesRegions,
      heaps: heap.heaps.map((h) => ({
        index: h.index,
        address: hexJson(h.address),
        segments: heap.segments
          .filter((s) => s.heapIndex === h.index)
          .map((s) => ({
            address: hexJson(s.address),
            kind: s.kind,
            begin: hexJson(s.start),
            allocated: hexJson(s.end),
            committed: hexJson(s.committed),
            reserved: hexJson(s.reserved),
            allocatedSize: s.end - s.start,
            committedSize: committedSize(s),
          })),
      })),
      totalAllocated: allocated,
      totalCommitted: committed,
    };
    return { text: lines.join('\n'), json };
  },
};
