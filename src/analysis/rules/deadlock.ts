/**
 * Deadlocks: a cycle in the wait-for graph (analysis/wait-graph.ts) of Monitor and System.Threading.Lock owners —
 * each thread of the cycle holds a lock the next one waits to enter. Reported as an error: none of these threads
 * can ever run again.
 */
import { DumpsleuthError } from '../../errors';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import { buildWaitGraph, findDeadlocks, type LockWait } from '../wait-graph';
import type { RuleContext } from './rule-context';
import { hex, isUserMethod, methodCulprit, typeName } from './rule-support';

/** Reports each cycle of threads waiting for each other's locks. */
export const deadlockRule: LeakRule<RuleContext> = {
  id: 'deadlock',
  description: "Threads that wait for each other's locks (Monitor, System.Threading.Lock) in a cycle",
  run(ctx: RuleContext): Finding[] {
    let cycles: LockWait[][];
    try {
      cycles = findDeadlocks(buildWaitGraph(ctx));
    } catch (e) {
      if (e instanceof DumpsleuthError) return [];
      throw e;
    }
    return cycles.map((cycle) => deadlockFinding(ctx, cycle));
  },
};

function deadlockFinding(ctx: RuleContext, cycle: readonly LockWait[]): Finding {
  const thread = (w: LockWait) => `thread ${w.thread.managedId} (OS 0x${w.thread.osId.toString(16)})`;
  const lockText = (w: LockWait) => `${w.lock.kind === 'Lock' ? 'Lock' : 'Monitor'} on ${typeName(ctx, ctx.graph.mtOf(ctx.graph.indexOf(w.lock.object)))} ${hex(w.lock.object)}`;
  const userMethod = (w: LockWait): number => w.methods.slice(w.methods.indexOf(w.callerMethodDesc)).find((md) => isUserMethod(ctx, md)) ?? w.callerMethodDesc;
  const steps = cycle.map((w) => `${thread(w)} in ${ctx.code.methodDescs.name(userMethod(w))} waits for the ${lockText(w)} held by ${thread({ ...w, thread: w.owner })}`);
  const first = cycle[0]!;
  return {
    rule: 'deadlock',
    title: `Deadlock: ${cycle.length} threads wait for each other's locks`,
    severity: 'error',
    verdict: `${steps.join('; ')}. None of them can proceed.`,
    objectCount: cycle.length,
    retainedBytes: 0,
    culprit: methodCulprit(ctx, userMethod(first), `${thread(first)} waits here for the ${lockText(first)} while the thread holding it waits for a lock this thread holds`),
    chain: [],
    examples: cycle.map((w) => w.lock.object),
    verify: ['syncblk', ...cycle.map((w) => `clrstack -t ${w.thread.osId.toString(16)}`), ...cycle.map((w) => `dumpobj ${hex(w.lock.object)}`)],
    confidence: 'high',
    details: {
      threads: cycle.map((w) => ({
        managedId: w.thread.managedId,
        osId: w.thread.osId,
        method: ctx.code.methodDescs.name(userMethod(w)),
        waitsFor: hex(w.lock.object),
        lockKind: w.lock.kind,
        lockType: typeName(ctx, ctx.graph.mtOf(ctx.graph.indexOf(w.lock.object))),
        heldBy: w.owner.managedId,
      })),
    },
  };
}
