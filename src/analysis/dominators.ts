/**
 * Immediate dominators and retained sizes over a heap-sized graph (CSR, typed arrays, no recursion).
 * Algorithm: SEMI-NCA (Georgiadis' variant of Lengauer–Tarjan): semidominators with path-compressed EVAL, then each
 * idom is the nearest common ancestor of parent and semidominator on the DFS tree. O(E log V).
 * Memory: five 4-byte arrays per node (the node → DFS number map becomes the idom output and the DFS order the
 * preorder output), plus predecessor lists in DFS numbers for the edges that go to a lower DFS number (4 bytes per
 * reachable node and per such edge) unless the caller passes its own reverse edges. The DFS runs twice (its stack is
 * implicit in the parent array, which path compression then overwrites).
 */
import { LimitExceededError } from '../errors';

/** A directed graph in compressed sparse row form: the successors of node i are edges[offsets[i] .. offsets[i+1]). */
export interface CsrGraph {
  readonly nodeCount: number;
  readonly offsets: Uint32Array | Float64Array;
  readonly edges: Uint32Array | Int32Array;
  /** The same graph's incoming edges in node ids (e.g. `ObjectGraph.reverse()`): when given, no predecessor lists
   * are built. */
  readonly predecessors?: { readonly start: Uint32Array; readonly source: Uint32Array };
}

/** The dominator tree: `idom[v]` is v's immediate dominator, `VIRTUAL_ROOT` for a node only the roots reach
 * first, or `UNREACHABLE` for a node no root reaches. */
export interface DominatorTree {
  readonly idom: Int32Array;
  /** Reachable nodes in DFS preorder (a dominator always comes before the nodes it dominates). */
  readonly preorder: Int32Array;
  readonly reachableCount: number;
  /** Scratch memory of the computation that `computeRetainedSizes` takes over instead of allocating (internal). */
  readonly scratch?: { buffer?: ArrayBuffer };
}

/** idom value of nodes dominated only by the (virtual) root set. */
export const VIRTUAL_ROOT = -2;
/** idom value of nodes no root reaches. */
export const UNREACHABLE = -1;

/** Computes immediate dominators of every node reachable from `roots` (a virtual root points at each of them).
 * @throws LimitExceededError when the graph has more nodes than typed arrays can index. */
export function computeDominators(graph: CsrGraph, roots: ArrayLike<number>): DominatorTree {
  const n = graph.nodeCount;
  if (n + 1 > 0x7fffffff) throw new LimitExceededError(`graph of ${n} nodes is too large`);
  // DFS numbers: 0 is the virtual root, reachable nodes get 1..count-1; dfnum[v] = 0 means unreached.
  const dfnum = new Int32Array(n);
  const vertex = new Int32Array(n + 1);
  // One buffer for the three temporaries: the retained sizes (8 bytes per node) reuse it afterwards, so no new
  // allocation lands on top of temporaries the collector has not reclaimed yet.
  const buffer = new ArrayBuffer(12 * (n + 1));
  const ancestor = new Uint32Array(buffer, 0, n + 1);
  const semi = new Uint32Array(buffer, 4 * (n + 1), n + 1);
  const scratch = new Uint32Array(buffer, 8 * (n + 1), n + 1);
  const count = depthFirst(graph, roots, dfnum, vertex, ancestor, scratch, false);
  // semi[w] starts at w; a root has the virtual root (0) among its predecessors.
  for (let w = 0; w < count; w++) semi[w] = w;
  for (let r = 0; r < roots.length; r++) semi[dfnum[roots[r]!]!] = 0;
  semidominators(graph, count, dfnum, vertex, ancestor, semi, scratch);

  // The compression destroyed the DFS parents; a second, identical DFS restores them into the same array.
  const parent = ancestor;
  depthFirst(graph, roots, dfnum, vertex, parent, scratch, true);
  // NCA step, in place: idom (in DFS numbers) overwrites parent; ancestors are final before their descendants.
  const idomDf = parent;
  for (let w = 1; w < count; w++) {
    let d = idomDf[w]!;
    while (d > semi[w]!) d = idomDf[d]!;
    idomDf[w] = d;
  }
  // dfnum becomes the idom output (in node ids), in place.
  const idom = dfnum;
  for (let v = 0; v < n; v++) {
    const w = idom[v]!;
    if (w === 0) idom[v] = UNREACHABLE;
    else {
      const d = idomDf[w]!;
      idom[v] = d === 0 ? VIRTUAL_ROOT : vertex[d]!;
    }
  }
  return { idom, preorder: vertex.subarray(1, count), reachableCount: count - 1, scratch: { buffer } };
}

/** Iterative DFS from the virtual root over the roots in order; returns the number of DFS numbers used (reachable
 * nodes + 1). The stack is implicit: the path back to the root through `parent`, with each node's next edge in
 * `cursor` (both by DFS number). The first run numbers the nodes (dfnum, vertex); a `replay` run, given the same
 * graph and roots, visits them in the same order and only rewrites `parent`. */
