/**
 * `clrstack [-all]`: managed stack frames per thread, in SOS's ClrStack text (explicit Frames as
 * `[FrameName: address]`). Also `currentManagedMethod`, for rows of `threads`.
 */
import { readThreads, type ClrThread } from '../../runtime/thread-store';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { stackWalkerOf, type StackFrame, type StackWalk } from '../../runtime/code/stack-walker';
import { DumpsleuthError, UsageError } from '../../errors';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';

/** Walks the stack of one managed thread (its OS thread must be in the dump); undefined when it is not. */
export function walkManagedThread(session: Session, thread: ClrThread): StackWalk | undefined {
  const os = session.dump.threads.find((t) => t.tid === thread.osId);
  if (!os || thread.isDead || thread.osId === 0) return undefined;
  const code = codeResolverOf(session);
  return stackWalkerOf(session.runtime, code.em).walk({ registers: os.registers, frame: thread.frame });
}

/** The innermost managed method of a thread, in SOS's method style (for `threads` rows); undefined when none. */
export function currentManagedMethod(session: Session, thread: ClrThread): { methodDesc: number; name: string; ip: number } | undefined {
  const walk = walkManagedThread(session, thread);
  const first = walk?.frames.find((f) => f.kind === 'managed');
  if (!first || first.kind !== 'managed') return undefined;
  return { methodDesc: first.methodDesc, name: codeResolverOf(session).methodDescs.name(first.methodDesc), ip: first.ip };
}

/** The clrstack command. */
export const clrstackCommand: Command = {
  name: 'clrstack',
  aliases: [],
  summary: 'Managed stack trace of the current thread (-all: every thread)',
  usage: 'clrstack [-all] [-t <OS thread id (hex)>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('clrstack', args, ['all', 'a'], ['t']);
    const threads = readThreads(session.runtime).filter((t) => !t.isDead && t.osId !== 0 && session.dump.threads.some((o) => o.tid === t.osId));
    let selected: ClrThread[];
    if (opts.flags.has('all')) selected = threads;
    else {
      const want = opts.values.get('t');
      const tid = want !== undefined ? parseInt(want.replace(/^0x/i, ''), 16) : (session.dump.threads[session.currentThread] ?? session.dump.threads[0])?.tid;
      const t = threads.find((x) => x.osId === tid);
      if (!t) throw new UsageError(`clrstack: thread ${tid?.toString(16) ?? '?'} is not a managed thread`);
      selected = [t];
    }
    const code = codeResolverOf(session);
    const lines: string[] = [];
    const json: unknown[] = [];
    for (const t of selected) {
      const walk = walkManagedThread(session, t);
      lines.push(`OS Thread Id: 0x${t.osId.toString(16)}`);
      lines.push('        Child SP               IP Call Site');
      const frames = walk?.frames ?? [];
      const frameMethod = (f: StackFrame): number | undefined => inlinedCallFrameMethod(session, f, (md) => code.methodDescs.tryRead(md) !== undefined);
      for (const f of frames) lines.push(frameLine(f, (md) => code.methodDescs.name(md), frameMethod));
      for (const p of walk?.problems ?? []) session.warn(`thread 0x${t.osId.toString(16)}: ${p}`);
      json.push({
        osId: t.osId,
        managedId: t.managedId,
        frames: frames.map((f) =>
          f.kind === 'managed'
            ? { kind: 'managed', sp: hexJson(f.sp), ip: hexJson(f.ip), methodDesc: hexJson(f.methodDesc), method: code.methodDescs.name(f.methodDesc) }
            : { kind: 'frame', sp: hexJson(f.address), ip: hexJson(f.ip), frame: f.name, address: hexJson(f.address) },
        ),
      });
    }
    return { text: lines.join('\n') + '\n', json: { threads: json } };
  },
};

/** One ClrStack line: `SP IP name` for methods (both upper case), `SP ip [Name: addr] ` for explicit Frames, with
 * the Frame's method after it when it has one (an active P/Invoke's InlinedCallFrame). */
function frameLine(f: StackFrame, nameOf: (md: number) => string, frameMethod: (f: StackFrame) => number | undefined): string {
  if (f.kind === 'managed') return `${p16Upper(f.sp)} ${p16Upper(f.ip)} ${nameOf(f.methodDesc)}`;
  const md = frameMethod(f);
  return `${p16Upper(f.address)} ${p16(f.ip)} [${f.name}: ${p16(f.address)}] ${md !== undefined ? nameOf(md) : ''}`;
}

/** The MethodDesc of an InlinedCallFrame, as the DAC's InlinedCallFrame::GetFunction gives it: only while the call is
 * active (a caller return address) and when m_Datum holds a MethodDesc (not 0, bit 0 clear: an IL stub's secret
 * argument has it set). m_Datum is not in the contract descriptor: it is the field before m_pCallSiteSP
 * (frames.h), and the value must read as a MethodDesc or nothing is shown. */
function inlinedCallFrameMethod(session: Session, f: StackFrame, isMethodDesc: (md: number) => boolean): number | undefined {
  if (f.kind !== 'frame' || f.name !== 'InlinedCallFrame') return undefined;
  const d = session.runtime.descriptor;
  const m = session.runtime.memory;
  try {
    const callSiteSp = d.offset('InlinedCallFrame', 'CallSiteSP');
    // The Frame base is its identifier and m_Next (16 bytes): m_Datum cannot start before them.
    if (callSiteSp < 24) return undefined;
    if (m.readPointer(f.address + d.offset('InlinedCallFrame', 'CallerReturnAddress')) === 0) return undefined;
    const datum = m.readPointer(f.address + callSiteSp - 8);
    if (datum === 0 || datum % 2 !== 0) return undefined;
    return isMethodDesc(datum) ? datum : undefined;
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}
