/**
 * `threadpool` (`tp`): the portable thread pool's limits and worker counts, and with `-wi` the work items waiting in
 * its global queue, in the layout of SOS's ThreadPoolCommand. The pool's objects are found on the heap by type.
 */
import { UsageError } from '../../errors';
import { forEachObject } from '../../heap/heap-walker';
import { readGlobalWorkItems, readThreadPoolState } from '../../heap/thread-pool';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left, x12 } from '../format';
import type { Session } from '../session';
import { objectReaderOf } from './object-text';

/** The threadpool command. */
export const threadpoolCommand: Command = {
  name: 'threadpool',
  aliases: ['tp'],
  summary: 'Thread pool workers (total, running, idle, limits) and, with -wi, the queued work items',
  usage: 'threadpool [-wi]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('threadpool', args, ['wi'], []);
    if (opts.positional.length) throw new UsageError(`threadpool: unexpected argument "${opts.positional[0]}"`);
    const found = findSingletons(session, ['System.Threading.PortableThreadPool', 'System.Threading.ThreadPoolWorkQueue']);
    const pool = found.get('System.Threading.PortableThreadPool');
    // SOS's words when the process never started its thread pool (no PortableThreadPool object exists yet).
    if (pool === undefined) return { text: 'Failed to obtain ThreadPool data.', json: { threadPool: null, reason: 'no System.Threading.PortableThreadPool object on the heap' } };
    const objects = objectReaderOf(session);
    const state = readThreadPoolState(objects, pool);
    const lines = [
      'Using the Portable thread pool.',
      '',
      `CPU utilization:  ${state.cpuUtilization}%`,
      `Workers Total:    ${state.total}`,
      `Workers Running:  ${state.running}`,
      `Workers Idle:     ${state.total - state.running}`,
      `Worker Min Limit: ${state.minThreads}`,
      `Worker Max Limit: ${state.maxThreads}`,
      '',
    ];
    const queue = found.get('System.Threading.ThreadPoolWorkQueue');
    const items = queue === undefined ? [] : readGlobalWorkItems(objects, queue);
    // SOS prints the table only when something is queued.
    if (opts.flags.has('wi') && items.length > 0) {
      lines.push('Queue             Object           Type');
      for (const item of items) lines.push(`${left('[Global]', 17)} ${left(x12(item), 16)} ${typeOf(session, item)}`);
    }
    return {
      text: lines.join('\n'),
      json: {
        threadPool: { ...state, idle: state.total - state.running, address: hexJson(pool) },
        globalQueue: items.map((a) => ({ object: hexJson(a), type: typeOf(session, a) })),
      },
    };
  },
};

function typeOf(session: Session, object: number): string {
  const raw = session.runtime.memory.readPointer(object);
  return session.names.clrmdName(raw - (raw % 8));
}

/** The first object of each named type on the heap (one heap walk). */
export function findSingletons(session: Session, typeNames: readonly string[]): Map<string, number> {
  const wanted = new Set(typeNames);
  const names = new Map<number, string | null>();
  const found = new Map<string, number>();
  const heap = session.heap;
  forEachObject(heap, session.methodTables, session.runtime.memory, (address, mt) => {
    let name = names.get(mt);
    if (name === undefined) {
      name = mt === heap.freeObjectMethodTable ? null : session.names.clrmdName(mt);
      names.set(mt, wanted.has(name ?? '') ? name : null);
      name = names.get(mt)!;
    }
    if (name !== null && !found.has(name)) found.set(name, address);
  });
  return found;
}
