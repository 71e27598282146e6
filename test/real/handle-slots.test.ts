// Issue 10: how many handle tables each bucket has comes from the runtime's own data where the dump holds it. On server
// GC the runtime makes one table per processor (objecthandle.cpp getNumberOfSlots); .NET 11's GC publishes that
// processor count (`TotalCpuCount`, the number its DAC walks since dotnet/runtime#124875), .NET 10 records it nowhere a
// reader can find, so there the slots are validated one by one until one fails.
// - .NET 11 server dumps: the count is TotalCpuCount, and the probe .NET 10 needs finds exactly the same tables and
//   handles on them (the probe checked against the runtime's own count);
// - workstation dumps: one slot, from the GC mode;
// - .NET 10 server dumps (ours and the ASP.NET Core app): the probe never ends before the GC's heap count, and info
//   says how the count was found.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { infoCommand } from '../../src/cli/commands/info';
import { handleSlotCountOf, readGcHandles, type HandleSlotCount } from '../../src/runtime/gc/handle-table';
import { getDump } from '../support/dumps';
import { getExternalDumps } from '../support/external-dumps';
import { extraRuntimeDumps } from '../support/extra-runtime-dumps';
import { runCommand, sessionFor } from '../support/run-command';

const TIMEOUT = 10 * 60_000;

function walk(dumpPath: string, known: HandleSlotCount | undefined): { slots: HandleSlotCount; handles: string[]; problems: string[] } {
  const session = sessionFor(dumpPath);
  const problems: string[] = [];
  const out: { slots?: HandleSlotCount } = {};
  const handles = readGcHandles(session.runtime, session.heap.vars, problems, known, out);
  return { slots: out.slots!, handles: handles.map((h) => `${h.address}:${h.kind}:${h.target}:${h.slot}`), problems };
}

describe('handle table slots from the runtime (issue 10)', { timeout: TIMEOUT }, () => {
  const net11Server = extraRuntimeDumps().filter((d) => d.runtimePack.startsWith('11') && d.serverGc);
  it(".NET 11 server GC: the GC's TotalCpuCount, and the .NET 10 probe finds the same tables and handles", async (t) => {
    if (net11Server.length === 0) {
      t.skip('no .NET 11 server-GC dumps (DUMPSLEUTH_EXTRA_RUNTIMES=0)');
      return;
    }
    for (const entry of net11Server) {
      const dump = await getDump(entry.scenario, entry);
      const session = sessionFor(dump.dumpPath);
      const known = handleSlotCountOf(session.runtime, session.heap.vars, session.heap.gcSubDescriptor);
      assert.equal(known?.source, 'TotalCpuCount', `${dump.dumpPath}: the GC sub-descriptor has TotalCpuCount`);
      const heaps = session.heap.heaps.length;
      assert.ok(known.count >= heaps, `one table per CPU: ${known.count} >= ${heaps} heaps`);
      const counted = walk(dump.dumpPath, known);
      const probed = walk(dump.dumpPath, undefined);
      assert.deepEqual(counted.slots, known);
      assert.deepEqual(probed.slots, { count: known.count, source: 'probe' }, 'the probe stops where the runtime says the tables end');
      assert.deepEqual(probed.handles, counted.handles);
      assert.deepEqual(counted.problems, []);
      assert.match(runCommand(dump.dumpPath, infoCommand, []).text, new RegExp(`Handle tables: +${known.count} per bucket, one per CPU \\(the GC's TotalCpuCount\\)`));
    }
  });

  it('workstation GC: one slot, from the GC mode', async () => {
    const dump = await getDump('seed-apm', { serverGc: false });
    const session = sessionFor(dump.dumpPath);
    assert.deepEqual(handleSlotCountOf(session.runtime, session.heap.vars, session.heap.gcSubDescriptor), { count: 1, source: 'workstation' });
    const w = walk(dump.dumpPath, { count: 1, source: 'workstation' });
    assert.ok(w.handles.length > 0);
    assert.deepEqual(w.problems, []);
  });

  it('.NET 10 server GC (a debuggee and the ASP.NET Core app): no recorded count, a probe that reaches at least every heap, said by info', async () => {
    const ours = await getDump('seed-apm', { serverGc: true, dumpType: 'heap' });
    const web = (await getExternalDumps()).find((d) => d.program === 'web' && d.dumpType === 'heap');
    assert.ok(web, 'the ASP.NET Core heap dump');
    for (const dumpPath of [ours.dumpPath, web.dumpPath]) {
      const session = sessionFor(dumpPath);
      assert.equal(session.heap.gcSubDescriptor, undefined, '.NET 10 has no GC sub-descriptor');
      assert.equal(handleSlotCountOf(session.runtime, session.heap.vars, undefined), undefined);
      const w = walk(dumpPath, undefined);
      assert.equal(w.slots.source, 'probe');
      assert.ok(w.slots.count >= session.heap.heaps.length, `${w.slots.count} slots >= ${session.heap.heaps.length} heaps`);
      assert.deepEqual(w.problems, []);
      assert.match(runCommand(dumpPath, infoCommand, []).text, new RegExp(`Handle tables: +${w.slots.count} per bucket, one per CPU \\(found by validating each slot`));
    }
  });
});
