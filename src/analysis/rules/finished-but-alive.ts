/**
 * Rule `finished-but-alive`: objects whose own state says they are done — a dead Thread, a disposed
 * Stream/Socket/Timer/CancellationTokenSource, a completed Task — yet strongly reachable, grouped by retention
 * cluster. When a pending async operation on the cluster's path holds a callback into user code, that operation is
 * why they live, and the finding names the callback's method as the culprit.
 */
import { AnalysisContext } from '../analysis-context';
import { analyzePath, describeAsyncOperation, taskCompletion } from '../culprit';
import type { Finding, Severity } from '../finding';
import type { LeakRule } from '../leak-rule';
import { clusterByRetention, shortTypeName } from '../retention-clusters';
import { rootDetails } from './rule-support';

/** What kind of finished object. */
type FinishedKind = 'dead-thread' | 'disposed' | 'completed-task';

const DISPOSABLE_BASES = ['System.IO.Stream', 'System.Net.Sockets.Socket', 'System.Threading.Timer', 'System.Threading.CancellationTokenSource'];
const DISPOSED_FIELDS = ['_disposed', '_isDisposed', 'm_disposed', 'disposed', '_disposedValue'];
/** Completed tasks are everywhere (cached results, Task.CompletedTask): only a large group is worth a line. */
const MIN_COMPLETED_TASKS = 100;
const MIN_DISPOSED_WARNING = 25;
const MIN_DEAD_THREADS_WARNING = 10;
const MAX_EXAMPLES = 5;
const MAX_CLAIM_MEMBERS = 10_000;

/** The finished-but-alive rule. */
export const finishedButAliveRule: LeakRule<AnalysisContext> = {
  id: 'finished-but-alive',
  description: 'Objects whose own state says they are done (dead Thread, disposed Stream/Socket/Timer/CancellationTokenSource, completed Task) but that are still strongly reachable',
  run(ctx) {
    const groups = findFinished(ctx);
    const findings: Finding[] = [];
    for (const [kind, members] of groups) {
      if (members.length === 0) continue;
      const result = clusterByRetention(ctx, members, { isLandmark: (i) => describeAsyncOperation(ctx, i) !== undefined });
      for (const cluster of result.clusters) {
        const f = clusterFinding(ctx, kind, cluster.members, cluster.path, cluster.chain, result.clusters.length);
        if (f) findings.push(f);
      }
    }
    return findings;
  },
};

/** Finished, strongly reachable objects by kind (thread objects, disposables, tasks). */
function findFinished(ctx: AnalysisContext): Map<FinishedKind, number[]> {
  const g = ctx.graph;
  const deadByNative = new Set<number>();
  const liveByNative = new Set<number>();
  for (const t of ctx.parts.threads) {
    if (t.exposedObject !== 0) (t.isDead ? deadByNative : liveByNative).add(t.exposedObject);
  }
  const nativeDead = new Map<number, boolean>(ctx.parts.threads.map((t) => [t.address, t.isDead]));
  const kinds = new Map<number, FinishedKind | null>();
  const out = new Map<FinishedKind, number[]>([
    ['dead-thread', []],
    ['disposed', []],
    ['completed-task', []],
  ]);
  const parent = ctx.parentOf;
  for (let i = 0; i < g.count; i++) {
    if (parent[i] === -1) continue;
    const mt = g.mtOf(i);
    let kind = kinds.get(mt);
    if (kind === undefined) {
      kind = classify(ctx, mt);
      kinds.set(mt, kind);
    }
    if (kind === null) continue;
    if (kind === 'dead-thread') {
      const address = g.addresses[i]!;
      let dead = deadByNative.has(address);
      if (!dead && !liveByNative.has(address)) {
        // Not in the thread store's list: trust the managed object's own fields.
        const native = AnalysisContext.numeric(ctx.fieldValue(i, ['_DONT_USE_InternalThread'])?.value);
        const isDead = AnalysisContext.numeric(ctx.fieldValue(i, ['_isDead'])?.value);
        dead = (native !== undefined && nativeDead.get(native) === true) || isDead === 1;
      }
      if (dead) out.get('dead-thread')!.push(i);
    } else if (kind === 'disposed') {
      if (isDisposed(ctx, i)) out.get('disposed')!.push(i);
    } else if (taskCompletion(ctx, i)?.completed) {
      out.get('completed-task')!.push(i);
    }
  }
  return out;
}

function classify(ctx: AnalysisContext, mt: number): FinishedKind | null {
  const h = ctx.typeHierarchy(mt);
  if (h.includes('System.Threading.Thread')) return 'dead-thread';
  if (DISPOSABLE_BASES.some((b) => h.includes(b))) return 'disposed';
  if (h.includes('System.Threading.Tasks.Task')) return 'completed-task';
  return null;
}

/** The object's own disposed flag (or a closed stream's `_isOpen == false`; a Timer's canceled queue timer). */
function isDisposed(ctx: AnalysisContext, i: number): boolean {
  const flag = ctx.fieldValue(i, DISPOSED_FIELDS);
  const n = AnalysisContext.numeric(flag?.value);
  if (n !== undefined) return n !== 0;
  const open = AnalysisContext.numeric(ctx.fieldValue(i, ['_isOpen'])?.value);
  if (open !== undefined) return open === 0;
  // System.Threading.Timer → TimerHolder._timer → TimerQueueTimer._canceled.
  const holderField = ctx.findField(ctx.graph.mtOf(i), ['_timer']);
  const holder = holderField ? ctx.referenceOf(i, holderField) : -1;
  if (holder >= 0) {
    const qf = ctx.findField(ctx.graph.mtOf(holder), ['_timer']);
    const queued = qf ? ctx.referenceOf(holder, qf) : -1;
    const canceled = queued >= 0 ? AnalysisContext.numeric(ctx.fieldValue(queued, ['_canceled'])?.value) : undefined;
    if (canceled !== undefined) return canceled !== 0;
  }
  return false;
}

