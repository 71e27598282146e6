// Issue 12, clrstack -p/-l/-a: each managed frame's PARAMETERS and LOCALS — names, locations (stack address or
// <CLR reg>), values, <no data> where the debug info has no live location — equal SOS line for line on every
// standard dump, all threads (JIT'd methods, ReadyToRun framework methods, OSR methods with patchpoint info), and on
// the external web and VBCSCompiler dumps. SOS adds ` [file @ line]` to a frame when it finds the app's PDB;
// dumpsleuth does not print source lines yet, so that suffix is left out of the comparison.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { getExternalDumps } from '../support/external-dumps';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const COMMANDS = ['clrstack -a -all', 'clrstack -p -all', 'clrstack -l -all'] as const;

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd().replace(/ \[[^\]]* @ \d+\]$/, ''))
    .filter((l) => l.length > 0);
}

describe('clrstack -a/-p/-l on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: ${COMMANDS.join(', ')} equal SOS line for line`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = await runSosMany(dump.dumpPath, COMMANDS);
      for (let i = 0; i < COMMANDS.length; i++) {
        const ours: { text: string; warnings: string[] } = runDumpsleuth(dump.dumpPath, COMMANDS[i]!.split(' '));
        const expected = lines(sos[i]!);
        assert.ok(expected.some((l) => /^ {4}(PARAMETERS|LOCALS):$/.test(l)), `SOS printed variables for ${COMMANDS[i]}`);
        assert.deepEqual(lines(ours.text), expected, COMMANDS[i]);
        assert.deepEqual(ours.warnings, []);
      }
      if (entry.scenario === 'hang') {
        // Hang.cs: MoveAToB's lock locals hold the two ledger objects; SOS shows them as stack locals with values.
        assert.ok(lines(sos[0]!).some((l) => /^ {8}0x[0-9A-F]{16} = 0x[0-9a-f]{16}$/.test(l)));
        assert.ok(lines(sos[0]!).some((l) => /^ {8}lockTaken \(<CLR reg>\) = 0x[0-9a-f]{16}$/.test(l)), 'a register-held argument');
      }
    });
  }
});

describe('clrstack -a on programs we did not write', { timeout: TIMEOUT }, () => {
  for (const program of ['web', 'vbcscompiler'] as const) {
    it(`${program} (heap dump): clrstack -a -all equals SOS line for line`, async () => {
      const dump = (await getExternalDumps()).find((d) => d.program === program && d.dumpType === 'heap');
      assert.ok(dump, `the external tier has a ${program} heap dump`);
      const [sos] = await runSosMany(dump.dumpPath, ['clrstack -a -all']);
      const ours: { text: string } = runDumpsleuth(dump.dumpPath, ['clrstack', '-a', '-all']);
      assert.deepEqual(lines(ours.text), lines(sos!));
    });
  }
});
