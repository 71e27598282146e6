/**
 * Shortest reference paths in the object graph: towards one target over the reverse index (one backward
 * breadth-first search answers "how does each object reach the target" for every root at once), and from one
 * source to one target (`pathto`). Iterative; memory is a few typed arrays of the graph's size.
 */
import type { ObjectGraph } from '../heap/object-graph';

/** For each object, the next object on a shortest path to the target (-1: the target is not reachable from it;
 * the target's own entry is itself), and the forward edge taken (for the field name). */
export interface PathsToTarget {
  readonly target: number;
  readonly next: Int32Array;
  readonly edge: Int32Array;
}

/** Backward BFS from object index `target` over the reverse edges. */
export function shortestPathsTo(graph: ObjectGraph, target: number): PathsToTarget {
  const n = graph.count;
  const next = new Int32Array(n).fill(-1);
  const edge = new Int32Array(n).fill(-1);
  const rev = graph.reverse();
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  next[target] = target;
  queue[tail++] = target;
  while (head < tail) {
    const i = queue[head++]!;
    for (let k = rev.start[i]!; k < rev.start[i + 1]!; k++) {
      const s = rev.source[k]!;
      if (next[s] !== -1) continue;
      next[s] = i;
      edge[s] = rev.edge[k]!;
      queue[tail++] = s;
    }
  }
  return { target, next, edge };
}

/** The chain of object indexes from `from` to the target with the forward edge into each next link
 * (edge of the first element is -1), or undefined when the target is not reachable from `from`. */
export function chainFrom(paths: PathsToTarget, from: number): { nodes: number[]; edges: number[] } | undefined {
  if (paths.next[from] === -1) return undefined;
  const nodes = [from];
  const edges = [-1];
  let cur = from;
  while (cur !== paths.target) {
    edges.push(paths.edge[cur]!);
    cur = paths.next[cur]!;
    nodes.push(cur);
  }
  return { nodes, edges };
}

/** Forward BFS from `source` to `target`: the shortest chain (object indexes and edges as in `chainFrom`). */
export function shortestPath(graph: ObjectGraph, source: number, target: number): { nodes: number[]; edges: number[] } | undefined {
  const n = graph.count;
  const prev = new Int32Array(n).fill(-1);
  const via = new Int32Array(n).fill(-1);
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  prev[source] = source;
  queue[tail++] = source;
  while (head < tail && prev[target] === -1) {
    const i = queue[head++]!;
    for (let e = graph.edgeStart[i]!; e < graph.edgeStart[i + 1]!; e++) {
      const t = graph.edgeTarget[e]!;
      if (prev[t] !== -1) continue;
      prev[t] = i;
      via[t] = e;
      queue[tail++] = t;
    }
  }
  if (prev[target] === -1) return undefined;
  const nodes: number[] = [];
  const edges: number[] = [];
  for (let cur = target; ; cur = prev[cur]!) {
    nodes.push(cur);
    edges.push(cur === source ? -1 : via[cur]!);
    if (cur === source) break;
  }
  return { nodes: nodes.reverse(), edges: edges.reverse() };
}

/** Every simple path from `from` to the target, shortest-first within the reachable subgraph, at most `limit`.
 * Depth-first with an explicit stack; only edges into objects that reach the target are followed. */
export function allChainsFrom(graph: ObjectGraph, paths: PathsToTarget, from: number, limit: number): { nodes: number[]; edges: number[] }[] {
  const out: { nodes: number[]; edges: number[] }[] = [];
  if (paths.next[from] === -1 || limit <= 0) return out;
  const onPath = new Set<number>([from]);
  const nodes = [from];
  const edges = [-1];
  const cursor = [graph.edgeStart[from]!];
  while (nodes.length > 0 && out.length < limit) {
    const top = nodes.length - 1;
    const node = nodes[top]!;
    if (node === paths.target) {
      out.push({ nodes: [...nodes], edges: [...edges] });
      onPath.delete(node);
      nodes.pop();
      edges.pop();
      cursor.pop();
      continue;
    }
    const e = cursor[top]!;
    if (e >= graph.edgeStart[node + 1]!) {
      onPath.delete(node);
      nodes.pop();
      edges.pop();
      cursor.pop();
      continue;
    }
    cursor[top] = e + 1;
    const t = graph.edgeTarget[e]!;
    if (paths.next[t] === -1 || onPath.has(t)) continue;
    onPath.add(t);
    nodes.push(t);
    edges.push(e);
    cursor.push(graph.edgeStart[t]!);
  }
  return out;
}
