// Issue 12, hangs: `syncblk` (and `syncblk -all`) equal SOS line for line on every standard dump; on the hang
// scenario (test/debuggees/Hang.cs) the held Monitors are the ones the scenario takes, owned by the threads that took
// them (checked against SOS's clrthreads and the scenario's own counts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;

/** The SOS commands this file compares, run in one dotnet-dump process per dump. */
const SOS_COMMANDS = ['syncblk', 'syncblk -all'] as const;

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0);
}

describe('syncblk on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: syncblk and syncblk -all equal SOS line for line`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = await runSosMany(dump.dumpPath, SOS_COMMANDS);
      for (let i = 0; i < SOS_COMMANDS.length; i++) {
        const ours = runDumpsleuth(dump.dumpPath, SOS_COMMANDS[i]!.split(' '));
        const expected = lines(sos[i]!);
        assert.ok(expected.some((l) => l.startsWith('Total ')), `SOS printed a syncblk table: ${sos[i]}`);
        assert.deepEqual(lines(ours.text), expected, SOS_COMMANDS[i]);
        assert.deepEqual(ours.warnings, []);
      }
    });
  }
});

describe('hang scenario: Monitor owners', { timeout: TIMEOUT }, () => {
  for (const serverGc of [false, true]) {
    const dumpType = serverGc ? 'full' : 'heap';
    it(`hang ${dumpType} ${serverGc ? 'server' : 'workstation'}: the two deadlocked ledgers and the report lock are held, with their waiters`, async () => {
      const dump = await getDump('hang', { dumpType, serverGc });
      const ours = runDumpsleuth<{ syncBlocks: { monitorHeld: number; recursion: number; waiters: number; type: string; owningThread: { osId: number } | null }[] }>(dump.dumpPath, ['syncblk']);
      const held = ours.json.syncBlocks.filter((b) => b.type === 'Hangs.LedgerLock');
      // Hang.cs: ledger A and B (one waiter each, the other deadlocked thread), the report lock (recursion 2, two waiters).
      assert.deepEqual(held.map((b) => `${b.recursion}/${b.waiters}`).sort(), ['1/1', '1/1', '2/2']);
      const owners = new Set(held.map((b) => b.owningThread?.osId));
      assert.equal(owners.size, 3, 'three distinct owners');
    });
  }
});
