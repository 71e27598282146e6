// Issue 12, timers: `timerinfo` equals SOS's TimersCommand line for line on every standard dump and on leak-timer
// (instance callbacks), except where SOS leaves a static callback empty (its `_methodPtr` is a shuffle thunk): there
// dumpsleuth names the method, and SOS's own `dumpdelegate` on that callback must name the same method.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS, type StandardDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSos, runSosMany, sosLines } from '../support/sos';

const TIMEOUT = 10 * 60_000;

const lines = sosLines;

interface TimerJson {
  readonly address: string;
  readonly callback: string;
  readonly method: string;
  readonly callbackFrom: string;
}

const DUMPS: readonly StandardDump[] = [...STANDARD_DUMPS, { scenario: 'leak-timer', args: [], dumpType: 'heap', serverGc: false }];

describe('timerinfo on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: timerinfo equals SOS; callbacks SOS leaves empty are the ones its dumpdelegate names`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const expected = lines(await runSos(dump.dumpPath, 'timerinfo'));
      const ours = runDumpsleuth<{ timers: TimerJson[] }>(dump.dumpPath, ['timerinfo']);
      assert.deepEqual(ours.warnings, []);
      const got = lines(ours.text);
      assert.equal(got.length, expected.length, 'line count');
      assert.ok(expected.some((l) => / timers$/.test(l)), 'SOS printed its summary');
      const extended = new Map<string, string>();
      for (let i = 0; i < expected.length; i++) {
        const sos = expected[i]!;
        if (sos.endsWith(' ->') && got[i] !== sos) {
          // SOS found no method: ours must be SOS's line plus a method name.
          assert.ok(got[i]!.startsWith(`${sos} `), `line ${i}: ${got[i]} extends ${sos}`);
          const address = /0x([0-9A-F]{16}) @/.exec(sos)?.[1];
          if (address !== undefined) extended.set(address.toLowerCase(), got[i]!.slice(sos.length + 1));
        } else {
          assert.equal(got[i], sos, `line ${i}`);
        }
      }
      // Each callback named beyond SOS: SOS's dumpdelegate shows the same Type.Method.
      const byAddress = new Map(ours.json.timers.map((t) => [BigInt(t.address).toString(16).padStart(16, '0'), t]));
      const checks = [...extended].slice(0, 5).map(([address, method]) => ({ timer: byAddress.get(address)!, method }));
      const delegates = await runSosMany(dump.dumpPath, checks.map((c) => `dumpdelegate ${c.timer.callback}`));
      checks.forEach((c, k) => {
        const row = lines(delegates[k]!).find((l) => /^[0-9a-f]{16} [0-9a-f]{16} /.test(l));
        assert.ok(row, `SOS dumpdelegate ${c.timer.callback} names a method`);
        const sosMethod = row.split(' ').slice(2).join(' ').replace(/\(.*$/, '');
        assert.equal(c.method, sosMethod, `timer ${c.timer.address}`);
      });
      if (entry.scenario === 'hang') assert.equal(checks.length, 3, 'the three Hangs.TimerCallbacks.OnTick timers');
    });
  }
});
