/**
 * The heap as a graph in compact typed arrays: one heap walk gives the objects (sorted addresses, a 4-byte type
 * index, 4-byte sizes) and a second, index-ordered pass over their reference slots gives the edges in CSR form
 * (4-byte target indexes, exact arrays, no doubling copies); dependent-handle edges (primary → secondary) are merged
 * in. Slot offsets are not stored: `edgeOffsetOf` recomputes one from the dump (only paths being printed need them).
 * Reverse edges are built in place on first use. Addresses resolve to objects through a page index (O(1) plus a
 * short binary search inside one 4 KiB page).
 */
import type { MemoryReader } from '../dump/memory-reader';
import { LimitExceededError } from '../errors';
import type { GcHeap } from '../runtime/gc/gc-heap';
import type { MethodTableReader } from '../runtime/method-table';
import { GcDescReader, type GcDesc } from './gc-desc';
import { forEachObject, type WalkProblem } from './heap-walker';
import { MethodTableIndex } from './method-table-index';
import { resolveEdgesInParallel, type ParallelEdges } from './parallel-edges';

/** `edgeOffsetOf` of an edge that comes from a dependent handle rather than a field. */
export const DEPENDENT_EDGE = 0xffffffff;
/** Returned by lookups that find no object. */
export const NO_OBJECT = -1;

/** Incoming edges, built once from the forward CSR. */
export interface ReverseEdges {
  /** `start[i]..start[i+1]` index `source`/`edge` for object i. */
  readonly start: Uint32Array;
  /** The referencing object (ascending within one object's run). */
  readonly source: Uint32Array;
  /** The forward edge index (for its slot offset); materialized on first use (4 bytes per edge). */
  readonly edge: Uint32Array;
}

/** Slot offsets by forward edge index, read like an array (`edgeOffset[e]`); each read is `edgeOffsetOf(e)`. */
export interface EdgeOffsets {
  readonly [edge: number]: number;
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
  /** How many objects' references could not be read (all of them, not capped). */
  readonly unreadableCount: number;
}

/** One dependent handle's edge, by address. */
export interface DependentEdge {
  readonly primary: number;
  readonly secondary: number;
}

const POINTER = 8;
const TWO32 = 4294967296;
/** Slot values at or above 2^53 (high word ≥ 2^21) cannot be user-space addresses: not references. */
const MAX_HI = 0x200000;
const MAX_UNREADABLE = 100;
/** Elements per chunk of the first pass's growing arrays (chunks are copied once into exact arrays). */
const CHUNK = 1 << 20;
/** Bytes read at once by the slot reader. */
const SLOT_WINDOW = 8 << 20;

/** The arrays an ObjectGraph is made of, as the per-dump index stores them (see `toStored`/`fromStored`). */
export interface StoredGraph {
  readonly addresses: Float64Array;
  /** Object i's MethodTable is `methodTables[typeIndexes[i]]`. */
  readonly typeIndexes: Uint32Array;
  readonly methodTables: Float64Array;
  readonly sizes: Uint32Array | Float64Array;
  readonly edgeStart: Uint32Array;
  readonly edgeTarget: Uint32Array;
  readonly problems: GraphProblems;
}

/** A graph read object by object: an ObjectGraph, or the per-dump index read page by page (cli/index), which a
 * one-object answer (gcroot, retained) uses without loading the whole graph. What slot offsets and printed chains
 * need. */
export interface GraphAccess {
  readonly count: number;
  addressOf(i: number): number;
  mtOf(i: number): number;
  typeIndexOf(i: number): number;
  sizeOf(i: number): number;
  /** Object i's outgoing edges are `edgeStartOf(i)..edgeStartOf(i + 1)` (i up to `count`). */
  edgeStartOf(i: number): number;
  edgeTargetOf(edge: number): number;
  /** The object whose outgoing edges include `edge`. */
  sourceOf(edge: number): number;
  /** The index of the object starting at `address`, or NO_OBJECT. */
  indexOf(address: number): number;
  /** As ObjectGraph.edgeOffsetOf. */
  edgeOffsetOf(edge: number): number;
  /** How many of the edges [from, to) go to `target` (a faster scan than edgeTargetOf each, where there is one). */
  countEdgesTo?(target: number, from: number, to: number): number;
}

/** Where slot offsets come from: stored (synthetic graphs) or recomputed from the dump. */
interface OffsetSource {
  offsetOf(graph: GraphAccess, edge: number): number;
  /** The offsets of all of object `i`'s edges into `out` (one scan of the object). */
  offsetsOf?(graph: GraphAccess, i: number, out: Float64Array): void;
}

/** Slot offsets recomputed from the dump for a graph read object by object (see `GraphAccess`); `methodTables` are
 * the graph's MethodTables by type index. No address lookup per slot: the build stored resolved slots in slot order,
 * so with `everyObjectRead` (the graph has no unreadable objects) the edge that is the (j+1)-th edge of its source to
 * its target is the (j+1)-th slot holding the target's address (none: a dependent-handle edge), and the scan stops
 * there — one link out of a 20 M-element array costs the dump's bytes up to it, not lookups. Otherwise a slot counts
 * when its value is the address of the object's next stored edge target, read to the object's end. */
