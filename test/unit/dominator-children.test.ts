// The dominator tree turned around (children in preorder, subtree sizes), which the per-dump index stores for
// `retained <addr>`, against brute force on random graphs: a node's children are the nodes whose immediate dominator
// it is, in DFS preorder; its subtree is every node whose dominator chain passes through it, itself included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toCsr } from '../support/csr-graph';
import { dominatorChildren } from '../../src/analysis/dominator-children';
import { computeDominators } from '../../src/analysis/dominators';

/** A small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('dominator children', () => {
  it('match brute force on 300 random graphs', () => {
    const random = rng(777);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(random() * 40);
      const density = random() * 3;
      const adj: number[][] = Array.from({ length: n }, () => []);
      for (let v = 0; v < n; v++) {
        const out = Math.floor(random() * density * 2);
        for (let k = 0; k < out; k++) adj[v]!.push(Math.floor(random() * n));
      }
      const roots = Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.floor(random() * n))));
      const tree = computeDominators(toCsr(n, adj), roots);
      const c = dominatorChildren(tree, n);
      const order = [...tree.preorder];
      for (let d = 0; d < n; d++) {
        const expectedChildren = order.filter((v) => tree.idom[v] === d);
        assert.deepEqual([...c.children.subarray(c.childStart[d]!, c.childStart[d + 1]!)], expectedChildren, `graph ${t} node ${d} children`);
        let inside = 0;
        for (const v of order) {
          for (let x = v, steps = 0; x >= 0 && steps <= n; x = tree.idom[x]!, steps++) {
            if (x === d) {
              inside++;
              break;
            }
          }
        }
        assert.equal(c.subtree[d], inside, `graph ${t} node ${d} subtree`);
      }
      assert.equal(c.childStart[n], c.children.length);
    }
  });
});
