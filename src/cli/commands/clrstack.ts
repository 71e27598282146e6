/**
 * `clrstack [-all]`: managed stack frames per thread, in SOS's ClrStack text (explicit Frames as
 * `[FrameName: address]`). Also `currentManagedMethod`, for rows of `threads`.
 */
import { readThreads, type ClrThread } from '../../runtime/thread-store';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { stackWalkerOf, type StackFrame, type StackWalk } from '../../runtime/code/stack-walker';
import { readFrameVariables, type FrameVariable, type FrameVariables } from '../../runtime/code/frame-variables';
import { sourceLineOf, type SourceLine } from './source-lines';
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
  summary: 'Managed stack trace of the current thread (-all: every thread; -p arguments, -l locals, -a both)',
  usage: 'clrstack [-a | -p | -l] [-n] [-all] [-t <OS thread id (hex)>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('clrstack', args, ['all', 'a', 'p', 'l', 'n'], ['t']);
    const showLines = !opts.flags.has('n');
    const showArgs = opts.flags.has('a') || opts.flags.has('p');
    const showLocals = opts.flags.has('a') || opts.flags.has('l');
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
      const frameMethod = (f: StackFrame) => (f.kind === 'frame' ? frameFunctionName(code, f.function) : undefined);
      const variables = new Map<StackFrame, FrameVariables>();
      const sources = new Map<StackFrame, SourceLine>();
      frames.forEach((f, k) => {
        // SOS steps back into the call for every frame but the first it prints (ClrStackImpl bAdjustIPForLineNumber).
        const source = showLines && f.kind === 'managed' ? sourceLineOf(session, code, f, k > 0) : undefined;
        if (source) sources.set(f, source);
      });
      for (const f of frames) {
        const source = sources.get(f);
        lines.push(frameLine(f, (md) => code.methodDescs.name(md), frameMethod(f)) + (source ? ` [${source.file} @ ${source.line}]` : ''));
        if (f.kind !== 'managed' || !(showArgs || showLocals)) continue;
        const vars = readFrameVariables(session.runtime, code, f);
        variables.set(f, vars);
        if (vars.debugInfoProblem !== undefined) session.warn(`${code.methodDescs.name(f.methodDesc)}: debug info not read (${vars.debugInfoProblem}); its variables show <no data>`);
        lines.push(...variableLines(vars, showArgs, showLocals), '');
      }
      for (const p of walk?.problems ?? []) session.warn(`thread 0x${t.osId.toString(16)}: ${p}`);
      json.push({
        osId: t.osId,
        managedId: t.managedId,
        frames: frames.map((f) =>
          f.kind === 'managed'
            ? {
                kind: 'managed',
                sp: hexJson(f.sp),
                ip: hexJson(f.ip),
                methodDesc: hexJson(f.methodDesc),
                method: code.methodDescs.name(f.methodDesc),
                ...(sources.has(f) ? { source: sources.get(f) } : {}),
                ...(variables.has(f) ? variablesJson(variables.get(f)!, showArgs, showLocals) : {}),
              }
            : { kind: 'frame', sp: hexJson(f.address), ip: hexJson(f.ip), frame: f.name, address: hexJson(f.address), method: frameMethod(f) ?? null },
        ),
      });
    }
    return { text: lines.join('\n') + '\n', json: { threads: json } };
  },
};

/** SOS's PARAMETERS / LOCALS lines (strike.cpp ShowArgs / ShowLocals): `name (location) = value`, `<CLR reg>` for
 * a register, `<no data>` without a live location; a location once printed makes later unnamed arguments print
 * `= ` too, as SOS's flag is never reset within a frame. */
export function variableLines(vars: FrameVariables, showArgs: boolean, showLocals: boolean): string[] {
  const out: string[] = [];
  const valueText = (v: FrameVariable) => (v.location === undefined ? '<no data>' : v.unreadable ? '<unable to retrieve data>' : `0x${(v.value ?? 0n).toString(16).padStart(16, '0')}`);
  const locationText = (v: FrameVariable, args: boolean) => {
    if (!v.location || v.location.kind === 'split') return undefined;
    if (v.location.kind === 'register') return args ? '(<CLR reg>) ' : '<CLR reg> ';
    const a = `0x${p16Upper(v.location.address)}`;
    return args ? `(${a}) ` : `${a} `;
  };
  if (showArgs && vars.args.length > 0) {
    out.push('    PARAMETERS:');
    let printedLocation = false;
    for (const v of vars.args) {
      let line = '        ';
      if (v.name !== '') line += `${v.name} `;
      const loc = locationText(v, true);
      if (loc !== undefined) {
        line += loc;
        printedLocation = true;
      }
      if (v.name !== '' || printedLocation) line += '= ';
      out.push(line + valueText(v));
    }
  }
  if (showLocals && vars.locals && vars.locals.length > 0) {
    out.push('    LOCALS:');
    for (const v of vars.locals) {
      const loc = locationText(v, false);
      out.push(`        ${v.location !== undefined && v.location.kind !== 'split' ? `${loc}= ` : ''}${valueText(v)}`);
    }
  }
  return out;
}

function variablesJson(vars: FrameVariables, showArgs: boolean, showLocals: boolean): Record<string, unknown> {
  const one = (v: FrameVariable) => ({
    ...(v.name !== '' ? { name: v.name } : {}),
    location: v.location === undefined ? null : v.location.kind === 'memory' ? hexJson(v.location.address) : v.location.kind,
    value: v.location === undefined || v.unreadable || v.value === undefined ? null : `0x${v.value.toString(16)}`,
  });
  return {
    ...(showArgs ? { parameters: vars.args.map(one) } : {}),
    ...(showLocals ? { locals: vars.locals ? vars.locals.map(one) : null } : {}),
  };
}

/** One ClrStack line: `SP IP name` for methods (both upper case), `SP ip [Name: addr] method` for explicit Frames
 * (the method only for a Frame that stands for one, as SOS prints an active P/Invoke's target). */
function frameLine(f: StackFrame, nameOf: (md: number) => string, frameMethod?: string): string {
  if (f.kind === 'managed') return `${p16Upper(f.sp)} ${p16Upper(f.ip)} ${nameOf(f.methodDesc)}`;
  return `${p16Upper(f.address)} ${p16(f.ip)} [${f.name}: ${p16(f.address)}] ${frameMethod ?? ''}`;
}

/** The name of the MethodDesc a Frame stands for, when it reads as one; undefined otherwise. */
function frameFunctionName(code: ReturnType<typeof codeResolverOf>, md: number): string | undefined {
  if (md === 0 || code.methodDescs.tryRead(md) === undefined) return undefined;
  try {
    return code.methodDescs.name(md);
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}
