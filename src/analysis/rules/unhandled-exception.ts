/**
 * The crash: a thread with an exception in flight (its ExInfo chain is not empty) that stopped in cooperative mode —
 * the state the runtime leaves the crashing thread in while createdump writes a crash dump for an unhandled
 * exception (DOTNET_DbgEnableMiniDump). Names the thread, the exception with its inner exceptions, and the user
 * method that threw it.
 */
import { DumpsleuthError } from '../../errors';
import { ExceptionReader, type ExceptionObject } from '../../heap/exception-object';
import { MethodTableReader } from '../../runtime/method-table';
import type { ClrThread } from '../../runtime/thread-store';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { hex, isUserMethod, methodCulprit, typeName } from './rule-support';

const MAX_INNER = 20;

/** Reports the exception a crashing thread is dispatching. */
export const unhandledExceptionRule: LeakRule<RuleContext> = {
  id: 'unhandled-exception',
  description: 'The crash: the thread dispatching an exception when the dump was written, the exception chain and the user method that threw',
  run(ctx: RuleContext): Finding[] {
    const d = ctx.runtime.descriptor;
    const m = ctx.runtime.memory;
    const reader = new ExceptionReader(ctx.runtime, new MethodTableReader(ctx.runtime));
    const findings: Finding[] = [];
    for (const t of ctx.threads) {
      if (t.isDead || t.lastThrownObject === 0 || !t.preemptiveGCDisabled) continue;
      try {
        if (m.readPointer(t.address + d.offset('Thread', 'ExceptionTracker')) === 0) continue;
        findings.push(crashFinding(ctx, reader, t));
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
      }
    }
    return findings;
  },
};

function crashFinding(ctx: RuleContext, reader: ExceptionReader, t: ClrThread): Finding {
  const chain: ExceptionObject[] = [reader.read(t.lastThrownObject)];
  while (chain.length < MAX_INNER && chain[chain.length - 1]!.innerException !== 0) chain.push(reader.read(chain[chain.length - 1]!.innerException));
  const thrower = (ex: ExceptionObject): number | undefined => ex.stackTrace.find((f) => f.methodDesc !== 0 && isUserMethod(ctx, f.methodDesc))?.methodDesc;
  const describe = (ex: ExceptionObject): string => {
    const md = thrower(ex);
    return `${typeName(ctx, ex.methodTable)}: "${ex.message ?? ''}"${md !== undefined ? ` thrown in ${ctx.code.methodDescs.name(md)}` : ''}`;
  };
  const top = chain[0]!;
  const topThrower = thrower(top);
  const inner = chain.slice(1).map((ex) => `inner ${describe(ex)}`);
  return {
    rule: 'unhandled-exception',
    title: `Crash: unhandled ${typeName(ctx, top.methodTable)} on thread ${t.managedId}`,
    severity: 'error',
    verdict: `Thread ${t.managedId} (OS 0x${t.osId.toString(16)}) was dispatching ${describe(top)}${inner.length ? `; ${inner.join('; ')}` : ''}.`,
    objectCount: chain.length,
    retainedBytes: 0,
    ...(topThrower !== undefined ? { culprit: methodCulprit(ctx, topThrower, `the first user frame of the exception's stack trace (where it was thrown)`) } : {}),
    chain: [],
    examples: chain.map((ex) => ex.address),
    verify: ['pe -nested', `clrstack -t ${t.osId.toString(16)}`, ...chain.slice(1).map((ex) => `pe ${hex(ex.address)}`)],
    confidence: 'high',
    details: {
      thread: { managedId: t.managedId, osId: t.osId },
      exceptions: chain.map((ex) => ({
        address: hex(ex.address),
        type: typeName(ctx, ex.methodTable),
        message: ex.message ?? null,
        hresult: ex.hresult,
        thrownIn: thrower(ex) === undefined ? null : ctx.code.methodDescs.name(thrower(ex)!),
      })),
    },
  };
}
