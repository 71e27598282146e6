// Issue 11 on 11.0.0: the stack and hang commands against SOS (setclrpath at the app folder) on every 11 dump of the
// extra-runtime tier, heap and full, workstation and server, the hang scenario among them (and on 10.0.15's seed-apm
// dumps, .NET 10's debug-info format on another patch). clrstack -a/-p/-l read
// .NET 11's debug info (DebugInfo contract c1: fat/slim header, 3-bit source flags, variables number-first), and the
// source lines come from it too; dumpasync, timerinfo, parallelstacks, pe -nested, dumpexceptions and syncblk equal
// SOS as on the SDK's runtime. One dotnet-dump run per dump asks every command (answers cached per command).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DumpFormatError } from '../../src/errors';
import { readMethodDebugInfo } from '../../src/runtime/code/debug-info';
import { readMethodDebugInfoC1 } from '../../src/runtime/code/debug-info-c1';
import { readBlockDebugInfo } from '../../src/runtime/code/method-debug-info';
import { codeResolverOf } from '../../src/runtime/code/code-resolver';
import { Session } from '../../src/cli/session';
import { walkManagedThread } from '../../src/cli/commands/clrstack';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { extraDumpLabel, extraRuntimeDumps } from '../support/extra-runtime-dumps';
import { runSosMany, sosLines } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const CLRSTACK = ['clrstack -a -all', 'clrstack -p -all', 'clrstack -l -all', 'clrstack -all'];
const HANG = ['dumpasync', 'dumpasync --coalesce', 'dumpasync --tasks --completed', 'dumpasync --stats --tasks --completed', 'timerinfo', 'parallelstacks', 'pstacks -a', 'pe -nested', 'dumpexceptions', 'syncblk'];

const lines = sosLines;
/** Warnings the 10 tests accept too: the heap walk stopping at an exhausted allocation context, as SOS does. */
const unexpected = (warnings: readonly string[]) => warnings.filter((w) => !/^the heap walk met/.test(w) && !/runtime-async/.test(w));

