// Issue 12, crashes: the crash scenario (test/debuggees/Crash.cs) dies of an unhandled InvalidOperationException with
// an inner FormatException and the runtime writes its own heap dump (DOTNET_DbgEnableMiniDump). `pe -nested`,
// `clrthreads` (its Exception column), `dumpexceptions` and `syncblk` equal SOS line for line; analyze's first
// finding is the crash, naming the thread, the exceptions and the methods that threw them as SOS's pe shows them.
// Controls: the hang and leak-controls dumps (no exception in flight) get no crash finding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CRASH_SCENARIO, getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany, sosLines } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const COMMANDS = ['pe -nested', 'clrthreads', 'dumpexceptions', 'syncblk'] as const;

const lines = sosLines;

interface CrashFinding {
  rule: string;
  severity: string;
  culprit: { method: string } | null;
  details?: { thread?: { osId: number }; exceptions?: { address: string; type: string; thrownIn: string | null }[] };
}

describe('crash dump', { timeout: TIMEOUT }, () => {
  it(`${COMMANDS.join(', ')} equal SOS line for line`, async () => {
    const dump = await getDump(CRASH_SCENARIO);
    const sos = await runSosMany(dump.dumpPath, COMMANDS);
    for (let i = 0; i < COMMANDS.length; i++) {
      const ours = runDumpsleuth(dump.dumpPath, COMMANDS[i]!.split(' '));
      assert.deepEqual(lines(ours.text), lines(sos[i]!), COMMANDS[i]);
    }
    assert.ok(sos[0]!.includes('Nested exception ---'), 'SOS shows the nested (inner, still being handled) exception');
  });

  it("analyze's first finding is the crash SOS's pe -nested shows", async () => {
    const dump = await getDump(CRASH_SCENARIO);
    const [pe, threads] = await runSosMany(dump.dumpPath, ['pe -nested', 'clrthreads']);
    const sosExceptions = [...pe!.matchAll(/^Exception object: ([0-9a-f]+)$/gm)].map((m) => parseInt(m[1]!, 16));
    // The first frame of each exception's generated stack trace: where it was thrown (`Module!Method+0xOFF`).
    const sosThrowers = pe!.split('Exception object:').slice(1).map((block) => /^\s+[0-9A-F]{16} [0-9A-F]{16} [^!]+!(.*)\+0x[0-9a-f]+$/m.exec(block)?.[1]);
    const crashing = /^\s+\d+\s+\d+\s+([0-9a-f]+) .* System\.InvalidOperationException [0-9a-f]{16}/m.exec(threads!);
    assert.ok(crashing, threads);
    const ours = runDumpsleuth<{ findings: CrashFinding[] }>(dump.dumpPath, ['analyze']);
    const first = ours.json.findings[0]!;
    assert.equal(first.rule, 'unhandled-exception');
    assert.equal(first.severity, 'error');
    assert.equal(first.details?.thread?.osId, parseInt(crashing[1]!, 16), 'the thread SOS shows with the exception');
    const exceptions = first.details?.exceptions ?? [];
    assert.deepEqual(exceptions.map((e) => parseInt(e.address, 16)), sosExceptions, 'the exception and its inner one, as pe -nested lists them');
    assert.deepEqual(exceptions.map((e) => e.thrownIn), sosThrowers);
    assert.deepEqual(exceptions.map((e) => e.type), ['System.InvalidOperationException', 'System.FormatException']);
    assert.equal(first.culprit?.method, 'Crashes.OrderImporter.Import(Int32, System.String)');
  });

  for (const scenario of ['hang', 'leak-controls']) {
    it(`${scenario}: no crash finding (control)`, async () => {
      const dump = await getDump(scenario);
      const ours = runDumpsleuth<{ findings: CrashFinding[] }>(dump.dumpPath, ['analyze', '-rule', 'unhandled-exception']);
      assert.deepEqual(ours.json.findings, []);
    });
  }
});
