/**
 * `gchandles`: every GC handle with its kind and target, per-type statistics and per-kind counts, in SOS's native
 * layout (strike.cpp GCHandlesImpl: upper-case `%p` pointers, DAC-style type names, `Total N objects`).
 */
import { UsageError } from '../../errors';
import { NO_OBJECT } from '../../heap/object-graph';
import type { GcHandle, HandleKind } from '../../runtime/gc/handle-table';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left, p16, p16Upper, right } from '../format';
import type { Session } from '../session';
import { rootCache } from './root-cache';

/** SOS's Type column name and Handles-section label per kind, in the section's order. */
const KINDS: readonly { kind: HandleKind; column: string; label: string }[] = [
  { kind: 'strong', column: 'Strong', label: 'Strong Handles:' },
  { kind: 'pinned', column: 'Pinned', label: 'Pinned Handles:' },
  { kind: 'asyncPinned', column: 'AsyncPinned', label: 'Async Pinned Handles:' },
  { kind: 'refCounted', column: 'RefCounted', label: 'Ref Count Handles:' },
  { kind: 'weakLong', column: 'WeakLong', label: 'Weak Long Handles:' },
  { kind: 'weakShort', column: 'WeakShort', label: 'Weak Short Handles:' },
  { kind: 'weakWinRT', column: 'WeakWinRT', label: 'Weak WinRT Handles:' },
  { kind: 'weakInteriorPointer', column: 'WeakInteriorPointer', label: 'Weak Interior Pointer Handles:' },
  { kind: 'variable', column: 'Variable', label: 'Variable Handles:' },
  { kind: 'sizedRef', column: 'SizedRef', label: 'SizedRef Handles:' },
  { kind: 'dependent', column: 'Dependent', label: 'Dependent Handles:' },
  { kind: 'crossReference', column: 'CrossReference', label: 'Other Handles:' },
];

/** The gchandles command. */
export const gchandlesCommand: Command = {
  name: 'gchandles',
  aliases: [],
  summary: 'List GC handles (strong, pinned, weak, dependent, ...) with per-type statistics',
  usage: 'gchandles [-stat] [-type <kind>] [-perdomain]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('gchandles', args, ['stat', 'perdomain'], ['type']);
    if (opts.positional.length) throw new UsageError(`gchandles: unexpected argument "${opts.positional[0]}"`);
    const typeName = opts.values.get('type');
    const wanted = typeName === undefined ? undefined : KINDS.find((k) => k.column.toLowerCase() === typeName.toLowerCase());
    if (typeName !== undefined && !wanted) throw new UsageError(`gchandles: unknown handle type "${typeName}" (${KINDS.map((k) => k.column).join(', ')})`);
    const cache = rootCache(session);
    const graph = cache.objectIndex;
    const names = session.names;
    const freeMt = session.heap.freeObjectMethodTable;
    const handles = cache.handles.filter((h) => !wanted || h.kind === wanted.kind);

    const describe = (h: GcHandle) => {
      const i = graph.indexOf(h.target);
      if (i === NO_OBJECT) return { mt: 0, size: 0, name: '<error>' };
      const mt = graph.mtOf(i);
      if (mt === freeMt) return { mt, size: graph.sizes[i]!, name: '<free>' };
      return { mt, size: graph.sizes[i]!, name: names.dacName(mt) };
    };
    const lines: string[] = [];
    const stats = new Map<number, { count: number; size: number }>();
    const counts = new Map<HandleKind, number>();
    const json: Record<string, unknown>[] = [];
    if (!opts.flags.has('stat')) lines.push(`${right('Handle', 16)} ${left('Type', 11)} ${right('Object', 16)} ${right('Size', 8)} ${right('Data', 16)} Type`);
    for (const h of handles) {
      const d = describe(h);
      counts.set(h.kind, (counts.get(h.kind) ?? 0) + 1);
      if (d.name !== '<free>' && d.name !== '<error>') {
        const s = stats.get(d.mt) ?? { count: 0, size: 0 };
        s.count++;
        s.size += d.size;
        stats.set(d.mt, s);
      }
      const column = KINDS.find((k) => k.kind === h.kind)!.column;
      const hasData = h.kind === 'dependent' || h.kind === 'weakInteriorPointer' || h.kind === 'crossReference';
      if (!opts.flags.has('stat')) {
        lines.push(`${p16Upper(h.address)} ${left(column, 11)} ${p16Upper(h.target)} ${right(String(d.size), 8)} ${hasData ? p16Upper(h.secondary) : ' '.repeat(16)} ${d.name}`);
      }
      json.push({
        address: hexJson(h.address),
        kind: h.kind,
        target: hexJson(h.target),
        targetType: d.name,
        secondary: hasData ? hexJson(h.secondary) : null,
      });
    }
    const orphans = handles.filter((h) => graph.indexOf(h.target) === NO_OBJECT).length;
    if (orphans > 0) session.warn(`${orphans} handles point at no object on the walked heap (listed as <error>, left out of the statistics)`);
    if (!opts.flags.has('stat')) lines.push('');
    // The native HeapStat sorts by total size, ties in descending MethodTable order.
    const rows = [...stats.entries()].sort((a, b) => a[1].size - b[1].size || b[0] - a[0]);
    lines.push('Statistics:');
    lines.push(`${right('MT', 16)} ${right('Count', 8)} ${right('TotalSize', 12)} Class Name`);
    let total = 0;
    for (const [mt, s] of rows) {
      lines.push(`${p16(mt)} ${right(String(s.count), 8)} ${right(String(s.size), 12)} ${names.dacName(mt)}`);
      total += s.count;
    }
    lines.push(`Total ${total} objects`);
    if (!wanted) {
      lines.push('', 'Handles:');
      for (const k of KINDS) {
        const n = counts.get(k.kind) ?? 0;
        // SOS's label cell is 21 wide and cuts longer labels.
        if (n > 0) lines.push(`    ${left(k.label.slice(0, 21), 21)} ${n}`);
      }
    }
    const summary: Record<string, number> = {};
    for (const k of KINDS) summary[k.kind] = counts.get(k.kind) ?? 0;
    return { text: lines.join('\n'), json: { handles: json, summary } };
  },
};
