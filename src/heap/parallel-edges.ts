/**
 * Pass 2 of the graph build (reading every object's reference slots and resolving them to object indexes) split
 * over worker threads: the objects are cut into ranges of about equal slot counts; the calling thread resolves the
 * first range while each worker opens the dump itself (its own file reads) and resolves one of the others into the
 * same SharedArrayBuffer, each range into its own region of the edge array; the regions are then closed up in
 * object order. The edges, their order and the problems found are exactly those of the one-thread pass.
 * The build stays synchronous: the caller waits on a shared counter (Atomics.wait), and results come back through
 * `receiveMessageOnPort`. A worker that cannot start or fails has its range redone on the calling thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { OpenDumpOptions } from '../dump/open-dump';
import type { GcDesc } from './gc-desc';
import { edgeBound, resolveEdgeRange, type EdgeRangeInput, type EdgeRangeResult } from './object-graph';

/** How to split the build (`--workers N`). */
export interface ParallelEdges {
  /** Threads in all, the calling one included (1: no workers). */
  readonly workers: number;
  /** The dump each worker opens, with the options the session used. */
  readonly dumpPath: string;
  readonly openOptions: OpenDumpOptions;
  /** Fewer objects than this are resolved on the calling thread alone (workers cost their start-up). */
  readonly minObjects?: number;
  /** Heaps of fewer bytes than this are walked (pass 1) on the calling thread alone (parallel-walk.ts's default
   * when absent). */
  readonly minWalkBytes?: number;
  /** Told, after the build, which ranges a worker resolved (false: the calling thread did, or redid it). */
  readonly report?: (ranges: readonly { readonly from: number; readonly to: number; readonly byWorker: boolean }[]) => void;
}

/** What a worker is given (structured-cloned; the typed arrays on SharedArrayBuffers are shared, not copied). */
export interface EdgeWorkerData {
  readonly dumpPath: string;
  readonly openOptions: OpenDumpOptions;
  readonly addresses: Float64Array;
  readonly typeOf: Uint32Array;
  readonly sizes: Uint32Array | Float64Array;
  readonly descs: readonly (GcDesc | null)[];
  readonly deps: readonly (readonly [number, number])[];
  readonly from: number;
  readonly to: number;
  readonly cursor: number;
  readonly edgeStart: Uint32Array;
  readonly edgeTarget: Uint32Array;
  /** Int32 per worker: 0 running, 1 done (a result or an error waits on the port). */
  readonly done: Int32Array;
  readonly slot: number;
}

/** A worker's answer on its port. */
export type EdgeWorkerReply = { readonly result: EdgeRangeResult } | { readonly error: string };

const WORKER_FILE = path.join(__dirname, 'graph-edges-worker.js');

/** Resolves every object's edges with `parallel.workers` threads; undefined when no worker can be started (then
 * the caller runs the one-thread pass). `edgeStart` must be on a SharedArrayBuffer. */
