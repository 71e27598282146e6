/**
 * `objsize`: the objects an object transitively keeps alive and their total size, as SOS computes it (breadth-first
 * over references from the object, each object counted once, the object itself included).
 */
import type { ObjectGraph } from '../heap/object-graph';

/** The object indexes reachable from `root` (itself first), in breadth-first order. */
export function transitiveClosure(graph: ObjectGraph, root: number): Uint32Array {
  const seen = new Uint8Array(graph.count);
  const queue = new Uint32Array(graph.count);
  let head = 0;
  let tail = 0;
  seen[root] = 1;
  queue[tail++] = root;
  while (head < tail) {
    const i = queue[head++]!;
    for (let e = graph.edgeStart[i]!; e < graph.edgeStart[i + 1]!; e++) {
      const t = graph.edgeTarget[e]!;
      if (seen[t]) continue;
      seen[t] = 1;
      queue[tail++] = t;
    }
  }
  return queue.slice(0, tail);
}
