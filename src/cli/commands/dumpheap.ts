/**
 * `dumpheap`: every object of the GC heap, filtered, with SOS's statistics table (C# DumpHeapService layout).
 */
import { HeapHistogram } from '../../analysis/heap-histogram';
import { UsageError } from '../../errors';
import { forEachObject } from '../../heap/heap-walker';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, n0, right, x12 } from '../format';
import type { Session } from '../session';
import { reportWalkProblems, reportNameProblems } from './warnings';

/** The dumpheap command. */
export const dumpheapCommand: Command = {
  name: 'dumpheap',
  aliases: [],
  summary: 'Walk the GC heap: objects, or per-type statistics with -stat',
  usage: 'dumpheap [-stat] [-type <substring>] [-mt <MethodTable>] [-min <size>] [-max <size>] [-short] [-strings] [-bycount]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpheap', args, ['stat', 'short', 'strings', 'bycount'], ['type', 'mt', 'min', 'max']);
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

    // A type filter tests each MethodTable's name once, then by MethodTable.
    const typeMatch = new Map<number, boolean>();
    const stringMt = session.runtime.readGlobalPointer('StringMethodTable');
    const wantStrings = opts.flags.has('strings');
    const histogram = new HeapHistogram();
    const objects: { address: number; mt: number; size: number }[] = [];
    const keepObjects = !stat;
    const problems = forEachObject(heap, session.methodTables, session.runtime.memory, (address, mt, size) => {
      if (mtFilter !== undefined && mt !== mtFilter) return;
      if (wantStrings && mt !== stringMt) return;
      if (typeFilter !== undefined) {
        let ok = typeMatch.get(mt);
        if (ok === undefined) {
          ok = names.clrmdName(mt).includes(typeFilter);
          typeMatch.set(mt, ok);
        }
        if (!ok) return;
      }
      if (min !== undefined && size < min) return;
      if (max !== undefined && size > max) return;
      histogram.add(mt, size);
      if (keepObjects) objects.push({ address, mt, size });
    });
    reportWalkProblems(session, problems);

    const rows = histogram.sorted(opts.flags.has('bycount') ? 'count' : 'size');
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
      const mtWidth = Math.max(2, ...rows.map((r) => x12(r.mt).length));
      const countWidth = Math.max(5, ...rows.map((r) => n0(r.count).length));
      const sizeWidth = Math.max(9, ...rows.map((r) => n0(r.totalSize).length));
      lines.push('Statistics:');
      lines.push(`${right('MT', mtWidth)} ${right('Count', countWidth)} ${right('TotalSize', sizeWidth)} Class Name`);
      for (const r of rows) {
        lines.push(`${x12(r.mt)} ${right(n0(r.count), countWidth)} ${right(n0(r.totalSize), sizeWidth)} ${names.clrmdName(r.mt)}`);
      }
      lines.push(`Total ${n0(histogram.totalCount)} objects, ${n0(histogram.totalSize)} bytes`);
    }
    reportNameProblems(session);
    const json: Record<string, unknown> = {
      types: rows.map((r) => ({ mt: hexJson(r.mt), name: names.clrmdName(r.mt), count: r.count, totalSize: r.totalSize })),
      totalCount: histogram.totalCount,
      totalSize: histogram.totalSize,
    };
    if (!stat) json.objects = objects.map((o) => ({ address: hexJson(o.address), mt: hexJson(o.mt), name: names.clrmdName(o.mt), size: o.size }));
    return { text: lines.join('\n'), json };
  },
};
