/**
 * Shared text of the exception commands: the method of a stack-trace frame as SOS prints it
 * (`Module.dll!Namespace.Type.Method(Args)+0xOFFSET`) and ClrMD's frame text for `dumpexceptions`.
 */
import { DumpsleuthError } from '../../errors';
import { ExceptionReader, type StackTraceElement } from '../../heap/exception-object';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import type { Session } from '../session';

const readers = new WeakMap<Session, ExceptionReader>();

/** The session's exception reader. */
export function exceptionReader(session: Session): ExceptionReader {
  let r = readers.get(session);
  if (!r) {
    r = new ExceptionReader(session.runtime, session.methodTables);
    readers.set(session, r);
  }
  return r;
}

/** The method's SOS name, or undefined when the MethodDesc is unreadable. */
export function frameMethodName(session: Session, frame: StackTraceElement): string | undefined {
  const code = codeResolverOf(session);
  if (code.methodDescs.tryRead(frame.methodDesc) === undefined) return undefined;
  return code.methodDescs.name(frame.methodDesc);
}

/** SOS printexception's Function column: module file, method and the IP's offset in the method's code. */
export function frameFunctionText(session: Session, frame: StackTraceElement): string {
  const code = codeResolverOf(session);
  const name = frameMethodName(session, frame);
  if (name === undefined) return `UNKNOWN!Unknown`;
  let module = 'UNKNOWN';
  try {
    const path = session.modules.read(code.methodDescs.module(frame.methodDesc)).path;
    if (path) module = path.slice(path.lastIndexOf('/') + 1);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  const block = code.methodOfIP(frame.ip);
  const offset = block !== undefined && block.methodDesc === frame.methodDesc ? `+0x${block.relativeOffset.toString(16)}` : '';
  return `${module}!${name}${offset}`;
}
