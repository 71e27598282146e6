/**
 * A worker thread of parallel-walk.ts: opens the dump read-only, reads the runtime and the GC heap itself, then walks
 * its chunks in order, each into an object table posted on its port (the arrays moved, not copied), counting each
 * message in `produced` and waiting while it is MAX_AHEAD chunks ahead of the caller. A chunk with a bad MethodTable
 * is posted as `redo` (the caller walks it); a failure is posted once as `error` and ends the worker.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { readImageFileText, readLoadedImageBytes } from '../dump/loaded-image-bytes';
import { openDump } from '../dump/open-dump';
import { DotNetRuntime } from '../runtime/dotnet-runtime';
import { GcHeap } from '../runtime/gc/gc-heap';
import { MethodTableReader } from '../runtime/method-table';
import { segmentWalker, type WalkProblem } from './heap-walker';
import { MethodTableIndex } from './method-table-index';
import { BIG_SIZE, MAX_AHEAD, WALK_CHUNK_BITS, type WalkChunkResult, type WalkMethodTables, type WalkWorkerData, type WalkWorkerMessage } from './parallel-walk';

const data = workerData as WalkWorkerData & { port: MessagePort };
const ARRAY = 1 << WALK_CHUNK_BITS;
const MASK = ARRAY - 1;
let posted = 0;

function post(message: WalkWorkerMessage, transfer: ArrayBuffer[] = []): void {
  data.port.postMessage(message, transfer);
  posted++;
  Atomics.add(data.produced, data.slot, 1);
  Atomics.notify(data.produced, data.slot);
}

try {
  const dump = openDump(data.dumpPath, data.openOptions);
  try {
    const rt = DotNetRuntime.open(
      dump,
      (a, l) => readLoadedImageBytes(dump, a, l),
      (a, l) => readImageFileText(dump, a, l),
    );
    const heap = GcHeap.read(rt);
    if (heap.segments.length !== data.segmentStarts.length || heap.segments.some((s, i) => s.start !== data.segmentStarts[i])) {
      throw new Error('the worker read other heap segments than the calling thread');
    }
    const walk = segmentWalker(heap.allocContexts, new MethodTableReader(rt), rt.memory);
    const index = new MethodTableIndex();
    let sent = 0; // MethodTables already described to the caller
    for (const positions of data.chunks) {
      // Stay at most MAX_AHEAD chunks ahead of the caller: the tables waiting for it are the walk's extra memory.
      for (;;) {
        const consumed = Atomics.load(data.consumed, data.slot);
        if (posted - consumed < MAX_AHEAD) break;
        Atomics.wait(data.consumed, data.slot, consumed, 1000);
      }
      const segments = positions.map((i) => heap.segments[i]!);
      const addresses: Float64Array[] = [];
      const types: Uint32Array[] = [];
      const sizes: Uint32Array[] = [];
      const bigSizes: number[] = [];
      const perSegment: number[] = [];
      let count = 0;
      let inSegment = 0;
      let a = new Float64Array(0);
      let t = new Uint32Array(0);
      let z = new Uint32Array(0);
      const problems: WalkProblem[] = [];
      walk(
        segments,
        index,
        (address, _mt, size, _segment, mtIndex) => {
          const o = count & MASK;
          if (o === 0) {
            addresses.push((a = new Float64Array(ARRAY)));
            types.push((t = new Uint32Array(ARRAY)));
            sizes.push((z = new Uint32Array(ARRAY)));
          }
          a[o] = address;
          t[o] = mtIndex;
          if (size >= BIG_SIZE) {
            z[o] = BIG_SIZE;
            bigSizes.push(count, size);
          } else z[o] = size;
          count++;
          inSegment++;
        },
        problems,
        () => {
          perSegment.push(inSegment);
          inSegment = 0;
        },
      );
      const newMts: WalkMethodTables = {
        addresses: Array.from(index.addresses.subarray(sent, index.count)),
        baseSizes: Array.from(index.baseSizes.subarray(sent, index.count)),
        componentSizes: Array.from(index.componentSizes.subarray(sent, index.count)),
      };
      sent = index.count;
      // Re-synchronising after a bad MethodTable depends on every MethodTable met before it in the whole heap.
      if (problems.some((p) => p.resumedAt !== undefined || p.reason.startsWith('bad MethodTable'))) {
        post({ redo: 'a bad MethodTable', mts: newMts });
        continue;
      }
      const result: WalkChunkResult = {
        addresses,
        types,
        sizes,
        count,
        bigSizes,
        perSegment,
        problems: problems.map((p) => ({ address: p.address, segment: segments.indexOf(p.segment), reason: p.reason })),
      };
      post({ result, mts: newMts }, [...addresses, ...types, ...sizes].map((x) => x.buffer as ArrayBuffer));
    }
  } finally {
    dump.close();
  }
} catch (e) {
  post({ error: e instanceof Error ? e.message : String(e) });
}