describe('stack and hang commands on 11.0.0 and 10.0.15 (self-contained) equal SOS', { timeout: TIMEOUT }, () => {
  // 11.x, and the other 10 patch (its seed-apm dumps) for the .NET 10 debug-info format on another build.
  const dumps = extraRuntimeDumps().filter((d) => /^1[01]\./.test(d.runtimePack) && d.publishKind === 'self-contained');
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    const label = extraDumpLabel(entry);
    it(`${label}: ${CLRSTACK.join(', ')} equal SOS line for line (variables and source lines from the c1 debug info)`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = await runSosMany(dump.dumpPath, [...CLRSTACK, ...HANG]);
      const answers = CLRSTACK.map((c) => runDumpsleuth(dump.dumpPath, c.split(' ')));
      // The app folder the dump names may hold a later publish's PDB (a cache shared with another checkout): then
      // dumpsleuth refuses it and says so (once per dump), and source lines are left out of the comparison.
      const otherPdb = (w: string) => /is not the PDB of .*: no source lines from it$/.test(w);
      const refused = answers.some((a) => a.warnings.some(otherPdb));
      const strip = (l: string) => (refused ? l.replace(/ \[[^\]]* @ \d+\]$/, '') : l);
      answers.forEach((ours, i) => {
        const expected = lines(sos[i]!).map(strip);
        if (i < 3) assert.ok(expected.some((l) => /^ {4}(PARAMETERS|LOCALS):$/.test(l)), `SOS printed variables for ${CLRSTACK[i]}`);
        assert.deepEqual(lines(ours.text).map(strip), expected, CLRSTACK[i]);
        assert.deepEqual(ours.warnings.filter((w) => !otherPdb(w)), []);
      });
      // The comparison means something: SOS read values, and (where the debuggee's PDB is on disk) source lines.
      assert.ok(lines(sos[0]!).filter((l) => / = 0x[0-9a-f]{16}$/.test(l)).length >= 5, 'SOS shows variable values');
      if (entry.scenario === 'hang') {
        assert.ok(lines(sos[0]!).some((l) => /^ {8}lockTaken \(<CLR reg>\) = 0x[0-9a-f]{16}$/.test(l)), 'a register-held argument');
      }
    });

    it(`${label}: ${HANG.join(', ')} equal SOS line for line`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = (await runSosMany(dump.dumpPath, [...CLRSTACK, ...HANG])).slice(CLRSTACK.length);
      for (let i = 0; i < HANG.length; i++) {
        const command = HANG[i]!;
        const ours = runDumpsleuth(dump.dumpPath, command.split(' '));
        const expected = lines(sos[i]!);
        // dumpasync prints nothing on a dump without async chains (seed-apm) but its note on 11.
        if (!command.startsWith('dumpasync') || entry.runtimePack.startsWith('11.')) assert.ok(expected.length > 0, `SOS printed ${command}`);
        if (command === 'timerinfo') {
          // As on 10 (hang-timers.test.ts): where SOS leaves a static callback's method empty (a shuffle thunk),
          // ours names it; every other line is SOS's.
          const got = lines(ours.text);
          assert.equal(got.length, expected.length, 'timerinfo line count');
          got.forEach((l, k) => (expected[k]!.endsWith(' ->') ? assert.ok(l.startsWith(expected[k]!), l) : assert.equal(l, expected[k], `timerinfo line ${k}`)));
        } else {
          assert.deepEqual(lines(ours.text), expected, command);
        }
        assert.deepEqual(unexpected(ours.warnings), [], command);
        // dumpasync on 11 says, as dotnet-dump does, that runtime-async stacks are not followed.
        if (command.startsWith('dumpasync') && entry.runtimePack.startsWith('11.')) assert.ok(ours.warnings.some((w) => /runtime-async/.test(w)), `${command} warns about runtime-async`);
      }
      if (entry.scenario === 'hang') {
        // Hang.cs: 25 pending OrderPipeline chains coalesce into one group; two report waiters merge in pstacks.
        assert.ok(lines(sos[1]!).some((l) => /^ {2}\[25\] [0-9a-f]{16} \(0\) Hangs\.OrderPipeline\+<LoadAsync>d__4$/.test(l)), 'SOS coalesces the 25 LoadAsync frames');
        assert.ok(lines(sos[5]!).some((l) => /^\s+2 Hangs\.ReportWriter\.WaitForReport\(\)$/.test(l)));
        // pe -nested on every exception object SOS lists.
        const addresses = [...sos[8]!.matchAll(/^\s+([0-9a-f]{8,16})\s+[0-9a-f]+ \S/gm)].map((m) => m[1]!);
        assert.ok(addresses.length >= 5, 'SOS lists the scenario\'s exceptions');
        const commands = addresses.map((a) => `pe -nested ${a}`);
        const each = await runSosMany(dump.dumpPath, commands);
        commands.forEach((c, k) => assert.deepEqual(lines(runDumpsleuth(dump.dumpPath, c.split(' ')).text), lines(each[k]!), c));
      }
    });
  }

  // A c1 blob read as .NET 10's format (or the reverse) must fail, not decode into plausible offsets: the chunk
  // lengths are checked against what the entries take.
  const hang = dumps.find((d) => d.scenario === 'hang') ?? dumps.find((d) => d.runtimePack.startsWith('11.'));
  it(`${hang ? extraDumpLabel(hang) : '11.x'}: the c1 blobs of the walked frames decode only as c1`, { skip: hang === undefined ? 'no 11.x pack in this run' : false }, async () => {
    const dump = await getDump(hang!.scenario, hang!);
    const session = Session.open(dump.dumpPath);
    try {
      const m = session.runtime.memory;
      let checked = 0;
      for (const t of readThreads(session.runtime)) {
        for (const f of walkManagedThread(session, t)?.frames ?? []) {
          if (f.kind !== 'managed' || f.block.kind !== 'jit' || f.block.codeHeader === 0) continue;
          const blob = m.readPointer(f.block.codeHeader + session.runtime.descriptor.offset('RealCodeHeader', 'DebugInfo'));
          if (blob === 0) continue;
          const info = readMethodDebugInfoC1(m, blob);
          if (info.bounds.length < 2) continue;
          assert.throws(() => readMethodDebugInfo(m, blob, true), DumpFormatError, `JIT'd blob 0x${blob.toString(16)} read as .NET 10's`);
          checked++;
        }
      }
      assert.ok(checked >= 5, `${checked} JIT'd frames checked`);
      // Another DebugInfo contract version is another algorithm: refused by name, never decoded as c1.
      const frame = readThreads(session.runtime).flatMap((t) => walkManagedThread(session, t)?.frames ?? []).find((f) => f.kind === 'managed');
      assert.ok(frame && frame.kind === 'managed');
      const descriptor = Object.create(session.runtime.descriptor, { contracts: { value: new Map([['DebugInfo', 'c2']]) } }) as typeof session.runtime.descriptor;
      const runtime = Object.create(session.runtime, { descriptor: { value: descriptor } }) as typeof session.runtime;
      assert.throws(() => readBlockDebugInfo(runtime, codeResolverOf(session).em, frame.block), /DebugInfo contract c2/);
    } finally {
      session.close();
    }
  });
});
