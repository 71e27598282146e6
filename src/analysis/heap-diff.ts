/**
 * Heap diff: what grew between two dumps of the same program (the "take two dumps and compare" advice that SOS has
 * no command for). Per-type deltas come from the two `dumpheap -stat` histograms, matched by type name (MethodTable
 * addresses differ between processes). Growth by owner clusters the instances of each grown type by the shape of
 * their shortest root path (retention-clusters.ts) in both dumps and matches clusters by that shape, never by
 * address: objects move between dumps, the path shape (root kind, types, field names) does not.
 */
import { methodCulprit, resolveCallback, type ResolvedCallback } from './rules/rule-support';
import type { AnalysisContext } from './analysis-context';
import type { ChainStep, Culprit, Finding } from './finding';
import { holderCulprit } from './holder-culprit';
import { ownerOfPath, OwnerShapes } from './owner-shapes';
import { collapseChain, type RetentionCluster } from './retention-clusters';

/** One row of a `dumpheap -stat` histogram. */
export interface TypeStat {
  readonly name: string;
  readonly count: number;
  readonly totalSize: number;
}

/** What identifies the program a dump was taken from. */
export interface DumpIdentity {
  readonly path: string;
  readonly processId: number | undefined;
  readonly processName: string;
  readonly runtimeVersion: string | undefined;
  /** File names of the managed assemblies outside the runtime's folder (the program's own), sorted. */
  readonly appAssemblies: readonly string[];
}

/** One dump's side of a diff. */
export interface DiffSide {
  readonly identity: DumpIdentity;
  readonly types: readonly TypeStat[];
  /** The analysis context, for growth by owner (omit for `-stat` only). */
  readonly ctx?: AnalysisContext;
}

/** One type's change. */
export interface TypeDelta {
  readonly name: string;
  readonly oldCount: number;
  readonly newCount: number;
  readonly countDelta: number;
  readonly oldSize: number;
  readonly newSize: number;
  readonly sizeDelta: number;
}

/** One link of a growth chain, root object first (with the representative's object address unless collapsed). */
export type GrowthLink = ChainStep;

/** A retention cluster that grew between the dumps. */
export interface GrowthFinding {
  /** The type that accumulates (the owner's element type). */
  readonly type: string;
  /** The type's count delta over the whole heap (both histograms), and the part of it in this cluster. */
  readonly countDelta: number;
  readonly oldCount: number;
  readonly newCount: number;
  readonly clusterOldCount: number;
  readonly clusterNewCount: number;
  readonly sizeDelta: number;
  /** Retained bytes of the cluster's members in each dump (dominator tree, each byte once). */
  readonly oldRetained: number;
  readonly newRetained: number;
  /** `new`: no object of the first dump was held this way; `grew`: the same holder had fewer. */
  readonly status: 'new' | 'grew';
  /** The static field (`Type.field`) or root that holds the cluster. */
  readonly owner: string;
  readonly root: { readonly kind: string; readonly address: number };
  readonly chain: readonly GrowthLink[];
  readonly culprit?: Culprit;
  /** Why no culprit method is named, when none is (holder-culprit.ts). */
  readonly culpritNote?: string;
  /** `callback`: a delegate on the chain calls the culprit; `adder`: the culprit's IL adds to the holding field. */
  readonly culpritKind?: 'callback' | 'adder';
  /** Other grown types held by the same owner, with their cluster's count delta. */
  readonly alsoGrew: readonly { readonly type: string; readonly countDelta: number }[];
  readonly examples: readonly number[];
  readonly verify: readonly string[];
}

/** What `diff` reports. */
export interface HeapDiff {
  readonly old: DumpIdentity;
  readonly new: DumpIdentity;
  /** Sorted by size delta, largest growth first; types in either dump. */
  readonly types: readonly TypeDelta[];
  readonly totals: { readonly oldCount: number; readonly newCount: number; readonly oldSize: number; readonly newSize: number };
  /** Growth findings, largest first (empty without analysis contexts). */
  readonly growth: readonly GrowthFinding[];
  /** Why the dumps may not be comparable, and what was left out. */
  readonly warnings: readonly string[];
}

/** Types whose count grew by at least this much are growth candidates (churn of a handful is noise). */
export const MIN_GROWTH_COUNT = 100;
/** At most this many grown types are attributed to owners (largest byte growth first). */
export const MAX_GROWTH_TYPES = 20;

