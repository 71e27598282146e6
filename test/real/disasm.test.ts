// `u` and `gcinfo` on real dumps against SOS (dotnet-dump has no `u`, so `u` is checked through what SOS does print):
// - for the methods on every thread's stack and behind delegates: `u` starts at the method start and its last
//   instruction ends at start + code size, both as SOS's `gcinfo` reports them ("entry point", "Code size"), and
//   SOS's `ip2md` on the start names the same MethodDesc;
// - every call/jump target `u` annotates with a method resolves to the same MethodDesc with SOS's `ip2md` (method
//   code) or is named the same by SOS's `dumpmd` (precodes, which ip2md does not resolve);
// - `gcinfo` text equals SOS's for those methods and a sample of the ReadyToRun methods of every loaded image.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gcinfoCommand } from '../../src/cli/commands/gcinfo';
import { Session } from '../../src/cli/session';
import { compareUWithSos, methodStarts, readyToRunSample, sosAnswerLines } from '../support/code-checks';
import { getDump } from '../support/dumps';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const DUMPS = [
  { scenario: 'seed-apm', dumpType: 'heap', serverGc: false },
  { scenario: 'seed-apm', dumpType: 'full', serverGc: true },
  { scenario: 'types', dumpType: 'full', serverGc: false },
] as const;

describe('u and gcinfo on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of DUMPS) {
    const label = `${entry.scenario} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;

    it(`${label}: u covers the code range SOS reports, and its annotated targets are SOS's methods`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const r = await compareUWithSos(session, dump.dumpPath);
        t.diagnostic(`${r.methods} methods (${r.instructions} instructions), ${r.targets} call targets checked`);
      } finally {
        session.close();
      }
    });

    it(`${label}: gcinfo equals SOS's for stack, delegate and sampled ReadyToRun methods`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      const starts = [...new Set([...methodStarts(session), ...readyToRunSample(session, 400)])];
      const sos = await runSosMany(dump.dumpPath, starts.map((s) => `gcinfo ${s.toString(16)}`));
      let compared = 0;
      starts.forEach((start, i) => {
        const theirs = sosAnswerLines(sos[i]!);
        // SOS cannot always find a ReadyToRun method's code header through the DAC; those are skipped.
        if (theirs[0] === 'No GC info available') return;
        assert.deepEqual(sosAnswerLines(gcinfoCommand.run(session, [start.toString(16)]).text), theirs, `gcinfo ${start.toString(16)}`);
        compared++;
      });
      assert.ok(compared >= 50, `only ${compared} methods compared`);
      session.close();
    });
  }
});
