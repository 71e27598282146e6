/**
 * Liveness: the objects reachable from a set of roots over the object graph (references and dependent-handle
 * edges), as SOS's LiveObjectService computes it for `dumpheap -live` / `-dead`. Breadth-first, iterative.
 */
import { NO_OBJECT, type ObjectGraph } from '../heap/object-graph';

/** Marks every object reachable from `roots` (objects by address); returns one byte per graph object (1 = live).
 * Root objects that are not heap objects are ignored. */
export function markLive(graph: ObjectGraph, roots: readonly { readonly object: number }[]): Uint8Array {
  const live = new Uint8Array(graph.count);
  const queue = new Uint32Array(graph.count);
  let head = 0;
  let tail = 0;
  for (const r of roots) {
    const i = graph.indexOf(r.object);
    if (i === NO_OBJECT || live[i]) continue;
    live[i] = 1;
    queue[tail++] = i;
  }
  const start = graph.edgeStart;
  const target = graph.edgeTarget;
  while (head < tail) {
    const i = queue[head++]!;
    for (let e = start[i]!; e < start[i + 1]!; e++) {
      const t = target[e]!;
      if (live[t]) continue;
      live[t] = 1;
      queue[tail++] = t;
    }
  }
  return live;
}
