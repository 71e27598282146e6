/**
 * What the rules share: type and field lookups cached per context, user-code tests for methods, delegate callbacks
 * resolved to the user method behind framework plumbing, dominator-tree questions, and the retention chain of an
 * example object in the Finding's shape.
 */
import { DumpsleuthError } from '../../errors';
import { NO_OBJECT } from '../../heap/object-graph';
import { isDelegateDecodeError } from '../../runtime/code/delegates';
import type { ChainStep, Culprit } from '../finding';
import { findRootPaths } from '../gcroot';
import type { GcRoot } from '../../heap/roots';
import type { RuleContext } from './rule-context';

const POINTER = 8;
const MAX_CHAIN_STEPS = 24;

interface ContextCache {
  byName?: Map<string, number[]>;
  readonly fieldOffsets: Map<string, number | undefined>;
  readonly userMethods: Map<number, boolean>;
}

const caches = new WeakMap<RuleContext, ContextCache>();

function cacheOf(ctx: RuleContext): ContextCache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = { fieldOffsets: new Map(), userMethods: new Map() }));
  return c;
}

/** `0x…` as SOS commands take addresses. */
export function hex(address: number): string {
  return '0x' + address.toString(16);
}

/** The type name of a MethodTable as `dumpheap` prints it. */
export function typeName(ctx: RuleContext, mt: number): string {
  return ctx.names.clrmdName(mt);
}

/** The MethodTables of the heap's objects whose type name is `name` (a generic type may have several). */
export function methodTablesNamed(ctx: RuleContext, name: string): number[] {
  const c = cacheOf(ctx);
  if (!c.byName) {
    // The graph's distinct MethodTables (every one met by the walk); none when the graph is empty.
    const unique = ctx.graph.count > 0 ? ctx.graph.methodTables : new Float64Array(0);
    c.byName = new Map();
    for (const mt of unique) {
      const n = typeName(ctx, mt);
      let list = c.byName.get(n);
      if (!list) c.byName.set(n, (list = []));
      list.push(mt);
    }
  }
  return c.byName.get(name) ?? [];
}

