/**
 * A worker thread of parallel-walk.ts: opens the dump read-only, reads the runtime and the GC heap itself, walks
 * its part of the segments into an object table, replies on its port (the table's chunks moved, not copied) and
 * marks itself done (always, even on failure: then the calling thread walks the part).
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { readImageFileText, readLoadedImageBytes } from '../dump/loaded-image-bytes';
import { openDump } from '../dump/open-dump';
import { DotNetRuntime } from '../runtime/dotnet-runtime';
import { GcHeap } from '../runtime/gc/gc-heap';
import { MethodTableReader } from '../runtime/method-table';
import { walkSegments, type WalkProblem } from './heap-walker';
import { MethodTableIndex } from './method-table-index';
import { BIG_SIZE, WALK_CHUNK_BITS, type WalkPartResult, type WalkWorkerData, type WalkWorkerReply } from './parallel-walk';

const data = workerData as WalkWorkerData & { port: MessagePort };
let reply: WalkWorkerReply;
let transfer: ArrayBuffer[] = [];
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
    const part = data.part.map((i) => heap.segments[i]!);
    const chunk = 1 << WALK_CHUNK_BITS;
    const mask = chunk - 1;
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
    const index = new MethodTableIndex();
    const problems: WalkProblem[] = [];
    walkSegments(
      heap.allocContexts,
      new MethodTableReader(rt),
      rt.memory,
      part,
      index,
      (address, _mt, size, _segment, mtIndex) => {
        const o = count & mask;
        if (o === 0) {
          addresses.push((a = new Float64Array(chunk)));
          types.push((t = new Uint32Array(chunk)));
          sizes.push((z = new Uint32Array(chunk)));
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
    // Re-synchronising after a bad MethodTable depends on every MethodTable met before it in the whole heap.
    if (problems.some((p) => p.resumedAt !== undefined || p.reason.startsWith('bad MethodTable'))) throw new Error('a bad MethodTable: the calling thread walks this part');
    const result: WalkPartResult = {
      addresses,
      types,
      sizes,
      count,
      bigSizes,
      perSegment,
      mtAddresses: Array.from(index.addresses.subarray(0, index.count)),
      baseSizes: Array.from(index.baseSizes.subarray(0, index.count)),
      componentSizes: Array.from(index.componentSizes.subarray(0, index.count)),
      problems: problems.map((p) => ({ address: p.address, segment: part.indexOf(p.segment), reason: p.reason })),
    };
    reply = { result };
    transfer = [...addresses, ...types, ...sizes].map((x) => x.buffer as ArrayBuffer);
  } finally {
    dump.close();
  }
} catch (e) {
  reply = { error: e instanceof Error ? e.message : String(e) };
  transfer = [];
}
data.port.postMessage(reply, transfer);
Atomics.store(data.done, data.slot, 1);
Atomics.notify(data.done, data.slot);
