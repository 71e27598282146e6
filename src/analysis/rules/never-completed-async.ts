/**
 * Rule `never-completed-async`: asynchronous operations that are still pending by their own state — APM
 * IAsyncResults not completed (Begin without End), socket operations queued or running, SocketAsyncEventArgs in
 * use, Overlapped packed and never freed, TaskCompletionSources never set — grouped by the outermost operation and
 * the user method their callback runs. Operations another finding already explained (`ctx.claimed`) are left out.
 */
import type { AnalysisContext } from '../analysis-context';
import { analyzePath, describeAsyncOperation, findForwardCallback, type AsyncOperation, type AsyncOperationKind, type CallbackLink } from '../culprit';
import type { Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import { collapseChain } from '../retention-clusters';
import { rootDetails } from './rule-support';

const KNOWN_BASES = [
  'System.Net.Sockets.SocketAsyncContext+AsyncOperation',
  'System.Net.Sockets.SocketAsyncEventArgs',
  'System.Threading.Overlapped',
  'System.Threading.OverlappedData',
];
/** Pending operations are normal in a live process (a server waits for data); many of one kind are not. */
const MIN_WARNING = 10;
const MAX_EXAMPLES = 5;

const KIND_TEXT: Record<AsyncOperationKind, string> = {
  'socket-operation': 'pending socket operations',
  'socket-async-event-args': 'SocketAsyncEventArgs in use',
  overlapped: 'Overlapped packed and never freed',
  'task-completion-source': 'TaskCompletionSources never set',
  'apm-async-result': 'APM operations begun and never ended',
};

/** The never-completed-async rule. */
export const neverCompletedAsyncRule: LeakRule<AnalysisContext> = {
  id: 'never-completed-async',
  description: 'Pending async operations (Begin without End, socket/stream operations in flight, Overlapped never freed, TaskCompletionSource never set), with the callback method',
  run(ctx) {
    const pending = findPending(ctx);
    const pendingSet = new Set(pending.map((o) => o.index));
    // Group each operation under the outermost pending operation on its shortest path (one logical operation often
    // shows as a socket operation, its SocketAsyncEventArgs and the APM result around them).
    const groups = new Map<string, { outer: AsyncOperation; callback?: CallbackLink; members: number[]; inner: Set<string> }>();
    const groupOfOuter = new Map<number, { inner: Set<string> }>();
    const outerOf = new Map<number, number>();
    for (const op of pending) {
      const path = ctx.pathTo(op.index);
      const outer = path?.nodes.find((v) => pendingSet.has(v));
      if (outer !== undefined) outerOf.set(op.index, outer);
    }
    for (const op of pending) {
      if (ctx.claimed.has(op.index) || outerOf.get(op.index) !== op.index) continue;
      const callback = findForwardCallback(ctx, op.index);
      const key = `${op.kind}|${callback?.method.name ?? ''}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { outer: op, ...(callback ? { callback } : {}), members: [], inner: new Set<string>() }));
      g.members.push(op.index);
      groupOfOuter.set(op.index, g);
    }
    for (const op of pending) {
      const outer = outerOf.get(op.index);
      if (outer === undefined || outer === op.index) continue;
      groupOfOuter.get(outer)?.inner.add(op.label);
    }
    const findings: Finding[] = [];
    for (const g of groups.values()) {
      const count = g.members.length;
      const rep = g.members[0]!;
      const path = ctx.pathTo(rep)!;
      // The representative's own path, extended past the operation to the callback when it is found forward.
      const a = analyzePath(ctx, path);
      const what = `${count} ${KIND_TEXT[g.outer.kind]} (${ctx.typeName(rep)})`;
      const cb = g.callback;
      // Every server waits this way: the listening socket's accept and a receive on each open keep-alive connection
      // stay pending between requests. Without a callback into user code they are state, not a finding.
      if (!cb && g.outer.kind === 'socket-operation' && /(Accept|Receive)Operation$/.test(ctx.typeName(rep))) continue;
      const verdict = cb
        ? `${what} are still pending (${g.outer.state}${g.inner.size > 0 ? `; also ${[...g.inner].join(', ')}` : ''}); their callback is ${cb.method.name} in ${cb.method.module}.`
        : `${what} are still pending (${g.outer.state}); no callback into user code was found.`;
      const verify = [...a.verify];
      if (cb) {
        const hex = (i: number) => '0x' + ctx.graph.addresses[i]!.toString(16);
        verify.push(`dumpobj ${hex(cb.holder)}`);
        if (cb.via === 'delegate') verify.push(`dumpdelegate ${hex(cb.delegate)}`, cb.method.codeAddress !== 0 ? `ip2md 0x${cb.method.codeAddress.toString(16)}` : `dumpmd 0x${cb.method.methodDesc.toString(16)}`);
        else verify.push(`dumpobj ${hex(cb.delegate)}`);
      }
      findings.push({
        rule: neverCompletedAsyncRule.id,
        title: `${what}${cb ? ` with callback ${cb.method.name}` : ''}`,
        severity: count >= MIN_WARNING ? 'warning' : 'info',
        verdict,
        objectCount: count,
        retainedBytes: ctx.retainedOfSet(g.members),
        ...(cb
          ? { culprit: { method: cb.method.name, type: cb.method.type, module: cb.method.module, evidence: `${cb.via === 'delegate' ? 'the' : 'the async method awaiting it,'} ${ctx.typeName(cb.delegate)} reached from the pending ${g.outer.label} through ${ctx.typeName(cb.holder)}.${cb.field}` } }
          : {}),
        chain: collapseChain(ctx, path, (i) => describeAsyncOperation(ctx, i) !== undefined).chain,
        examples: g.members.slice(0, MAX_EXAMPLES).map((m) => ctx.graph.addresses[m]!),
        verify: [...new Set(verify)],
        confidence: cb ? 'medium' : 'low',
        details: {
          kind: g.outer.kind,
          state: g.outer.state,
          inner: [...g.inner],
          root: { ...rootDetails(path.root), object: '0x' + path.root.object.toString(16), precise: path.root.precise },
        },
      });
    }
    return findings;
  },
};

/** Every strongly reachable operation whose state says it is pending. */
function findPending(ctx: AnalysisContext): AsyncOperation[] {
  const g = ctx.graph;
  const candidate = new Map<number, boolean>();
  const out: AsyncOperation[] = [];
  const parent = ctx.parentOf;
  for (let i = 0; i < g.count; i++) {
    if (parent[i] === -1) continue;
    const mt = g.mtOf(i);
    let is = candidate.get(mt);
    if (is === undefined) {
      is = isCandidateType(ctx, mt);
      candidate.set(mt, is);
    }
    if (!is) continue;
    const op = describeAsyncOperation(ctx, i);
    if (op?.pending === true) out.push(op);
  }
  return out;
}

/** Types that may be operations: the framework's operation types, TaskCompletionSources, and types with an
 * AsyncCallback field (APM IAsyncResults, framework or user). */
function isCandidateType(ctx: AnalysisContext, mt: number): boolean {
  const h = ctx.typeHierarchy(mt);
  if (h.length === 0) return false;
  if (KNOWN_BASES.some((b) => h.includes(b))) return true;
  if (ctx.derivesFrom(mt, 'System.Threading.Tasks.TaskCompletionSource')) return true;
  const info = ctx.parts.methodTables.tryRead(mt);
  if (!info || info.isArray || info.isString || !info.containsGCPointers) return false;
  return ctx.fieldsOf(mt).some((f) => f.typeName === 'System.AsyncCallback');
}
