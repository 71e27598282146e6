import type { CsrGraph } from '../../src/analysis/dominators';

/** A CSR graph from adjacency lists, for the unit tests that check graph algorithms against brute force. */
export function toCsr(n: number, adj: number[][]): CsrGraph {
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + adj[i]!.length;
  const edges = new Uint32Array(offsets[n]!);
  let k = 0;
  for (let i = 0; i < n; i++) for (const w of adj[i]!) edges[k++] = w;
  return { nodeCount: n, offsets, edges };
}
