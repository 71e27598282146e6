/**
 * `printexception` (`pe`): an exception object, or the current thread's last thrown exception, in the layout of
 * SOS's PrintException (strike.cpp): type, message, inner exception, the stack trace captured while it unwound,
 * `_stackTraceString` and the HResult. `-nested` also prints the thread's nested exceptions (its ExInfo chain).
 */
import { LimitExceededError, UsageError } from '../../errors';
import { isAsyncException, type ExceptionObject } from '../../heap/exception-object';
import { readThreads, type ClrThread } from '../../runtime/thread-store';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';
import { exceptionReader, frameFunctionText } from './exception-text';

/** The printexception command. */
export const printexceptionCommand: Command = {
  name: 'printexception',
  aliases: ['pe'],
  summary: "An exception object (default: the current thread's last thrown one): message, inner exception, stack trace",
  usage: 'printexception [-nested] [-lines] [<exception address>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('printexception', args, ['nested', 'lines', 'l', 'ccw'], []);
    if (opts.positional.length > 1) throw new UsageError(`printexception: unexpected argument "${opts.positional[1]}"`);
    const reader = exceptionReader(session);
    const current = currentThread(session);
    const lines: string[] = [];
    const json: { exception: unknown; nested: unknown[] } = { exception: null, nested: [] };
    let address = 0;
    if (opts.positional.length === 1) {
      address = addressArg('printexception', opts.positional[0]);
    } else if (current === undefined) {
      return { text: 'The current thread is unmanaged', json };
    } else if (current.lastThrownObject === 0) {
      lines.push('There is no current managed exception on this thread');
    } else {
      address = current.lastThrownObject;
    }
    if (address !== 0) {
      try {
        const ex = reader.read(address);
        lines.push(...exceptionLines(session, ex));
        json.exception = exceptionJson(session, ex);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        lines.push('Not a valid exception object');
      }
    }
    // SOS then looks at the current thread's nested exceptions, whichever object it printed.
    if (current === undefined) {
      lines.push('The current thread is unmanaged');
    } else {
      const nested = nestedExceptions(session, current.address);
      if (nested.length > 0 && !opts.flags.has('nested')) {
        lines.push('There are nested exceptions on this thread. Run with -nested for details');
      } else {
        for (const n of nested) {
          lines.push('', 'Nested exception -------------------------------------------------------------');
          const inner = reader.read(n);
          lines.push(...exceptionLines(session, inner));
          json.nested.push(exceptionJson(session, inner));
        }
      }
    }
    return { text: lines.join('\n'), json };
  },
};

function exceptionLines(session: Session, ex: ExceptionObject): string[] {
  const reader = exceptionReader(session);
  const lines = [`Exception object: ${p16(ex.address)}`, `Exception type:   ${session.names.dacName(ex.methodTable)}`, `Message:          ${ex.message ?? '<none>'}`];
  if (ex.innerException !== 0) {
    lines.push(`InnerException:   ${session.names.dacName(reader.methodTableOf(ex.innerException))}, Use printexception ${p16Upper(ex.innerException)} to see more.`);
  } else {
    lines.push('InnerException:   <none>');
  }
  lines.push('StackTrace (generated):');
  if (ex.stackTrace.length === 0) {
    lines.push('<none>');
  } else {
    lines.push('    SP               IP               Function');
    // SOS shows the IPs of exceptions it takes for hardware faults one byte later (FormatGeneratedException).
    const shift = isAsyncException(ex) ? 1 : 0;
    for (const f of ex.stackTrace) {
      const frame = { ...f, ip: f.ip + shift };
      lines.push(`    ${p16Upper(frame.sp)} ${p16Upper(frame.ip)} ${frameFunctionText(session, frame)}`);
    }
    lines.push('');
  }
  lines.push(`StackTraceString: ${ex.stackTraceString ?? '<none>'}`);
  lines.push(`HResult: ${ex.hresult.toString(16)}`);
  return lines;
}

/** The exception's fields for --json. */
export function exceptionJson(session: Session, ex: ExceptionObject): unknown {
  return {
    address: hexJson(ex.address),
    type: session.names.dacName(ex.methodTable),
    message: ex.message ?? null,
    innerException: ex.innerException ? hexJson(ex.innerException) : null,
    stackTrace: ex.stackTrace.map((f) => ({ sp: hexJson(f.sp), ip: hexJson(f.ip), methodDesc: hexJson(f.methodDesc), function: frameFunctionText(session, f) })),
    stackTraceString: ex.stackTraceString ?? null,
    hresult: ex.hresult,
  };
}

/** SOS's current thread when a dump opens: the dump's first thread (the crashing one in a crash dump), if managed. */
function currentThread(session: Session): ClrThread | undefined {
  const first = session.dump.threads[0];
  if (first === undefined) return undefined;
  return readThreads(session.runtime).find((t) => t.osId === first.tid && !t.isDead);
}

const MAX_NESTED = 1000;

/** The thread's nested exceptions: the ExInfo chain after the current one (`Thread.ExceptionTracker` →
 * `PreviousNestedInfo`; `ExceptionInfo.ThrownObject` holds the object itself, as the cDAC's Exception contract reads it). */
function nestedExceptions(session: Session, thread: number): number[] {
  const rt = session.runtime;
  const d = rt.descriptor;
  const m = rt.memory;
  const out: number[] = [];
  const tracker = m.readPointer(thread + d.offset('Thread', 'ExceptionTracker'));
  let info = tracker === 0 ? 0 : m.readPointer(tracker + d.offset('ExceptionInfo', 'PreviousNestedInfo'));
  for (let i = 0; info !== 0; i++) {
    if (i >= MAX_NESTED) throw new LimitExceededError(`thread 0x${thread.toString(16)} has more than ${MAX_NESTED} nested exceptions`);
    const object = m.readPointer(info + d.offset('ExceptionInfo', 'ThrownObject'));
    if (object !== 0) out.push(object);
    info = m.readPointer(info + d.offset('ExceptionInfo', 'PreviousNestedInfo'));
  }
  return out;
}
