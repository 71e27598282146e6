/**
 * Shortest reference paths in the object graph: towards one target over the reverse index (one backward
 * breadth-first search answers "how does each object reach the target" for every root at once), and from one
 * source to one target (`pathto`). Iterative. Each graph keeps one scratch per search kind, reused by later calls:
 * a call clears only the entries the previous one visited, so its cost follows what it visits, not the heap size.
 */
import type { ObjectGraph } from '../heap/object-graph';

/** For each object, the next object on a shortest path to the target (-1: the target is not reachable from it;
 * the target's own entry is itself). `next` is the graph's shared scratch: it stays valid until the next
 * `shortestPathsTo` on the same graph. */
export interface PathsToTarget {
  readonly graph: ObjectGraph;
  readonly target: number;
  readonly next: Int32Array;
}

/** A reusable breadth-first search state: a graph-sized link array (-1 = unvisited) and the visit order, which is
 * also the list of entries to clear before the next search. */
class SearchScratch {
  readonly link: Int32Array;
  /** Visit order; grows by doubling, so it is as big as the largest search so far, not the graph. */
  queue = new Uint32Array(1024);
  visited = 0;
  /** The result that currently owns `link` (chains from an older result would read a later search's links). */
  owner: unknown;

  constructor(count: number) {
    this.link = new Int32Array(count).fill(-1);
  }

  /** Clears what the last search visited. */
  reset(): void {
    const link = this.link;
    const queue = this.queue;
    for (let k = 0; k < this.visited; k++) link[queue[k]!] = -1;
    this.visited = 0;
    this.owner = undefined;
  }

  /** Appends `i` to the visit order. */
  push(i: number): void {
    if (this.visited === this.queue.length) {
      const bigger = new Uint32Array(Math.min(this.queue.length * 2, this.link.length));
      bigger.set(this.queue);
      this.queue = bigger;
    }
    this.queue[this.visited++] = i;
  }
}

interface GraphScratch {
  toTarget?: SearchScratch;
  fromSource?: SearchScratch;
}

const scratches = new WeakMap<ObjectGraph, GraphScratch>();

function scratchOf(graph: ObjectGraph, kind: keyof GraphScratch): SearchScratch {
  let s = scratches.get(graph);
  if (!s) scratches.set(graph, (s = {}));
  const found = s[kind];
  if (found) {
    found.reset();
    return found;
  }
  return (s[kind] = new SearchScratch(graph.count));
}

/** The first forward edge from `from` to `to`, or -1. */
export function firstEdgeBetween(graph: ObjectGraph, from: number, to: number): number {
  const start = graph.edgeStart;
  const target = graph.edgeTarget;
  for (let e = start[from]!; e < start[from + 1]!; e++) if (target[e] === to) return e;
  return -1;
}

/** Backward BFS from object index `target` over the reverse edges. Invalidates the previous result on this graph. */
export function shortestPathsTo(graph: ObjectGraph, target: number): PathsToTarget {
  const rev = graph.reverse();
  const start = rev.start;
  const source = rev.source;
  const scratch = scratchOf(graph, 'toTarget');
  const next = scratch.link;
  next[target] = target;
  scratch.push(target);
  for (let head = 0; head < scratch.visited; head++) {
    const i = scratch.queue[head]!;
    for (let k = start[i]!; k < start[i + 1]!; k++) {
      const s = source[k]!;
      if (next[s] !== -1) continue;
      next[s] = i;
      scratch.push(s);
    }
  }
  const paths: PathsToTarget = { graph, target, next };
  scratch.owner = paths;
  return paths;
}

/** Throws when `paths` is no longer the graph's current result (a later `shortestPathsTo` reused its arrays). */
function checkCurrent(paths: PathsToTarget): void {
  if (scratches.get(paths.graph)?.toTarget?.owner !== paths) throw new Error('stale PathsToTarget: a later shortestPathsTo on the same graph replaced it');
}

/** The chain of object indexes from `from` to the target with the forward edge into each next link (edge of the
 * first element is -1; each edge is the first forward edge between the two objects), or undefined when the target is
 * not reachable from `from`.
 * @throws Error when a later `shortestPathsTo` on the same graph replaced `paths`. */
export function chainFrom(paths: PathsToTarget, from: number): { nodes: number[]; edges: number[] } | undefined {
  checkCurrent(paths);
  if (paths.next[from] === -1) return undefined;
  const nodes = [from];
  const edges = [-1];
  let cur = from;
  while (cur !== paths.target) {
    const to = paths.next[cur]!;
    edges.push(firstEdgeBetween(paths.graph, cur, to));
    cur = to;
    nodes.push(cur);
  }
  return { nodes, edges };
}

/** Forward BFS from `source` to `target`: the shortest chain (object indexes and edges as in `chainFrom`). */
export function shortestPath(graph: ObjectGraph, source: number, target: number): { nodes: number[]; edges: number[] } | undefined {
  const start = graph.edgeStart;
  const targets = graph.edgeTarget;
  const scratch = scratchOf(graph, 'fromSource');
  const prev = scratch.link;
  prev[source] = source;
  scratch.push(source);
  for (let head = 0; head < scratch.visited && prev[target] === -1; head++) {
    const i = scratch.queue[head]!;
    for (let e = start[i]!; e < start[i + 1]!; e++) {
      const t = targets[e]!;
      if (prev[t] !== -1) continue;
      prev[t] = i;
      scratch.push(t);
    }
  }
  if (prev[target] === -1) return undefined;
  const nodes: number[] = [];
  const edges: number[] = [];
  for (let cur = target; ; cur = prev[cur]!) {
    nodes.push(cur);
    edges.push(cur === source ? -1 : firstEdgeBetween(graph, prev[cur]!, cur));
    if (cur === source) break;
  }
  return { nodes: nodes.reverse(), edges: edges.reverse() };
}

/** Every simple path from `from` to the target, shortest-first within the reachable subgraph, at most `limit`.
 * Depth-first with an explicit stack; only edges into objects that reach the target are followed.
 * @throws Error when a later `shortestPathsTo` on the same graph replaced `paths`. */
export function allChainsFrom(graph: ObjectGraph, paths: PathsToTarget, from: number, limit: number): { nodes: number[]; edges: number[] }[] {
  checkCurrent(paths);
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
