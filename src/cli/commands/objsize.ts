/**
 * `objsize <addr>`: the objects an object transitively keeps alive and their total size, with SOS's C# layout
 * (a dumpheap-style listing in breadth-first order and statistics).
 */
import { HeapHistogram } from '../../analysis/heap-histogram';
import { transitiveClosure } from '../../analysis/object-size';
import { UsageError } from '../../errors';
import { GcDescReader, type GcDesc } from '../../heap/gc-desc';
import { NO_OBJECT } from '../../heap/object-graph';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, n0, right, x12 } from '../format';
import type { Session } from '../session';
import { heapStatJson, heapStatLines } from './heap-stat-text';
import { rootCache } from './root-cache';

/** The objsize command. */
export const objsizeCommand: Command = {
  name: 'objsize',
  aliases: [],
  summary: 'Size of everything an object transitively keeps alive',
  usage: 'objsize [-stat] [-short] <address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('objsize', args, ['stat', 'short'], []);
    if (opts.positional.length !== 1) throw new UsageError('objsize: expected one object address');
    const address = addressArg('objsize', opts.positional[0]);
    const graph = rootCache(session).graph;
    const index = graph.indexOf(address);
    if (index === NO_OBJECT) throw new UsageError(`objsize: ${address.toString(16)} is not a valid object`);
    // Children in ClrMD's order (per type's GCDesc), so the listing is SOS's line for line.
    const descs = new GcDescReader(session.runtime.memory);
    const byMt = new Map<number, GcDesc | null>();
    const descOf = (i: number): GcDesc | null => {
      const mt = graph.mtOf(i);
      let d = byMt.get(mt);
      if (d === undefined) {
        try {
          d = descs.read(session.methodTables.read(mt));
        } catch {
          d = null; // unreadable GCDesc: the graph's (ascending offset) order
        }
        byMt.set(mt, d);
      }
      return d;
    };
    const closure = transitiveClosure(graph, index, descOf);
    const histogram = new HeapHistogram();
    for (const i of closure) histogram.add(graph.mtOf(i), graph.sizes[i]!);
    const lines: string[] = [];
    if (opts.flags.has('short')) {
      for (const i of closure) lines.push(x12(graph.addresses[i]!));
    } else {
      lines.push(`Objects which ${address.toString(16)} (${session.names.clrmdName(graph.mtOf(index))}) transitively keep alive:`, '');
      if (!opts.flags.has('stat')) {
        lines.push(`${right('Address', 16)} ${right('MT', 16)} ${right('Size', 14)}`);
        for (const i of closure) lines.push(`${right(x12(graph.addresses[i]!), 16)} ${right(x12(graph.mtOf(i)), 16)} ${right(n0(graph.sizes[i]!), 14)} `);
        lines.push('');
      }
      lines.push(...heapStatLines(session, histogram));
    }
    return {
      text: lines.join('\n'),
      json: { address: hexJson(address), totalCount: histogram.totalCount, totalSize: histogram.totalSize, types: heapStatJson(session, histogram) },
    };
  },
};
