// Issue 16's parallel heap walk: with 2 and 3 threads (every heap split, however small) the walk visits exactly the
// objects of the one-thread walk, in the same order, with the same sizes, segments, MethodTable numbering and
// problems, on every standard dump; the workers really walked their parts (no silent fallback); and the answers built
// on the walk — dumpheap -stat, -type, -live -stat and the object graph's object table — are identical.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { rootCache } from '../../src/cli/commands/root-cache';
import { Session } from '../../src/cli/session';
import { forEachObject, type WalkProblem } from '../../src/heap/heap-walker';
import { MethodTableIndex } from '../../src/heap/method-table-index';
import { ObjectGraph } from '../../src/heap/object-graph';
import type { WalkChunkReport } from '../../src/heap/parallel-walk';
import { getDump, STANDARD_DUMPS } from '../support/dumps';

const TIMEOUT = 10 * 60_000;

interface Walk {
  readonly addresses: number[];
  readonly mts: number[];
  readonly sizes: number[];
  readonly segments: number[];
  readonly mtIndexes: number[];
  readonly numbering: number[];
  readonly problems: WalkProblem[];
  readonly chunks: readonly WalkChunkReport[];
}

function walk(s: Session, dumpPath: string, workers: number): Walk {
  const w: Walk = { addresses: [], mts: [], sizes: [], segments: [], mtIndexes: [], numbering: [], problems: [], chunks: [] };
  const position = new Map(s.heap.segments.map((seg, i) => [seg, i]));
  const index = new MethodTableIndex();
  let chunks: Walk['chunks'] = [];
  const problems = forEachObject(
    s.heap,
    s.methodTables,
    s.runtime.memory,
    (address, mt, size, segment, mtIndex) => {
      w.addresses.push(address);
      w.mts.push(mt);
      w.sizes.push(size);
      w.segments.push(position.get(segment)!);
      w.mtIndexes.push(mtIndex);
    },
    undefined,
    index,
    workers > 1 ? { workers, dumpPath, openOptions: {}, minBytes: 0, report: (c) => (chunks = c) } : undefined,
  );
  return { ...w, numbering: Array.from(index.addresses.subarray(0, index.count)), problems, chunks };
}

describe('parallel heap walk: the same walk and answers as one thread', { timeout: TIMEOUT }, () => {
  // Split every heap, whatever its size, in the sessions opened with --workers below.
  process.env.DUMPSLEUTH_PARALLEL_WALK_MIN_BYTES = '0';
  for (const d of STANDARD_DUMPS) {
    const label = `${d.scenario} ${d.args.join(' ')} ${d.dumpType} ${d.serverGc ? 'svr' : 'wks'}`.replace(/\s+/g, ' ');
    it(label, { timeout: TIMEOUT }, async () => {
      const dump = await getDump(d.scenario, { args: d.args, dumpType: d.dumpType, serverGc: d.serverGc });
      const one = Session.open(dump.dumpPath);
      const two = Session.open(dump.dumpPath, { workers: 2 });
      try {
        const base = walk(one, dump.dumpPath, 1);
        assert.ok(base.addresses.length > 0);
        for (const workers of [2, 3]) {
          const many = walk(two, dump.dumpPath, workers);
          assert.ok(many.chunks.length >= 2, `${workers} threads: the heap was cut into chunks`);
          assert.deepEqual(
            many.chunks.map((c) => c.byWorker),
            many.chunks.map((c) => c.owner !== 0),
            'the calling thread walked its chunks, the workers all of theirs',
          );
          assert.equal(new Set(many.chunks.map((c) => c.owner)).size, Math.min(workers, many.chunks.length), `${workers} threads: every thread had chunks`);
          assert.equal(many.addresses.length, base.addresses.length, `${workers} threads: object count`);
          for (const key of ['addresses', 'mts', 'sizes', 'segments', 'mtIndexes', 'numbering'] as const) {
            assert.ok(many[key].every((v, i) => v === base[key][i]), `${workers} threads: ${key}`);
          }
          assert.deepEqual(many.problems, base.problems, `${workers} threads: problems`);
        }

        // The commands on the walk, through sessions of 1 and 2 threads.
        const answer = (s: Session, args: string[]): { text: string; json: unknown; warnings: string[] } => {
          const r = dumpheapCommand.run(s, args);
          return { text: r.text, json: r.json, warnings: s.takeWarnings() };
        };
        for (const args of [['-stat'], ['-type', 'System.Threading'], ['-live', '-stat']]) {
          const a = answer(one, args);
          const b = answer(two, args);
          assert.ok(a.text.length > 0, `dumpheap ${args.join(' ')} answered`);
          assert.equal(b.text, a.text, `dumpheap ${args.join(' ')}: text`);
          assert.deepEqual(b.json, a.json, `dumpheap ${args.join(' ')}: JSON`);
          assert.deepEqual(b.warnings, a.warnings, `dumpheap ${args.join(' ')}: warnings`);
        }

        // The object table of the graph (pass 1), built on 2 threads.
        const g1 = rootCache(one).graph;
        const g2 = ObjectGraph.build(two.heap, two.methodTables, two.runtime.memory, [], { workers: 2, dumpPath: dump.dumpPath, openOptions: {}, minWalkBytes: 0 });
        assert.equal(g2.count, g1.count);
        const s1 = g1.toStored();
        const s2 = g2.toStored();
        for (const key of ['addresses', 'typeIndexes', 'methodTables', 'sizes'] as const) {
          const x = s1[key];
          const y = s2[key];
          assert.equal(y.length, x.length, `object table ${key}: length`);
          assert.ok(y.every((v: number, i: number) => v === x[i]), `object table ${key}`);
        }
        assert.deepEqual(s2.problems.walk, s1.problems.walk, 'object table: walk problems');
      } finally {
        one.close();
        two.close();
      }
    });
  }
});
