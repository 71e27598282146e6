/**
 * The heap walk split over worker threads: the segments (in address order) are cut into consecutive parts of about
 * equal bytes; the calling thread walks the first part and visits its objects as it goes, while each worker opens
 * the dump itself (its own file reads, its own MethodTable reads) and walks one later part into an object table
 * (address, MethodTable number, size: 16 bytes an object, in chunks moved to the caller without a copy). The caller
 * then visits each worker's objects in order, numbering their MethodTables in first-seen order as the one-thread
 * walk does, so every visitor sees the same objects, sizes, numbering and problems either way.
 * A part with a bad MethodTable is walked again on the calling thread (re-synchronising after one uses every
 * MethodTable met before it, which only the calling thread knows), as is the part of a worker that cannot start or
 * fails. The walk stays synchronous: the caller waits on a shared counter (Atomics.wait) and takes the results with
 * `receiveMessageOnPort`.
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
  /** Told, after the walk, how the segments were split and which parts a worker walked. */
  readonly report?: (parts: readonly { readonly segments: number; readonly bytes: number; readonly byWorker: boolean }[]) => void;
}

/** Below this many heap bytes the walk stays on one thread: starting a worker (loading the code, opening the dump and
 * the runtime) costs about as much as walking this much heap. */
export const DEFAULT_MIN_PARALLEL_BYTES = 256 << 20;

/** What a worker is given (structured-cloned). */
export interface WalkWorkerData {
  readonly dumpPath: string;
  readonly openOptions: OpenDumpOptions;
  /** Starts of all the heap's segments as the caller read them: the worker checks that it reads the same heap. */
  readonly segmentStarts: readonly number[];
  /** Positions in the heap's segment list of this worker's part, in address order. */
  readonly part: readonly number[];
  /** Int32 per part: 0 running, 1 done (a result or an error waits on the port). */
  readonly done: Int32Array;
  readonly slot: number;
}

/** Objects per chunk of a part's object table. */
export const WALK_CHUNK_BITS = 18;
/** The `sizes` entry of an object of 2^32 - 1 bytes or more (its size is in `bigSizes`). */
export const BIG_SIZE = 0xffffffff;

/** A worker's walk of its part. */
export interface WalkPartResult {
  /** The object table in chunks of 2^WALK_CHUNK_BITS objects (the last one partly used). */
  readonly addresses: Float64Array[];
  /** Each object's MethodTable as its position in `mtAddresses`. */
  readonly types: Uint32Array[];
  readonly sizes: Uint32Array[];
  readonly count: number;
  /** (object number, size) pairs of the objects whose `sizes` entry is BIG_SIZE, in object order. */
  readonly bigSizes: number[];
  /** Objects per segment of the part. */
  readonly perSegment: number[];
  /** The part's MethodTables in first-seen order, with the sizes the walk used. */
  readonly mtAddresses: number[];
  readonly baseSizes: number[];
  readonly componentSizes: number[];
  /** Problems in walk order, the segment given by its position in the part. */
  readonly problems: { address: number; segment: number; reason: string; resumedAt?: number }[];
}

/** A worker's answer on its port. */
export type WalkWorkerReply = { readonly result: WalkPartResult } | { readonly error: string };

const WORKER_FILE = path.join(__dirname, 'heap-walk-worker.js');
const TWO32 = 4294967296;
const CHUNK_MASK = (1 << WALK_CHUNK_BITS) - 1;

/** A started parallel walk: `run` walks the first part here, then visits the others' objects in order. */
export interface StartedParallelWalk {
  run(
    walkHere: (segment: HeapSegment) => void,
    visited: (segment: HeapSegment) => void,
    index: MethodTableIndex,
    visit: ObjectVisitor,
    problems: WalkProblem[],
  ): void;
}

/** Starts the workers for all parts but the first; undefined when the walk should stay on one thread (a small heap,
 * one segment, or no worker file: the bundled package has none). */