const KIND_TEXT: Record<FinishedKind, { noun: string; state: string }> = {
  'dead-thread': { noun: 'dead threads', state: 'the thread has exited' },
  disposed: { noun: 'disposed objects', state: 'disposed' },
  'completed-task': { noun: 'completed tasks', state: 'completed' },
};

function clusterFinding(
  ctx: AnalysisContext,
  kind: FinishedKind,
  members: readonly number[],
  path: NonNullable<ReturnType<AnalysisContext['pathTo']>>,
  chain: Finding['chain'],
  clusterCount: number,
): Finding | undefined {
  const count = members.length;
  if (kind === 'completed-task' && count < MIN_COMPLETED_TASKS) return undefined;
  const a = analyzePath(ctx, path);
  const pending = a.operations.filter((o) => o.pending === true);
  const maybePending = a.operations.filter((o) => o.pending !== false);
  // Every member's pending operations are explained here, so never-completed-async does not report them again.
  if (maybePending.length > 0) {
    for (const m of members.slice(0, MAX_CLAIM_MEMBERS)) {
      const p = ctx.pathTo(m);
      for (const v of p?.nodes ?? []) if (describeAsyncOperation(ctx, v)?.pending !== false) ctx.claimed.add(v);
    }
  }
  const typeNames = [...new Set(members.map((m) => ctx.typeName(m)))];
  const typeText = typeNames.length === 1 ? typeNames[0]! : `${typeNames.length} types`;
  const what = `${count} ${KIND_TEXT[kind].noun} (${typeText})`;
  let severity: Severity;
  let verdict: string;
  let title: string;
  const root = `${path.root.kind === 'stack' ? 'a stack root' : path.root.kind === 'finalizer' ? 'the finalizer queue' : `a ${path.root.kind} GC handle`}`;
  if (a.callback && maybePending.length > 0) {
    severity = kind === 'completed-task' ? 'warning' : 'error';
    const ops = [...new Set(maybePending.map((o) => o.label.replace(/ \(.*\)$/, '')))].join(', ');
    title = `${what} kept alive by never-completed operations`;
    verdict = `${what} are kept alive by never-completed operations (${ops}) whose callback is ${a.callback.method.name} in ${a.callback.method.module}; the callback's target ${targetText(ctx, a.callback.target)} keeps them reachable from ${root}.`;
  } else if (a.culprit) {
    severity = count >= thresholdFor(kind) ? 'warning' : 'info';
    title = `${what} kept alive through ${a.culprit.method}`;
    verdict = `${what} are still reachable from ${root} through a delegate to ${a.culprit.method}, although ${KIND_TEXT[kind].state}.`;
  } else {
    severity = kind === 'completed-task' ? 'info' : count >= thresholdFor(kind) ? 'warning' : 'info';
    title = `${what} still reachable`;
    const holder = nearestUserHolder(ctx, path.nodes);
    verdict = `${what} are still reachable from ${root}${holder ? ` through ${holder}` : ''}, although ${KIND_TEXT[kind].state}.`;
  }
  const examples = members.slice(0, MAX_EXAMPLES).map((m) => ctx.graph.addresses[m]!);
  return {
    rule: finishedButAliveRule.id,
    title,
    severity,
    verdict,
    objectCount: count,
    retainedBytes: ctx.retainedOfSet([...members]),
    ...(a.culprit ? { culprit: a.culprit } : {}),
    chain,
    examples,
    verify: a.verify,
    confidence: a.callback && pending.length > 0 ? 'high' : a.confidence,
    details: {
      kind,
      clusterCount,
      root: { ...rootDetails(path.root), object: '0x' + path.root.object.toString(16), precise: path.root.precise },
      operations: a.operations.map((o) => ({ address: '0x' + ctx.graph.addresses[o.index]!.toString(16), type: ctx.typeName(o.index), kind: o.kind, pending: o.pending ?? null, state: o.state, label: o.label })),
      ...(a.callback
        ? {
            callback: {
              delegate: '0x' + ctx.graph.addresses[a.callback.delegate]!.toString(16),
              holder: '0x' + ctx.graph.addresses[a.callback.holder]!.toString(16),
              field: a.callback.field,
              target: '0x' + a.callback.target.toString(16),
              methodDesc: '0x' + a.callback.method.methodDesc.toString(16),
            },
          }
        : {}),
      ...(a.stateObject ? { stateObject: { address: '0x' + ctx.graph.addresses[a.stateObject.index]!.toString(16), type: ctx.typeName(a.stateObject.index), field: a.stateObject.field } } : {}),
    },
  };
}

/** `Type 0x…` of a delegate target. */
function targetText(ctx: AnalysisContext, target: number): string {
  const i = ctx.graph.indexOf(target);
  return i < 0 ? `0x${target.toString(16)}` : `${shortTypeName(ctx.typeName(i))} 0x${target.toString(16)}`;
}

function thresholdFor(kind: FinishedKind): number {
  return kind === 'dead-thread' ? MIN_DEAD_THREADS_WARNING : kind === 'disposed' ? MIN_DISPOSED_WARNING : Infinity;
}

/** The user type closest to the symptom on a path, `Type.field` style, or undefined. */
function nearestUserHolder(ctx: AnalysisContext, nodes: readonly number[]): string | undefined {
  for (let k = nodes.length - 2; k >= 0; k--) if (ctx.isUserType(ctx.graph.mtOf(nodes[k]!))) return ctx.typeName(nodes[k]!);
  return undefined;
}