export function dumpSlotOffsets(mts: MethodTableReader, memory: MemoryReader, methodTables: Float64Array, everyObjectRead: boolean): (graph: GraphAccess, edge: number) => number {
  const offsets = new DumpOffsets(memory, new TypeTable(mts, memory, methodTables), everyObjectRead ? 'match' : 'targets');
  return (graph, edge) => offsets.offsetOf(graph, edge);
}

/** Edge offsets remembered per graph (a bounded cache: cleared when full). */
const OFFSET_CACHE_LIMIT = 1 << 16;

/** The object graph of one heap. */
export class ObjectGraph implements GraphAccess {
  private reverseValue?: ReverseEdgesImpl;
  private mtsValue?: Float64Array;
  private mtIndexes?: Uint32Array;
  private readonly lookup: AddressLookup;
  /** Slot offsets by edge index (`edgeOffset[e]` is `edgeOffsetOf(e)`); prefer `edgeOffsetOf` in new code. */
  readonly edgeOffset: EdgeOffsets;

  /** Use `build` or `fromAdjacency`. */
  private constructor(
    /** Object addresses, ascending. */
    readonly addresses: Float64Array,
    /** Object i's MethodTable is `methodTables[mtIndexes[i]]`. */
    mtIndexes: Uint32Array,
    /** The distinct MethodTables, by type index. */
    readonly methodTables: Float64Array,
    /** Sizes as SOS reports them (a Float64Array only when some object is 4 GiB or larger). */
    readonly sizes: Uint32Array | Float64Array,
    /** `edgeStart[i]..edgeStart[i+1]` are object i's outgoing edges. */
    readonly edgeStart: Uint32Array,
    readonly edgeTarget: Uint32Array,
    private readonly offsets: OffsetSource,
    readonly problems: GraphProblems,
  ) {
    this.mtIndexes = mtIndexes;
    this.lookup = new AddressLookup(addresses);
    this.edgeOffset = new Proxy<EdgeOffsets>({}, { get: (_, key) => (typeof key === 'string' ? this.edgeOffsetOf(Number(key)) : undefined) });
  }

  get count(): number {
    return this.addresses.length;
  }

  get edgeCount(): number {
    return this.edgeTarget.length;
  }

  addressOf(i: number): number {
    return this.addresses[i]!;
  }

  sizeOf(i: number): number {
    return this.sizes[i]!;
  }

  edgeStartOf(i: number): number {
    return this.edgeStart[i]!;
  }

  edgeTargetOf(edge: number): number {
    return this.edgeTarget[edge]!;
  }

  /** Object i's MethodTable. */
  mtOf(i: number): number {
    return this.mtsValue !== undefined ? this.mtsValue[i]! : this.methodTables[this.mtIndexes![i]!]!;
  }

  /** Object i's index into `methodTables`. */
  typeIndexOf(i: number): number {
    return this.mtIndexes !== undefined ? this.mtIndexes[i]! : this.methodTables.indexOf(this.mtsValue![i]!);
  }

  /** Every object's MethodTable (8 bytes per object, materialized on first use; `mtOf(i)` needs no memory). */
  get mts(): Float64Array {
    if (this.mtsValue === undefined) {
      const index = this.mtIndexes!;
      const table = this.methodTables;
      const out = new Float64Array(index.length);
      for (let i = 0; i < index.length; i++) out[i] = table[index[i]!]!;
      this.mtsValue = out;
      this.mtIndexes = undefined; // one representation at a time
    }
    return this.mtsValue;
  }

  /** The offset in its source object of the slot that holds forward edge `edge`, or DEPENDENT_EDGE.
   * Recomputed from the dump (a few microseconds); out-of-range edges give NaN. */
  edgeOffsetOf(edge: number): number {
    if (!(edge >= 0 && edge < this.edgeTarget.length) || !Number.isInteger(edge)) return NaN;
    // Finding a slot rescans its object (a whole Object[] for an array element), and gcroot sessions ask for the
    // same links again and again (every path through one static array): remember recent answers.
    let offset = this.offsetCache.get(edge);
    if (offset === undefined) {
      offset = this.offsets.offsetOf(this, edge);
      if (this.offsetCache.size >= OFFSET_CACHE_LIMIT) this.offsetCache.clear();
      this.offsetCache.set(edge, offset);
    }
    return offset;
  }

  private readonly offsetCache = new Map<number, number>();

  /** The offsets of every outgoing edge of object `i` (as `edgeOffsetOf`), found in one scan of the object: what a
   * caller that needs many edges of one object (all elements of an array) should use instead of one rescan each. */
  edgeOffsetsOf(i: number): Float64Array {
    const first = this.edgeStart[i]!;
    const out = new Float64Array(this.edgeStart[i + 1]! - first);
    if (this.offsets.offsetsOf) this.offsets.offsetsOf(this, i, out);
    else for (let k = 0; k < out.length; k++) out[k] = this.offsets.offsetOf(this, first + k);
    return out;
  }

