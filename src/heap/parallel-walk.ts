/**
 * The heap walk split over worker threads. The segments (in address order) are cut into consecutive chunks dealt
 * out in turn: the calling thread's chunk, then one for each worker, then the calling thread's again, and so on.
 * The calling thread walks its chunks and visits their objects as it goes; each worker opens the dump itself (its
 * own file reads, its own MethodTable reads) and walks its chunks into object tables (address, MethodTable number,
 * size: 16 bytes an object, moved to the caller without a copy). Between two of its own chunks the calling thread
 * visits the workers' objects of the chunks in between, numbering their MethodTables in first-seen order as the
 * one-thread walk does, so every visitor sees the same objects, sizes, numbering and problems either way. A worker
 * runs at most MAX_AHEAD chunks ahead of the caller, so the tables held at once stay small whatever the heap's size.
 * A chunk with a bad MethodTable is walked again on the calling thread (re-synchronising after one uses every
 * MethodTable met before it, which only the calling thread knows), as are the chunks of a worker that cannot start
 * or fails. The walk stays synchronous: the caller waits on shared counters (Atomics.wait) and takes the results
 * with `receiveMessageOnPort`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { OpenDumpOptions } from '../dump/open-dump';
import type { GcHeap, HeapSegment } from '../runtime/gc/gc-heap';
import type { ObjectVisitor, WalkProblem } from './heap-walker';
import type { MethodTableIndex } from './method-table-index';
import { throwIfCancelled } from './walk-progress';

/** How to split the walk (`--workers N`). */
export interface ParallelWalk {
  /** Threads in all, the calling one included (1: no workers). */
  readonly workers: number;
  /** The dump each worker opens, with the options the session used. */
  readonly dumpPath: string;
  readonly openOptions: OpenDumpOptions;
  /** Heaps of fewer bytes than this are walked on the calling thread alone (a worker costs its start-up);
   * default DEFAULT_MIN_PARALLEL_BYTES. */
  readonly minBytes?: number;
  /** Told, after the walk, how the segments were cut and which chunks a worker walked. */
  readonly report?: (chunks: readonly WalkChunkReport[]) => void;
}

/** One chunk of a parallel walk, as `ParallelWalk.report` is told it. */
export interface WalkChunkReport {
  /** 0 for the calling thread, else the worker (1..workers-1) it was dealt to. */
  readonly owner: number;
  readonly segments: number;
  readonly bytes: number;
  /** True when its objects came from the worker's table (false: walked on the calling thread). */
  readonly byWorker: boolean;
}

/** @internal Below this many heap bytes the walk stays on one thread: starting a worker (loading the code, opening the dump and
 * the runtime) costs about as much as walking this much heap. */
export const DEFAULT_MIN_PARALLEL_BYTES = 256 << 20;

/** @internal What a worker is given (structured-cloned). */
export interface WalkWorkerData {
  readonly dumpPath: string;
  readonly openOptions: OpenDumpOptions;
  /** Starts of all the heap's segments as the caller read them: the worker checks that it reads the same heap. */
  readonly segmentStarts: readonly number[];
  /** The worker's chunks in address order, each as positions in the heap's segment list. */
  readonly chunks: readonly (readonly number[])[];
  /** Int32 per worker slot: messages posted (the worker adds 1 after each). */
  readonly produced: Int32Array;
  /** Int32 per worker slot: messages taken by the caller (the worker waits while it is MAX_AHEAD behind). */
  readonly consumed: Int32Array;
  readonly slot: number;
}

/** @internal Objects per array of a chunk's object table. */
export const WALK_CHUNK_BITS = 18;
/** @internal The `sizes` entry of an object of 2^32 - 1 bytes or more (its size is in `bigSizes`). */
export const BIG_SIZE = 0xffffffff;
/** @internal Chunks a worker may walk before the caller has taken them. */
export const MAX_AHEAD = 2;

/** @internal The MethodTables a worker met for the first time in one chunk, numbered on from its earlier chunks. */
export interface WalkMethodTables {
  readonly addresses: number[];
  readonly baseSizes: number[];
  readonly componentSizes: number[];
}

/** @internal A worker's walk of one chunk. */
export interface WalkChunkResult {
  /** The object table in arrays of 2^WALK_CHUNK_BITS objects (the last one partly used). */
  readonly addresses: Float64Array[];
  /** Each object's MethodTable as the worker numbers them. */
  readonly types: Uint32Array[];
  readonly sizes: Uint32Array[];
  readonly count: number;
  /** (object number, size) pairs of the objects whose `sizes` entry is BIG_SIZE, in object order. */
  readonly bigSizes: number[];
  /** Objects per segment of the chunk. */
  readonly perSegment: number[];
  /** Problems in walk order, the segment given by its position in the chunk. */
  readonly problems: { address: number; segment: number; reason: string }[];
}

