// Issue 6's "Must show" for dominators on real dumps (types and seed-apm; heap and full; workstation and server GC):
// for ~30 live objects per dump, `retained <addr>` equals the bytes that become unreachable when the object is
// removed and everything is re-marked from the same strong roots (brute force over the graph's references, no
// dominator tree involved); `dominators` lists objects in retained order with the same retained sizes, and a type's
// retained size never exceeds the live bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analysisContextOf } from '../../src/cli/commands/analyze';
import { dominatorsCommand } from '../../src/cli/commands/dominators';
import { retainedCommand } from '../../src/cli/commands/retained';
import { NO_OBJECT, type ObjectGraph } from '../../src/heap/object-graph';
import { getDump } from '../support/dumps';
import { runCommand, sessionFor } from '../support/run-command';

const TIMEOUT = 10 * 60_000;
const SAMPLES = 30;

interface RetainedJson {
  address: string;
  reachable: boolean;
  retained: number;
  retainedObjects: number;
}

interface DominatorsJson {
  liveBytes: number;
  objects: { address: string; retained: number }[];
  types: { type: string; retained: number; size: number }[];
}

/** Marks everything reachable from `roots` without passing through `removed` (-1: nothing removed). */
function mark(graph: ObjectGraph, roots: readonly number[], removed: number): Uint8Array {
  const seen = new Uint8Array(graph.count);
  const stack: number[] = [];
  for (const r of roots) {
    if (r === removed || seen[r]) continue;
    seen[r] = 1;
    stack.push(r);
  }
  while (stack.length > 0) {
    const v = stack.pop()!;
    for (let e = graph.edgeStart[v]!; e < graph.edgeStart[v + 1]!; e++) {
      const t = graph.edgeTarget[e]!;
      if (t === removed || seen[t]) continue;
      seen[t] = 1;
      stack.push(t);
    }
  }
  return seen;
}

const CASES = [
  { scenario: 'types', dumpType: 'heap', serverGc: false },
  { scenario: 'types', dumpType: 'full', serverGc: true },
  { scenario: 'seed-apm', dumpType: 'heap', serverGc: false },
  { scenario: 'seed-apm-overlapped', dumpType: 'full', serverGc: false },
] as const;

for (const c of CASES) {
  describe(`dominators on ${c.scenario} ${c.dumpType} ${c.serverGc ? 'svr' : 'wks'}`, { timeout: TIMEOUT }, () => {
    it('retained sizes equal brute force (remove the object, re-mark from the same roots, measure)', async () => {
      const dump = await getDump(c.scenario, { dumpType: c.dumpType, serverGc: c.serverGc });
      const ctx = analysisContextOf(sessionFor(dump.dumpPath));
      const g = ctx.graph;
      const roots = [...new Set(ctx.roots.map((r) => g.indexOf(r.object)).filter((i) => i !== NO_OBJECT))];
      const all = mark(g, roots, -1);
      const live: number[] = [];
      for (let i = 0; i < g.count; i++) if (all[i]) live.push(i);
      assert.ok(live.length > SAMPLES, `${live.length} live objects`);
      // Samples: the objects that retain the most (the interesting ones) and an even spread over the rest.
      const byRetained = [...live].sort((a, b) => ctx.retainedSizes[b]! - ctx.retainedSizes[a]!);
      const step = Math.max(1, Math.floor(live.length / (SAMPLES - 10)));
      const samples = [...new Set([...byRetained.slice(0, 10), ...live.filter((_, k) => k % step === 0)])].slice(0, SAMPLES + 10);
      let nontrivial = 0;
      for (const x of samples) {
        const without = mark(g, roots, x);
        let bytes = 0;
        let objects = 0;
        for (const i of live) {
          if (!without[i]) {
            bytes += g.sizes[i]!;
            objects++;
          }
        }
        const ours = runCommand<RetainedJson>(dump.dumpPath, retainedCommand, ['0x' + g.addresses[x]!.toString(16)]).json;
        assert.equal(ours.reachable, true);
        assert.equal(ours.retained, bytes, `retained of 0x${g.addresses[x]!.toString(16)} ${ctx.typeName(x)}`);
        assert.equal(ours.retainedObjects, objects, `retained object count of 0x${g.addresses[x]!.toString(16)}`);
        if (objects > 1) nontrivial++;
      }
      assert.ok(nontrivial >= 5, `${nontrivial} samples retain more than themselves`);
    });

    it('dominators lists objects by retained size, consistent with retained', async () => {
      const dump = await getDump(c.scenario, { dumpType: c.dumpType, serverGc: c.serverGc });
      const d = runCommand<DominatorsJson>(dump.dumpPath, dominatorsCommand, ['-limit', '15']).json;
      assert.equal(d.objects.length, 15);
      for (let k = 1; k < d.objects.length; k++) assert.ok(d.objects[k - 1]!.retained >= d.objects[k]!.retained, 'sorted by retained size');
      for (const o of d.objects.slice(0, 5)) assert.equal(runCommand<RetainedJson>(dump.dumpPath, retainedCommand, [o.address]).json.retained, o.retained);
      for (const t of d.types) {
        assert.ok(t.retained <= d.liveBytes && t.retained >= 0, `${t.type} retains ${t.retained} of ${d.liveBytes}`);
      }
      const filtered = runCommand<DominatorsJson>(dump.dumpPath, dominatorsCommand, ['-type', 'System.String', '-limit', '5']).json;
      assert.ok(filtered.types.every((t) => t.type.includes('System.String')));
    });
  });
}
