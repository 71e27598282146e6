// The dominator tree and retained sizes against brute force on random graphs: d dominates v exactly when v is
// unreachable from the roots once d is removed; a retained size is what becomes unreachable when the node goes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toCsr } from '../support/csr-graph';
import { computeDominators, computeRetainedSizes, UNREACHABLE, VIRTUAL_ROOT } from '../../src/analysis/dominators';

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

/** Nodes reachable from roots, skipping `removed`. */
function reach(n: number, adj: number[][], roots: number[], removed: number): boolean[] {
  const seen = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  for (const r of roots) if (r !== removed && !seen[r]) { seen[r] = true; stack.push(r); }
  while (stack.length) {
    const v = stack.pop()!;
    for (const w of adj[v]!) if (w !== removed && !seen[w]) { seen[w] = true; stack.push(w); }
  }
  return seen;
}

function bruteForce(n: number, adj: number[][], roots: number[], sizes: number[]): { idom: number[]; retained: number[] } {
  const all = reach(n, adj, roots, -1);
  // dom[d] = nodes d strictly dominates.
  const doms: Set<number>[] = [];
  for (let d = 0; d < n; d++) {
    const without = reach(n, adj, roots, d);
    const s = new Set<number>();
    if (all[d]) for (let v = 0; v < n; v++) if (v !== d && all[v] && !without[v]) s.add(v);
    doms.push(s);
  }
  const idom: number[] = [];
  const retained: number[] = [];
  for (let v = 0; v < n; v++) {
    if (!all[v]) { idom.push(UNREACHABLE); retained.push(0); continue; }
    const strict = [...Array(n).keys()].filter((d) => doms[d]!.has(v));
    // The immediate dominator is the strict dominator dominated by every other strict dominator.
    const imm = strict.find((d) => strict.every((o) => o === d || doms[o]!.has(d)));
    idom.push(imm ?? VIRTUAL_ROOT);
    retained.push(sizes[v]! + [...doms[v]!].reduce((a, x) => a + sizes[x]!, 0));
  }
  return { idom, retained };
}

describe('dominators', () => {
  it('match brute force on 300 random graphs', () => {
    const random = rng(12345);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(random() * 40);
      const density = random() * 3;
      const adj: number[][] = Array.from({ length: n }, () => []);
      for (let v = 0; v < n; v++) {
        const out = Math.floor(random() * density * 2);
        for (let k = 0; k < out; k++) adj[v]!.push(Math.floor(random() * n));
      }
      const roots = Array.from(new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, () => Math.floor(random() * n))));
      const sizes = Array.from({ length: n }, () => 8 + Math.floor(random() * 100));
      const tree = computeDominators(toCsr(n, adj), roots);
      const expected = bruteForce(n, adj, roots, sizes);
      assert.deepEqual([...tree.idom], expected.idom, `graph ${t}: ${JSON.stringify({ adj, roots })}`);
      assert.deepEqual([...computeRetainedSizes(tree, sizes)], expected.retained, `graph ${t} retained sizes`);
    }
  });

  it('handles a long chain without recursion', () => {
    const n = 1_000_000;
    const adj: number[][] = Array.from({ length: n }, (_, i) => (i + 1 < n ? [i + 1] : []));
    const tree = computeDominators(toCsr(n, adj), [0]);
    assert.equal(tree.idom[0], VIRTUAL_ROOT);
    assert.equal(tree.idom[n - 1], n - 2);
    const retained = computeRetainedSizes(tree, new Float64Array(n).fill(1));
    assert.equal(retained[0], n);
  });
});
