/**
 * `finalizequeue` (`fq`): per heap the finalization queue's generation ranges and ready list, then statistics of
 * every finalizable object, in SOS's C# layout (FinalizeQueueCommand). SOS's generation labels follow ClrMD's
 * reading of the fill pointers (see runtime/gc/finalize-queue.ts `sosGenerations`); ours match them.
 */
import { HeapHistogram } from '../../analysis/heap-histogram';
import { UsageError } from '../../errors';
import { NO_OBJECT } from '../../heap/object-graph';
import { forEachFinalizeSlot } from '../../runtime/gc/finalize-queue';
import { tryReadSyncBlockCleanup, type SyncBlockCleanup } from '../../runtime/sync-block-cleanup';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, n0, right, x12 } from '../format';
import type { Session } from '../session';
import { heapStatJson, heapStatLines } from './heap-stat-text';
import { rootCache } from './root-cache';

/**
 * SOS's lines before the queues: the SyncBlocks the finalizer thread will clean up, one row each, then the COM
 * interface counts (always 0 off Windows: no COM interop). SOS asks the DAC for the list's first entry and counts
 * every answer until the next one is null, and the DAC answers an empty list with one zeroed entry: an empty list is
 * printed as one row of zeros and a count of 1 (seen on every .NET 10 dump SOS was run on here).
 */
function syncBlockCleanupLines(session: Session, cleanup: SyncBlockCleanup | Error): string[] {
  const zero = x12(0);
  const row = (sb: number) => `${right(x12(sb), 16)} ${right(zero, 16)} ${right(zero, 16)} ${right(zero, 16)}`;
  const lines = [`${right('SyncBlock', 16)} ${right('RCW', 16)} ${right('CCW', 16)} ${right('ComClassFactory', 16)}`];
  if (cleanup instanceof Error) {
    session.warn(`the SyncBlocks waiting for cleanup are not listed: ${cleanup.message}`);
    return [...lines, 'SyncBlocks to be cleaned up: (not read)', ...COM_LINES];
  }
  if (cleanup.count === 0) return [...lines, row(0), 'SyncBlocks to be cleaned up: 1', ...COM_LINES];
  if (cleanup.syncBlocks === undefined) {
    session.warn(`${cleanup.count} SyncBlocks wait for cleanup; their addresses are not shown (the runtime's descriptor does not place a SyncBlock's link)`);
    return [...lines, `SyncBlocks to be cleaned up: ${cleanup.count}`, ...COM_LINES];
  }
  return [...lines, ...cleanup.syncBlocks.map(row), `SyncBlocks to be cleaned up: ${cleanup.count}`, ...COM_LINES];
}

const COM_LINES = ['Free-Threaded Interfaces to be released: 0', 'MTA Interfaces to be released: 0', 'STA Interfaces to be released: 0'];

/** The finalizequeue command. */
export const finalizequeueCommand: Command = {
  name: 'finalizequeue',
  aliases: ['fq'],
  summary: 'Objects registered for finalization and those ready for it, per heap, with statistics',
  usage: 'finalizequeue [-stat] [-short] [-allReady] [-mt <MethodTable>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('finalizequeue', args, ['stat', 'summary', 'short', 'allready', 'detail'], ['mt']);
    if (opts.positional.length) throw new UsageError(`finalizequeue: unexpected argument "${opts.positional[0]}"`);
    const stat = opts.flags.has('stat') || opts.flags.has('summary');
    const short = opts.flags.has('short');
    if (stat && short) throw new UsageError('finalizequeue: cannot specify both -short and -stat');
    const mtFilter = opts.values.has('mt') ? addressArg('finalizequeue', opts.values.get('mt'), 'MethodTable') : undefined;
    const allReady = opts.flags.has('allready');
    const cache = rootCache(session);
    const graph = cache.objectIndex;
    const rt = session.runtime;
    const queues = cache.finalizeQueues;
    const lines: string[] = [];
    const ready = new Set<number>();
    for (const q of queues) forEachFinalizeSlot(rt, q.ready, (_s, o) => ready.add(o));
    const live = allReady ? cache.live : undefined;
    const cleanup = short ? undefined : tryReadSyncBlockCleanup(rt);
    if (!short) {
      lines.push(...syncBlockCleanupLines(session, cleanup!));
      lines.push('----------------------------------', '');
      for (const q of queues) {
        lines.push(`Heap ${q.heapIndex}`);
        q.sosGenerations.forEach((r, g) => lines.push(`generation ${g} has ${n0((r.end - r.start) / 8)} objects (${r.start.toString(16)}->${r.end.toString(16)})`));
        lines.push(`Ready for finalization ${n0((q.ready.end - q.ready.start) / 8)} objects (${q.ready.start.toString(16)}->${q.ready.end.toString(16)})`);
        lines.push('------------------------------');
      }
      lines.push(allReady ? 'Statistics for all finalizable objects that are no longer rooted:' : 'Statistics for all finalizable objects (including all objects ready for finalization):');
    }
    const histogram = new HeapHistogram();
    const objects: { address: number; mt: number; size: number }[] = [];
    for (const q of queues) {
      forEachFinalizeSlot(rt, q.sosAll, (_slot, o) => {
        const i = graph.indexOf(o);
        if (i === NO_OBJECT) return;
        const mt = graph.mtOf(i);
        if (mtFilter !== undefined && mt !== mtFilter) return;
        if (live && !(ready.has(o) || !live[i])) return;
        histogram.add(mt, graph.sizes[i]!);
        objects.push({ address: o, mt, size: graph.sizes[i]! });
      });
    }
    if (short) {
      for (const o of objects) lines.push(x12(o.address));
    } else {
      if (!stat && objects.length > 0) {
        lines.push(`${right('Address', 16)} ${right('MT', 16)} ${right('Size', 14)}`);
        for (const o of objects) lines.push(`${right(x12(o.address), 16)} ${right(x12(o.mt), 16)} ${right(n0(o.size), 14)} `);
        lines.push('');
      }
      lines.push(...heapStatLines(session, histogram));
    }
    return {
      text: lines.join('\n'),
      json: {
        heaps: queues.map((q) => ({
          heap: q.heapIndex,
          generations: q.sosGenerations.map((r) => ({ start: hexJson(r.start), end: hexJson(r.end), count: (r.end - r.start) / 8 })),
          ready: { start: hexJson(q.ready.start), end: hexJson(q.ready.end), count: (q.ready.end - q.ready.start) / 8 },
        })),
        ...(cleanup === undefined ? {} : { syncBlocksToCleanUp: cleanup instanceof Error ? null : { count: cleanup.count, syncBlocks: cleanup.syncBlocks?.map(hexJson) ?? null } }),
        types: heapStatJson(session, histogram),
        totalCount: histogram.totalCount,
        totalSize: histogram.totalSize,
        ...(stat ? {} : { objects: objects.map((o) => ({ address: hexJson(o.address), mt: hexJson(o.mt), size: o.size })) }),
      },
    };
  },
};