/** Offset from the object start of instance field `name` of type `mt` (inherited fields included), or undefined. */
export function fieldOffset(ctx: RuleContext, mt: number, name: string): number | undefined {
  const c = cacheOf(ctx);
  const key = `${mt}:${name}`;
  if (c.fieldOffsets.has(key)) return c.fieldOffsets.get(key);
  let found: number | undefined;
  try {
    const info = ctx.objects.tryReadMethodTable(mt);
    if (info) {
      for (const cls of ctx.objects.fieldDescs.hierarchy(info)) {
        const owner = ctx.objects.tryReadMethodTable(cls.mt);
        const md = owner ? ctx.names.moduleMetadata(owner.module) : undefined;
        if (md === undefined || md instanceof Error) continue;
        for (const f of cls.fields) {
          if (!f.isStatic && md.metadata.getFieldName(f.token) === name) {
            found = f.offset + POINTER;
            break;
          }
        }
        if (found !== undefined) break;
      }
    }
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  c.fieldOffsets.set(key, found);
  return found;
}

/** The reference stored in field `name` of the object at `address` (type `mt`); 0 when null, unknown or unreadable. */
export function readReferenceField(ctx: RuleContext, address: number, mt: number, name: string): number {
  const off = fieldOffset(ctx, mt, name);
  if (off === undefined) return 0;
  try {
    return ctx.runtime.memory.readPointer(address + off);
  } catch (e) {
    if (e instanceof DumpsleuthError) return 0;
    throw e;
  }
}

/** The bool in field `name` of the object at `address`, or undefined when the field is unknown or unreadable. */
export function readBoolField(ctx: RuleContext, address: number, mt: number, name: string): boolean | undefined {
  const off = fieldOffset(ctx, mt, name);
  if (off === undefined) return undefined;
  try {
    return ctx.runtime.memory.readU8(address + off) !== 0;
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** The path of the module that holds a MethodDesc, or undefined when it cannot be read. */
export function methodModulePath(ctx: RuleContext, md: number): string | undefined {
  try {
    return ctx.modules.read(ctx.code.methodDescs.module(md)).path;
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** True when the method is in user code (see RuleContext.isUserModule). */
export function isUserMethod(ctx: RuleContext, md: number): boolean {
  const c = cacheOf(ctx);
  let user = c.userMethods.get(md);
  if (user === undefined) {
    const path = methodModulePath(ctx, md);
    user = path !== undefined && ctx.isUserModule(path);
    c.userMethods.set(md, user);
  }
  return user;
}

/** True when the type's module is user code. */
export function isUserType(ctx: RuleContext, mt: number): boolean {
  try {
    const info = ctx.objects.tryReadMethodTable(mt);
    if (!info || info.isArray) return false;
    return ctx.isUserModule(ctx.modules.read(info.module).path);
  } catch (e) {
    if (e instanceof DumpsleuthError) return false;
    throw e;
  }
}

/** The Culprit of a method: its SOS name, its declaring type and module file, and why it is blamed. */
export function methodCulprit(ctx: RuleContext, md: number, evidence: string): Culprit {
  const path = methodModulePath(ctx, md) ?? '';
  let type = '';
  try {
    type = typeName(ctx, ctx.code.methodDescs.read(md).methodTable);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  return { method: ctx.code.methodDescs.name(md), type, module: path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1), evidence };
}

/** A delegate's callback: the method it (or a delegate reachable from its target) calls, and on which object. */
export interface ResolvedCallback {
  /** The delegate whose invocation this is. */
  readonly delegate: number;
  readonly target: number;
  readonly methodDesc: number;
  readonly isUser: boolean;
  /** The delegates crossed from the first one to this one (the first one included). */
  readonly via: readonly number[];
}

/**
 * The method a delegate really calls on behalf of user code: its own method when that is user code, else (for
 * framework plumbing such as System.Timers.Timer's callback) the first user method of a delegate held by its target,
 * `depth` levels down; the framework method when no user method is found; undefined when nothing resolves.
 */
export function resolveCallback(ctx: RuleContext, delegate: number, depth = 2): ResolvedCallback | undefined {
  let fallback: ResolvedCallback | undefined;
  const seen = new Set<number>();
  let level: { address: number; via: number[] }[] = [{ address: delegate, via: [] }];
  for (let d = 0; d <= depth && level.length > 0; d++) {
    const next: { address: number; via: number[] }[] = [];
    for (const { address, via } of level) {
      if (seen.has(address)) continue;
      seen.add(address);
      let invocations;
      try {
        invocations = ctx.delegates.read(address).invocations;
      } catch (e) {
        if (isDelegateDecodeError(e)) continue;
        throw e;
      }
      const path = [...via, address];
      for (const inv of invocations) {
        if (inv.methodDesc === 0) continue;
        const found = { delegate: inv.delegate, target: inv.target, methodDesc: inv.methodDesc, isUser: isUserMethod(ctx, inv.methodDesc), via: path };
        if (found.isUser) return found;
        fallback ??= found;
        // Framework plumbing: look for the user's delegate among the objects its target references.
        const t = inv.target !== 0 && inv.target !== inv.delegate ? ctx.graph.indexOf(inv.target) : NO_OBJECT;
        if (t === NO_OBJECT) continue;
        for (let e = ctx.graph.edgeStart[t]!; e < ctx.graph.edgeStart[t + 1]!; e++) {
          const r = ctx.graph.edgeTarget[e]!;
          if (ctx.delegates.isDelegateType(ctx.graph.mtOf(r))) next.push({ address: ctx.graph.addresses[r]!, via: path });
        }
      }
    }
    level = next;
  }
  return fallback;
}

/** True when `ancestor` dominates `node` within `maxSteps` steps up the dominator tree (graph indexes). */
export function isDominatedBy(ctx: RuleContext, node: number, ancestor: number | ReadonlySet<number>, maxSteps: number): boolean {
  const idom = ctx.dominators.idom;
  let v = node;
  for (let k = 0; k < maxSteps; k++) {
    const d = idom[v]!;
    if (d < 0) return false;
    if (typeof ancestor === 'number' ? d === ancestor : ancestor.has(d)) return true;
    v = d;
  }
  return false;
}

/** The bytes a set of objects retains together: the sum of their retained sizes, without counting an object that
 * another object of the set dominates (one pass over the dominator tree's preorder). */
export function retainedOfSet(ctx: RuleContext, indexes: Iterable<number>): number {
  const n = ctx.graph.count;
  const selected = new Uint8Array(n);
  let any = false;
  for (const i of indexes) {
    selected[i] = 1;
    any = true;
  }
  if (!any) return 0;
  const covered = new Uint8Array(n);
  const { idom, preorder } = ctx.dominators;
  let total = 0;
  for (let k = 0; k < preorder.length; k++) {
    const v = preorder[k]!;
    const d = idom[v]!;
    // A dominator precedes what it dominates in preorder, so `covered[d]` is final here.
    if (d >= 0 && (covered[d] || selected[d])) covered[v] = 1;
    if (selected[v] && !covered[v]) total += ctx.retained[v]!;
  }
  return total;
}

/** A finding's retention chain and the root it starts at (as `details.root`). */
export interface RetentionChain {
  readonly chain: ChainStep[];
  readonly root?: { readonly kind: string; readonly address: string; readonly thread?: string; readonly register?: string };
}

/** The shortest chain from a strong root to the object at `index`, root object first, each later step with the field
 * of the previous object that holds it; runs of the same step (linked lists) collapse into one `field (×k)` step. */
export function retentionChain(ctx: RuleContext, index: number): RetentionChain {
  let root: GcRoot | undefined;
  let nodes: readonly number[] = [];
  let edges: readonly number[] = [];
  const kept = ctx.pathTo?.(index);
  if (kept) ({ root, nodes, edges } = kept);
  else {
    const found = findRootPaths(ctx.graph, ctx.roots, index, { limit: 1 })[0];
    if (found) {
      root = found.root;
      nodes = found.chain.map((l) => l.index);
      edges = found.chain.map((l) => l.edge);
    }
  }
  if (!root) return { chain: [] };
  const g = ctx.graph;
  const steps: { type: string; field?: string; isStatic: boolean; repeat: number; address: number }[] = [];
  for (let k = 0; k < nodes.length; k++) {
    const type = typeName(ctx, g.mtOf(nodes[k]!));
    const staticField = k === 0 ? undefined : ctx.staticFieldName?.(nodes[k - 1]!, edges[k]!);
    const field = k === 0 || edges[k]! < 0 ? undefined : (staticField ?? ctx.referenceNames.name(g.mtOf(nodes[k - 1]!), g.edgeOffset[edges[k]!]!));
    const last = steps[steps.length - 1];
    if (last && k > 0 && last.type === type && last.field === field) last.repeat++;
    else steps.push({ type, ...(field !== undefined ? { field } : {}), isStatic: staticField !== undefined, repeat: 1, address: g.addresses[nodes[k]!]! });
  }
  // A repeated step (a linked list) stands for several objects: it keeps the first one's address.
  let chain: ChainStep[] = steps.map((s) => ({
    type: s.type,
    ...(s.field !== undefined ? { field: s.repeat > 1 ? `${s.field} (×${s.repeat})` : s.field } : {}),
    ...(s.isStatic ? { static: true } : {}),
    address: s.address,
  }));
  // Keep the root end and the symptom end of very long chains.
  if (chain.length > MAX_CHAIN_STEPS) chain = [...chain.slice(0, 4), { type: '…', field: `${chain.length - MAX_CHAIN_STEPS + 5} more steps` }, ...chain.slice(-(MAX_CHAIN_STEPS - 5))];
  return { chain, root: rootDetails(root) };
}

/** A root as a finding's `details.root`: kind and address, and for a stack root its thread and register (a root held
 * in a register has no stack address). */
export function rootDetails(root: GcRoot): { kind: string; address: string; thread?: string; register?: string } {
  const register = root.kind === 'stack' && root.address === 0 && root.stack?.register !== undefined && root.stack.registerOffset === undefined ? root.stack.register : undefined;
  return {
    kind: root.kind,
    address: hex(root.address),
    ...(root.thread !== undefined ? { thread: hex(root.thread) } : {}),
    ...(register !== undefined ? { register } : {}),
  };
}

/** "1 object" / "3 objects". */
export function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** Bytes as a short human number (KB/MB with one decimal). */
export function bytesText(n: number): string {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}
