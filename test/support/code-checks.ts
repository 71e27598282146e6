// The code commands' SOS checks (u against gcinfo/ip2md/dumpmd), shared by the SDK runtime's disasm.test.ts and the
// 11.0.0 tier's runtimes-objects.test.ts, so both runtimes are held to the same check.
import assert from 'node:assert/strict';
import { walkManagedThread } from '../../src/cli/commands/clrstack';
import { delegateReaderOf } from '../../src/cli/commands/dumpdelegate';
import { uCommand } from '../../src/cli/commands/u';
import type { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { codeResolverOf } from '../../src/runtime/code/code-resolver';
import { readThreads } from '../../src/runtime/thread-store';
import { runSosMany } from './sos';

interface UJson {
  start: string;
  end: string;
  coldStart?: string;
  codeLength: number;
  methodDesc: string;
  lastInstructionEnd: string | null;
  instructions: { address: string; destination?: string; targetKind?: string; targetMethod?: string; targetMethodDesc?: string }[];
}

/** An SOS answer's lines without dotnet-dump's banner lines, trailing blanks trimmed. */
export const sosAnswerLines = (text: string): string[] =>
  text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0 && !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store'));
const hexOf = (s: string) => parseInt(s.replace(/^0x/, ''), 16);
const field = (text: string, re: RegExp) => re.exec(text)?.[1];

/** Method starts from every thread's stack and every delegate's target. */
export function methodStarts(session: Session): number[] {
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

/** Starts of a sample of ReadyToRun methods (about `perImage` RUNTIME_FUNCTIONs of each image that has a MethodDesc). */
export function readyToRunSample(session: Session, perImage: number): number[] {
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

/**
 * u of the stack, delegate and sampled ReadyToRun methods against SOS (dotnet-dump has no u): each spans SOS's gcinfo
 * entry point and code size and names SOS's ip2md MethodDesc; its annotated call targets (up to 150) are the methods
 * SOS's ip2md finds there, or precodes whose MethodDesc SOS's dumpmd names as u does. Returns what was checked.
 */
export async function compareUWithSos(session: Session, dumpPath: string): Promise<{ methods: number; instructions: number; targets: number }> {
  const starts = [...new Set([...methodStarts(session), ...readyToRunSample(session, 20)])];
  assert.ok(starts.length >= 10, `only ${starts.length} methods`);
  const sos = await runSosMany(dumpPath, starts.flatMap((s) => [`gcinfo ${s.toString(16)}`, `ip2md ${s.toString(16)}`]));
  const targets = new Map<number, { md: string; name: string; kind: string }>();
  let checked = 0;
  let instructions = 0;
  starts.forEach((start, i) => {
    const gc = sos[2 * i]!;
    // SOS cannot always find a ReadyToRun method's code header through the DAC; those are skipped.
    if (sosAnswerLines(gc)[0] === 'No GC info available') return;
    checked++;
    const u = uCommand.run(session, [start.toString(16)]).json as UJson;
    assert.equal(hexOf(u.start), parseInt(field(gc, /entry point ([0-9A-F]+)/)!, 16), `u ${start.toString(16)}: start`);
    const size = parseInt(field(gc, /Code size: ([0-9a-f]+)/)!, 16);
    assert.equal(u.codeLength, size, `u ${start.toString(16)}: code size`);
    if (u.coldStart === undefined) assert.equal(hexOf(u.lastInstructionEnd!), start + size, `u ${start.toString(16)}: last instruction ends the method`);
    assert.equal(hexOf(u.methodDesc), parseInt(field(sos[2 * i + 1]!, /MethodDesc:\s+([0-9a-f]+)/)!, 16), `u ${start.toString(16)}: MethodDesc`);
    instructions += u.instructions.length;
    for (const ins of u.instructions) {
      if (ins.targetMethodDesc && ins.destination && targets.size < 150) targets.set(hexOf(ins.destination), { md: ins.targetMethodDesc, name: ins.targetMethod!, kind: ins.targetKind! });
    }
  });
  assert.ok(checked >= 10, `only ${checked} methods checked`);
  const list = [...targets.entries()];
  assert.ok(list.length >= 10, `only ${list.length} annotated call targets`);
  const answers = await runSosMany(
    dumpPath,
    list.map(([dest, t]) => (t.kind === 'method' ? `ip2md ${dest.toString(16)}` : `dumpmd ${t.md.replace(/^0x/, '')}`)),
  );
  list.forEach(([dest, t], i) => {
    const answer = answers[i]!;
    if (t.kind === 'method') assert.equal(hexOf(field(answer, /MethodDesc:\s+([0-9a-f]+)/) ?? '0'), hexOf(t.md), `call target ${dest.toString(16)}`);
    // A precode: SOS's ip2md does not resolve it; its MethodDesc's name is what u printed.
    else assert.equal(field(answer, /Method Name:\s+(.*)/)?.trim(), t.name.replace(/, mdToken: [0-9a-f]+$/, ''), `precode target ${dest.toString(16)}`);
  });
  return { methods: checked, instructions, targets: list.length };
}
