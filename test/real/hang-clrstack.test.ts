// Issue 12, clrstack -p/-l/-a: each managed frame's PARAMETERS and LOCALS — names, locations (stack address or
// <CLR reg>), values, <no data> where the debug info has no live location — equal SOS line for line on every
// standard dump, all threads (JIT'd methods, ReadyToRun framework methods, OSR methods with patchpoint info), and on
// the external web and VBCSCompiler dumps; and the ` [file @ line]` SOS adds to a frame whose module's portable PDB
// is on disk next to it (the debuggees' are wherever the dump's module path still exists, as on a fresh machine).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { findRepoRoot } from '../../src/capture';
import { Session } from '../../src/cli/session';
import { clrstackCommand } from '../../src/cli/commands/clrstack';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { getExternalDumps } from '../support/external-dumps';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const COMMANDS = ['clrstack -a -all', 'clrstack -p -all', 'clrstack -l -all', 'clrstack -all'] as const;

function lines(text: string, keepSource = true): string[] {
  return text
    .split('\n')
    .map((l) => (keepSource ? l.trimEnd() : l.trimEnd().replace(/ \[[^\]]* @ \d+\]$/, '')))
    .filter((l) => l.length > 0);
}

/** True when the debuggee's PDB is on disk next to the module path the dump records (as when the dump and SOS's
 * cached answer were made on this machine); source lines are compared only then. */
function debuggeePdbOnDisk(dumpPath: string): boolean {
  const modules = runDumpsleuth(dumpPath, ['clrmodules']).text.split('\n');
  const dll = modules.map((l) => /\s(\/\S*\/Debuggees\.dll)$/.exec(l)?.[1]).find((p) => p !== undefined);
  return dll !== undefined && fs.existsSync(path.join(path.dirname(dll), 'Debuggees.pdb'));
}

describe('clrstack -a/-p/-l on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: ${COMMANDS.join(', ')} equal SOS line for line`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = await runSosMany(dump.dumpPath, COMMANDS);
      const withSource = debuggeePdbOnDisk(dump.dumpPath);
      for (let i = 0; i < COMMANDS.length; i++) {
        const ours: { text: string; warnings: string[] } = runDumpsleuth(dump.dumpPath, COMMANDS[i]!.split(' '));
        const expected = lines(sos[i]!, withSource);
        if (i < 3) assert.ok(expected.some((l) => /^ {4}(PARAMETERS|LOCALS):$/.test(l)), `SOS printed variables for ${COMMANDS[i]}`);
        assert.deepEqual(lines(ours.text, withSource), expected, COMMANDS[i]);
        assert.deepEqual(ours.warnings, []);
      }
      // Source lines: where SOS found the debuggee's PDB, so did we (the comparison above includes them).
      const withLines = lines(sos[3]!).filter((l) => / \[[^\]]+\.cs @ \d+\]$/.test(l)).length;
      if (withLines > 0) assert.ok(lines(sos[3]!).some((l) => /Debuggees\.Program\.Main\(System\.String\[\]\) \[.*Program\.cs @ \d+\]$/.test(l)), 'Main has its line');
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

describe('clrstack source lines: a PDB that is not the image\'s', { timeout: TIMEOUT }, () => {
  it('a Debuggees.pdb under --image-path whose id differs from the image\'s CodeView record gives no lines and a warning', async () => {
    const dump = await getDump('hang', { dumpType: 'heap', serverGc: false });
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-pdb-'));
    try {
      // The debuggee's PDB with one byte of its #Pdb id changed: as a rebuild would leave it.
      const built = path.join(findRepoRoot(), 'test', 'debuggees', 'bin', 'dumpsleuth', 'Debuggees.pdb');
      const bytes = Buffer.from(fs.readFileSync(built));
      const pdbStream = bytes.indexOf(Buffer.from('#Pdb\0', 'latin1'));
      assert.ok(pdbStream > 0, 'the built PDB is a portable PDB');
      const offset = bytes.readUInt32LE(pdbStream - 8);
      bytes[offset] = bytes[offset]! ^ 0xff;
      fs.writeFileSync(path.join(temp, 'Debuggees.pdb'), bytes);
      const plain = Session.open(dump.dumpPath);
      const session = Session.open(dump.dumpPath, { imagePath: temp });
      try {
        // Lines, if any, come only from the real PDB next to the module (present when the dump was made here).
        const expected = clrstackCommand.run(plain, ['-all']).text;
        const text = clrstackCommand.run(session, ['-all']).text;
        assert.equal(text, expected, 'the impostor adds or changes no source line');
        assert.ok(session.takeWarnings().some((w) => /Debuggees\.pdb is not the PDB of .*Debuggees\.dll/.test(w)), 'a warning names the rejected PDB');
      } finally {
        session.close();
        plain.close();
      }
    } finally {
      fs.rmSync(temp, { recursive: true, force: true });
    }
  });
});
