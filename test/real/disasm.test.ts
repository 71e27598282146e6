// `u` and `gcinfo` on real dumps against SOS (dotnet-dump has no `u`, so `u` is checked through what SOS does print):
// - for the methods on every thread's stack and behind delegates: `u` starts at the method start and its last
//   instruction ends at start + code size, both as SOS's `gcinfo` reports them ("entry point", "Code size"), and
//   SOS's `ip2md` on the start names the same MethodDesc;
// - every call/jump target `u` annotates with a method resolves to the same MethodDesc with SOS's `ip2md` (method
//   code) or is named the same by SOS's `dumpmd` (precodes, which ip2md does not resolve);
// - `gcinfo` text equals SOS's for those methods and a sample of the ReadyToRun methods of every loaded image.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { delegateReaderOf } from '../../src/cli/commands/dumpdelegate';
import { gcinfoCommand } from '../../src/cli/commands/gcinfo';
import { uCommand } from '../../src/cli/commands/u';
import { walkManagedThread } from '../../src/cli/commands/clrstack';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { codeResolverOf } from '../../src/runtime/code/code-resolver';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const DUMPS = [
  { scenario: 'seed-apm', dumpType: 'heap', serverGc: false },
  { scenario: 'seed-apm', dumpType: 'full', serverGc: true },
  { scenario: 'types', dumpType: 'full', serverGc: false },
] as const;

interface UJson {
  start: string;
  end: string;
  coldStart?: string;
  codeLength: number;
  methodDesc: string;
  lastInstructionEnd: string | null;
  instructions: { address: string; destination?: string; targetKind?: string; targetMethod?: string; targetMethodDesc?: string }[];
}

const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0 && !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store'));
const hexOf = (s: string) => parseInt(s.replace(/^0x/, ''), 16);
const field = (text: string, re: RegExp) => re.exec(text)?.[1];

/** Method starts from every thread's stack and every delegate's target. */
function methodStarts(session: Session): number[] {
  const starts = new Set<number>();
  for (const t of readThreads(session.runtime)) {
    for (const f of walkManagedThread(session, t)?.frames ?? []) if (f.kind === 'managed') starts.add(f.block.startAddress);
  }
  const reader = delegateReaderOf(session);
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, mt) => {
    if (!reader.isDelegateType(mt)) return;
    for (const inv of reader.read(address).invocations) {
      const r = inv.resolution;
      if (r?.kind === 'code') starts.add(r.block.startAddress);
      if (r?.kind === 'precode' && r.block) starts.add(r.block.startAddress);
    }
  });
  return [...starts];
}

/** Starts of a sample of ReadyToRun methods (every `step`-th RUNTIME_FUNCTION of each image that has a MethodDesc). */
function readyToRunSample(session: Session, perImage: number): number[] {
  const code = codeResolverOf(session);
  const d = session.runtime.descriptor;
  const m = session.runtime.memory;
  const out = new Set<number>();
  for (const rs of code.em.enumerateRangeSections()) {
    if (rs.r2rModule === 0) continue;
    const own = m.readPointer(rs.r2rModule + d.offset('Module', 'ReadyToRunInfo'));
    const info = m.readPointer(own + d.offset('ReadyToRunInfo', 'CompositeInfo')) || own;
    const count = m.readU32(info + d.offset('ReadyToRunInfo', 'NumRuntimeFunctions'));
    const table = m.readPointer(info + d.offset('ReadyToRunInfo', 'RuntimeFunctions'));
    const step = Math.max(1, Math.floor(count / perImage));
    for (let i = 0; i < count; i += step) {
      const block = code.em.tryFindCodeBlock(rs.rangeBegin + m.readU32(table + i * d.size('RuntimeFunction') + d.offset('RuntimeFunction', 'BeginAddress')));
      if (block) out.add(block.startAddress);
    }
  }
  return [...out];
}

describe('u and gcinfo on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of DUMPS) {
    const label = `${entry.scenario} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;

    it(`${label}: u covers the code range SOS reports, and its annotated targets are SOS's methods`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      const starts = [...new Set([...methodStarts(session), ...readyToRunSample(session, 20)])];
      assert.ok(starts.length >= 10, `only ${starts.length} methods`);
      const sos = await runSosMany(dump.dumpPath, starts.flatMap((s) => [`gcinfo ${s.toString(16)}`, `ip2md ${s.toString(16)}`]));
      const targets = new Map<number, { md: string; name: string; kind: string }>();
      let checked = 0;
      starts.forEach((start, i) => {
        const gc = sos[2 * i]!;
        // SOS cannot always find a ReadyToRun method's code header through the DAC; those are skipped.
        if (lines(gc)[0] === 'No GC info available') return;
        checked++;
        const u = uCommand.run(session, [start.toString(16)]).json as UJson;
        assert.equal(hexOf(u.start), parseInt(field(gc, /entry point ([0-9A-F]+)/)!, 16), `u ${start.toString(16)}: start`);
        const size = parseInt(field(gc, /Code size: ([0-9a-f]+)/)!, 16);
        assert.equal(u.codeLength, size, `u ${start.toString(16)}: code size`);
        if (u.coldStart === undefined) assert.equal(hexOf(u.lastInstructionEnd!), start + size, `u ${start.toString(16)}: last instruction ends the method`);
        assert.equal(hexOf(u.methodDesc), parseInt(field(sos[2 * i + 1]!, /MethodDesc:\s+([0-9a-f]+)/)!, 16), `u ${start.toString(16)}: MethodDesc`);
        for (const ins of u.instructions) {
          if (ins.targetMethodDesc && ins.destination && targets.size < 150) targets.set(hexOf(ins.destination), { md: ins.targetMethodDesc, name: ins.targetMethod!, kind: ins.targetKind! });
        }
      });
      assert.ok(checked >= 10, `only ${checked} methods checked`);
      const list = [...targets.entries()];
      assert.ok(list.length >= 10, `only ${list.length} annotated call targets`);
      const answers = await runSosMany(
        dump.dumpPath,
        list.map(([dest, t]) => (t.kind === 'method' ? `ip2md ${dest.toString(16)}` : `dumpmd ${t.md.replace(/^0x/, '')}`)),
      );
      list.forEach(([dest, t], i) => {
        const answer = answers[i]!;
        if (t.kind === 'method') assert.equal(hexOf(field(answer, /MethodDesc:\s+([0-9a-f]+)/) ?? '0'), hexOf(t.md), `call target ${dest.toString(16)}`);
        // A precode: SOS's ip2md does not resolve it; its MethodDesc's name is what u printed.
        else assert.equal(field(answer, /Method Name:\s+(.*)/)?.trim(), t.name.replace(/, mdToken: [0-9a-f]+$/, ''), `precode target ${dest.toString(16)}`);
      });
      session.close();
    });

    it(`${label}: gcinfo equals SOS's for stack, delegate and sampled ReadyToRun methods`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      const starts = [...new Set([...methodStarts(session), ...readyToRunSample(session, 400)])];
      const sos = await runSosMany(dump.dumpPath, starts.map((s) => `gcinfo ${s.toString(16)}`));
      let compared = 0;
      starts.forEach((start, i) => {
        const theirs = lines(sos[i]!);
        // SOS cannot always find a ReadyToRun method's code header through the DAC; those are skipped.
        if (theirs[0] === 'No GC info available') return;
        assert.deepEqual(lines(gcinfoCommand.run(session, [start.toString(16)]).text), theirs, `gcinfo ${start.toString(16)}`);
        compared++;
      });
      assert.ok(compared >= 50, `only ${compared} methods compared`);
      session.close();
    });
  }
});