function depthFirst(
  graph: CsrGraph,
  roots: ArrayLike<number>,
  dfnum: Int32Array,
  vertex: Int32Array,
  parent: Uint32Array,
  cursor: Uint32Array,
  replay: boolean,
): number {
  const { offsets, edges } = graph;
  let count = 1;
  // In a replay a node is already visited when its number is below the next one to hand out.
  const visited = (v: number): boolean => (replay ? dfnum[v]! < count : dfnum[v] !== 0);
  for (let r = 0; r < roots.length; r++) {
    const root = roots[r]!;
    if (visited(root)) continue;
    if (!replay) {
      dfnum[root] = count;
      vertex[count] = root;
    }
    parent[count] = 0;
    cursor[count] = offsets[root]!;
    let cur = count++;
    while (cur !== 0) {
      const v = vertex[cur]!;
      const e = cursor[cur]!;
      if (e < offsets[v + 1]!) {
        cursor[cur] = e + 1;
        const w = edges[e]!;
        if (replay ? dfnum[w]! < count : dfnum[w] !== 0) continue;
        if (!replay) {
          dfnum[w] = count;
          vertex[count] = w;
        }
        parent[count] = cur;
        cursor[count] = offsets[w]!;
        cur = count++;
      } else cur = parent[cur]!;
    }
  }
  return count;
}

/** Semidominators (DFS numbers) by Lengauer–Tarjan's EVAL with path compression. A node counts as linked once it
 * has been processed (its number is above the current one), so the forest is `ancestor` (the DFS parents,
 * compressed in place) with no separate link step; `best` holds the least semidominator on the compressed path
 * (SEMI-NCA needs only that value, not the node). Predecessors numbered below w are plain candidates, so only the
 * others are listed (unless the caller supplied reverse edges). */
function semidominators(
  graph: CsrGraph,
  count: number,
  dfnum: Int32Array,
  vertex: Int32Array,
  ancestor: Uint32Array,
  semi: Uint32Array,
  best: Uint32Array,
): void {
  let path = new Uint32Array(1024);
  const preds = graph.predecessors ?? laterPredecessors(graph, count, dfnum, vertex, semi);
  const byNode = graph.predecessors !== undefined;
  const { start, source } = preds;
  for (let w = count - 1; w > 0; w--) {
    const row = byNode ? vertex[w]! : w;
    let s = semi[w]!;
    for (let k = start[row]!; k < start[row + 1]!; k++) {
      const v = byNode ? dfnum[source[k]!]! : source[k]!;
      if (v === 0) continue; // an unreached predecessor
      if (v <= w) {
        if (v < s) s = v;
        continue;
      }
      // EVAL(v): compress the path of linked ancestors (numbers above w), carrying the least semidominator down.
      let len = 0;
      let u = v;
      while (ancestor[u]! > w) {
        if (len === path.length) {
          const bigger = new Uint32Array(path.length * 2);
          bigger.set(path);
          path = bigger;
        }
        path[len++] = u;
        u = ancestor[u]!;
      }
      for (let j = len - 1; j >= 0; j--) {
        const x = path[j]!;
        const a = ancestor[x]!;
        if (best[a]! < best[x]!) best[x] = best[a]!;
        ancestor[x] = ancestor[a]!;
      }
      if (best[v]! < s) s = best[v]!;
    }
    semi[w] = s;
    best[w] = s;
  }
}

/** For every reachable node w (by DFS number), its predecessors numbered above w, as CSR built in place; the
 * predecessors numbered below w are folded into `semi[w]` (their minimum) on the way. */
function laterPredecessors(graph: CsrGraph, count: number, dfnum: Int32Array, vertex: Int32Array, semi: Uint32Array): { start: Uint32Array; source: Uint32Array } {
  const { offsets, edges } = graph;
  const start = new Uint32Array(count + 1);
  for (let i = 1; i < count; i++) {
    const v = vertex[i]!;
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) {
      const w = dfnum[edges[e]!]!;
      if (w === 0) continue;
      if (i > w) start[w + 1]!++;
      else if (i < semi[w]!) semi[w] = i;
    }
  }
  for (let i = 0; i < count; i++) start[i + 1]! += start[i]!;
  const source = new Uint32Array(start[count]!);
  for (let i = count - 1; i >= 1; i--) {
    const v = vertex[i]!;
    for (let e = offsets[v + 1]! - 1; e >= offsets[v]!; e--) {
      const w = dfnum[edges[e]!]!;
      if (w > 0 && i > w) source[--start[w + 1]!] = i;
    }
  }
  start.copyWithin(0, 1);
  start[count] = source.length;
  return { start, source };
}

/** Retained size of every node: its own size plus the sizes of all nodes it dominates (0 when unreachable). */
export function computeRetainedSizes(tree: DominatorTree, sizes: ArrayLike<number>): Float64Array {
  const n = tree.idom.length;
  const spare = tree.scratch?.buffer;
  let retained: Float64Array;
  if (spare !== undefined && spare.byteLength >= 8 * n) {
    tree.scratch!.buffer = undefined; // taken over: a second call allocates its own
    retained = new Float64Array(spare, 0, n).fill(0);
  } else retained = new Float64Array(n);
  const order = tree.preorder;
  for (let i = 0; i < order.length; i++) retained[order[i]!] = sizes[order[i]!]!;
  // Reverse preorder: every node is final before its dominator (which precedes it in preorder) receives it.
  for (let i = order.length - 1; i >= 0; i--) {
    const v = order[i]!;
    const d = tree.idom[v]!;
    if (d >= 0) retained[d]! += retained[v]!;
  }
  return retained;
}
