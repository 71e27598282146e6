// Issue 16's worker threads: the graph build's reference pass split over 2 and 3 threads gives exactly the graph of
// the one-thread build (every edge offset, every edge in order, the same problems) on every standard dump, and the
// workers really did their ranges (not a silent fallback to the calling thread).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObjectGraph } from '../../src/heap/object-graph';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { sessionFor } from '../support/run-command';
import { rootCache } from '../../src/cli/commands/root-cache';

const TIMEOUT = 10 * 60_000;

describe('parallel graph build: the same graph as one thread', { timeout: TIMEOUT }, () => {
  for (const d of STANDARD_DUMPS) {
    const label = `${d.scenario} ${d.args.join(' ')} ${d.dumpType} ${d.serverGc ? 'svr' : 'wks'}`.replace(/\s+/g, ' ');
    it(label, { timeout: TIMEOUT }, async () => {
      const dump = await getDump(d.scenario, { args: d.args, dumpType: d.dumpType, serverGc: d.serverGc });
      const s = sessionFor(dump.dumpPath);
      const dependents = rootCache(s)
        .handles.filter((h) => h.kind === 'dependent' && h.secondary !== 0)
        .map((h) => ({ primary: h.target, secondary: h.secondary }));
      const one = ObjectGraph.build(s.heap, s.methodTables, s.runtime.memory, dependents);
      assert.ok(one.edgeCount > 0);
      for (const workers of [2, 3]) {
        let ranges: readonly { from: number; to: number; byWorker: boolean }[] = [];
        const many = ObjectGraph.build(s.heap, s.methodTables, s.runtime.memory, dependents, {
          workers,
          dumpPath: dump.dumpPath,
          openOptions: {},
          report: (r) => (ranges = r),
        });
        assert.equal(ranges.length, workers, `${workers} ranges`);
        assert.deepEqual(
          ranges.map((r) => r.byWorker),
          [false, ...Array<boolean>(workers - 1).fill(true)],
          'the calling thread did the first range, a worker each of the others',
        );
        assert.equal(ranges[0]!.from, 0);
        assert.equal(ranges[ranges.length - 1]!.to, one.count);
        assert.equal(many.count, one.count);
        assert.equal(many.edgeCount, one.edgeCount, `${workers} threads: edge count`);
        assert.ok(Buffer.from(many.edgeStart.buffer, many.edgeStart.byteOffset, many.edgeStart.byteLength).equals(Buffer.from(one.edgeStart.buffer, one.edgeStart.byteOffset, one.edgeStart.byteLength)), `${workers} threads: edge offsets`);
        assert.ok(Buffer.from(many.edgeTarget.buffer, many.edgeTarget.byteOffset, many.edgeTarget.byteLength).equals(Buffer.from(one.edgeTarget.buffer, one.edgeTarget.byteOffset, one.edgeTarget.byteLength)), `${workers} threads: edges`);
        assert.deepEqual(many.problems, one.problems, `${workers} threads: problems`);
      }
      s.close();
    });
  }
});
