/**
 * `objsize`: the objects an object transitively keeps alive and their total size, as SOS computes it (breadth-first
 * over references from the object, each object counted once, the object itself included).
 */
import { DEPENDENT_EDGE, type ObjectGraph } from '../heap/object-graph';
import type { GcDesc } from '../heap/gc-desc';

/** The GCDesc of object i's type (null: none or unreadable): lets the walk visit children in SOS's order. */
export type DescOf = (i: number) => GcDesc | null;

/** The object indexes reachable from `root` (itself first), in breadth-first order. With `descOf`, each object's
 * children are visited in the order ClrMD enumerates them (SOS's objsize lists in that order): GCDesc series from
 * the last stored (highest offset) to the first, slots ascending within a series, dependent-handle targets last.
 * The graph keeps its edges in ascending offset order, which differs for types with several series. */
export function transitiveClosure(graph: ObjectGraph, root: number, descOf?: DescOf): Uint32Array {
  const seen = new Uint8Array(graph.count);
  const queue = new Uint32Array(graph.count);
  let head = 0;
  let tail = 0;
  seen[root] = 1;
  queue[tail++] = root;
  while (head < tail) {
    const i = queue[head++]!;
    const first = graph.edgeStart[i]!;
    const end = graph.edgeStart[i + 1]!;
    const order = descOf && end - first > 1 ? clrmdOrder(graph, i, descOf(i)) : undefined;
    for (let k = 0; k < end - first; k++) {
      const t = graph.edgeTarget[first + (order ? order[k]! : k)]!;
      if (seen[t]) continue;
      seen[t] = 1;
      queue[tail++] = t;
    }
  }
  return queue.slice(0, tail);
}

/** Object i's edge positions in ClrMD's order, or undefined when that is the stored order (one series or none). */
function clrmdOrder(graph: ObjectGraph, i: number, desc: GcDesc | null): number[] | undefined {
  if (desc === null || desc.kind !== 'normal' || desc.series.length <= 2) return undefined;
  const s = desc.series;
  const size = graph.sizes[i]!;
  const offsets = graph.edgeOffsetsOf(i);
  const key = (off: number): number => {
    if (off === DEPENDENT_EDGE) return -1;
    for (let j = 0; j < s.length; j += 2) if (off >= s[j]! && off < s[j]! + s[j + 1]! + size) return j / 2;
    return -1;
  };
  const keys = Array.from(offsets, key);
  // Array.prototype.sort is stable: within a series the stored (ascending) order stays.
  return keys.map((_, k) => k).sort((a, b) => keys[b]! - keys[a]!);
}