  /** The object whose outgoing edges include `edge`. */
  sourceOf(edge: number): number {
    const s = this.edgeStart;
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid]! <= edge) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The index of the object starting at `address`, or NO_OBJECT. */
  indexOf(address: number): number {
    return this.lookup.find(address);
  }

  /** The index of the object whose bytes [start, start+size) contain `address`, or NO_OBJECT. */
  containing(address: number): number {
    const i = this.floor(address);
    return i >= 0 && address < this.addresses[i]! + this.sizes[i]! ? i : NO_OBJECT;
  }

  /** Where `reverse()` first looks for incoming edges computed earlier (the per-dump index); undefined from it
   * means build them. */
  reverseSource?: () => { start: Uint32Array; source: Uint32Array } | undefined;

  /** Incoming edges; built on first use, in place (O(objects + edges), no temporaries). */
  reverse(): ReverseEdges {
    if (this.reverseValue === undefined) {
      const stored = this.reverseSource?.();
      if (stored !== undefined) this.adoptReverse(stored.start, stored.source);
      else this.reverseValue = ReverseEdgesImpl.build(this);
    }
    return this.reverseValue!;
  }

  /** The reverse edges when they have been built or adopted (nothing is built). */
  get reverseIfBuilt(): ReverseEdges | undefined {
    return this.reverseValue;
  }

  /** Takes reverse edges built earlier for this same graph (the per-dump index) instead of building them.
   * @throws LimitExceededError when their lengths do not fit this graph. */
  adoptReverse(start: Uint32Array, source: Uint32Array): void {
    if (start.length !== this.count + 1 || source.length !== this.edgeCount || start[this.count] !== this.edgeCount) {
      throw new LimitExceededError(`stored reverse edges (${start.length - 1} objects, ${source.length} edges) do not fit the graph (${this.count} objects, ${this.edgeCount} edges)`);
    }
    this.reverseValue = ReverseEdgesImpl.adopt(this, start, source);
  }

  /** The graph's arrays for the per-dump index (type indexes recomputed when `mts` replaced them). */
  toStored(): StoredGraph {
    let typeIndexes = this.mtIndexes;
    if (typeIndexes === undefined) {
      const byMt = new Map<number, number>();
      this.methodTables.forEach((mt, k) => byMt.set(mt, k));
      const mts = this.mtsValue!;
      typeIndexes = new Uint32Array(mts.length);
      for (let i = 0; i < mts.length; i++) typeIndexes[i] = byMt.get(mts[i]!)!;
    }
    return { addresses: this.addresses, typeIndexes, methodTables: this.methodTables, sizes: this.sizes, edgeStart: this.edgeStart, edgeTarget: this.edgeTarget, problems: this.problems };
  }

  /** A graph from arrays `toStored` gave for this dump; GCDescs (for slot offsets) are decoded from the dump when
   * first needed. @throws LimitExceededError when the arrays do not fit together. */
  static fromStored(stored: StoredGraph, mts: MethodTableReader, memory: MemoryReader): ObjectGraph {
    const n = stored.addresses.length;
    const e = stored.edgeTarget.length;
    if (stored.typeIndexes.length !== n || stored.sizes.length !== n || stored.edgeStart.length !== n + 1 || stored.edgeStart[n] !== e) {
      throw new LimitExceededError(`stored graph arrays do not fit together (${n} objects, ${stored.typeIndexes.length} types, ${stored.sizes.length} sizes, ${stored.edgeStart.length} offsets, ${e} edges)`);
    }
    const types = new TypeTable(mts, memory, stored.methodTables);
    return new ObjectGraph(stored.addresses, stored.typeIndexes, stored.methodTables, stored.sizes, stored.edgeStart, stored.edgeTarget, new DumpOffsets(memory, types), stored.problems);
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

  /** Walks the heap once, then reads every object's reference slots in address order, and builds the graph;
   * `dependents` adds primary → secondary edges. Problems (unreadable objects, dangling references) are recorded in
   * `problems`, never guessed around.
   * @throws LimitExceededError when the heap has 2^32 or more objects or references. */
  static build(heap: GcHeap, mts: MethodTableReader, memory: MemoryReader, dependents: readonly DependentEdge[] = [], parallel?: ParallelEdges): ObjectGraph {
    const types = new TypeTable(mts, memory);
    const mtIndex = new MethodTableIndex();
    const addressChunks = new ChunkedF64();
    const typeChunks = new ChunkedU32();
    const sizeChunks = new ChunkedU32();
    const bigSizes: number[] = []; // (index, size) pairs of objects of 4 GiB or more
    let count = 0;
    let slotBound = 0;
    // Pass 1: the walk. Objects and an upper bound of their reference count (from the GCDesc, no slot reads).
    const walk = forEachObject(
      heap,
      mts,
      memory,
      (address, _mt, size, _segment, type) => {
        addressChunks.push(address);
        typeChunks.push(type);
        if (size >= TWO32) {
          bigSizes.push(count, size);
          sizeChunks.push(0);
        } else sizeChunks.push(size);
        count++;
        const desc = types.desc(type, mtIndex, address);
        if (desc !== null) slotBound += slotCountBound(desc, size);
      },
      undefined,
      mtIndex,
      parallel !== undefined && parallel.workers > 1 ? { workers: parallel.workers, dumpPath: parallel.dumpPath, openOptions: parallel.openOptions, ...(parallel.minWalkBytes !== undefined ? { minBytes: parallel.minWalkBytes } : {}) } : undefined,
    );
    if (count >= TWO32 - 1) throw new LimitExceededError(`the heap has ${count} objects; the graph indexes at most 2^32 - 2`);
    const addresses = addressChunks.toArray();
    const typeOf = typeChunks.toArray();
    let sizes: Uint32Array | Float64Array = sizeChunks.toArray();
    if (bigSizes.length > 0) {
      sizes = Float64Array.from(sizes);
      for (let k = 0; k < bigSizes.length; k += 2) sizes[bigSizes[k]!] = bigSizes[k + 1]!;
    }
    const lookup = new AddressLookup(addresses);

    // Dependent-handle edges, resolved and sorted by primary.
    const deps: [number, number][] = [];
    for (const d of dependents) {
      const p = lookup.find(d.primary);
      const s = lookup.find(d.secondary);
      if (p !== NO_OBJECT && s !== NO_OBJECT) deps.push([p, s]);
    }
    deps.sort((a, b) => a[0] - b[0]);
    const bound = slotBound + deps.length;
    if (bound >= TWO32) throw new LimitExceededError(`the heap has ${bound} references; the graph indexes fewer than 2^32`);

    // Pass 2: read each object's slots in address order (sequential reads) and resolve them to object indexes;
    // with `parallel`, ranges of objects go to worker threads (parallel-edges.ts), the same answer either way.
    const edgeStart = new Uint32Array(parallel !== undefined && parallel.workers > 1 ? new SharedArrayBuffer(4 * (count + 1)) : new ArrayBuffer(4 * (count + 1)));
    let edgeTarget: Uint32Array;
    let cursor: number;
    let unresolved: number;
    const input = { memory, lookup, addresses, typeOf, sizes, descOf: (t: number) => types.descOf(t), deps };
    const shared = parallel !== undefined && parallel.workers > 1 && count >= (parallel.minObjects ?? 0) ? resolveEdgesInParallel(parallel, input, edgeStart, bound) : undefined;
    if (shared !== undefined) {
      ({ edgeTarget, cursor, unresolved } = shared);
      for (const u of shared.unreadable) types.unreadable(u.address, `memory at 0x${u.failedAt.toString(16)} is not in the dump`);
    } else {
      edgeTarget = new Uint32Array(bound);
      const r = resolveEdgeRange(input, 0, count, edgeStart, edgeTarget, 0);
      ({ cursor, unresolved } = r);
      for (const u of r.unreadable) types.unreadable(u.address, `memory at 0x${u.failedAt.toString(16)} is not in the dump`);
    }
    edgeStart[count] = cursor;
    // Null slots make the bound loose; copy when the slack is worth more than the copy's transient.
    edgeTarget = cursor * 8 < edgeTarget.length * 7 ? edgeTarget.slice(0, cursor) : edgeTarget.subarray(0, cursor);

    const problems: GraphProblems = { walk, unresolvedReferences: unresolved, collectibleObjects: types.collectible, unreadable: types.unreadableList, unreadableCount: types.unreadableCount };
    return new ObjectGraph(addresses, typeOf, mtIndex.addresses.slice(0, mtIndex.count), sizes, edgeStart, edgeTarget, new DumpOffsets(memory, types), problems);
  }

  /** A graph from explicit adjacency (tests and synthetic inputs): `edges[i]` lists object i's targets; slot
   * offsets are 8, 16, ... in list order; every MethodTable is 0. */
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
    const stored = Uint32Array.from(offset);
    return new ObjectGraph(
      Float64Array.from(addresses),
      new Uint32Array(n),
      new Float64Array(1),
      Float64Array.from(sizes),
      start,
      Uint32Array.from(target),
      { offsetOf: (_, e) => stored[e]! },
      { walk: [], unresolvedReferences: 0, collectibleObjects: 0, unreadable: [], unreadableCount: 0 },
    );
  }
}