/** Compares two dumps: per-type deltas, then (with contexts) growth by owner. */
export function diffHeaps(oldSide: DiffSide, newSide: DiffSide): HeapDiff {
  const warnings = sameProgramWarnings(oldSide.identity, newSide.identity);
  const types = typeDeltas(oldSide.types, newSide.types);
  const sum = (rows: readonly TypeStat[], f: (r: TypeStat) => number) => rows.reduce((s, r) => s + f(r), 0);
  const totals = {
    oldCount: sum(oldSide.types, (r) => r.count),
    newCount: sum(newSide.types, (r) => r.count),
    oldSize: sum(oldSide.types, (r) => r.totalSize),
    newSize: sum(newSide.types, (r) => r.totalSize),
  };
  const growth = oldSide.ctx && newSide.ctx ? growthByOwner(oldSide.ctx, newSide.ctx, types, warnings) : [];
  return { old: oldSide.identity, new: newSide.identity, types, totals, growth, warnings };
}

/** Warnings when the two dumps do not look like the same program at two moments. */
export function sameProgramWarnings(a: DumpIdentity, b: DumpIdentity): string[] {
  const out: string[] = [];
  if (a.runtimeVersion !== b.runtimeVersion) out.push(`the dumps come from different runtimes (.NET ${a.runtimeVersion ?? 'unknown'} and .NET ${b.runtimeVersion ?? 'unknown'}): type sizes and framework internals may differ`);
  if (a.processName !== b.processName) out.push(`the dumps come from different executables ("${a.processName}" and "${b.processName}"): not two moments of one program`);
  const shared = a.appAssemblies.filter((x) => b.appAssemblies.includes(x));
  if (a.appAssemblies.length > 0 && b.appAssemblies.length > 0 && shared.length === 0) {
    out.push(`the dumps load different application assemblies (${a.appAssemblies.slice(0, 3).join(', ')} and ${b.appAssemblies.slice(0, 3).join(', ')}): not the same program`);
  } else if (a.appAssemblies.join('\n') !== b.appAssemblies.join('\n') && shared.length > 0) {
    const only = [...a.appAssemblies.filter((x) => !shared.includes(x)), ...b.appAssemblies.filter((x) => !shared.includes(x))];
    out.push(`the dumps' application assemblies differ (${only.slice(0, 5).join(', ')} in only one)`);
  }
  return out;
}

/** Per-type deltas by type name, largest byte growth first (ties: count growth, then name). */
export function typeDeltas(oldTypes: readonly TypeStat[], newTypes: readonly TypeStat[]): TypeDelta[] {
  const rows = new Map<string, { oldCount: number; newCount: number; oldSize: number; newSize: number }>();
  const row = (name: string) => {
    let r = rows.get(name);
    if (!r) rows.set(name, (r = { oldCount: 0, newCount: 0, oldSize: 0, newSize: 0 }));
    return r;
  };
  // Several MethodTables may share a name (a type loaded in two load contexts): their rows add up.
  for (const t of oldTypes) {
    const r = row(t.name);
    r.oldCount += t.count;
    r.oldSize += t.totalSize;
  }
  for (const t of newTypes) {
    const r = row(t.name);
    r.newCount += t.count;
    r.newSize += t.totalSize;
  }
  return [...rows.entries()]
    .map(([name, r]) => ({ name, ...r, countDelta: r.newCount - r.oldCount, sizeDelta: r.newSize - r.oldSize }))
    .sort((a, b) => b.sizeDelta - a.sizeDelta || b.countDelta - a.countDelta || (a.name < b.name ? -1 : 1));
}

/** A retention cluster split by owner too (the collapsed shape alone hides which static holds a framework run). */
interface OwnedCluster extends RetentionCluster {
  readonly owner: string;
}

interface Candidate {
  readonly delta: TypeDelta;
  readonly cluster: OwnedCluster;
  readonly oldCluster: OwnedCluster | undefined;
  readonly clusterDelta: number;
  readonly owner: string;
  readonly userType: boolean;
}

