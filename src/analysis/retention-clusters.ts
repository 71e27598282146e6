/**
 * Retention clusters (memlab's clustered retainer traces): objects grouped by the shape of their shortest strong path
 * from a root — the sequence of types and field names a person would read, with runs of framework internals between
 * the interesting links collapsed to one `…` step that names the types it hides. Array indexes do not split
 * clusters; a cluster is reported once, with its members, a representative and the representative's chain.
 */
import type { ChainStep } from './finding';
import type { AnalysisContext, RetentionPath } from './analysis-context';

/** How links are kept or collapsed. */
export interface ClusterOptions {
  /** Links that must stay visible (besides the root object, the symptom, user types and delegates): pending
   * operations, for instance. */
  readonly isLandmark?: (index: number) => boolean;
  /** At most this many members get a path (the rest of a huge set is counted as unclustered); default 100,000. */
  readonly maxMembers?: number;
}

/** One group of objects retained the same way. */
export interface RetentionCluster {
  /** The shape: root kind + kept types and normalised fields. */
  readonly key: string;
  /** Graph indexes of the members, in the order given. */
  readonly members: readonly number[];
  readonly representative: number;
  /** The representative's full shortest path. */
  readonly path: RetentionPath;
  /** The representative's chain, root object first, collapsed. */
  readonly chain: readonly ChainStep[];
  /** Which positions of `path.nodes` each chain step stands for (a collapsed step covers several). */
  readonly stepNodes: readonly (readonly number[])[];
}

/** The outcome of clustering a set of objects. */
export interface ClusterResult {
  /** Largest cluster first. */
  readonly clusters: readonly RetentionCluster[];
  /** Objects of the set no strong root reaches (not clustered). */
  readonly unreachable: number;
  /** Objects beyond `maxMembers` (not clustered). */
  readonly skipped: number;
}

const DEFAULT_MAX_MEMBERS = 100_000;
const MIN_RUN_TO_COLLAPSE = 2;

/** Groups `indexes` by the collapsed shape of their shortest strong path. */
export function clusterByRetention(ctx: AnalysisContext, indexes: Iterable<number>, options: ClusterOptions = {}): ClusterResult {
  const max = options.maxMembers ?? DEFAULT_MAX_MEMBERS;
  const byKey = new Map<string, { members: number[]; path: RetentionPath; shape: CollapsedChain }>();
  let unreachable = 0;
  let skipped = 0;
  let done = 0;
  for (const i of indexes) {
    if (!ctx.isReachable(i)) {
      unreachable++;
      continue;
    }
    if (done >= max) {
      skipped++;
      continue;
    }
    done++;
    const path = ctx.pathTo(i)!;
    const shape = collapseChain(ctx, path, options.isLandmark);
    const group = byKey.get(shape.key);
    if (group) group.members.push(i);
    else byKey.set(shape.key, { members: [i], path, shape });
  }
  const clusters: RetentionCluster[] = [...byKey.entries()].map(([key, g]) => ({
    key,
    members: g.members,
    representative: g.members[0]!,
    path: g.path,
    chain: g.shape.chain,
    stepNodes: g.shape.stepNodes,
  }));
  clusters.sort((a, b) => b.members.length - a.members.length || (a.key < b.key ? -1 : 1));
  return { clusters, unreachable, skipped };
}

/** A path collapsed for reading, and its cluster key. */
export interface CollapsedChain {
  readonly key: string;
  readonly chain: readonly ChainStep[];
  readonly stepNodes: readonly (readonly number[])[];
}

/** Collapses a path: the root object, the last object, user types, delegates and landmarks stay; runs of two or
 * more other (framework) objects become one step `… A → B → C`. Each kept step's field is the slot of the object
 * right before it that holds it (so `dumpobj` of that object shows it). */
export function collapseChain(ctx: AnalysisContext, path: RetentionPath, isLandmark?: (index: number) => boolean): CollapsedChain {
  const nodes = path.nodes;
  const last = nodes.length - 1;
  // A user type or delegate right after another object of its own type (a linked list, a tree of user nodes) is not
  // kept: the structure collapses like framework internals, so the shape of a node a million links deep stays short.
  const names = nodes.map((v) => ctx.typeName(v));
  const keep = nodes.map(
    (v, k) =>
      k === 0 ||
      k === last ||
      (isLandmark?.(v) ?? false) ||
      ((ctx.isUserType(ctx.graph.mtOf(v)) || ctx.isDelegate(ctx.graph.mtOf(v))) && names[k] !== names[k - 1]),
  );
  const chain: ChainStep[] = [];
  const stepNodes: number[][] = [];
  const keyParts: string[] = [path.root.kind];
  const field = (k: number) => (k === 0 ? undefined : ctx.slotName(nodes[k - 1]!, path.edges[k]!));
  const staticMark = (k: number): { static?: true } => (k > 0 && ctx.staticFieldName(nodes[k - 1]!, path.edges[k]!) !== undefined ? { static: true } : {});
  let k = 0;
  while (k <= last) {
    if (keep[k]) {
      const f = field(k);
      const address = ctx.graph.addresses[nodes[k]!]!;
      chain.push(f === undefined ? { type: ctx.typeName(nodes[k]!), address } : { type: ctx.typeName(nodes[k]!), field: f, ...staticMark(k), address });
      stepNodes.push([k]);
      keyParts.push(`${normaliseField(f)}:${ctx.typeName(nodes[k]!)}`);
      k++;
      continue;
    }
    let end = k;
    while (end <= last && !keep[end]) end++;
    const run = Array.from({ length: end - k }, (_, j) => k + j);
    if (run.length < MIN_RUN_TO_COLLAPSE) {
      const f = field(k);
      const address = ctx.graph.addresses[nodes[k]!]!;
      chain.push(f === undefined ? { type: ctx.typeName(nodes[k]!), address } : { type: ctx.typeName(nodes[k]!), field: f, ...staticMark(k), address });
      keyParts.push(`${normaliseField(f)}:${ctx.typeName(nodes[k]!)}`);
    } else {
      const f = field(k);
      const type = `… ${runNames(run.map((j) => shortTypeName(names[j]!))).join(' → ')}`;
      chain.push(f === undefined ? { type } : { type, field: f, ...staticMark(k) });
      keyParts.push('…');
    }
    stepNodes.push(run);
    k = end;
  }
  return { key: keyParts.join(' / '), chain, stepNodes };
}

/** Run names for display, four or more of one type in a row written once with a count (`Node ×1,000,000`). */
function runNames(names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length; ) {
    let j = i + 1;
    while (j < names.length && names[j] === names[i]) j++;
    if (j - i >= 4) out.push(`${names[i]!} ×${(j - i).toLocaleString('en-US')}`);
    else for (let k = i; k < j; k++) out.push(names[k]!);
    i = j;
  }
  return out;
}

/** `[316]` → `[]`, `[2]+0x8` → `[]+0x8`: elements of one array are one shape. */
function normaliseField(f: string | undefined): string {
  return f === undefined ? '' : f.replace(/^\[\d+\]/, '[]');
}

/** The type name without its namespace (generic arguments kept short too). */
export function shortTypeName(name: string): string {
  return name.replace(/(?:[A-Za-z_][\w]*\.)+(?=[A-Za-z_`][\w`]*)/g, '');
}
