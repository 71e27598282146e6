/**
 * The dominator tree turned around for one-object answers: each object's children (the objects it dominates
 * directly) in CSR form, in DFS preorder as `retained` lists them, and the size of each subtree (how many objects it
 * retains). The per-dump index stores them so `retained <addr>` reads one object's entries instead of walking the
 * whole tree. Iterative, three passes over the preorder.
 */
import type { DominatorTree } from './dominators';

/** Children CSR and subtree sizes of a dominator tree over `count` objects. */
export interface DominatorChildren {
  /** Objects in each node's subtree, itself included (0 for unreachable objects). */
  readonly subtree: Uint32Array;
  /** `childStart[i]..childStart[i+1]` index `children`. */
  readonly childStart: Uint32Array;
  /** The objects each node dominates directly, in DFS preorder. */
  readonly children: Uint32Array;
}

/** Builds the children CSR and subtree sizes of `tree` (a dominator always precedes its children in preorder). */
export function dominatorChildren(tree: DominatorTree, count: number): DominatorChildren {
  const { idom, preorder } = tree;
  const childStart = new Uint32Array(count + 1);
  for (let k = 0; k < preorder.length; k++) {
    const d = idom[preorder[k]!]!;
    if (d >= 0) childStart[d + 1]!++;
  }
  for (let i = 0; i < count; i++) childStart[i + 1]! += childStart[i]!;
  const children = new Uint32Array(childStart[count]!);
  // Fill each run from its start, in preorder; the starts are restored by shifting the ends back afterwards.
  for (let k = 0; k < preorder.length; k++) {
    const v = preorder[k]!;
    const d = idom[v]!;
    if (d >= 0) children[childStart[d]!++] = v;
  }
  childStart.copyWithin(1, 0, count);
  childStart[0] = 0;
  const subtree = new Uint32Array(count);
  for (let k = preorder.length - 1; k >= 0; k--) {
    const v = preorder[k]!;
    subtree[v]!++;
    const d = idom[v]!;
    if (d >= 0) subtree[d]! += subtree[v]!;
  }
  return { subtree, childStart, children };
}
