/**
 * `gcroot`: which roots keep an object alive, and through which chain of references. One backward breadth-first
 * search over the reverse index from the target gives, for every object, its next step on a shortest path to the
 * target; each root whose object reaches the target is reported with that shortest chain (SOS reports one chain
 * per root too, found depth-first; ours is the shortest). `all` lists every simple path per root instead.
 */
import { NO_OBJECT, type GraphAccess, type ObjectGraph } from '../heap/object-graph';
import type { GcRoot } from '../heap/roots';
import { allChainsFrom, chainFrom, shortestPathsTo } from './path-to';

/** One link of a chain: the object (graph index) and the forward edge that led to it (-1 for the root object). */
export interface ChainLink {
  readonly index: number;
  readonly edge: number;
}

/** A root and one chain from its object to the target (both ends included). */
export interface RootPath {
  readonly root: GcRoot;
  readonly chain: readonly ChainLink[];
}

/** Options of `findRootPaths`. */
export interface RootPathOptions {
  /** Every simple path per root (up to `limit` per root) instead of the shortest one. */
  readonly all?: boolean;
  /** Stop after this many roots have been reported (SOS `-limit`). */
  readonly limit?: number;
}

/** Paths from `roots` (in the given order) to the object at index `target`. The search reuses the graph's scratch
 * (see `shortestPathsTo`), so its cost follows the objects that reach the target, not the heap size. */
export function findRootPaths(graph: ObjectGraph, roots: readonly GcRoot[], target: number, options: RootPathOptions = {}): RootPath[] {
  const paths = shortestPathsTo(graph, target);
  const out: RootPath[] = [];
  const limit = options.limit ?? Infinity;
  let reported = 0;
  for (const root of roots) {
    if (reported >= limit) break;
    const from = graph.indexOf(root.object);
    if (from === NO_OBJECT || paths.next[from] === -1) continue;
    reported++;
    if (options.all) {
      for (const c of allChainsFrom(graph, paths, from, 100)) out.push({ root, chain: c.nodes.map((index, k) => ({ index, edge: c.edges[k]! })) });
    } else {
      const c = chainFrom(paths, from)!;
      out.push({ root, chain: c.nodes.map((index, k) => ({ index, edge: c.edges[k]! })) });
    }
  }
  return out;
}

/** A graph read object by object with its reverse edges (the per-dump index read page by page). */
export interface ReverseGraphAccess extends GraphAccess {
  /** Object i's incoming edges are `reverseStartOf(i)..reverseStartOf(i + 1)`. */
  reverseStartOf(i: number): number;
  /** The referencing object of incoming edge `k` (ascending within one object's run, as ReverseEdges.source). */
  reverseSourceOf(k: number): number;
  /** The first forward edge from `from` to `to`, or -1 (as path-to.ts's firstEdgeBetween). */
  firstEdgeBetween(from: number, to: number): number;
}

/** `findRootPaths` (without `all`) over a graph read object by object: the same backward breadth-first search in the
 * same order, with its state in maps, so its cost follows the objects that reach the target (which is what the
 * per-dump index reads) and nothing is heap-sized. Returns undefined when more than `maxVisited` objects reach the
 * target (then the whole graph is the cheaper way). */
export function findRootPathsSparse(graph: ReverseGraphAccess, roots: readonly GcRoot[], target: number, limit = Infinity, maxVisited = 1 << 21): RootPath[] | undefined {
  const next = new Map<number, number>([[target, target]]);
  const queue = [target];
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head]!;
    const end = graph.reverseStartOf(i + 1);
    for (let k = graph.reverseStartOf(i); k < end; k++) {
      const s = graph.reverseSourceOf(k);
      if (next.has(s)) continue;
      next.set(s, i);
      queue.push(s);
    }
    if (queue.length > maxVisited) return undefined;
  }
  // A root counts when its object is the start of an object that reaches the target (as graph.indexOf finds it).
  const byAddress = new Map<number, number>();
  for (const i of queue) byAddress.set(graph.addressOf(i), i);
  const out: RootPath[] = [];
  let reported = 0;
  for (const root of roots) {
    if (reported >= limit) break;
    const from = byAddress.get(root.object);
    if (from === undefined) continue;
    reported++;
    const chain: ChainLink[] = [{ index: from, edge: -1 }];
    for (let cur = from; cur !== target; ) {
      const to = next.get(cur)!;
      chain.push({ index: to, edge: graph.firstEdgeBetween(cur, to) });
      cur = to;
    }
    out.push({ root, chain });
  }
  return out;
}