export function startParallelWalk(parallel: ParallelWalk, heap: GcHeap, segments: readonly HeapSegment[]): StartedParallelWalk | undefined {
  const total = segments.reduce((a, s) => a + (s.end - s.start), 0);
  if (total < (parallel.minBytes ?? DEFAULT_MIN_PARALLEL_BYTES) || segments.length < 2 || !fs.existsSync(WORKER_FILE)) return undefined;
  const parts = splitParts(segments, parallel.workers);
  if (parts.length < 2) return undefined;
  const position = new Map<HeapSegment, number>();
  heap.segments.forEach((s, i) => position.set(s, i));
  const segmentStarts = heap.segments.map((s) => s.start);
  const done = new Int32Array(new SharedArrayBuffer(4 * parts.length));
  const started: ({ worker: Worker; port: MessagePort } | undefined)[] = [undefined];
  for (let w = 1; w < parts.length; w++) {
    const channel = new MessageChannel();
    const data: WalkWorkerData & { port: MessagePort } = {
      dumpPath: parallel.dumpPath,
      openOptions: parallel.openOptions,
      segmentStarts,
      part: parts[w]!.map((s) => position.get(s)!),
      done,
      slot: w,
      port: channel.port2,
    };
    try {
      started.push({ worker: new Worker(WORKER_FILE, { workerData: data, transferList: [channel.port2] }), port: channel.port1 });
    } catch {
      channel.port1.close();
      started.push(undefined);
      Atomics.store(done, w, 2); // walked here
    }
  }
  return {
    run(walkHere, visited, index, visit, problems) {
      const byWorker = [false];
      try {
        for (const seg of parts[0]!) walkHere(seg);
        for (let w = 1; w < parts.length; w++) {
          // Waits in short slices so the prompt's Ctrl-C still stops the walk.
          while (Atomics.load(done, w) === 0) {
            throwIfCancelled();
            Atomics.wait(done, w, 0, 100);
          }
          const reply = Atomics.load(done, w) === 1 ? (receiveMessageOnPort(started[w]!.port)?.message as WalkWorkerReply | undefined) : undefined;
          if (reply !== undefined && 'result' in reply) {
            replayPart(reply.result, parts[w]!, index, visit, problems, visited);
            byWorker.push(true);
          } else {
            for (const seg of parts[w]!) walkHere(seg);
            byWorker.push(false);
          }
        }
      } finally {
        for (const s of started) {
          s?.port.close();
          void s?.worker.terminate();
        }
      }
      parallel.report?.(parts.map((p, w) => ({ segments: p.length, bytes: p.reduce((a, s) => a + (s.end - s.start), 0), byWorker: byWorker[w] ?? false })));
    },
  };
}

/** Visits a worker's objects in order, numbering their MethodTables into the caller's index. */
function replayPart(r: WalkPartResult, part: readonly HeapSegment[], index: MethodTableIndex, visit: ObjectVisitor, problems: WalkProblem[], visited: (segment: HeapSegment) => void): void {
  if (r.perSegment.length !== part.length) throw new RangeError(`a heap-walk worker returned ${r.perSegment.length} segments for a part of ${part.length}`);
  const toIndex = new Int32Array(r.mtAddresses.length).fill(-1);
  let k = 0;
  let big = 0;
  for (let s = 0; s < part.length; s++) {
    const seg = part[s]!;
    const end = k + r.perSegment[s]!;
    for (; k < end; k++) {
      const c = k >>> WALK_CHUNK_BITS;
      const o = k & CHUNK_MASK;
      const local = r.types[c]![o]!;
      let mtIndex = toIndex[local]!;
      if (mtIndex < 0) {
        const mt = r.mtAddresses[local]!;
        const lo = mt % TWO32;
        const hi = (mt - lo) / TWO32;
        mtIndex = index.find(lo, hi);
        if (mtIndex < 0) mtIndex = index.add(lo, hi, mt, r.baseSizes[local]!, r.componentSizes[local]!);
        toIndex[local] = mtIndex;
      }
      let size = r.sizes[c]![o]!;
      if (size === BIG_SIZE && r.bigSizes[2 * big] === k) size = r.bigSizes[2 * big++ + 1]!;
      visit(r.addresses[c]![o]!, index.addresses[mtIndex]!, size, seg, mtIndex);
    }
    visited(seg);
  }
  for (const p of r.problems) problems.push({ address: p.address, segment: part[p.segment]!, reason: p.reason, ...(p.resumedAt !== undefined ? { resumedAt: p.resumedAt } : {}) });
}

/** Up to `workers` consecutive runs of segments of about equal walking cost (a segment is never cut: objects are only
 * found by walking from its start). The walk's cost is per object, and the large object heap's few objects are
 * stepped over without reading their bodies: its bytes count for 1/64. The calling thread, which also visits the
 * workers' objects afterwards (about a third of the cost of walking them), takes a smaller first part. */
function splitParts(segments: readonly HeapSegment[], workers: number): HeapSegment[][] {
  const cost = (s: HeapSegment): number => (s.kind === 'loh' ? (s.end - s.start) / 64 : s.end - s.start);
  const total = segments.reduce((a, s) => a + cost(s), 0);
  // Shares: the calling thread 2, each worker 3.
  const shares = 2 + 3 * (workers - 1);
  const parts: HeapSegment[][] = [];
  let current: HeapSegment[] = [];
  let sum = 0;
  let cut = (total * 2) / shares;
  for (const seg of segments) {
    current.push(seg);
    sum += cost(seg);
    if (sum >= cut && parts.length < workers - 1) {
      parts.push(current);
      current = [];
      cut = (total * (2 + 3 * parts.length)) / shares;
    }
  }
  if (current.length > 0) parts.push(current);
  return parts;
}
