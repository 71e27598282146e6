/**
 * The finalizer thread and its queue: objects ready for finalization are roots until the single finalizer thread has
 * run their finalizers, so a finalizer that blocks (a lock another thread never releases, an event never set) keeps
 * every object queued behind it alive forever, and a long backlog means finalizers cannot keep up.
 */
import { DumpsleuthError } from '../../errors';
import { forEachFinalizeSlot } from '../../runtime/gc/finalize-queue';
import type { StackFrame } from '../../runtime/code/stack-walker';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { hex, isUserMethod, methodCulprit, plural, retainedOfSet, typeName } from './rule-support';

/** Ready-for-finalization objects from which on a backlog is worth a warning when no finalizer is stuck. */
export const BACKLOG_WARNING = 10_000;
/** … and an info line. */
export const BACKLOG_INFO = 1_000;

// Managed methods that wait (by their SOS name, before the signature): what a stuck finalizer sits in.
const WAIT_METHOD = new RegExp(
  '^System\\.Threading\\.(' +
    [
      'Monitor\\.(Enter|ReliableEnter|TryEnter|Wait)',
      'Lock\\.(Enter|TryEnter|Wait)',
      'WaitHandle\\.Wait',
      'EventWaitHandle\\.',
      'Thread\\.(Sleep|Join)',
      'SemaphoreSlim\\.Wait',
      'ManualResetEventSlim\\.Wait',
      'SpinWait\\.',
      'LowLevel(Monitor|Lock|LifoSemaphore)\\.',
      'Tasks\\.Task(`1(\\[.*\\])?)?\\.(Wait|InternalWait|GetResult|SpinThenBlockingWait)',
      'Tasks\\.Task\\.(Wait|InternalWait|SpinThenBlockingWait)',
    ].join('|') +
    ')' +
    '|^System\\.Runtime\\.CompilerServices\\.TaskAwaiter.*\\.GetResult',
);

const FINALIZE_METHOD = /\.Finalize\(\)$/;

interface FinalizerState {
  /** The frame running a finalizer (a `Finalize()` method), innermost first index. */
  readonly finalizeIndex: number;
  /** The innermost user-code frame at or inside the finalizer (the culprit), as a frame index. */
  readonly culpritIndex: number;
  /** The innermost waiting frame inside the finalizer, when there is one. */
  readonly waitMethod?: string;
  readonly frames: readonly string[];
  readonly osId: number;
}

/** Reports a finalizer thread stuck in a user finalizer and long ready-for-finalization queues. */
export const finalizerBacklogRule: LeakRule<RuleContext> = {
  id: 'finalizer-backlog',
  description: 'A finalizer thread blocked (waiting) inside a finalizer, and long ready-for-finalization queues',
  run(ctx: RuleContext): Finding[] {
    const byType = new Map<string, number>();
    const ready: number[] = [];
    for (const q of ctx.finalizeQueues) {
      try {
        forEachFinalizeSlot(ctx.runtime, q.ready, (_slot, object) => ready.push(object));
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
      }
    }
    const g = ctx.graph;
    const readyIndexes: number[] = [];
    for (const a of ready) {
      const i = g.indexOf(a);
      if (i < 0) continue;
      readyIndexes.push(i);
      const t = typeName(ctx, g.mtOf(i));
      byType.set(t, (byType.get(t) ?? 0) + 1);
    }
    const types = Object.fromEntries([...byType.entries()].sort((a, b) => b[1] - a[1]));
    const state = finalizerState(ctx);
    const examples = ready.slice(0, 5);
    const retainedBytes = retainedOfSet(ctx, readyIndexes);
    const verify = ['finalizequeue', 'clrstack -all', 'clrthreads', ...examples.slice(0, 1).map((a) => `gcroot ${hex(a)}`)];
    if (state) {
      const md = state.methodDescs[state.culpritIndex]!;
      const name = state.frames[state.culpritIndex]!;
      const blocked = state.waitMethod !== undefined;
      if (blocked || ready.length >= BACKLOG_INFO) {
        const what = blocked ? `is blocked in ${name} (waiting in ${state.waitMethod})` : `is running ${name}`;
        return [
          {
            rule: finalizerBacklogRule.id,
            title: blocked ? `Finalizer thread blocked in ${name}` : `Finalizer thread busy in ${name}`,
            severity: blocked ? (ready.length > 0 ? 'error' : 'warning') : ready.length >= BACKLOG_WARNING ? 'warning' : 'info',
            verdict:
              `The finalizer thread ${what}; ${plural(ready.length, 'object')} wait for finalization behind it` +
              (blocked ? '; none of them is freed while it waits.' : '.'),
            objectCount: ready.length,
            retainedBytes,
            culprit: methodCulprit(ctx, md, blocked ? `finalizer the finalizer thread is stuck in (waiting in ${state.waitMethod})` : 'finalizer running while objects queue up'),
            chain: [],
            examples,
            verify: [...verify.slice(0, 1), `clrstack -t ${hex(state.osId)}`, ...verify.slice(1)],
            confidence: blocked ? 'high' : 'low',
            details: { readyForFinalization: ready.length, byType: types, finalizerThread: hex(state.osId), frames: state.frames },
          },
        ];
      }
    }
    if (ready.length < BACKLOG_INFO) return [];
    return [
      {
        rule: finalizerBacklogRule.id,
        title: `Finalizer backlog: ${plural(ready.length, 'object')} ready for finalization`,
        severity: ready.length >= BACKLOG_WARNING ? 'warning' : 'info',
        verdict: `${plural(ready.length, 'object')} wait for the finalizer thread; they and what they reference (${retainedBytes} bytes) stay alive until it catches up.`,
        objectCount: ready.length,
        retainedBytes,
        chain: [],
        examples,
        verify,
        confidence: 'medium',
        details: { readyForFinalization: ready.length, byType: types },
      },
    ];
  },
};

/** What the finalizer thread is doing, when it is inside a finalizer. */
function finalizerState(ctx: RuleContext): (FinalizerState & { methodDescs: number[] }) | undefined {
  const thread = ctx.threads.find((t) => t.isFinalizer && !t.isDead);
  if (!thread) return undefined;
  let walk;
  try {
    walk = ctx.walkThread(thread);
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
  if (!walk) return undefined;
  const managed = walk.frames.filter((f): f is Extract<StackFrame, { kind: 'managed' }> => f.kind === 'managed');
  const names = managed.map((f) => ctx.code.methodDescs.name(f.methodDesc));
  const methodDescs = managed.map((f) => f.methodDesc);
  // The outermost Finalize() frame is the one the finalizer loop called.
  let finalizeIndex = -1;
  for (let k = names.length - 1; k >= 0; k--) {
    if (FINALIZE_METHOD.test(names[k]!)) {
      finalizeIndex = k;
      break;
    }
  }
  if (finalizeIndex < 0) return undefined;
  let culpritIndex = finalizeIndex;
  for (let k = 0; k <= finalizeIndex; k++) {
    if (isUserMethod(ctx, methodDescs[k]!)) {
      culpritIndex = k;
      break;
    }
  }
  let waitMethod: string | undefined;
  for (let k = 0; k < finalizeIndex; k++) {
    if (WAIT_METHOD.test(names[k]!)) {
      waitMethod = names[k]!;
      break;
    }
  }
  return { finalizeIndex, culpritIndex, ...(waitMethod !== undefined ? { waitMethod } : {}), frames: names, osId: thread.osId, methodDescs };
}
