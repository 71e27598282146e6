// Issue 12, async: `dumpasync` in its forms (chains, --coalesce, --stats, --tasks, --completed, --type) equals
// dotnet-dump's DumpAsyncCommand line for line on every standard dump; on the hang scenario the 25 pending
// OrderPipeline chains hang off the one never-completed TaskCompletionSource task and coalesce into one group of 25.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { getExternalDumps } from '../support/external-dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany, sosLines } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const COMMANDS = [
  'dumpasync',
  'dumpasync --coalesce',
  'dumpasync --tasks --completed',
  'dumpasync --coalesce --tasks --completed',
  'dumpasync --stats --tasks --completed',
  'dumpasync --type LoadAsync',
] as const;

const lines = sosLines;

describe('dumpasync on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: ${COMMANDS.join(', ')} equal dotnet-dump line for line`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = await runSosMany(dump.dumpPath, COMMANDS);
      for (let i = 0; i < COMMANDS.length; i++) {
        const ours = runDumpsleuth(dump.dumpPath, COMMANDS[i]!.split(' '));
        assert.deepEqual(lines(ours.text), lines(sos[i]!), COMMANDS[i]);
        assert.deepEqual(ours.warnings.filter((w) => !/^the heap walk met/.test(w)), []);
      }
      if (entry.scenario === 'hang') {
        // Hang.cs: PendingChainCount = 25 chains ProcessAsync -> LoadAsync -> s_neverReply.Task.
        const coalesced = lines(sos[1]!);
        assert.ok(coalesced.some((l) => /^ {2}\[25\] [0-9a-f]{16} \(0\) Hangs\.OrderPipeline\+<LoadAsync>d__4$/.test(l)), 'SOS coalesces the 25 LoadAsync frames');
        assert.ok(coalesced.some((l) => /^ {4}\[25\] [0-9a-f]{16} \(0\) Hangs\.OrderPipeline\+<ProcessAsync>d__3$/.test(l)));
      }
    });
  }
});

describe('dumpasync on a program we did not write', { timeout: TIMEOUT }, () => {
  it('the ASP.NET Core app under load (heap dump): dumpasync (with its << Awaiting >> frames), --coalesce and --tasks --completed equal dotnet-dump', async () => {
    const web = (await getExternalDumps()).find((d) => d.program === 'web' && d.dumpType === 'heap');
    assert.ok(web, 'the external tier has a web heap dump');
    const commands = COMMANDS.slice(0, 3);
    const sos = await runSosMany(web.dumpPath, commands);
    assert.ok(lines(sos[0]!).some((l) => l.startsWith('<< Awaiting: ')), 'SOS synthesizes awaiter frames on this dump');
    for (let i = 0; i < commands.length; i++) {
      const ours: { text: string } = runDumpsleuth(web.dumpPath, commands[i]!.split(' '));
      assert.deepEqual(lines(ours.text), lines(sos[i]!), commands[i]);
    }
  });
});
