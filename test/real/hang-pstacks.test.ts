// Issue 12, merged stacks: `parallelstacks` and `pstacks -a` equal dotnet-dump's line for line on every standard
// dump (the tree, the thread ids of each group, the counts, the frame names and the closing thread/root counts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { getExternalDumps } from '../support/external-dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany, sosLines } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const COMMANDS = ['parallelstacks', 'pstacks -a'] as const;

const lines = sosLines;

describe('parallelstacks on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: ${COMMANDS.join(', ')} equal dotnet-dump line for line`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = await runSosMany(dump.dumpPath, COMMANDS);
      for (let i = 0; i < COMMANDS.length; i++) {
        const expected = lines(sos[i]!);
        assert.ok(expected.some((l) => /^==> \d+ threads with \d+ roots$/.test(l)), `dotnet-dump printed ${COMMANDS[i]}`);
        const ours = runDumpsleuth(dump.dumpPath, COMMANDS[i]!.split(' '));
        assert.deepEqual(lines(ours.text), expected, COMMANDS[i]);
        assert.deepEqual(ours.warnings, []);
      }
      if (entry.scenario === 'hang') {
        // The scenario's shapes: two ReportWriter.WaitForReport waiters merged into one group of 2.
        assert.ok(lines(sos[0]!).some((l) => /^\s+2 Hangs\.ReportWriter\.WaitForReport\(\)$/.test(l)));
      }
    });
  }
});

describe('parallelstacks on programs we did not write', { timeout: TIMEOUT }, () => {
  for (const program of ['web', 'vbcscompiler'] as const) {
    it(`${program} (full dump): parallelstacks equals dotnet-dump line for line`, async () => {
      const dump = (await getExternalDumps()).find((d) => d.program === program && d.dumpType === 'full');
      assert.ok(dump, `the external tier has a ${program} full dump`);
      const [sos] = await runSosMany(dump.dumpPath, ['parallelstacks']);
      assert.deepEqual(lines(runDumpsleuth(dump.dumpPath, ['parallelstacks']).text), lines(sos!));
    });
  }
});
