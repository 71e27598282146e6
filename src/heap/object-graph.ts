/**
 * The heap as a graph in typed arrays: one heap walk gives the objects (sorted addresses, found by binary search)
 * and their references in CSR form (per object a run of target indexes and the slot offsets that hold them);
 * dependent-handle edges (primary → secondary) are merged in; reverse edges are built on first use.
 */
import type { MemoryReader } from '../dump/memory-reader';
import type { GcHeap } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';
import { GcDescReader, type GcDesc } from './gc-desc';
import { forEachObject, type WalkProblem } from './heap-walker';

/** `edgeOffset` of an edge that comes from a dependent handle rather than a field. */
export const DEPENDENT_EDGE = 0xffffffff;
/** Returned by lookups that find no object. */
export const NO_OBJECT = -1;

/** Incoming edges, built once from the forward CSR. */
export interface ReverseEdges {
  /** `start[i]..start[i+1]` index `source`/`edge` for object i. */
  readonly start: Uint32Array;
  /** The referencing object. */
  readonly source: Uint32Array;
  /** The forward edge index (for its slot offset). */
  readonly edge: Uint32Array;
}

/** What the graph knows about references it could not follow. */
export interface GraphProblems {
  readonly walk: readonly WalkProblem[];
  /** References whose value is not the start of a walked object (dangling, interior, or outside the GC heap). */
  readonly unresolvedReferences: number;
  /** Objects of collectible types: their LoaderAllocator reference is not followed (the .NET 10 descriptor lacks
   * `LoaderAllocator`'s object handle). */
  readonly collectibleObjects: number;
  /** Objects whose references could not be read (address and reason), capped. */
  readonly unreadable: readonly { address: number; reason: string }[];
}

/** One dependent handle's edge, by address. */
export interface DependentEdge {
  readonly primary: number;
  readonly secondary: number;
}

/** The object graph of one heap. */
export class ObjectGraph {
  private reverseValue?: ReverseEdges;

  constructor(
    /** Object addresses, ascending. */
    readonly addresses: Float64Array,
    readonly mts: Float64Array,
    /** Sizes as SOS reports them. */
    readonly sizes: Float64Array,
    /** `edgeStart[i]..edgeStart[i+1]` are object i's outgoing edges. */
    readonly edgeStart: Uint32Array,
    readonly edgeTarget: Uint32Array,
    /** Offset of the slot holding the reference, or DEPENDENT_EDGE. */
    readonly edgeOffset: Uint32Array,
    readonly problems: GraphProblems,
  ) {}

  get count(): number {
    return this.addresses.length;
  }

  get edgeCount(): number {
    return this.edgeTarget.length;
  }

  /** The index of the object starting at `address`, or NO_OBJECT. */
  indexOf(address: number): number {
    const i = this.floor(address);
    return i >= 0 && this.addresses[i] === address ? i : NO_OBJECT;
  }

  /** The index of the object whose bytes [start, start+size) contain `address`, or NO_OBJECT. */
  containing(address: number): number {
    const i = this.floor(address);
    return i >= 0 && address < this.addresses[i]! + this.sizes[i]! ? i : NO_OBJECT;
  }