function growthByOwner(oldCtx: AnalysisContext, newCtx: AnalysisContext, types: readonly TypeDelta[], warnings: string[]): GrowthFinding[] {
  const grown = types.filter((t) => t.countDelta >= MIN_GROWTH_COUNT && t.name !== 'Free');
  if (grown.length > MAX_GROWTH_TYPES) warnings.push(`${grown.length} types grew by ${MIN_GROWTH_COUNT}+ objects; growth by owner covers the ${MAX_GROWTH_TYPES} that grew most in bytes`);
  const wanted = new Set(grown.slice(0, MAX_GROWTH_TYPES).map((t) => t.name));
  const oldByName = indexesByTypeName(oldCtx, wanted);
  const newByName = indexesByTypeName(newCtx, wanted);
  const oldShapes = new OwnerShapes(oldCtx);
  const newShapes = new OwnerShapes(newCtx);
  const candidates: Candidate[] = [];
  for (const delta of grown.slice(0, MAX_GROWTH_TYPES)) {
    const oldIdx = oldByName.get(delta.name) ?? [];
    const newIdx = newByName.get(delta.name) ?? [];
    const oldClusters = new Map(clusterByOwner(oldCtx, oldShapes, oldIdx, warnings).map((c) => [c.key, c]));
    for (const cluster of clusterByOwner(newCtx, newShapes, newIdx, warnings)) {
      const oldCluster = oldClusters.get(cluster.key);
      const clusterDelta = cluster.members.length - (oldCluster?.members.length ?? 0);
      if (clusterDelta < MIN_GROWTH_COUNT) continue;
      const userType = newCtx.isUserType(newCtx.graph.mtOf(cluster.representative));
      candidates.push({ delta, cluster, oldCluster, clusterDelta, owner: cluster.owner, userType });
    }
  }
  // One finding per owner: its element type is a user type if any grew, else the one nearest the owner.
  const byOwner = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const list = byOwner.get(c.owner);
    if (list) list.push(c);
    else byOwner.set(c.owner, [c]);
  }
  const findings: GrowthFinding[] = [];
  for (const group of byOwner.values()) {
    group.sort((a, b) => Number(b.userType) - Number(a.userType) || a.cluster.path.nodes.length - b.cluster.path.nodes.length || b.clusterDelta - a.clusterDelta);
    const main = group[0]!;
    findings.push(growthFinding(oldCtx, newCtx, main, group.slice(1)));
  }
  return findings.sort((a, b) => b.newRetained - b.oldRetained - (a.newRetained - a.oldRetained) || b.countDelta - a.countDelta);
}

function growthFinding(oldCtx: AnalysisContext, newCtx: AnalysisContext, c: Candidate, others: readonly Candidate[]): GrowthFinding {
  const g = newCtx.graph;
  const path = c.cluster.path;
  const chain: GrowthLink[] = [...c.cluster.chain];
  // A delegate on the chain names the callback; without one, the method that adds to the holding field.
  const callback = culpritOf(newCtx, path.nodes);
  const byHolder = callback === undefined ? holderCulprit(newCtx, path) : undefined;
  const culprit = callback ?? byHolder?.culprit;
  const examples = c.cluster.members.slice(-5).map((i) => g.addresses[i]!);
  const holderIndex = path.nodes.length >= 2 ? path.nodes[path.nodes.length - 2]! : path.nodes[0]!;
  return {
    type: c.delta.name,
    countDelta: c.delta.countDelta,
    oldCount: c.delta.oldCount,
    newCount: c.delta.newCount,
    clusterOldCount: c.oldCluster?.members.length ?? 0,
    clusterNewCount: c.cluster.members.length,
    sizeDelta: c.delta.sizeDelta,
    oldRetained: c.oldCluster ? oldCtx.retainedOfSet(c.oldCluster.members) : 0,
    newRetained: newCtx.retainedOfSet(c.cluster.members),
    status: c.oldCluster ? 'grew' : 'new',
    owner: c.owner,
    root: { kind: path.root.kind, address: path.root.address },
    chain,
    ...(culprit ? { culprit, culpritKind: callback ? ('callback' as const) : ('adder' as const) } : {}),
    ...(byHolder?.note !== undefined ? { culpritNote: byHolder.note } : {}),
    alsoGrew: others.map((o) => ({ type: o.delta.name, countDelta: o.clusterDelta })),
    examples,
    verify: [`dumpheap -stat -type ${c.delta.name}`, `gcroot 0x${examples[examples.length - 1]!.toString(16)}`, `dumpobj 0x${g.addresses[holderIndex]!.toString(16)}`],
  };
}

/** Groups reachable objects by owner and collapsed path shape (owner-shapes.ts: no per-object path or string);
 * each cluster's chain is its first member's own path, and its key is checked against that path's. */
