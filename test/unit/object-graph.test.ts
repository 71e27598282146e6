// Graph algorithms of the roots layer on synthetic graphs: lookups, reverse edges, liveness, shortest paths to a
// target (gcroot), all simple paths, source-to-target paths (pathto) and transitive closure (objsize), each
// checked against a brute-force answer on random graphs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findRootPaths } from '../../src/analysis/gcroot';
import { markLive } from '../../src/analysis/liveness';
import { transitiveClosure } from '../../src/analysis/object-size';
import { allChainsFrom, shortestPath, shortestPathsTo } from '../../src/analysis/path-to';
import { NO_OBJECT, ObjectGraph } from '../../src/heap/object-graph';
import type { GcRoot } from '../../src/heap/roots';

function randomGraph(seed: number, n: number, m: number): { graph: ObjectGraph; adj: number[][] } {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (let e = 0; e < m; e++) adj[Math.floor(rnd() * n)]!.push(Math.floor(rnd() * n));
  const addresses = Array.from({ length: n }, (_, i) => 0x1000 + i * 0x20);
  return { graph: ObjectGraph.fromAdjacency(addresses, addresses.map(() => 24), adj), adj };
}

/** BFS distances from `s` by brute force on the adjacency lists. */
function distances(adj: number[][], s: number): number[] {
  const d = adj.map(() => -1);
  d[s] = 0;
  const q = [s];
  while (q.length) {
    const i = q.shift()!;
    for (const t of adj[i]!) {
      if (d[t] !== -1) continue;
      d[t] = d[i]! + 1;
      q.push(t);
    }
  }
  return d;
}

describe('object graph', () => {
  it('finds objects by start and by interior address', () => {
    const g = ObjectGraph.fromAdjacency([0x100, 0x200, 0x300], [24, 48, 24], []);
    assert.equal(g.indexOf(0x200), 1);
    assert.equal(g.indexOf(0x208), NO_OBJECT);
    assert.equal(g.containing(0x228), 1);
    assert.equal(g.containing(0x230), NO_OBJECT);
    assert.equal(g.containing(0xff), NO_OBJECT);
  });

  it('reverse edges list every incoming edge once', () => {
    const { graph, adj } = randomGraph(7, 50, 200);
    const rev = graph.reverse();
    const expected = adj.map(() => [] as number[]);
    adj.forEach((ts, s) => ts.forEach((t) => expected[t]!.push(s)));
    for (let i = 0; i < 50; i++) {
      const got = [...rev.source.subarray(rev.start[i]!, rev.start[i + 1]!)].sort((a, b) => a - b);
      assert.deepEqual(got, expected[i]!.sort((a, b) => a - b));
    }
  });

  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`random graph ${seed}: liveness, shortest paths, closure and path enumeration agree with brute force`, () => {
      const n = 60;
      const { graph, adj } = randomGraph(seed, n, 90);
      const roots: GcRoot[] = [0, 5, 9].map((i) => ({ kind: 'strong', address: 0x10 * i, object: graph.addresses[i]!, precise: true }));
      const live = markLive(graph, roots);
      const reach = roots.map((r) => distances(adj, graph.indexOf(r.object)));
      for (let i = 0; i < n; i++) assert.equal(live[i] === 1, reach.some((d) => d[i]! >= 0), `live ${i}`);
      for (let target = 0; target < n; target += 7) {
        const paths = shortestPathsTo(graph, target);
        for (let s = 0; s < n; s++) {
          const d = distances(adj, s)[target]!;
          if (d < 0) {
            assert.equal(paths.next[s], -1);
            continue;
          }
          const via = shortestPath(graph, s, target)!;
          assert.equal(via.nodes.length - 1, d, 'pathto is shortest');
          let len = 0;
          for (let cur = s; cur !== target; cur = paths.next[cur]!) {
            assert.ok(adj[cur]!.includes(paths.next[cur]!), 'each step is an edge');
            len++;
          }
          assert.equal(len, d, 'gcroot chain is shortest');
          for (const c of allChainsFrom(graph, paths, s, 20)) {
            assert.equal(c.nodes[c.nodes.length - 1], target);
            assert.equal(new Set(c.nodes).size, c.nodes.length, 'simple path');
            for (let k = 1; k < c.nodes.length; k++) assert.equal(graph.edgeTarget[c.edges[k]!], c.nodes[k]);
          }
        }
        const found = findRootPaths(graph, roots, target);
        assert.deepEqual(
          found.map((p) => p.root.address),
          roots.filter((_, k) => reach[k]![target]! >= 0).map((r) => r.address),
        );
      }
      const closure = transitiveClosure(graph, 0);
      const d0 = distances(adj, 0);
      assert.deepEqual([...closure].sort((a, b) => a - b), d0.map((d, i) => (d >= 0 ? i : -1)).filter((i) => i >= 0));
    });
  }
});