  /** Incoming edges; built on first use (O(objects + edges)). */
  reverse(): ReverseEdges {
    if (this.reverseValue) return this.reverseValue;
    const n = this.count;
    const start = new Uint32Array(n + 1);
    const targets = this.edgeTarget;
    for (let e = 0; e < targets.length; e++) start[targets[e]! + 1]!++;
    for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, n);
    const source = new Uint32Array(targets.length);
    const edge = new Uint32Array(targets.length);
    for (let i = 0; i < n; i++) {
      for (let e = this.edgeStart[i]!; e < this.edgeStart[i + 1]!; e++) {
        const t = targets[e]!;
        const at = fill[t]!++;
        source[at] = i;
        edge[at] = e;
      }
    }
    this.reverseValue = { start, source, edge };
    return this.reverseValue;
  }

  /** Largest index whose address is ≤ `address`, or -1. */
  private floor(address: number): number {
    const a = this.addresses;
    let lo = 0;
    let hi = a.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! <= address) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Walks the heap once and builds the graph; `dependents` adds primary → secondary edges.
   * Problems (unreadable objects, dangling references) are recorded in `problems`, never guessed around. */
  static build(heap: GcHeap, mts: MethodTableReader, memory: MemoryReader, dependents: readonly DependentEdge[] = []): ObjectGraph {
    const addresses = new GrowableF64();
    const mtList = new GrowableF64();
    const sizes = new GrowableF64();
    const edgeStart = new GrowableU32();
    const rawTargets = new GrowableF64();
    const rawOffsets = new GrowableU32();
    const descs = new GcDescReader(memory);
    const byMt = new Map<number, GcDesc | null>();
    const unreadable: { address: number; reason: string }[] = [];
    let collectible = 0;
    const visitRef = (off: number, target: number) => {
      rawOffsets.push(off);
      rawTargets.push(target);
    };
    const walk = forEachObject(heap, mts, memory, (address, mt, size) => {
      addresses.push(address);
      mtList.push(mt);
      sizes.push(size);
      edgeStart.push(rawTargets.length);
      let desc = byMt.get(mt);
      if (desc === undefined) {
        const info = mts.read(mt);
        if (info.isCollectible) collectible++;
        try {
          desc = info.containsGCPointers ? descs.read(info) : null;
        } catch (e) {
          if (unreadable.length < 100) unreadable.push({ address, reason: (e as Error).message });
          desc = null;
        }
        byMt.set(mt, desc);
      }
      if (desc === null) return;
      const mark = rawTargets.length;
      try {
        descs.forEachReference(address, size, desc, visitRef);
      } catch (e) {
        rawTargets.truncate(mark);
        rawOffsets.truncate(mark);
        if (unreadable.length < 100) unreadable.push({ address, reason: (e as Error).message });
      }
    });
    edgeStart.push(rawTargets.length);

    const addr = addresses.done();
    const graph0 = new ObjectGraph(addr, mtList.done(), sizes.done(), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), {
      walk,
      unresolvedReferences: 0,
      collectibleObjects: collectible,
      unreadable,
    });
    // Resolve raw reference values to object indexes, dropping the ones that are not object starts.
    const starts = edgeStart.done();
    const raw = rawTargets.done();
    const rawOff = rawOffsets.done();
    const n = addr.length;
    const extra = new Map<number, number[]>();
    for (const d of dependents) {
      const p = graph0.indexOf(d.primary);
      const s = graph0.indexOf(d.secondary);
      if (p === NO_OBJECT || s === NO_OBJECT) continue;
      let list = extra.get(p);
      if (!list) extra.set(p, (list = []));
      list.push(s);
    }
    const outStart = new Uint32Array(n + 1);
    const outTarget = new GrowableU32(raw.length + dependents.length);
    const outOffset = new GrowableU32(raw.length + dependents.length);
    let unresolved = 0;
    for (let i = 0; i < n; i++) {
      outStart[i] = outTarget.length;
      for (let e = starts[i]!; e < starts[i + 1]!; e++) {
        const t = graph0.indexOf(raw[e]!);
        if (t === NO_OBJECT) {
          unresolved++;
          continue;
        }
        outTarget.push(t);
        outOffset.push(rawOff[e]!);
      }
      const deps = extra.get(i);
      if (deps) {
        for (const s of deps) {
          outTarget.push(s);
          outOffset.push(DEPENDENT_EDGE);
        }
      }
    }
    outStart[n] = outTarget.length;
    return new ObjectGraph(addr, graph0.mts, graph0.sizes, outStart, outTarget.done(), outOffset.done(), {
      walk,
      unresolvedReferences: unresolved,
      collectibleObjects: collectible,
      unreadable,
    });
  }

  /** A graph from explicit adjacency (tests and synthetic inputs): `edges[i]` lists object i's targets. */
  static fromAdjacency(addresses: readonly number[], sizes: readonly number[], edges: readonly (readonly number[])[]): ObjectGraph {
    const n = addresses.length;
    const start = new Uint32Array(n + 1);
    const target: number[] = [];
    const offset: number[] = [];
    for (let i = 0; i < n; i++) {
      start[i] = target.length;
      (edges[i] ?? []).forEach((t, k) => {
        target.push(t);
        offset.push(8 + k * 8);
      });
    }
    start[n] = target.length;
    return new ObjectGraph(
      Float64Array.from(addresses),
      new Float64Array(n),
      Float64Array.from(sizes),
      start,
      Uint32Array.from(target),
      Uint32Array.from(offset),
      { walk: [], unresolvedReferences: 0, collectibleObjects: 0, unreadable: [] },
    );
  }
}

/** A Float64Array that doubles when full. */
class GrowableF64 {
  private data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  truncate(length: number): void {
    this.length = length;
  }
  done(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

/** A Uint32Array that doubles when full. */
class GrowableU32 {
  private data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  truncate(length: number): void {
    this.length = length;
  }
  done(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}
