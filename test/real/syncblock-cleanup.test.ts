// Issue 10, SOS parity: finalizequeue starts, as SOS's does, with the SyncBlocks the finalizer thread will clean up
// (SyncBlockCache's cleanup list) and the COM interface counts. .NET 11's descriptor names the cache; on .NET 10 it is
// found through g_dacTable (the entry after g_pSyncTable on Unix), and the .NET 11 dumps check that way against the
// descriptor. The lines before the queues equal SOS's on our dumps, the external programs' and .NET 11's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finalizequeueCommand } from '../../src/cli/commands/finalizequeue';
import { readSyncBlockCleanup, syncBlockCacheFromDacTable } from '../../src/runtime/sync-block-cleanup';
import { getDump } from '../support/dumps';
import { getExternalDumps } from '../support/external-dumps';
import { extraRuntimeDumps } from '../support/extra-runtime-dumps';
import { runCommand, sessionFor } from '../support/run-command';
import { runSos } from '../support/sos';

/** The lines before the first `----` separator, without blank lines. */
function head(text: string): string[] {
  const lines = text.split('\n');
  return lines.slice(0, lines.findIndex((l) => l.startsWith('----'))).filter((l) => l.trim() !== '');
}

async function dumpsToCheck(): Promise<{ label: string; dumpPath: string }[]> {
  const out: { label: string; dumpPath: string }[] = [];
  for (const scenario of ['leak-event', 'leak-finalizer', 'hang']) out.push({ label: scenario, dumpPath: (await getDump(scenario, { dumpType: 'heap' })).dumpPath });
  for (const d of await getExternalDumps()) if (d.dumpType === 'heap') out.push({ label: `external ${d.program}`, dumpPath: d.dumpPath });
  for (const e of extraRuntimeDumps().filter((x) => x.runtimePack.startsWith('11') && x.scenario.startsWith('leak-')).slice(0, 2)) {
    out.push({ label: `${e.scenario} on ${e.runtimePack}`, dumpPath: (await getDump(e.scenario, e)).dumpPath });
  }
  return out;
}

describe('finalizequeue: SyncBlocks to be cleaned up (issue 10)', { timeout: 10 * 60_000 }, () => {
  it('the lines before the queues equal SOS', async () => {
    for (const { label, dumpPath } of await dumpsToCheck()) {
      const sos = await runSos(dumpPath, 'finalizequeue -stat');
      const ours = runCommand(dumpPath, finalizequeueCommand, ['-stat']);
      assert.ok(head(sos).some((l) => l.startsWith('SyncBlocks to be cleaned up:')), `${label}: SOS prints the cleanup count`);
      assert.deepEqual(head(ours.text), head(sos), label);
      assert.deepEqual(ours.warnings, [], label);
    }
  });

  it(".NET 10's way to the cache (g_dacTable after g_pSyncTable) finds the cache .NET 11's descriptor names", async (t) => {
    const net11 = extraRuntimeDumps().filter((x) => x.runtimePack.startsWith('11'));
    if (net11.length === 0) {
      t.skip('no .NET 11 dumps (DUMPSLEUTH_EXTRA_RUNTIMES=0)');
      return;
    }
    for (const e of net11.slice(0, 3)) {
      const session = sessionFor((await getDump(e.scenario, e)).dumpPath);
      const rt = session.runtime;
      assert.equal(syncBlockCacheFromDacTable(rt), rt.descriptor.global('SyncBlockCache'));
      assert.equal(readSyncBlockCleanup(rt).source, 'descriptor');
    }
    const ten = sessionFor((await getDump('leak-event', { dumpType: 'heap' })).dumpPath);
    assert.equal(ten.runtime.descriptor.tryGlobal('SyncBlockCache'), undefined, ".NET 10's descriptor has no SyncBlockCache");
    assert.equal(readSyncBlockCleanup(ten.runtime).source, 'g_dacTable');
  });
});
