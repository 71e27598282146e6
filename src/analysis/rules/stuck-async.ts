/**
 * Stuck async chains: many pending async method chains (state machine boxes linked by their continuations, as
 * `dumpasync` shows them) that all wait for the same task which is not complete — a TaskCompletionSource nobody
 * sets, a never-released SemaphoreSlim's wait, a task that never ends. Grouped by chain shape (the async methods
 * from the await up to the outermost caller), blaming the outermost user method. When the awaited task (or the
 * TaskCompletionSource that owns it) is referenced by nothing but the chains themselves, nothing can ever complete
 * it, and the finding says so.
 */
import { DumpsleuthError } from '../../errors';
import { AsyncObjectReader, collectAsyncObjects, type AsyncObject } from '../../heap/async-objects';
import type { Culprit, Finding } from '../finding';
import type { LeakRule } from '../leak-rule';
import type { RuleContext } from './rule-context';
import { hex, plural, retentionChain } from './rule-support';

/** Fewer pending chains on one task are ordinary (a server waiting for its next request). */
const MIN_CHAINS = 10;
const MAX_CHAIN_DEPTH = 10_000;

interface ChainGroup {
  /** Async method names from the one awaiting the task to the outermost. */
  readonly shape: readonly string[];
  /** The outermost state machine box of each chain. */
  readonly roots: number[];
  /** The state machine type of the outermost method (for the culprit's module). */
  readonly rootMt: number;
}

/** `Ns.Type+<Method>d__4` → `Ns.Type.Method`; other names unchanged. */
export function asyncMethodName(stateMachineType: string): string {
  const m = /^(.*)\+<([^>]+)>d__\d+$/.exec(stateMachineType);
  return m ? `${m[1]}.${m[2]}` : stateMachineType;
}

/** The stuck-async rule. */
export const stuckAsyncRule: LeakRule<RuleContext> = {
  id: 'stuck-async',
  description: 'Many async chains waiting for the same task that never completes (a TaskCompletionSource never set, a semaphore never released)',
  run(ctx: RuleContext): Finding[] {
    const reader = new AsyncObjectReader(ctx.objects, (mt) => (mt === 0 ? '' : ctx.names.clrmdName(mt)));
    const g = ctx.graph;
    let objects: Map<number, AsyncObject>;
    try {
      objects = collectAsyncObjects(
        reader,
        (visit) => {
          for (let i = 0; i < g.count; i++) visit(g.addresses[i]!, g.mtOf(i), g.sizes[i]!);
        },
        { includeCompleted: false },
      );
    } catch (e) {
      if (e instanceof DumpsleuthError) return [];
      throw e;
    }
    const findings: Finding[] = [];
    for (const top of objects.values()) {
      if (!top.topLevel || top.isStateMachine) continue;
      const groups = chainGroups(ctx, objects, top);
      const total = groups.reduce((n, gr) => n + gr.roots.length, 0);
      if (total < MIN_CHAINS) continue;
      findings.push(finding(ctx, objects, top, groups, total));
    }
    return findings;
  },
};

/** Every chain from `top` to an outermost state machine, grouped by the async methods along it. */
function chainGroups(ctx: RuleContext, objects: Map<number, AsyncObject>, top: AsyncObject): ChainGroup[] {
  const groups = new Map<string, { shape: string[]; roots: number[]; rootMt: number }>();
  const work: { obj: AsyncObject; shape: string[] }[] = [{ obj: top, shape: [] }];
  const seen = new Set<number>();
  while (work.length > 0) {
    const { obj, shape } = work.pop()!;
    if (seen.has(obj.address) || shape.length > MAX_CHAIN_DEPTH) continue;
    seen.add(obj.address);
    const here = obj.isStateMachine ? [...shape, asyncMethodName(stateMachineType(ctx, obj))] : shape;
    const next = obj.continuations.map((c) => objects.get(c)).filter((c): c is AsyncObject => c !== undefined);
    if (next.length === 0) {
      if (!obj.isStateMachine) continue;
      const key = here.join(' <- ');
      const group = groups.get(key) ?? { shape: here, roots: [], rootMt: obj.stateMachine?.mt ?? obj.mt };
      group.roots.push(obj.address);
      groups.set(key, group);
      continue;
    }
    for (const n of next) work.push({ obj: n, shape: here });
  }
  return [...groups.values()].sort((a, b) => b.roots.length - a.roots.length);
}

function stateMachineType(ctx: RuleContext, obj: AsyncObject): string {
  const name = ctx.names.clrmdName(obj.mt);
  const box = name.indexOf('StateMachineBox<');
  return box >= 0 ? name.slice(box + 'StateMachineBox<'.length, -1) : name;
}

/** The TaskCompletionSource whose `_task` is `task` (through the graph's reverse edges), or undefined. */
function owningSource(ctx: RuleContext, taskIndex: number): number | undefined {
  const rev = ctx.graph.reverse();
  for (let e = rev.start[taskIndex]!; e < rev.start[taskIndex + 1]!; e++) {
    const src = rev.source[e]!;
    if (ctx.names.clrmdName(ctx.graph.mtOf(src)).startsWith('System.Threading.Tasks.TaskCompletionSource<')) return src;
  }
  return undefined;
}

/** Objects outside `inside` that reference graph object `index`. */
function outsideReferrers(ctx: RuleContext, index: number, inside: ReadonlySet<number>): number[] {
  const rev = ctx.graph.reverse();
  const out: number[] = [];
  for (let e = rev.start[index]!; e < rev.start[index + 1]!; e++) {
    const src = rev.source[e]!;
    if (!inside.has(src) && !out.includes(src)) out.push(src);
  }
  return out;
}