export function resolveEdgesInParallel(
  parallel: ParallelEdges,
  input: EdgeRangeInput,
  edgeStart: Uint32Array,
  bound: number,
): { edgeTarget: Uint32Array; cursor: number; unresolved: number; unreadable: { address: number; failedAt: number }[] } | undefined {
  // The bundled package has no separate worker file: one thread there.
  if (!fs.existsSync(WORKER_FILE) || !(edgeStart.buffer instanceof SharedArrayBuffer)) return undefined;
  const count = input.addresses.length;
  const ranges = splitRanges(input, count, bound, parallel.workers);
  const share = <T extends Float64Array | Uint32Array>(a: T, make: (b: SharedArrayBuffer) => T): T => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const out = make(new SharedArrayBuffer(a.byteLength));
    out.set(a);
    return out;
  };
  const addresses = share(input.addresses, (b) => new Float64Array(b));
  const typeOf = share(input.typeOf, (b) => new Uint32Array(b));
  const sizes = input.sizes instanceof Float64Array ? share(input.sizes, (b) => new Float64Array(b)) : share(input.sizes, (b) => new Uint32Array(b));
  const edgeTarget = new Uint32Array(new SharedArrayBuffer(4 * Math.max(1, bound)));
  const descs: (GcDesc | null)[] = [];
  let types = 0;
  for (let i = 0; i < count; i++) types = Math.max(types, typeOf[i]! + 1);
  for (let t = 0; t < types; t++) descs.push(input.descOf(t));
  const done = new Int32Array(new SharedArrayBuffer(4 * ranges.length));
  const started: { worker: Worker; port: MessageChannel['port1'] }[] = [];
  for (let w = 1; w < ranges.length; w++) {
    const r = ranges[w]!;
    const channel = new MessageChannel();
    const data: EdgeWorkerData & { port: MessageChannel['port2'] } = {
      dumpPath: parallel.dumpPath,
      openOptions: parallel.openOptions,
      addresses,
      typeOf,
      sizes,
      descs,
      deps: input.deps.filter((d) => d[0] >= r.from && d[0] < r.to),
      from: r.from,
      to: r.to,
      cursor: r.region,
      edgeStart,
      edgeTarget,
      done,
      slot: w,
      port: channel.port2,
    };
    try {
      started.push({ worker: new Worker(WORKER_FILE, { workerData: data, transferList: [channel.port2] }), port: channel.port1 });
    } catch {
      started.push({ worker: undefined as unknown as Worker, port: channel.port1 });
      Atomics.store(done, w, 2); // redone below
    }
  }
  const byWorker = [false];
  const results: EdgeRangeResult[] = [resolveEdgeRange({ ...input, addresses, typeOf, sizes }, ranges[0]!.from, ranges[0]!.to, edgeStart, edgeTarget, 0)];
  for (let w = 1; w < ranges.length; w++) {
    while (Atomics.load(done, w) === 0) Atomics.wait(done, w, 0, 1000);
    const { worker, port } = started[w - 1]!;
    const reply = Atomics.load(done, w) === 1 ? (receiveMessageOnPort(port)?.message as EdgeWorkerReply | undefined) : undefined;
    port.close();
    void worker?.terminate();
    const r = ranges[w]!;
    byWorker.push(reply !== undefined && 'result' in reply);
    results.push(reply !== undefined && 'result' in reply ? reply.result : resolveEdgeRange({ ...input, addresses, typeOf, sizes }, r.from, r.to, edgeStart, edgeTarget, r.region));
  }
  // Close up the regions: range w's edges move down to follow range w-1's, and its edgeStart entries with them.
  let end = results[0]!.cursor;
  for (let w = 1; w < ranges.length; w++) {
    const r = ranges[w]!;
    const shift = r.region - end;
    if (shift > 0) {
      edgeTarget.copyWithin(end, r.region, results[w]!.cursor);
      for (let i = r.from; i < r.to; i++) edgeStart[i]! -= shift;
    }
    end += results[w]!.cursor - r.region;
  }
  parallel.report?.(ranges.map((r, w) => ({ from: r.from, to: r.to, byWorker: byWorker[w]! })));
  return {
    edgeTarget: edgeTarget.slice(0, end),
    cursor: end,
    unresolved: results.reduce((sum, r) => sum + r.unresolved, 0),
    unreadable: results.flatMap((r) => r.unreadable),
  };
}

/** Up to `workers` consecutive object ranges of about equal edge bounds, each with the start of its edge region. */
function splitRanges(input: EdgeRangeInput, count: number, bound: number, workers: number): { from: number; to: number; region: number }[] {
  const ranges: { from: number; to: number; region: number }[] = [];
  const per = Math.ceil(count / workers);
  let from = 0;
  let region = 0;
  for (let w = 0; w < workers && from < count; w++) {
    const to = w === workers - 1 ? count : Math.min(count, from + per);
    ranges.push({ from, to, region });
    region += edgeBound(input, from, to);
    from = to;
  }
  if (region > bound) throw new RangeError(`edge regions (${region}) exceed the bound (${bound})`);
  return ranges;
}
