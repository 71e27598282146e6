// Retained bytes per type (dominators' "top types") against a brute force over the idom chains: an object counts
// when no proper dominator-tree ancestor has its type. The first case is the shape that made the earlier preorder
// walk count a nested object twice (a node of the dominator's DFS subtree that it does not dominate came between).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toCsr } from '../support/csr-graph';
import { computeDominators, computeRetainedSizes } from '../../src/analysis/dominators';
import { retainedByTypeId } from '../../src/analysis/retained-by-type';

function bruteForce(n: number, adj: number[][], roots: number[], sizes: number[], types: number[], typeCount: number): number[] {
  const tree = computeDominators(toCsr(n, adj), roots);
  const retained = computeRetainedSizes(tree, sizes);
  const kept = new Array<number>(typeCount).fill(0);
  for (let v = 0; v < n; v++) {
    if (tree.idom[v]! === -1) continue;
    let nested = false;
    for (let d = tree.idom[v]!; d >= 0; d = tree.idom[d]!) if (types[d] === types[v]) nested = true;
    if (!nested) kept[types[v]!]! += retained[v]!;
  }
  return kept;
}

function fast(n: number, adj: number[][], roots: number[], sizes: number[], types: number[], typeCount: number): number[] {
  const tree = computeDominators(toCsr(n, adj), roots);
  const retained = computeRetainedSizes(tree, sizes);
  return [...retainedByTypeId(tree, retained, sizes, Int32Array.from(types), typeCount).retained];
}

describe('retained bytes per type', () => {
  it('counts a nested same-type object once even when a node its dominator does not dominate comes between them', () => {
    // r(U) -> a(T), r -> c(U); a -> c, a -> b(T). DFS preorder r, a, c, b; idom(c) = r, idom(b) = a.
    const adj = [[1, 2], [2, 3], [], []];
    const sizes = [10, 20, 40, 80];
    const types = [0, 1, 0, 1];
    const got = fast(4, adj, [0], sizes, types, 2);
    assert.deepEqual(got, [150, 100]);
    assert.deepEqual(got, bruteForce(4, adj, [0], sizes, types, 2));
  });

  it('agrees with the brute force on random graphs', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let round = 0; round < 300; round++) {
      const n = 2 + Math.floor(rand() * 30);
      const adj: number[][] = Array.from({ length: n }, () => []);
      const edges = Math.floor(rand() * n * 2);
      for (let e = 0; e < edges; e++) adj[Math.floor(rand() * n)]!.push(Math.floor(rand() * n));
      const roots = [...new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.floor(rand() * n)))];
      const typeCount = 1 + Math.floor(rand() * 3);
      const types = Array.from({ length: n }, () => Math.floor(rand() * typeCount));
      const sizes = Array.from({ length: n }, () => 8 + Math.floor(rand() * 100));
      assert.deepEqual(fast(n, adj, roots, sizes, types, typeCount), bruteForce(n, adj, roots, sizes, types, typeCount), `round ${round}`);
    }
  });
});
