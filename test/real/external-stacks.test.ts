// Issue 10, SOS parity on programs we did not write: clrstack -all equals SOS on every external dump (the ASP.NET Core
// app, VBCSCompiler, the MSBuild node; heap and full). These stacks have what our debuggees lack: InlinedCallFrames of
// active P/Invokes, which SOS names by their target (`System.Threading.LowLevelLifoSemaphore.<WaitNative>g____PInvoke|3_0`
// on the MSBuild node), and a call-counting stub's Frame, which SOS lists once, named by its method (VBCSCompiler).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clrstackCommand } from '../../src/cli/commands/clrstack';
import { getExternalDumps } from '../support/external-dumps';
import { runCommand } from '../support/run-command';
import { runSos } from '../support/sos';

function lines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('Source file:') && !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store settings:'))
    .map((l) => l.trimEnd().replace(/ \[[^\]]+ @ \d+\]$/, ''));
}

describe('clrstack on the external programs (issue 10)', { timeout: 10 * 60_000 }, () => {
  it('clrstack -all equals SOS on every external dump, named P/Invoke and call-counting Frames included', async () => {
    let namedFrames = 0;
    for (const dump of await getExternalDumps()) {
      const label = `${dump.program} ${dump.dumpType}`;
      const sos = lines(await runSos(dump.dumpPath, 'clrstack -all'));
      const ours = runCommand(dump.dumpPath, clrstackCommand, ['-all']);
      assert.deepEqual(lines(ours.text), sos, label);
      assert.deepEqual(ours.warnings, [], label);
      namedFrames += sos.filter((l) => /\[(InlinedCallFrame|CallCountingHelperFrame): [0-9a-f]+\] \S/.test(l)).length;
    }
    assert.ok(namedFrames > 0, 'SOS names some Frames on these dumps, and so do we');
  });
});
