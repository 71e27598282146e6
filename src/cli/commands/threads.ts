/**
 * `clrthreads`: the ThreadStore summary and one row per managed thread, as SOS prints them.
 */
import { readThreadStoreCounts, readThreads, type ClrThread } from '../../runtime/thread-store';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left, p16Upper, right } from '../format';
import type { Session } from '../session';

/** The clrthreads command (`threads` is dotnet-dump's OS thread list: os-threads.ts). */
export const threadsCommand: Command = {
  name: 'clrthreads',
  aliases: [],
  summary: 'List managed threads (dead ones show XXXX), with the ThreadStore counts',
  usage: 'clrthreads [-live]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('clrthreads', args, ['live'], []);
    const rt = session.runtime;
    const counts = readThreadStoreCounts(rt);
    const osThreads = new Map(session.dump.threads.map((t, i) => [t.tid, i]));
    let threads = readThreads(rt);
    if (opts.flags.has('live')) threads = threads.filter((t) => osThreads.has(t.osId) && !t.isDead);
    const appDomain = safeAppDomain(session);
    const lines: string[] = [];
    const summary: [string, string][] = [
      ['ThreadCount:', String(counts.threadCount)],
      ['UnstartedThread:', String(counts.unstarted)],
      ['BackgroundThread:', String(counts.background)],
      ['PendingThread:', String(counts.pending)],
      ['DeadThread:', String(counts.dead)],
      ['Hosted Runtime:', 'no'],
    ];
    for (const [k, v] of summary) lines.push(left(k, 17) + ' ' + v);
    lines.push(' '.repeat(108) + 'Lock  ');
    lines.push(' DBG   ID     OSID ThreadOBJ           State GC Mode     GC Alloc Context                  Domain           Count Apt Exception');
    for (const t of threads) {
      const dbg = osThreads.get(t.osId);
      const dbgText = dbg === undefined || t.osId === 0 ? 'XXXX' : right(String(dbg), 4);
      const row = [
        dbgText,
        right(String(t.managedId), 4),
        right(t.osId.toString(16), 8),
        p16Upper(t.address),
        right(t.state.toString(16), 8),
        left(t.preemptiveGCDisabled ? 'Cooperative' : 'Preemptive', 11),
        `${p16Upper(t.allocContextPointer)}:${p16Upper(t.allocContextLimit)}`,
        p16Upper(appDomain),
        '-00001',
        'Ukn',
        exceptionColumn(session, t),
      ];
      lines.push(row.join(' '));
    }
    const json = {
      summary: {
        threadCount: counts.threadCount,
        unstarted: counts.unstarted,
        background: counts.background,
        pending: counts.pending,
        dead: counts.dead,
      },
      threads: threads.map((t) => ({
        dbgId: osThreads.get(t.osId) ?? null,
        managedId: t.managedId,
        osId: t.osId,
        address: hexJson(t.address),
        state: t.state,
        gcMode: t.preemptiveGCDisabled ? 'cooperative' : 'preemptive',
        isDead: t.isDead,
        isBackground: t.isBackground,
        isFinalizer: t.isFinalizer,
        isThreadPoolWorker: t.isThreadPoolWorker,
        exposedObject: t.exposedObject ? hexJson(t.exposedObject) : null,
        lastThrownObject: t.lastThrownObject ? hexJson(t.lastThrownObject) : null,
      })),
    };
    return { text: lines.join('\n'), json };
  },
};

function safeAppDomain(session: Session): number {
  try {
    return session.runtime.readGlobalPointer('AppDomain');
  } catch {
    return 0;
  }
}

/** SOS concatenates role tags (each with a trailing space), then the last thrown exception's type and address. */
function exceptionColumn(session: Session, t: ClrThread): string {
  let s = '';
  if (t.isFinalizer) s += '(Finalizer) ';
  if (t.isGC) s += '(GC) ';
  if (t.isThreadPoolWorker) s += '(Threadpool Worker) ';
  else if (t.isCompletionPort) s += '(Threadpool Completion Port) ';
  if (t.lastThrownObject) {
    try {
      const raw = session.runtime.memory.readPointer(t.lastThrownObject);
      const mt = raw - (raw % 8);
      s += `${session.names.dacName(mt)} ${t.lastThrownObject.toString(16)}`;
    } catch {
      s += `<Invalid Object> (${t.lastThrownObject.toString(16)})`;
    }
  }
  return s;
}