/** @internal One message of a worker, per chunk in order: its table, or a request to walk it on the calling thread (`redo`);
 * or, once, a failure after which it sends nothing more. */
export type WalkWorkerMessage =
  | { readonly result: WalkChunkResult; readonly mts: WalkMethodTables }
  | { readonly redo: string; readonly mts: WalkMethodTables }
  | { readonly error: string };

const WORKER_FILE = path.join(__dirname, 'heap-walk-worker.js');
const TWO32 = 4294967296;
const CHUNK_MASK = (1 << WALK_CHUNK_BITS) - 1;
/** Largest cost unit of a chunk: the calling thread's chunks are 2 units, a worker's 3 (see splitChunks). */
const MAX_UNIT = 8 << 20;

/** @internal A started parallel walk: `run` walks the calling thread's chunks and visits the workers' in order. */
export interface StartedParallelWalk {
  run(
    walkHere: (segment: HeapSegment) => void,
    visited: (segment: HeapSegment) => void,
    index: MethodTableIndex,
    visit: ObjectVisitor,
    problems: WalkProblem[],
  ): void;
}

interface Chunk {
  readonly owner: number;
  readonly segments: HeapSegment[];
}

interface WorkerState {
  readonly worker: Worker | undefined;
  readonly port: MessagePort | undefined;
  /** Messages taken so far. */
  taken: number;
  failed: boolean;
  /** The worker's MethodTables by its numbering, and where each went in the caller's index (-1: not yet). */
  readonly mtAddresses: number[];
  readonly baseSizes: number[];
  readonly componentSizes: number[];
  toIndex: Int32Array;
}

/** @internal Starts the workers; undefined when the walk should stay on one thread (a small heap, one segment, or no worker
 * file: the bundled package has none). */
export function startParallelWalk(parallel: ParallelWalk, heap: GcHeap, segments: readonly HeapSegment[]): StartedParallelWalk | undefined {
  const total = segments.reduce((a, s) => a + (s.end - s.start), 0);
  if (total < (parallel.minBytes ?? DEFAULT_MIN_PARALLEL_BYTES) || segments.length < 2 || !fs.existsSync(WORKER_FILE)) return undefined;
  const chunks = splitChunks(segments, parallel.workers);
  const owners = new Set(chunks.map((c) => c.owner));
  if (owners.size < 2) return undefined;
  const position = new Map<HeapSegment, number>();
  heap.segments.forEach((s, i) => position.set(s, i));
  const segmentStarts = heap.segments.map((s) => s.start);
  const produced = new Int32Array(new SharedArrayBuffer(4 * parallel.workers));
  const consumed = new Int32Array(new SharedArrayBuffer(4 * parallel.workers));
  const states: WorkerState[] = [];
  for (let w = 1; w < parallel.workers; w++) {
    const mine = chunks.filter((c) => c.owner === w);
    let worker: Worker | undefined;
    let port: MessagePort | undefined;
    if (mine.length > 0) {
      const channel = new MessageChannel();
      const data: WalkWorkerData & { port: MessagePort } = {
        dumpPath: parallel.dumpPath,
        openOptions: parallel.openOptions,
        segmentStarts,
        chunks: mine.map((c) => c.segments.map((s) => position.get(s)!)),
        produced,
        consumed,
        slot: w,
        port: channel.port2,
      };
      try {
        worker = new Worker(WORKER_FILE, { workerData: data, transferList: [channel.port2] });
        port = channel.port1;
      } catch {
        channel.port1.close();
      }
    }
    states[w] = { worker, port, taken: 0, failed: worker === undefined, mtAddresses: [], baseSizes: [], componentSizes: [], toIndex: new Int32Array(64).fill(-1) };
  }
  return {
    run(walkHere, visited, index, visit, problems) {
      const reports: WalkChunkReport[] = [];
      try {
        for (const chunk of chunks) {
          const st = chunk.owner === 0 ? undefined : states[chunk.owner]!;
          const message = st === undefined || st.failed ? undefined : take(st, chunk.owner, produced, consumed);
          if (message !== undefined && 'mts' in message) addMethodTables(st!, message.mts);
          if (message !== undefined && 'result' in message) replayChunk(message.result, st!, chunk.segments, index, visit, problems, visited);
          else {
            if (message !== undefined && 'error' in message) st!.failed = true;
            for (const seg of chunk.segments) walkHere(seg);
          }
          reports.push({ owner: chunk.owner, segments: chunk.segments.length, bytes: chunk.segments.reduce((a, s) => a + (s.end - s.start), 0), byWorker: message !== undefined && 'result' in message });
        }
      } finally {
        for (const st of states) {
          st?.port?.close();
          void st?.worker?.terminate();
        }
      }
      parallel.report?.(reports);
    },
  };
}

