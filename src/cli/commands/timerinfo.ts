/**
 * `timerinfo` (`ti`): every timer of every `TimerQueue` on the heap with its due time, period, state and callback,
 * then a summary counting identical timers, in the layout of SOS's TimersCommand (dotnet/diagnostics
 * ExtensionCommands). SOS names the callback only when the delegate's `_methodPtr` is method code; for a static
 * method (`_methodPtr` is a shuffle thunk) or a method not yet compiled it prints nothing, where dumpsleuth names
 * the method the delegate calls (as `dumpdelegate` finds it) and says so in the JSON (`callbackFrom`).
 */
import { DumpsleuthError, UsageError } from '../../errors';
import { forEachObject } from '../../heap/heap-walker';
import { readFieldPath, readRefPath } from '../../heap/managed-fields';
import { readTimerQueue, TIMER_INFINITE, type TimerQueueTimerInfo } from '../../heap/timers';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, right } from '../format';
import type { Session } from '../session';
import { delegateReaderOf } from './dumpdelegate';
import { objectReaderOf } from './object-text';

/** The timerinfo command. */
export const timerinfoCommand: Command = {
  name: 'timerinfo',
  aliases: ['ti'],
  summary: 'Running timers (System.Threading.Timer): due time, period, state and callback, with a summary',
  usage: 'timerinfo',
  help: {
    options: [],
    examples: ['timerinfo', 'ti'],
    sos: 'timerinfo (dotnet-dump; dumpsleuth also names a static callback SOS leaves empty)',
  },
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('timerinfo', args, [], []);
    if (opts.positional.length) throw new UsageError(`timerinfo: unexpected argument "${opts.positional[0]}"`);
    const objects = objectReaderOf(session);
    const timers: (TimerQueueTimerInfo & { stateType: string; method: string; callbackFrom: string })[] = [];
    for (const queue of findObjectsOfType(session, 'System.Threading.TimerQueue')) {
      for (const t of readTimerQueue(objects, queue)) {
        const { method, from } = callbackName(session, t.callback);
        timers.push({ ...t, stateType: t.state !== 0 ? typeOf(session, t.state) : '', method, callbackFrom: from });
      }
    }
    // SOS orders by period (a stable sort: queue order within a period).
    const ordered = timers.map((t, i) => ({ t, i })).sort((a, b) => a.t.period - b.t.period || a.i - b.i).map((x) => x.t);
    const lines: string[] = [];
    const stats = new Map<string, number>();
    for (const t of ordered) {
      const kind = t.isShort ? 'S' : 'L';
      const when = `@${right(String(t.dueTime), 8)} ms every ${right(t.period === TIMER_INFINITE ? '  ------' : String(t.period), 8)} ms`;
      const tail = `${hex16(t.state)} (${t.stateType}) -> ${t.method}`;
      lines.push(`(${kind}) 0x${hex16(t.address)} ${when} |  ${tail}`);
      const key = `(${kind}) ${when} | ${tail}`;
      stats.set(key, (stats.get(key) ?? 0) + 1);
    }
    lines.push('', `   ${ordered.length} timers`, '-----------------------------------------------');
    const summary = [...stats].map(([line, count], i) => ({ line, count, i })).sort((a, b) => a.count - b.count || a.i - b.i);
    for (const s of summary) lines.push(`${right(String(s.count), 4)} | ${s.line}`);
    return {
      text: lines.join('\n'),
      json: {
        timers: ordered.map((t) => ({
          address: hexJson(t.address),
          kind: t.isShort ? 'short' : 'long',
          dueTimeMs: t.dueTime === TIMER_INFINITE ? null : t.dueTime,
          periodMs: t.period === TIMER_INFINITE ? null : t.period,
          canceled: t.canceled,
          state: hexJson(t.state),
          stateType: t.stateType,
          callback: hexJson(t.callback),
          method: t.method,
          callbackFrom: t.callbackFrom,
        })),
        summary: summary.map((s) => ({ count: s.count, timer: s.line })),
      },
    };
  },
};

function hex16(n: number): string {
  return n.toString(16).toUpperCase().padStart(16, '0');
}

function typeOf(session: Session, object: number): string {
  const raw = session.runtime.memory.readPointer(object);
  return session.names.clrmdName(raw - (raw % 8));
}

/** Every object of the named type on the heap, in heap order (one heap walk). */
export function findObjectsOfType(session: Session, typeName: string): number[] {
  const matches = new Map<number, boolean>();
  const found: number[] = [];
  const heap = session.heap;
  forEachObject(heap, session.methodTables, session.runtime.memory, (address, mt) => {
    let match = matches.get(mt);
    if (match === undefined) {
      match = mt !== heap.freeObjectMethodTable && session.names.clrmdName(mt) === typeName;
      matches.set(mt, match);
    }
    if (match) found.push(address);
  });
  return found;
}

/** `Type.Method` of a method's MethodDesc, the way ClrMD spells `ClrMethod.Type.Name` + `.` + `ClrMethod.Name`. */
function shortMethodName(session: Session, md: number, typeName?: string): string {
  const code = codeResolverOf(session);
  const full = code.methodDescs.name(md);
  const noArgs = full.includes('(') ? full.slice(0, full.indexOf('(')) : full;
  const ctor = /\.\.c?ctor$/.exec(noArgs);
  const name = ctor ? ctor[0].slice(1) : noArgs.slice(noArgs.lastIndexOf('.') + 1);
  return `${typeName ?? session.names.clrmdName(code.methodDescs.read(md).methodTable)}.${name}`;
}

/** The callback text: SOS's rule first (`_methodPtr` inside method code; the target's type, or the method's type
 * for a null target), else the method the delegate calls; '' when neither is found. */
function callbackName(session: Session, callback: number): { method: string; from: string } {
  if (callback === 0) return { method: '???', from: 'none' };
  try {
    const objects = objectReaderOf(session);
    const code = codeResolverOf(session);
    const methodPtr = session.runtime.memory.readPointer(readFieldPath(objects, callback, ['_methodPtr']).address);
    const block = methodPtr !== 0 ? code.methodOfIP(methodPtr) : undefined;
    if (block) {
      const target = readRefPath(objects, callback, ['_target']);
      return { method: shortMethodName(session, block.methodDesc, target !== 0 ? typeOf(session, target) : undefined), from: '_methodPtr' };
    }
    const inv = delegateReaderOf(session).read(callback).invocations[0];
    if (inv && inv.methodDesc !== 0) return { method: shortMethodName(session, inv.methodDesc), from: inv.resolvedFrom };
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    session.warn(`timer callback 0x${callback.toString(16)}: ${e.message}`);
  }
  return { method: '', from: 'none' };
}
