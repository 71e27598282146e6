// Issue 10, SOS parity: dumpobj lists each thread's value of a thread-static field under its TLstatic row, as SOS
// does ("<OS thread id>:<value>", one line per thread that has storage for it). System.Threading.Thread's
// t_currentThread is such a field on every process: each thread's value is its own Thread object.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { dumpobjCommand } from '../../src/cli/commands/dumpobj';
import { getDump } from '../support/dumps';
import { runCommand } from '../support/run-command';
import { currentThreadBlock } from '../support/object-checks';
import { runSosMany } from '../support/sos';

describe('thread-static values in dumpobj (issue 10)', { timeout: 10 * 60_000 }, () => {
  for (const serverGc of [false, true]) {
    it(`seed-apm full ${serverGc ? 'server' : 'workstation'}: every Thread object's t_currentThread values equal SOS`, async () => {
      const dump = await getDump('seed-apm', { dumpType: 'full', serverGc });
      const threads = runCommand<{ objects: { address: string }[] }>(dump.dumpPath, dumpheapCommand, ['-type', 'System.Threading.Thread']).json.objects;
      const addresses = threads.map((o) => o.address.replace(/^0x/, ''));
      const sos = await runSosMany(dump.dumpPath, addresses.map((a) => `dumpobj ${a}`));
      let values = 0;
      addresses.forEach((a, k) => {
        const expected = currentThreadBlock(sos[k]!);
        if (expected.length === 0) return; // not a System.Threading.Thread (a derived or nested type matched -type)
        const ours = runCommand(dump.dumpPath, dumpobjCommand, [a]);
        assert.deepEqual(currentThreadBlock(ours.text), expected, `dumpobj ${a}`);
        values += expected.length - 2;
      });
      assert.ok(values >= 2, `SOS lists per-thread values (${values})`);
    });
  }
});
