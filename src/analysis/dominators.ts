/**
 * Immediate dominators and retained sizes over a heap-sized graph (CSR, typed arrays, no recursion).
 * Algorithm: SEMI-NCA (Georgiadis' variant of Lengauer–Tarjan): semidominators with path-compressed EVAL, then each
 * idom is the nearest common ancestor of parent and semidominator on the DFS tree. O(E log V), 10 Int32 arrays.
 */
import { LimitExceededError } from '../errors';

/** A directed graph in compressed sparse row form: the successors of node i are edges[offsets[i] .. offsets[i+1]). */
export interface CsrGraph {
  readonly nodeCount: number;
  readonly offsets: Uint32Array | Float64Array;
  readonly edges: Uint32Array | Int32Array;
}

/** The dominator tree: `idom[v]` is v's immediate dominator, `VIRTUAL_ROOT` for a node only the roots reach
 * first, or `UNREACHABLE` for a node no root reaches. */
export interface DominatorTree {
  readonly idom: Int32Array;
  /** Reachable nodes in DFS preorder (a dominator always comes before the nodes it dominates). */
  readonly preorder: Int32Array;
  readonly reachableCount: number;
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
  const { offsets, edges } = graph;
  // Node ids are shifted by one: 0 is the virtual root, node v is v + 1.
  const size = n + 1;
  const dfnum = new Int32Array(size).fill(-1);
  const vertex = new Int32Array(size);
  const parent = new Int32Array(size); // in DFS numbers
  // Iterative DFS with an explicit stack of (node, next edge index).
  const stackNode = new Int32Array(size);
  const stackEdge = new Float64Array(size);
  let count = 0;
  dfnum[0] = count;
  vertex[count++] = 0;
  let sp = 0;
  // The virtual root's successors are the roots, visited in order.
  for (let r = 0; r < roots.length; r++) {
    const root = roots[r]! + 1;
    if (dfnum[root] !== -1) continue;
    dfnum[root] = count;
    vertex[count] = root;
    parent[count] = 0;
    count++;
    stackNode[0] = root;
    stackEdge[0] = offsets[root - 1]!;
    sp = 1;
    while (sp > 0) {
      const v = stackNode[sp - 1]!;
      const e = stackEdge[sp - 1]!;
      if (e < offsets[v]!) {
        stackEdge[sp - 1] = e + 1;
        const w = edges[e]! + 1;
        if (dfnum[w] === -1) {
          dfnum[w] = count;
          vertex[count] = w;
          parent[count] = dfnum[v]!;
          count++;
          stackNode[sp] = w;
          stackEdge[sp] = offsets[w - 1]!;
          sp++;
        }
      } else {
        sp--;
      }
    }
  }

  // Predecessors in DFS numbers, as CSR (only reachable nodes and edges between them).
  const predOffsets = new Uint32Array(count + 1);
  for (let i = 1; i < count; i++) {
    const v = vertex[i]! - 1;
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) {
      const w = dfnum[edges[e]! + 1]!;
      if (w > 0) predOffsets[w + 1]!++;
    }
  }
  for (let r = 0; r < roots.length; r++) {
    const w = dfnum[roots[r]! + 1]!;
    predOffsets[w + 1]!++;
  }
  for (let i = 0; i < count; i++) predOffsets[i + 1]! += predOffsets[i]!;
  const preds = new Int32Array(predOffsets[count]!);
  const fill = predOffsets.slice(0, count);
  for (let i = 1; i < count; i++) {
    const v = vertex[i]! - 1;
    for (let e = offsets[v]!; e < offsets[v + 1]!; e++) {
      const w = dfnum[edges[e]! + 1]!;
      if (w > 0) preds[fill[w]!++] = i;
    }
  }
  for (let r = 0; r < roots.length; r++) preds[fill[dfnum[roots[r]! + 1]!]!++] = 0;

  // Semidominators, all in DFS numbers.
  const semi = new Int32Array(count);
  const label = new Int32Array(count);
  const ancestor = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    semi[i] = i;
    label[i] = i;
  }
  const path = new Int32Array(count);
  const evalNode = (v: number): number => {
    if (ancestor[v] === -1) return v;
    // Collect the ancestor chain whose own ancestors are linked, then compress it top-down.
    let len = 0;
    let u = v;
    while (ancestor[ancestor[u]!] !== -1) {
      path[len++] = u;
      u = ancestor[u]!;
    }
    for (let k = len - 1; k >= 0; k--) {
      const x = path[k]!;
      const a = ancestor[x]!;
      if (semi[label[a]!]! < semi[label[x]!]!) label[x] = label[a]!;
      ancestor[x] = ancestor[a]!;
    }
    return label[v]!;
  };
  for (let w = count - 1; w > 0; w--) {
    for (let p = predOffsets[w]!; p < predOffsets[w + 1]!; p++) {
      const u = evalNode(preds[p]!);
      if (semi[u]! < semi[w]!) semi[w] = semi[u]!;
    }
    ancestor[w] = parent[w]!;
  }

  // NCA step: walk up the DFS tree from the parent until at or above the semidominator.
  const idomDf = new Int32Array(count);
  idomDf[0] = 0;
  for (let w = 1; w < count; w++) {
    let d = parent[w]!;
    while (d > semi[w]!) d = idomDf[d]!;
    idomDf[w] = d;
  }

  const idom = new Int32Array(n).fill(UNREACHABLE);
  const preorder = new Int32Array(count - 1);
  for (let i = 1; i < count; i++) {
    const v = vertex[i]! - 1;
    preorder[i - 1] = v;
    const d = idomDf[i]!;
    idom[v] = d === 0 ? VIRTUAL_ROOT : vertex[d]! - 1;
  }
  return { idom, preorder, reachableCount: count - 1 };
}

/** Retained size of every node: its own size plus the sizes of all nodes it dominates (0 when unreachable). */
export function computeRetainedSizes(tree: DominatorTree, sizes: ArrayLike<number>): Float64Array {
  const retained = new Float64Array(tree.idom.length);
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