/** Reverse CSR built in place: counts, prefix sums, then a backward fill that leaves each run ascending. */
class ReverseEdgesImpl implements ReverseEdges {
  private edgeValue?: Uint32Array;

  private constructor(
    private readonly graph: ObjectGraph,
    readonly start: Uint32Array,
    readonly source: Uint32Array,
  ) {}

  static build(graph: ObjectGraph): ReverseEdgesImpl {
    const n = graph.count;
    const targets = graph.edgeTarget;
    const forward = graph.edgeStart;
    const start = new Uint32Array(n + 1);
    for (let e = 0; e < targets.length; e++) start[targets[e]! + 1]!++;
    for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
    // start[t + 1] is now the end of t's run; filling backwards moves it down to the run's beginning.
    const source = new Uint32Array(targets.length);
    for (let i = n - 1; i >= 0; i--) {
      for (let e = forward[i + 1]! - 1; e >= forward[i]!; e--) source[--start[targets[e]! + 1]!] = i;
    }
    start.copyWithin(0, 1);
    start[n] = targets.length;
    return new ReverseEdgesImpl(graph, start, source);
  }

  /** Reverse edges computed earlier for the same graph. */
  static adopt(graph: ObjectGraph, start: Uint32Array, source: Uint32Array): ReverseEdgesImpl {
    return new ReverseEdgesImpl(graph, start, source);
  }

