/**
 * `gcroot`: which roots keep an object alive, and through which chain of references. One backward breadth-first
 * search over the reverse index from the target gives, for every object, its next step on a shortest path to the
 * target; each root whose object reaches the target is reported with that shortest chain (SOS reports one chain
 * per root too, found depth-first; ours is the shortest). `all` lists every simple path per root instead.
 */
import { NO_OBJECT, type ObjectGraph } from '../heap/object-graph';
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
