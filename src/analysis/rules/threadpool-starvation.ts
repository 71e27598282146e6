/**
 * Thread-pool starvation by sync-over-async: thread-pool workers blocked synchronously on a task (`.Result`,
 * `.Wait()`, `GetAwaiter().GetResult()`) while work items wait in the pool's global queue. The task they wait for
 * needs a pool thread to complete, and every pool thread is waiting, so nothing runs until the pool injects threads
 * (slowly, and never past its maximum).
 */
import { DumpsleuthError } from '../../errors';
import { readGlobalWorkItems, readThreadPoolState, type ThreadPoolState } from '../../heap/thread-pool';
import type { StackFrame } from '../../runtime/code/stack-walker';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { hex, isUserMethod, methodCulprit, methodTablesNamed, plural } from './rule-support';

// Synchronous waits on a task, by SOS method name.
const TASK_WAIT =
  /^System\.Threading\.Tasks\.Task(`1\[\[.*\]\])?\.(Wait|InternalWait|InternalWaitCore|SpinThenBlockingWait|GetResultCore)\(|^System\.Runtime\.CompilerServices\.(Configured)?(Value)?TaskAwaiter.*\.(GetResult|ValidateEnd|HandleNonSuccessAndDebuggerNotification)\(|^System\.Threading\.Tasks\.ValueTask.*\.get_Result\(/;
const DISPATCH = /^System\.Threading\.ThreadPoolWorkQueue\.Dispatch\(/;

interface BlockedWorker {
  readonly osId: number;
  readonly managedId: number;
  /** The user method that blocks (the first user frame outside the wait). */
  readonly blockingMethod: number | undefined;
}

/** Reports pool workers blocked on tasks while work is queued. */
export const threadpoolStarvationRule: LeakRule<RuleContext> = {
  id: 'threadpool-starvation',
  description: 'Thread-pool workers blocked synchronously on tasks (sync-over-async) while work items wait in the queue',
  run(ctx: RuleContext): Finding[] {
    const pool = firstObjectOf(ctx, 'System.Threading.PortableThreadPool');
    const queue = firstObjectOf(ctx, 'System.Threading.ThreadPoolWorkQueue');
    if (pool === undefined || queue === undefined) return [];
    let state: ThreadPoolState;
    let queued: number[];
    try {
      state = readThreadPoolState(ctx.objects, pool);
      queued = readGlobalWorkItems(ctx.objects, queue);
    } catch (e) {
      if (e instanceof DumpsleuthError) return [];
      throw e;
    }
    if (queued.length === 0) return [];
    const blocked = blockedWorkers(ctx);
    // Starved: every worker that is processing work is blocked on a task, so nothing dequeues.
    if (blocked.length === 0 || blocked.length < state.running) return [];
    const byMethod = new Map<number, BlockedWorker[]>();
    for (const w of blocked) {
      if (w.blockingMethod === undefined) continue;
      const list = byMethod.get(w.blockingMethod) ?? [];
      list.push(w);
      byMethod.set(w.blockingMethod, list);
    }
    const top = [...byMethod.entries()].sort((a, b) => b[1].length - a[1].length)[0];
    const methodName = top ? ctx.code.methodDescs.name(top[0]) : undefined;
    const threadList = blocked.map((w) => `${w.managedId} (OS 0x${w.osId.toString(16)})`).join(', ');
    return [
      {
        rule: 'threadpool-starvation',
        title: `Thread-pool starvation: ${plural(blocked.length, 'worker')} blocked on tasks, ${plural(queued.length, 'work item')} queued`,
        severity: 'warning',
        verdict:
          `${blocked.length} of ${state.total} thread-pool workers (max ${state.maxThreads}) are blocked synchronously on a task` +
          `${methodName ? ` in ${methodName}` : ''} (sync-over-async) while ${plural(queued.length, 'work item')} wait in the global queue; threads ${threadList}.`,
        objectCount: queued.length,
        retainedBytes: 0,
        ...(top ? { culprit: methodCulprit(ctx, top[0], `${plural(top[1].length, 'pool thread')} block here waiting for a task to complete`) } : {}),
        chain: [],
        examples: queued.slice(0, 5),
        verify: ['threadpool -wi', ...blocked.slice(0, 4).map((w) => `clrstack -t ${w.osId.toString(16)}`), ...queued.slice(0, 1).map((a) => `dumpobj ${hex(a)}`)],
        confidence: blocked.every((w) => w.blockingMethod !== undefined) ? 'high' : 'medium',
        details: {
          workersTotal: state.total,
          workersRunning: state.running,
          maxThreads: state.maxThreads,
          queued: queued.length,
          blockedThreads: blocked.map((w) => ({ managedId: w.managedId, osId: w.osId, method: w.blockingMethod === undefined ? null : ctx.code.methodDescs.name(w.blockingMethod) })),
        },
      },
    ];
  },
};

function blockedWorkers(ctx: RuleContext): BlockedWorker[] {
  const out: BlockedWorker[] = [];
  for (const t of ctx.threads) {
    if (t.isDead || !t.isThreadPoolWorker) continue;
    const walk = ctx.walkThread(t);
    if (!walk) continue;
    const frames = walk.frames.filter((f): f is Extract<StackFrame, { kind: 'managed' }> => f.kind === 'managed');
    const names = frames.map((f) => ctx.code.methodDescs.name(f.methodDesc));
    const dispatch = names.findIndex((n) => DISPATCH.test(n));
    if (dispatch < 0) continue;
    let wait = -1;
    for (let i = 0; i < dispatch; i++) if (TASK_WAIT.test(names[i]!)) wait = i;
    if (wait < 0) continue;
    const user = frames.slice(wait + 1, dispatch).find((f) => isUserMethod(ctx, f.methodDesc));
    out.push({ osId: t.osId, managedId: t.managedId, blockingMethod: user?.methodDesc });
  }
  return out;
}

function firstObjectOf(ctx: RuleContext, typeName: string): number | undefined {
  const mts = new Set(methodTablesNamed(ctx, typeName));
  if (mts.size === 0) return undefined;
  const g = ctx.graph;
  for (let i = 0; i < g.count; i++) if (mts.has(g.mtOf(i))) return g.addresses[i];
  return undefined;
}
