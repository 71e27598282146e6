// Precise stack roots (GC info v4 decoding over the managed stack walk) against the DAC's own stack-root enumeration
// through ClrMD (test/oracles/clrmd-stack) on every standard dump: the same roots per thread (frame SP, stack slot
// or register, raw value, interior and pinned flags), and every root keeps a real heap object alive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { enumerateStackRoots } from '../../src/runtime/code/stack-roots';
import { readThreads } from '../../src/runtime/thread-store';
import { assertStackRootsMatchClrmd, runClrmdStackRoots, stackRootKey } from '../support/clrmd-stack';
import { getDump, STANDARD_DUMPS } from '../support/dumps';

const TIMEOUT = 10 * 60_000;
const hex = (n: number) => '0x' + n.toString(16);

/** Object starts and ends of the whole heap, for "inside which object" questions (sorted by the heap walk). */
function heapIndex(session: Session): { starts: number[]; ends: number[] } {
  const starts: number[] = [];
  const ends: number[] = [];
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, _mt, size) => {
    starts.push(address);
    ends.push(address + size);
  });
  const order = starts.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
  return { starts: order.map((i) => starts[i]!), ends: order.map((i) => ends[i]!) };
}

function containing(index: { starts: number[]; ends: number[] }, value: number): number | undefined {
  let lo = 0;
  let hi = index.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (index.starts[mid]! <= value) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && value < index.ends[found]! ? index.starts[found] : undefined;
}


describe('precise stack roots on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: every thread's roots equal the DAC's (ClrMD), and each keeps a heap object alive`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const oracle = await runClrmdStackRoots(dump.dumpPath);
      const session = Session.open(dump.dumpPath);
      const index = heapIndex(session);
      const threads = readThreads(session.runtime);
      let compared = 0;
      let interior = 0;
      for (const ot of oracle.threads) {
        const t = threads.find((x) => x.osId === ot.osId);
        const core = session.dump.threads.find((c) => c.tid === ot.osId);
        assert.ok(t && core, `thread ${ot.osId} is in the dump and the thread store`);
        const result = enumerateStackRoots(session.runtime, t, core.registers);
        const excused = assertStackRootsMatchClrmd(result, ot.raw, `thread ${ot.osId}`);
        compared += result.roots.length;
        // With interior resolution, each root names an object the heap walk finds, as ClrMD's resolved roots do.
        const resolved = enumerateStackRoots(session.runtime, t, core.registers, { containingObject: (v) => containing(index, v) });
        for (const r of resolved.roots) {
          if (r.interior) interior++;
          assert.equal(containing(index, r.object), r.object, `root ${stackRootKey(r)} keeps object ${hex(r.object)} alive`);
        }
        const clrmdObjects = ot.resolved.filter((r) => r.object !== '0x0' && !excused.has(r.address)).map((r) => r.object).sort();
        assert.deepEqual(resolved.roots.map((r) => hex(r.object)).sort(), clrmdObjects, `thread ${ot.osId}: resolved objects equal ClrMD's`);
      }
      assert.ok(compared >= 10, `only ${compared} roots compared`);
      assert.ok(interior >= 0);
      session.close();
    });
  }
});