  get edge(): Uint32Array {
    if (this.edgeValue === undefined) {
      const g = this.graph;
      const targets = g.edgeTarget;
      const forward = g.edgeStart;
      const fill = this.start.slice(0, g.count);
      const edge = new Uint32Array(targets.length);
      for (let i = 0; i < g.count; i++) {
        for (let e = forward[i]!; e < forward[i + 1]!; e++) edge[fill[targets[e]!]!++] = e;
      }
      this.edgeValue = edge;
    }
    return this.edgeValue;
  }
}

/** Per-type facts of the build: GCDesc (null: no references), collectible types, unreadable objects. */
class TypeTable {
  private readonly descs: (GcDesc | null | undefined)[] = [];
  private readonly reader: GcDescReader;
  collectible = 0;
  readonly unreadableList: { address: number; reason: string }[] = [];
  /** Every object whose references were not read (the list above keeps only the first MAX_UNREADABLE). */
  unreadableCount = 0;
  /** Types whose GCDesc could not be decoded: each of their objects is unreadable too. */
  private readonly failed = new Set<number>();

  constructor(
    private readonly mts: MethodTableReader,
    memory: MemoryReader,
    /** MethodTables by type index, for a table whose types were not met in a walk (a stored graph). */
    private readonly typeAddresses?: Float64Array,
  ) {
    this.reader = new GcDescReader(memory);
  }

  /** The GCDesc of the walk's type `type`, decoded the first time (`address`: the first object, for problems). */
  desc(type: number, index: MethodTableIndex | Float64Array, address: number): GcDesc | null {
    let d = this.descs[type];
    if (d === null && this.failed.has(type)) this.unreadable(address, '');
    if (d === undefined) {
      const info = this.mts.read((index instanceof Float64Array ? index : index.addresses)[type]!);
      if (info.isCollectible) this.collectible++;
      try {
        d = info.containsGCPointers ? this.reader.read(info) : null;
        if (d !== null && d.kind === 'none') d = null;
      } catch (e) {
        this.unreadable(address, (e as Error).message);
        this.failed.add(type);
        d = null;
      }
      this.descs[type] = d;
    }
    return d;
  }

  /** The GCDesc of a type already met in the walk (of a stored graph: decoded on first use). */
  descOf(type: number): GcDesc | null {
    const d = this.descs[type];
    if (d === undefined && this.typeAddresses !== undefined && type < this.typeAddresses.length) return this.desc(type, this.typeAddresses, 0);
    return d ?? null;
  }

  unreadable(address: number, reason: string): void {
    this.unreadableCount++;
    if (this.unreadableList.length < MAX_UNREADABLE && reason !== '') this.unreadableList.push({ address, reason });
  }
}

/** Receives the slot offsets of one object (see `forEachSlot`); returns false to stop (the object is unreadable). */
interface SlotVisitor {
  slot(offset: number): boolean;
}

/** Calls `visit.slot` for each reference slot of an object of `size` bytes (SOS's size) described by `desc`, in the
 * order of gc-desc.ts's `forEachReference` (gcdesc.h's series). Returns false when the visitor stopped. */
function forEachSlot(desc: GcDesc, size: number, visit: SlotVisitor): boolean {
  if (desc.kind === 'normal') {
    const s = desc.series;
    for (let i = 0; i < s.length; i += 2) {
      const start = s[i]!;
      const end = start + s[i + 1]! + size;
      for (let off = start; off < end; off += POINTER) if (!visit.slot(off)) return false;
    }
  } else if (desc.kind === 'valueArray') {
    const items = desc.valSeries;
    if (items.length === 0) return true;
    // The element area ends one pointer before the object's end (the next object's header).
    const end = size - POINTER;
    let off = desc.valStart;
    while (off < end) {
      for (let i = 0; i < items.length && off < end; i += 2) {
        const stop = off + items[i]! * POINTER;
        for (; off < stop; off += POINTER) if (!visit.slot(off)) return false;
        off += items[i + 1]!;
      }
    }
  }
  return true;
}