function clusterByOwner(ctx: AnalysisContext, shapes: OwnerShapes, indexes: readonly number[], warnings: string[]): OwnedCluster[] {
  const groups = new Map<string, number[]>();
  for (const i of indexes) {
    const key = shapes.key(i);
    if (key === undefined) continue;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  const out: OwnedCluster[] = [];
  for (const [key, members] of groups) {
    // pathTo gives up past 1,000,000 links (MAX_PATH_LENGTH): such a group cannot show its chain.
    const representative = members.find((m, k) => k < 16 && ctx.pathTo(m) !== undefined);
    const path = representative === undefined ? undefined : ctx.pathTo(representative);
    if (representative === undefined || path === undefined) {
      warnings.push(`growth by owner: ${members.length.toLocaleString('en-US')} ${ctx.typeName(members[0]!)} objects are more than 1,000,000 links from their root; their group (${key.slice(0, 200)}) is left out`);
      continue;
    }
    const shape = collapseChain(ctx, path);
    const owner = ownerOfPath(ctx, path);
    const slowKey = `${owner} | ${shape.key}`;
    if (slowKey !== key) warnings.push(`growth by owner: the shape of ${ctx.typeName(representative)} at 0x${ctx.graph.addresses[representative]!.toString(16)} reads "${slowKey}" from its path but "${key}" from the shape index (please report)`);
    out.push({ key, members, representative, path, owner, chain: shape.chain, stepNodes: shape.stepNodes });
  }
  return out;
}

/** The user method behind the last delegate on the path (an event handler, a callback), when there is one. */
function culpritOf(ctx: AnalysisContext, nodes: readonly number[]): Culprit | undefined {
  for (let k = nodes.length - 1; k >= 0; k--) {
    const v = nodes[k]!;
    if (!ctx.isDelegate(ctx.graph.mtOf(v))) continue;
    const cb: ResolvedCallback | undefined = resolveCallback(ctx, ctx.graph.addresses[v]!);
    if (cb && cb.isUser) return methodCulprit(ctx, cb.methodDesc, `the ${ctx.typeName(v)} on the chain calls it; its target is the growing object's holder`);
  }
  return undefined;
}

/** Graph indexes of the objects of the `wanted` type names (one name lookup per MethodTable). */
function indexesByTypeName(ctx: AnalysisContext, wanted: ReadonlySet<string>): Map<string, number[]> {
  const g = ctx.graph;
  const nameOf = new Map<number, string | null>();
  const out = new Map<string, number[]>();
  for (let i = 0; i < g.count; i++) {
    const mt = g.mtOf(i);
    let name = nameOf.get(mt);
    if (name === undefined) {
      const n = ctx.names.clrmdName(mt);
      nameOf.set(mt, (name = wanted.has(n) ? n : null));
    }
    if (name === null) continue;
    const list = out.get(name);
    if (list) list.push(i);
    else out.set(name, [i]);
  }
  return out;
}

/** A growth finding in analyze's shape (rule `growth`), so reports and `analyze --baseline` list it with the others. */
export function growthAsFinding(g: GrowthFinding): Finding {
  const how = g.status === 'new' ? 'none were held this way in the first dump' : `${g.clusterOldCount.toLocaleString('en-US')} were held this way in the first dump`;
  return {
    rule: 'growth',
    title: `${g.type} grew by ${g.countDelta.toLocaleString('en-US')} (${g.oldCount.toLocaleString('en-US')} → ${g.newCount.toLocaleString('en-US')}), held by ${g.owner}`,
    severity: 'warning',
    verdict:
      `${g.owner} holds ${g.clusterNewCount.toLocaleString('en-US')} ${g.type} objects (${how}); their retained size grew by ` +
      `${(g.newRetained - g.oldRetained).toLocaleString('en-US')} bytes` +
      (g.alsoGrew.length > 0 ? `, with ${g.alsoGrew.map((a) => `${a.type} +${a.countDelta.toLocaleString('en-US')}`).join(', ')}` : '') +
      (g.culprit ? `; ${g.culpritKind === 'adder' ? 'the method that adds to it is' : "the chain's callback is"} ${g.culprit.method}.` : g.culpritNote ? `; ${g.culpritNote}.` : '.'),
    objectCount: g.countDelta,
    retainedBytes: g.newRetained - g.oldRetained,
    ...(g.culprit ? { culprit: g.culprit } : {}),
    chain: g.chain,
    examples: g.examples,
    verify: g.verify,
    confidence: g.status === 'grew' || g.clusterNewCount >= 2 * MIN_GROWTH_COUNT ? 'high' : 'medium',
    details: {
      root: { kind: g.root.kind, address: '0x' + g.root.address.toString(16) },
      owner: g.owner,
      status: g.status,
      oldCount: g.oldCount,
      newCount: g.newCount,
      clusterOldCount: g.clusterOldCount,
      clusterNewCount: g.clusterNewCount,
      oldRetained: g.oldRetained,
      newRetained: g.newRetained,
      alsoGrew: g.alsoGrew,
    },
  };
}