/** The worker's next message, waiting for it in short slices (so the prompt's Ctrl-C still stops the walk); undefined
 * when the port yields nothing (then the caller walks the chunk and, failed, the worker's later ones). */
function take(st: WorkerState, slot: number, produced: Int32Array, consumed: Int32Array): WalkWorkerMessage | undefined {
  for (;;) {
    const n = Atomics.load(produced, slot);
    if (n > st.taken) break;
    throwIfCancelled();
    Atomics.wait(produced, slot, n, 100);
  }
  const message = receiveMessageOnPort(st.port!)?.message as WalkWorkerMessage | undefined;
  st.taken++;
  Atomics.add(consumed, slot, 1);
  Atomics.notify(consumed, slot);
  if (message === undefined) st.failed = true;
  return message;
}

function addMethodTables(st: WorkerState, mts: WalkMethodTables): void {
  st.mtAddresses.push(...mts.addresses);
  st.baseSizes.push(...mts.baseSizes);
  st.componentSizes.push(...mts.componentSizes);
  if (st.toIndex.length < st.mtAddresses.length) {
    const grown = new Int32Array(Math.max(st.mtAddresses.length, st.toIndex.length * 2)).fill(-1);
    grown.set(st.toIndex);
    st.toIndex = grown;
  }
}

/** Visits a worker's objects of one chunk in order, numbering their MethodTables into the caller's index. */
function replayChunk(r: WalkChunkResult, st: WorkerState, segments: readonly HeapSegment[], index: MethodTableIndex, visit: ObjectVisitor, problems: WalkProblem[], visited: (segment: HeapSegment) => void): void {
  if (r.perSegment.length !== segments.length) throw new RangeError(`a heap-walk worker returned ${r.perSegment.length} segments for a chunk of ${segments.length}`);
  const toIndex = st.toIndex;
  let k = 0;
  let big = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s]!;
    const end = k + r.perSegment[s]!;
    for (; k < end; k++) {
      const c = k >>> WALK_CHUNK_BITS;
      const o = k & CHUNK_MASK;
      const local = r.types[c]![o]!;
      let mtIndex = toIndex[local]!;
      if (mtIndex < 0) {
        const mt = st.mtAddresses[local]!;
        const lo = mt % TWO32;
        const hi = (mt - lo) / TWO32;
        mtIndex = index.find(lo, hi);
        if (mtIndex < 0) mtIndex = index.add(lo, hi, mt, st.baseSizes[local]!, st.componentSizes[local]!);
        toIndex[local] = mtIndex;
      }
      let size = r.sizes[c]![o]!;
      if (size === BIG_SIZE && r.bigSizes[2 * big] === k) size = r.bigSizes[2 * big++ + 1]!;
      visit(r.addresses[c]![o]!, index.addresses[mtIndex]!, size, seg, mtIndex);
    }
    visited(seg);
  }
  for (const p of r.problems) problems.push({ address: p.address, segment: segments[p.segment]!, reason: p.reason });
}

/** Consecutive runs of segments (a segment is never cut: objects are only found by walking from its start), dealt
 * out in turn to the calling thread (2 cost units) and each worker (3 units: the calling thread also visits the
 * workers' objects, about a third of the cost of walking them). The walk's cost is per object, and the large object
 * heap's few objects are stepped over without reading their bodies: its bytes count for 1/64. A unit is at most
 * MAX_UNIT, and small enough that a small heap still makes several rounds. */
function splitChunks(segments: readonly HeapSegment[], workers: number): Chunk[] {
  const cost = (s: HeapSegment): number => (s.kind === 'loh' ? (s.end - s.start) / 64 : s.end - s.start);
  const total = segments.reduce((a, s) => a + cost(s), 0);
  const round = 2 + 3 * (workers - 1);
  const unit = Math.max(1, Math.min(MAX_UNIT, total / (4 * round)));
  const chunks: Chunk[] = [];
  let owner = 0;
  let current: HeapSegment[] = [];
  let sum = 0;
  for (const seg of segments) {
    current.push(seg);
    sum += cost(seg);
    if (sum >= unit * (owner === 0 ? 2 : 3)) {
      chunks.push({ owner, segments: current });
      current = [];
      sum = 0;
      owner = (owner + 1) % workers;
    }
  }
  if (current.length > 0) chunks.push({ owner, segments: current });
  return chunks;
}