/** An upper bound of the reference count of an object (its slots, null or not), from the GCDesc alone. */
function slotCountBound(desc: GcDesc, size: number): number {
  let n = 0;
  if (desc.kind === 'normal') {
    const s = desc.series;
    for (let i = 0; i < s.length; i += 2) {
      const span = s[i + 1]! + size;
      if (span > 0) n += Math.ceil(span / POINTER);
    }
  } else if (desc.kind === 'valueArray') {
    const items = desc.valSeries;
    let perElement = 0;
    let stride = 0;
    for (let i = 0; i < items.length; i += 2) {
      perElement += items[i]!;
      stride += items[i]! * POINTER + items[i + 1]!;
    }
    const area = size - POINTER - desc.valStart;
    if (stride > 0 && area > 0) n = Math.ceil(area / stride) * perElement;
  }
  return n;
}

/** Reads 8-byte slots through one reused window, refilled with big reads (slots are read in address order). */
class SlotReader {
  private readonly bytes: Uint8Array;
  private readonly u32: Uint32Array;
  private start = 0;
  private end = 0;
  /** The value's halves after a successful `read`. */
  lo = 0;
  hi = 0;

  constructor(
    private readonly memory: MemoryReader,
    size: number,
  ) {
    this.bytes = new Uint8Array(size);
    this.u32 = new Uint32Array(this.bytes.buffer);
  }

  /** Reads the 8-byte slot at `address` (8-aligned) into lo/hi; false when it is not in the dump. */
  read(address: number): boolean {
    if (address < this.start || address + POINTER > this.end) {
      let n = 0;
      try {
        if (this.memory.readUpToInto) n = this.memory.readUpToInto(address, this.bytes, 0, this.bytes.length);
        else {
          const got = this.memory.readUpTo(address, this.bytes.length);
          this.bytes.set(got);
          n = got.length;
        }
      } catch {
        n = 0;
      }
      this.start = address;
      this.end = address + n - (n % POINTER);
      if (this.end - this.start < POINTER) {
        this.end = 0;
        return false;
      }
    }
    const word = (address - this.start) / 4;
    this.lo = this.u32[word]!;
    this.hi = this.u32[word + 1]!;
    return true;
  }
}

/** The build's slot visitor: reads a slot, resolves its value to an object index and appends the edge. */
class SlotResolver implements SlotVisitor {
  private address = 0;
  private out: Uint32Array = new Uint32Array(0);
  cursor = 0;
  unresolved = 0;
  failedAt = 0;

  constructor(
    private readonly lookup: AddressLookup,
    private readonly reader: SlotReader,
  ) {}

  begin(address: number, out: Uint32Array, cursor: number): void {
    this.address = address;
    this.out = out;
    this.cursor = cursor;
    this.unresolved = 0;
  }

  slot(offset: number): boolean {
    const r = this.reader;
    const a = this.address + offset;
    if (!r.read(a)) {
      this.failedAt = a;
      return false;
    }
    const hi = r.hi;
    if ((r.lo === 0 && hi === 0) || hi >= MAX_HI) return true;
    const t = this.lookup.find(hi * TWO32 + r.lo);
    if (t === NO_OBJECT) this.unresolved++;
    else this.out[this.cursor++] = t;
    return true;
  }
}

/** What pass 2 of the build reads: the object table, the GCDesc of each type, dependent edges sorted by primary. */
export interface EdgeRangeInput {
  readonly memory: MemoryReader;
  readonly lookup: AddressLookup;
  readonly addresses: Float64Array;
  readonly typeOf: Uint32Array;
  readonly sizes: Uint32Array | Float64Array;
  readonly descOf: (type: number) => GcDesc | null;
  /** [primary, secondary] object indexes, sorted by primary. */
  readonly deps: readonly (readonly [number, number])[];
}

/** What one range of pass 2 produced. */
export interface EdgeRangeResult {
  /** One past the last edge written. */
  readonly cursor: number;
  readonly unresolved: number;
  /** Objects whose slots could not all be read (at most 100), in object order. */
  readonly unreadable: { address: number; failedAt: number }[];
}

/** Pass 2 for objects [from, to): writes `edgeStart[i]` and the edges from `edgeTarget[cursor]` on (the object's
 * resolved slots in slot order, then its dependent-handle edges). */
