/**
 * Retained bytes per type over a dominator tree, each byte once: an object dominated by another object of its own type
 * adds nothing (its bytes are already in that ancestor's retained size).
 * The walk is a depth-first pass over the dominator tree itself (children lists built from idom, explicit stack).
 * The graph's DFS preorder is not enough: a dominator's DFS subtree can hold nodes it does not dominate, and
 * closing the dominator on such a node made its later same-type descendants count twice.
 */
import { UNREACHABLE, VIRTUAL_ROOT, type DominatorTree } from './dominators';

/** Per type id: objects, their own bytes, and retained bytes without nested same-type double counting. */
export interface RetainedByTypeId {
  readonly count: Float64Array;
  readonly size: Float64Array;
  readonly retained: Float64Array;
}

/** Sums objects, sizes and (deduplicated) retained sizes per type id over the reachable nodes of `tree`. */
export function retainedByTypeId(tree: DominatorTree, retained: ArrayLike<number>, sizes: ArrayLike<number>, typeIds: Int32Array, typeCount: number): RetainedByTypeId {
  const n = typeIds.length;
  const idom = tree.idom;
  // Children in CSR form; the virtual root's children are the nodes whose idom is VIRTUAL_ROOT.
  const start = new Uint32Array(n + 2);
  for (let v = 0; v < n; v++) {
    const d = idom[v]!;
    if (d === UNREACHABLE) continue;
    start[(d === VIRTUAL_ROOT ? n : d) + 1]!++;
  }
  for (let i = 0; i < n + 1; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n + 1);
  const child = new Int32Array(start[n + 1]!);
  // Preorder keeps siblings in a stable order (not needed for sums, but deterministic).
  for (let k = 0; k < tree.preorder.length; k++) {
    const v = tree.preorder[k]!;
    const d = idom[v]!;
    child[fill[d === VIRTUAL_ROOT ? n : d]!++] = v;
  }
  const count = new Float64Array(typeCount);
  const size = new Float64Array(typeCount);
  const kept = new Float64Array(typeCount);
  const active = new Int32Array(typeCount);
  // Stack of (node, next child position); node n is the virtual root.
  const nodeStack = new Int32Array(tree.reachableCount + 2);
  const posStack = new Uint32Array(tree.reachableCount + 2);
  let sp = 0;
  nodeStack[sp] = n;
  posStack[sp++] = start[n]!;
  while (sp > 0) {
    const v = nodeStack[sp - 1]!;
    const p = posStack[sp - 1]!;
    if (p < start[v + 1]!) {
      posStack[sp - 1] = p + 1;
      const w = child[p]!;
      const t = typeIds[w]!;
      count[t]!++;
      size[t]! += sizes[w]!;
      if (active[t] === 0) kept[t]! += retained[w]!;
      active[t]!++;
      nodeStack[sp] = w;
      posStack[sp++] = start[w]!;
    } else {
      sp--;
      if (v !== n) active[typeIds[v]!]!--;
    }
  }
  return { count, size, retained: kept };
}