function finding(ctx: RuleContext, objects: Map<number, AsyncObject>, top: AsyncObject, groups: ChainGroup[], total: number): Finding {
  const g = ctx.graph;
  const taskIndex = g.indexOf(top.address);
  const source = taskIndex >= 0 ? owningSource(ctx, taskIndex) : undefined;
  const ownerIndex = source ?? taskIndex;
  const ownerAddress = ownerIndex >= 0 ? g.addresses[ownerIndex]! : top.address;
  const ownerType = ownerIndex >= 0 ? ctx.names.clrmdName(g.mtOf(ownerIndex)) : ctx.names.clrmdName(top.mt);
  // The chains' own objects (boxes, the task, and what links them) do not count as someone who could complete it.
  const inside = new Set<number>();
  for (const o of objects.values()) {
    const i = g.indexOf(o.address);
    if (i >= 0) inside.add(i);
  }
  if (taskIndex >= 0) inside.add(taskIndex);
  const referrers = ownerIndex >= 0 ? outsideReferrers(ctx, ownerIndex, inside).filter((r) => !isContinuationPlumbing(ctx, r)) : [];
  const rooted = ownerIndex >= 0 && ctx.roots.some((r) => r.object === ownerAddress);
  const orphaned = ownerIndex >= 0 && referrers.length === 0 && !rooted;
  const main = groups[0]!;
  const rootMethod = main.shape[main.shape.length - 1]!;
  const shapeText = (gr: ChainGroup) => gr.shape.join(' <- ');
  const held = namedChain(ctx, ownerIndex >= 0 ? ownerIndex : taskIndex);
  const culprit = culpritOf(ctx, main, rootMethod, total, ownerType);
  const what = source !== undefined ? `${ownerType} ${hex(ownerAddress)} (its task ${hex(top.address)})` : `${ownerType} ${hex(top.address)}`;
  return {
    rule: 'stuck-async',
    title: `${plural(total, 'async chain')} stuck awaiting one ${source !== undefined ? 'TaskCompletionSource' : 'task'} that never completed (${rootMethod})`,
    severity: orphaned ? 'error' : 'warning',
    verdict:
      `${plural(total, 'pending async chain')} (${groups.map((gr) => `${gr.roots.length} × ${shapeText(gr)}`).join('; ')}) all wait for ${what}, which is not complete; ` +
      (orphaned
        ? 'nothing but the chains themselves references it, so nothing can ever complete it.'
        : `it is still reachable${held.chain.length > 1 ? ` through ${held.chain[held.chain.length - 1]!.field ?? held.chain[held.chain.length - 1]!.type}` : ''}, but nothing in the dump is completing it.`),
    objectCount: total,
    retainedBytes: 0,
    culprit,
    chain: held.chain,
    examples: [ownerAddress, ...main.roots.slice(0, 4)],
    verify: [`dumpasync --coalesce`, `dumpasync --address ${hex(top.address)}`, `dumpobj ${hex(ownerAddress)}`, ...(ownerIndex >= 0 ? [`gcroot ${hex(ownerAddress)}`] : [])],
    confidence: orphaned ? 'high' : 'medium',
    details: {
      awaited: hex(top.address),
      awaitedType: ctx.names.clrmdName(top.mt),
      owner: hex(ownerAddress),
      ownerType,
      orphaned,
      chains: groups.map((gr) => ({ count: gr.roots.length, methods: gr.shape, outermost: gr.roots.slice(0, 10).map(hex) })),
      ...(held.root ? { root: held.root } : {}),
    },
  };
}

/** Continuation plumbing that links a chain (wrappers, continuation lists) is part of the chain, not a referrer. */
function isContinuationPlumbing(ctx: RuleContext, index: number): boolean {
  const name = ctx.names.clrmdName(ctx.graph.mtOf(index));
  return /Continuation|StateMachineBox|^System\.Collections\.Generic\.List<System\.Object>$|^System\.Object\[\]$/.test(name) && !isStaticsArray(ctx, index);
}

/** The runtime's statics arrays are `Object[]` held by a handle: they hold static fields, so they are real referrers. */
function isStaticsArray(ctx: RuleContext, index: number): boolean {
  const address = ctx.graph.addresses[index]!;
  return ctx.roots.some((r) => r.object === address);
}

/** The analyze context names static fields in statics arrays (`Type.s_field`); the rule context only slots. */
interface SlotNames {
  slotName(from: number, edge: number): string;
}

/** retentionChain, with each static's slot named by its field where the context can. */
function namedChain(ctx: RuleContext, index: number): ReturnType<typeof retentionChain> {
  const base = retentionChain(ctx, index);
  const path = ctx.pathTo?.(index);
  const namer = (ctx as Partial<SlotNames>).slotName;
  if (!path || typeof namer !== 'function' || path.nodes.length !== base.chain.length) return base;
  const chain = base.chain.map((step, k) => (k === 0 || path.edges[k]! < 0 ? step : { ...step, field: namer.call(ctx, path.nodes[k - 1]!, path.edges[k]!) }));
  return { ...base, chain };
}

function culpritOf(ctx: RuleContext, group: ChainGroup, method: string, total: number, ownerType: string): Culprit {
  let type = '';
  let module = '';
  try {
    const info = ctx.objects.tryReadMethodTable(group.rootMt);
    const name = ctx.names.clrmdName(group.rootMt);
    type = name.replace(/\+<[^>]+>d__\d+$/, '');
    if (info) {
      const path = ctx.modules.read(info.module).path;
      module = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    }
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  return { method, type, module, evidence: `the outermost async method of ${plural(group.roots.length, 'chain')} (of ${total}) suspended until the ${ownerType} completes` };
}