export function resolveEdgeRange(input: EdgeRangeInput, from: number, to: number, edgeStart: Uint32Array, edgeTarget: Uint32Array, cursor: number): EdgeRangeResult {
  const { addresses, typeOf, sizes, deps } = input;
  const resolver = new SlotResolver(input.lookup, new SlotReader(input.memory, SLOT_WINDOW));
  const unreadable: { address: number; failedAt: number }[] = [];
  let unresolved = 0;
  let nextDep = 0;
  while (nextDep < deps.length && deps[nextDep]![0] < from) nextDep++;
  for (let i = from; i < to; i++) {
    edgeStart[i] = cursor;
    const desc = input.descOf(typeOf[i]!);
    if (desc !== null) {
      resolver.begin(addresses[i]!, edgeTarget, cursor);
      if (forEachSlot(desc, sizes[i]!, resolver)) {
        cursor = resolver.cursor;
        unresolved += resolver.unresolved;
      } else if (unreadable.length < MAX_UNREADABLE) unreadable.push({ address: addresses[i]!, failedAt: resolver.failedAt });
    }
    while (nextDep < deps.length && deps[nextDep]![0] === i) edgeTarget[cursor++] = deps[nextDep++]![1];
  }
  return { cursor, unresolved, unreadable };
}

/** An upper bound of the edges of objects [from, to) (slots by GCDesc, plus dependent edges). */
export function edgeBound(input: EdgeRangeInput, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const desc = input.descOf(input.typeOf[i]!);
    if (desc !== null) n += slotCountBound(desc, input.sizes[i]!);
  }
  for (const d of input.deps) if (d[0] >= from && d[0] < to) n++;
  return n;
}

/** Recomputes slot offsets from the dump: the k-th edge of an object is its k-th resolved slot, then its
 * dependent-handle edges (the build's order). */
class DumpOffsets implements OffsetSource, SlotVisitor {
  private readonly reader: SlotReader;
  private graph?: GraphAccess;
  private address = 0;
  private wanted = 0;
  private seen = 0;
  private found = -1;
  private failed = false;
  /** Set while `offsetsOf` collects every slot. */
  private all?: Float64Array;
  /** The source object's stored edges (for 'targets'). */
  private first = 0;
  private end = 0;
  /** The wanted edge's target address (for 'match'). */
  private match = 0;

  constructor(
    memory: MemoryReader,
    private readonly types: TypeTable,
    /** How a slot is known to be an edge: its value looked up ('lookup'), compared with the next stored edge target
     * ('targets'), or only the slots holding the wanted edge's target counted ('match'; see `dumpSlotOffsets`). */
    private readonly mode: 'lookup' | 'targets' | 'match' = 'lookup',
  ) {
    this.reader = new SlotReader(memory, 1 << 16);
  }

  offsetOf(graph: GraphAccess, edge: number): number {
    const s = graph.sourceOf(edge);
    const desc = this.types.descOf(graph.typeIndexOf(s));
    if (desc === null) return DEPENDENT_EDGE;
    this.graph = graph;
    this.address = graph.addressOf(s);
    this.first = graph.edgeStartOf(s);
    this.end = this.mode === 'targets' ? graph.edgeStartOf(s + 1) : 0;
    this.wanted = edge - this.first;
    if (this.mode === 'match') {
      const t = graph.edgeTargetOf(edge);
      this.match = graph.addressOf(t);
      this.wanted = 0;
      if (graph.countEdgesTo !== undefined) this.wanted = graph.countEdgesTo(t, this.first, edge);
      else for (let k = this.first; k < edge; k++) if (graph.edgeTargetOf(k) === t) this.wanted++;
    }
    this.seen = 0;
    this.found = -1;
    this.failed = false;
    forEachSlot(desc, graph.sizeOf(s), this);
    return this.found >= 0 && !this.failed ? this.found : DEPENDENT_EDGE;
  }

  offsetsOf(graph: GraphAccess, i: number, out: Float64Array): void {
    out.fill(DEPENDENT_EDGE);
    const desc = this.types.descOf(graph.typeIndexOf(i));
    if (desc === null) return;
    this.graph = graph;
    this.address = graph.addressOf(i);
    this.wanted = -1;
    this.seen = 0;
    this.found = -1;
    this.failed = false;
    this.all = out;
    forEachSlot(desc, graph.sizeOf(i), this);
    this.all = undefined;
    // As offsetOf: an object the build could not read whole kept only its dependent edges.
    if (this.failed) out.fill(DEPENDENT_EDGE);
  }

  slot(offset: number): boolean {
    const r = this.reader;
    if (!r.read(this.address + offset)) {
      this.failed = true; // the build kept only the dependent edges of an object it could not read whole
      return false;
    }
    if ((r.lo === 0 && r.hi === 0) || r.hi >= MAX_HI) return true;
    const value = r.hi * TWO32 + r.lo;
    if (this.mode === 'match' && this.all === undefined) {
      if (value === this.match && this.seen++ === this.wanted) {
        this.found = offset;
        return false;
      }
      return true;
    }
    if (this.mode === 'targets' && this.all === undefined) {
      // A value that starts an object was resolved by the build into the next stored edge, and no other value
      // equals that object's address; past the stored edges the lookup decides (an inconsistent index).
      const k = this.first + this.seen;
      if (k < this.end ? value !== this.graph!.addressOf(this.graph!.edgeTargetOf(k)) : this.graph!.indexOf(value) === NO_OBJECT) return true;
      if (this.seen++ === this.wanted) this.found = offset;
      return true;
    }
    if (this.graph!.indexOf(value) === NO_OBJECT) return true;
    if (this.all) {
      if (this.seen < this.all.length) this.all[this.seen] = offset;
      this.seen++;
    } else if (this.seen++ === this.wanted) this.found = offset;
    return true; // read on to the end: a later unreadable slot means the build dropped these edges
  }
}

