/**
 * A worker thread of parallel-edges.ts: opens the dump read-only, resolves one range of objects' reference slots
 * into the shared edge array, replies on its port and marks itself done (always, even on failure).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openDump } from '../dump/open-dump';
import { AddressLookup, resolveEdgeRange } from './object-graph';
import type { EdgeWorkerData, EdgeWorkerReply } from './parallel-edges';

const data = workerData as EdgeWorkerData & { port: MessagePort };
let reply: EdgeWorkerReply;
try {
  const dump = openDump(data.dumpPath, data.openOptions);
  try {
    const input = {
      memory: dump.memory,
      lookup: new AddressLookup(data.addresses),
      addresses: data.addresses,
      typeOf: data.typeOf,
      sizes: data.sizes,
      descOf: (t: number) => data.descs[t] ?? null,
      deps: data.deps,
    };
    reply = { result: resolveEdgeRange(input, data.from, data.to, data.edgeStart, data.edgeTarget, data.cursor) };
  } finally {
    dump.close();
  }
} catch (e) {
  reply = { error: e instanceof Error ? e.message : String(e) };
}
data.port.postMessage(reply);
Atomics.store(data.done, data.slot, 1);
Atomics.notify(data.done, data.slot);
void parentPort;
