/**
 * `threadpool` (`tp`): the portable thread pool's limits and worker counts, and with `-wi` the work items waiting in
 * its global queues and in each worker's local (work-stealing) queue, in the layout of SOS's ThreadPoolCommand. The
 * pool's objects are found on the heap by type.
 */
import { DumpsleuthError, UsageError } from '../../errors';
import { forEachObject } from '../../heap/heap-walker';
import { readConcurrentQueue, readAssignableWorkItemsQueue, readThreadPoolState, readWorkStealingQueue } from '../../heap/thread-pool';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left, x12 } from '../format';
import type { Session } from '../session';
import { delegateReaderOf } from './dumpdelegate';
import { objectReaderOf } from './object-text';

const WORK_QUEUE = 'System.Threading.ThreadPoolWorkQueue';
const WORK_STEALING_QUEUE = 'System.Threading.ThreadPoolWorkQueue+WorkStealingQueue';

/** Which queue a work item waits in. */
type QueueKind = 'global-high-priority' | 'global' | 'local';

/** One queued work item and the queue object that holds it. */
interface QueuedItem {
  readonly queue: QueueKind;
  readonly queueObject: number;
  readonly object: number;
}

/** The threadpool command. */
export const threadpoolCommand: Command = {
  name: 'threadpool',
  aliases: ['tp'],
  summary: 'Thread pool workers (total, running, idle, limits) and, with -wi, the queued work items',
  usage: 'threadpool [-wi]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('threadpool', args, ['wi'], []);
    if (opts.positional.length) throw new UsageError(`threadpool: unexpected argument "${opts.positional[0]}"`);
    const found = findQueues(session);
    const pool = found.pool;
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
    // SOS visits the queue objects in heap order: a ThreadPoolWorkQueue's high-priority, normal and assignable
    // queues, and each WorkStealingQueue's non-null slots.
    const items: QueuedItem[] = [];
    for (const q of found.queues) {
      if (q.kind === 'work-queue') {
        const add = (queue: number, kind: QueueKind): void => {
          const out: number[] = [];
          if (queue !== 0) readConcurrentQueue(objects, queue, out);
          for (const object of out) items.push({ queue: kind, queueObject: q.address, object });
        };
        add(readRefOrZero(session, q.address, 'highPriorityWorkItems'), 'global-high-priority');
        add(readRefOrZero(session, q.address, 'workItems'), 'global');
        add(readAssignableWorkItemsQueue(objects, q.address), 'global');
      } else {
        for (const object of readWorkStealingQueue(objects, q.address)) {
          // SOS lists an entry only when it reads as an object.
          const raw = session.runtime.memory.readPointer(object);
          if (objects.tryReadMethodTable(raw - (raw % 8)) !== undefined) items.push({ queue: 'local', queueObject: q.address, object });
        }
      }
    }
    // SOS prints the table only when something is queued, and labels the local queues' items "[Global]" too.
    if (opts.flags.has('wi') && items.length > 0) {
      lines.push('Queue             Object           Type');
      for (const item of items) lines.push(`${left(item.queue === 'global-high-priority' ? '[Global high-pri]' : '[Global]', 17)} ${left(x12(item.object), 16)} ${typeOf(session, item.object)}`);
    }
    const global = items.filter((i) => i.queue !== 'local');
    return {
      text: lines.join('\n'),
      json: {
        threadPool: { ...state, idle: state.total - state.running, address: hexJson(pool) },
        globalQueue: global.map((i) => ({ object: hexJson(i.object), type: typeOf(session, i.object) })),
        workItems: items.map((i) => ({ queue: i.queue, queueObject: hexJson(i.queueObject), object: hexJson(i.object), type: typeOf(session, i.object), method: methodToRun(session, i.object) })),
      },
    };
  },
};

function typeOf(session: Session, object: number): string {
  const raw = session.runtime.memory.readPointer(object);
  return session.names.clrmdName(raw - (raw % 8));
}

/** The PortableThreadPool (the first) and every ThreadPoolWorkQueue and WorkStealingQueue, in heap order (one heap
 * walk; SOS walks the whole heap, so a dead thread's queue still on the heap is listed too). */
function findQueues(session: Session): { pool: number | undefined; queues: { kind: 'work-queue' | 'local'; address: number }[] } {
  const kinds = new Map<number, 'pool' | 'work-queue' | 'local' | null>();
  const heap = session.heap;
  let pool: number | undefined;
  const queues: { kind: 'work-queue' | 'local'; address: number }[] = [];
  forEachObject(heap, session.methodTables, session.runtime.memory, (address, mt) => {
    let kind = kinds.get(mt);
    if (kind === undefined) {
      const name = mt === heap.freeObjectMethodTable ? '' : session.names.clrmdName(mt);
      kind = name === 'System.Threading.PortableThreadPool' ? 'pool' : name === WORK_QUEUE ? 'work-queue' : name === WORK_STEALING_QUEUE ? 'local' : null;
      kinds.set(mt, kind);
    }
    if (kind === 'pool') pool ??= address;
    else if (kind !== null) queues.push({ kind, address });
  });
  return { pool, queues };
}

function readRefOrZero(session: Session, address: number, field: string): number {
  const objects = objectReaderOf(session);
  const row = objects.fieldRows(objects.readObject(address, false).mt, address, false).find((r) => r.name === field && !r.fd.isStatic);
  return row?.value.kind === 'reference' ? row.value.value : 0;
}

/** The method a work item will run, where it names one: a Task's `m_action`, a QueueUserWorkItemCallback's
 * `_callback` (the delegate's target method, as `dumpdelegate` finds it); null otherwise. */
function methodToRun(session: Session, item: number): string | null {
  const objects = objectReaderOf(session);
  try {
    const rows = objects.fieldRows(objects.readObject(item, false).mt, item, false);
    const row = rows.find((r) => (r.name === 'm_action' || r.name === '_callback') && !r.fd.isStatic);
    if (row?.value.kind !== 'reference' || row.value.value === 0) return null;
    const md = delegateReaderOf(session).read(row.value.value).invocations[0]?.methodDesc ?? 0;
    return md === 0 ? null : codeResolverOf(session).methodDescs.name(md);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    return null;
  }
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