/** Address → object index: per 4 MiB chunk of the heap's address range a table of the first object of each 4 KiB
 * page, then a binary search among the few objects that start in the page. Sparse: only chunks holding objects
 * have a table (4 KiB each). Falls back to one binary search when the range is too wide for the chunk directory. */
export class AddressLookup {
  private static readonly CHUNK_BYTES = 4 * 1024 * 1024;
  private static readonly PAGE_BYTES = 4096;
  private static readonly PAGES = 1024;
  private base = 0;
  private chunkCount = 0;
  private chunkSlot = new Int32Array(0);
  private pageFirst = new Uint32Array(0);

  constructor(private readonly addresses: Float64Array) {
    const n = addresses.length;
    if (n === 0) return;
    const C = AddressLookup.CHUNK_BYTES;
    const base = Math.floor(addresses[0]! / C) * C;
    const chunkCount = Math.floor((addresses[n - 1]! - base) / C) + 1;
    if (chunkCount > 1 << 24) return; // more than 64 TiB of range: binary search only
    const chunkSlot = new Int32Array(chunkCount).fill(-1);
    let slots = 0;
    // Addresses ascend: one comparison per object, a division only where a new chunk starts.
    let nextChunk = -Infinity;
    for (let i = 0; i < n; i++) {
      if (addresses[i]! < nextChunk) continue;
      const c = Math.floor((addresses[i]! - base) / C);
      chunkSlot[c] = slots++;
      nextChunk = base + (c + 1) * C;
    }
    const per = AddressLookup.PAGES + 1;
    const pageFirst = new Uint32Array(slots * per);
    let j = 0;
    for (let c = 0; c < chunkCount; c++) {
      const s = chunkSlot[c]!;
      if (s < 0) continue;
      const chunkStart = base + c * C;
      for (let p = 0; p <= AddressLookup.PAGES; p++) {
        const pageStart = chunkStart + p * AddressLookup.PAGE_BYTES;
        while (j < n && addresses[j]! < pageStart) j++;
        pageFirst[s * per + p] = j;
      }
    }
    this.base = base;
    this.chunkCount = chunkCount;
    this.chunkSlot = chunkSlot;
    this.pageFirst = pageFirst;
  }

  /** The index of the object starting at `address`, or NO_OBJECT. */
  find(address: number): number {
    const a = this.addresses;
    let lo = 0;
    let hi = a.length - 1;
    if (this.chunkCount > 0) {
      const off = address - this.base;
      const c = Math.floor(off / AddressLookup.CHUNK_BYTES);
      if (!(c >= 0 && c < this.chunkCount)) return NO_OBJECT;
      const s = this.chunkSlot[c]!;
      if (s < 0) return NO_OBJECT;
      const k = s * (AddressLookup.PAGES + 1) + Math.floor((off - c * AddressLookup.CHUNK_BYTES) / AddressLookup.PAGE_BYTES);
      lo = this.pageFirst[k]!;
      hi = this.pageFirst[k + 1]! - 1;
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (v === address) return mid;
      if (v < address) lo = mid + 1;
      else hi = mid - 1;
    }
    return NO_OBJECT;
  }
}

/** A growing typed list in fixed chunks (no doubling copies), copied once into an exact array. */
class ChunkedList<T extends Float64Array | Uint32Array> {
  private chunks: T[] = [];
  private last: T;
  private used = CHUNK;
  length = 0;

  constructor(private readonly make: (length: number) => T) {
    this.last = make(0);
  }

  push(v: number): void {
    if (this.used === CHUNK) {
      this.last = this.make(CHUNK);
      this.chunks.push(this.last);
      this.used = 0;
    }
    this.last[this.used++] = v;
    this.length++;
  }

  /** The exact array; the chunks are released as they are copied. */
  toArray(): T {
    const out = this.make(this.length);
    let at = 0;
    for (let k = 0; k < this.chunks.length; k++) {
      const c = this.chunks[k]!;
      const n = Math.min(CHUNK, this.length - at);
      out.set(n === CHUNK ? c : c.subarray(0, n), at);
      at += n;
      this.chunks[k] = this.make(0);
    }
    this.chunks = [];
    this.last = this.make(0);
    return out;
  }
}

/** A chunked list of doubles (addresses). */
class ChunkedF64 extends ChunkedList<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n));
  }
}

/** A chunked list of 32-bit values (sizes, edge targets). */
class ChunkedU32 extends ChunkedList<Uint32Array> {
  constructor() {
    super((n) => new Uint32Array(n));
  }
}
