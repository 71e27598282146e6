// Issue 11 on 11.0.0: the object commands the SDK runtime's objects.test.ts compares with SOS, on the 11 dump of the
// same scenario (types full; 11's tier has it with server GC): dumparray on multi-dimensional, jagged, struct, enum
// and object arrays (with -start/-length on one-dimensional ones) and dumpvc on TypeZoo's embedded structs. And
// objsize (listing and -stat), which 10's tests do not compare with SOS: on every 11 full dump, the first object of
// each chosen type, text line for line. And u as disasm.test.ts checks it on 10 (dotnet-dump has no u): on the 11
// dumps of the same scenarios, u spans SOS's gcinfo entry point and code size, names SOS's ip2md MethodDesc, and its
// annotated call targets are SOS's methods (ip2md) or precodes SOS's dumpmd names. And, as thread-statics.test.ts on
// 10, the per-thread values of Thread.t_currentThread under dumpobj's TLstatic row on the seed-apm full dumps; and
// dumpobj on every object of objects.test.ts's chosen types (static rows included) on the 11 full dumps; and, as
// static-variables.test.ts on 10, gcroot's `(static variable: …)` notes for the dead threads of seed-apm workstation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { delegateReaderOf } from '../../src/cli/commands/dumpdelegate';
import { walkManagedThread } from '../../src/cli/commands/clrstack';
import { uCommand } from '../../src/cli/commands/u';
import { dumparrayCommand } from '../../src/cli/commands/dumparray';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { dumpobjCommand } from '../../src/cli/commands/dumpobj';
import { dumpvcCommand } from '../../src/cli/commands/dumpvc';
import { gcrootCommand, staticSlots } from '../../src/cli/commands/gcroot';
import { objsizeCommand } from '../../src/cli/commands/objsize';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { codeResolverOf } from '../../src/runtime/code/code-resolver';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { extraDumpLabel, extraRuntimeDumps, type ExtraRuntimeDump } from '../support/extra-runtime-dumps';
import { hexOf as hexNumber } from '../support/dumpsleuth';
import { runCommand, sessionFor } from '../support/run-command';
import { runSosMany, sosLines } from '../support/sos';
import { consoleFilter, parseDumpArray, parseDumpObj, type SosFieldRow } from '../support/sos-object-parsers';

const TIMEOUT = 10 * 60_000;
/** objsize roots: small and large graphs, generics, delegates, the program's own types and the socket objects. */
const OBJSIZE_TYPES: Record<string, readonly string[]> = {
  types: [
    'Debuggees.TypeZoo',
    'Debuggees.TypeZoo+NestedClass',
    'Debuggees.Outer<System.Int32>+Inner<System.String>',
    'System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Int32>>',
    'System.Func<System.Int32, System.Int32>',
    'System.Action',
    'System.String[,,]',
    'System.Threading.Thread',
  ],
  'seed-apm': ['Gateway.Server', 'Gateway.GatewayClientController', 'System.Net.Sockets.Socket', 'System.Net.Sockets.SocketAsyncContext', 'System.Threading.Thread'],
};
/** objects.test.ts's chosen types (at most 40 objects each, heap order). */
const TYPES_SCENARIO = [
  'Debuggees.TypeZoo',
  'Debuggees.TypeZoo+NestedClass',
  'Debuggees.TypeZoo+NestedClass+Deeper',
  'Debuggees.Outer<System.Int32>+Inner<System.String>',
  'Debuggees.Outer<System.String>+Inner<System.Double>',
  'Debuggees.PlainPoint',
  'Debuggees.Color',
  'Debuggees.Color[]',
  'Debuggees.PlainPoint[]',
  'Debuggees.LabeledPoint[]',
  'System.Int32[,]',
  'System.String[,,]',
  'System.Int32[][]',
  'System.Double[]',
  'System.Char[]',
  'System.Boolean[]',
  'System.Int64[]',
  'System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Int32>>',
  'System.Collections.Generic.List<System.Collections.Generic.KeyValuePair<System.Int32, System.String>>',
  'System.Collections.Generic.KeyValuePair<System.Int32, System.String>[]',
  'System.Func<System.Int32, System.Int32>',
  'System.Action',
  'System.Tuple<System.Int32, System.String>',
  'System.ValueTuple<System.Int32, System.String>',
  'System.Threading.Thread',
  'System.String',
];

const SEED_SCENARIO = [
  'Gateway.Server',
  'Gateway.GatewayClientController',
  'Gateway.Server+ConnectSocketResult',
  'System.AsyncCallback',
  'System.Net.Sockets.Socket',
  'System.Net.Sockets.SafeSocketHandle',
  'System.Net.Sockets.SocketAsyncContext',
  'System.Net.Sockets.SocketAsyncContext+BufferMemoryReceiveOperation',
  'System.Net.Sockets.Socket+AwaitableSocketAsyncEventArgs',
  'System.Net.Sockets.SocketAsyncEngine',
  'System.Threading.Tasks.TaskToAsyncResult+TaskAsyncResult',
  'System.Net.SocketAddress',
  'System.Threading.Thread',
];

const DUMPOBJ_TYPES: Record<string, readonly string[]> = { types: TYPES_SCENARIO, 'seed-apm': SEED_SCENARIO };
const ARRAY_TYPES = ['System.Int32[,]', 'System.String[,,]', 'System.Int32[][]', 'Debuggees.LabeledPoint[]', 'Debuggees.Color[]', 'System.Object[]'];

/** Addresses of the objects of each wanted type, by exact ClrMD name, in heap order (at most `max` each). */
function objectsByType(session: Session, wanted: readonly string[], max: number): Map<string, number[]> {
  const want = new Set(wanted);
  const out = new Map<string, number[]>(wanted.map((w) => [w, []]));
  const nameOf = new Map<number, string>();
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, mt) => {
    let n = nameOf.get(mt);
    if (n === undefined) {
      n = session.names.clrmdName(mt);
      nameOf.set(mt, n);
    }
    if (!want.has(n)) return;
    const list = out.get(n)!;
    if (list.length < max) list.push(address);
  });
  return out;
}

function comparable(rows: readonly SosFieldRow[]): string[] {
  return rows.map((r) => `${r.mt.toString(16)} ${r.token.toString(16)} ${r.offset.toString(16)} ${r.type} ${r.isValueType} ${r.attr} ${r.value} ${r.name}`);
}

interface UJson {
  start: string;
  end: string;
  coldStart?: string;
  codeLength: number;
  methodDesc: string;
  lastInstructionEnd: string | null;
  instructions: { address: string; destination?: string; targetKind?: string; targetMethod?: string; targetMethodDesc?: string }[];
}

const uLines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.length > 0 && !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store'));
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

const typesOf = (scenario: string): readonly string[] => DUMPOBJ_TYPES[scenario] ?? [];

const elevens = (pred: (d: ExtraRuntimeDump) => boolean) =>
  extraRuntimeDumps().filter((d) => d.runtimePack.startsWith('11.') && d.publishKind === 'self-contained' && pred(d));

describe('dumparray and dumpvc on 11.0.0 (self-contained) equal SOS', { timeout: TIMEOUT }, () => {
  const dumps = elevens((d) => d.scenario === 'types' && d.dumpType === 'full');
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    const label = extraDumpLabel(entry);
    it(`${label}: dumparray equals SOS for multi-dimensional, jagged, struct and object arrays, with -start/-length`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const byType = objectsByType(session, ARRAY_TYPES, 3);
        for (const [type, list] of byType) assert.ok(list.length > 0, `the dump holds objects of ${type}`);
        const cases = [...byType.entries()]
          .flatMap(([type, list]) => list.map((a) => ({ type, a: a.toString(16) })))
          // -start and -length apply to one-dimensional arrays only.
          .flatMap(({ type, a }) => (type.endsWith('[]') ? [[a], ['-start', '1', '-length', '2', a]] : [[a]]));
        const sos = await runSosMany(dump.dumpPath, cases.map((c) => `dumparray ${c.join(' ')}`));
        let elements = 0;
        cases.forEach((c, i) => {
          const expected = parseDumpArray(sos[i]!);
          assert.ok(expected.methodTable !== 0 && expected.array !== undefined, `SOS answered dumparray ${c.join(' ')}`);
          assert.deepEqual(parseDumpArray(dumparrayCommand.run(session, c).text), expected, `dumparray ${c.join(' ')}`);
          elements += expected.elements.length;
        });
        t.diagnostic(`compared ${cases.length} dumparray answers, ${elements} elements`);
        assert.ok(elements >= 20, `only ${elements} elements`);
        assert.ok(cases.length >= 10, `only ${cases.length} cases`);
      } finally {
        session.close();
      }
    });

    it(`${label}: dumpvc equals SOS for TypeZoo's embedded structs`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const zoo = objectsByType(session, ['Debuggees.TypeZoo'], 1).get('Debuggees.TypeZoo')![0]!;
        const rows = (parseDumpObj(consoleFilter(dumpobjCommand.run(session, [zoo.toString(16)]).text)).fields ?? []).filter((r) => r.isValueType && r.type.startsWith('Debuggees.'));
        assert.ok(rows.length > 0, 'TypeZoo has an embedded struct field');
        const args = rows.map((r) => [r.mt.toString(16), r.value]);
        const sos = await runSosMany(dump.dumpPath, args.map((a) => `dumpvc ${a.join(' ')}`));
        let fields = 0;
        args.forEach((a, i) => {
          const expected = parseDumpObj(sos[i]!);
          const actual = parseDumpObj(dumpvcCommand.run(session, a).text);
          assert.equal(actual.name, expected.name, `dumpvc ${a.join(' ')}: Name`);
          assert.equal(actual.methodTable, expected.methodTable, `dumpvc ${a.join(' ')}: MethodTable`);
          assert.equal(actual.size, expected.size, `dumpvc ${a.join(' ')}: Size`);
          assert.ok((expected.fields ?? []).length > 0, `SOS lists the fields of dumpvc ${a.join(' ')}`);
          assert.deepEqual(comparable(actual.fields ?? []), comparable(expected.fields ?? []), `dumpvc ${a.join(' ')}: fields`);
          fields += expected.fields?.length ?? 0;
        });
        t.diagnostic(`compared ${args.length} dumpvc answers, ${fields} field rows`);
      } finally {
        session.close();
      }
    });
  }
});

describe('objsize on 11.0.0 (self-contained) equals SOS', { timeout: TIMEOUT }, () => {
  const dumps = elevens((d) => d.dumpType === 'full' && d.scenario in OBJSIZE_TYPES);
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: objsize and objsize -stat text equal SOS's line for line`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const byType = objectsByType(session, OBJSIZE_TYPES[entry.scenario]!, 1);
        for (const [type, list] of byType) assert.ok(list.length > 0, `the dump holds objects of ${type}`);
        const commands = [...byType.values()].flatMap(([a]) => [`objsize ${a!.toString(16)}`, `objsize -stat ${a!.toString(16)}`]);
        const sos = await runSosMany(dump.dumpPath, commands);
        let objects = 0;
        commands.forEach((command, i) => {
          const expected = sosLines(consoleFilter(sos[i]!));
          const total = /^Total (\d+) objects, [\d,]+ bytes$/.exec(expected[expected.length - 1] ?? '');
          assert.ok(total, `SOS answered ${command}`);
          assert.deepEqual(sosLines(consoleFilter(objsizeCommand.run(session, command.split(' ').slice(1)).text)), expected, command);
          objects += Number(total[1]);
        });
        t.diagnostic(`compared ${commands.length} objsize answers over ${objects} objects`);
      } finally {
        session.close();
      }
    });
  }
});

describe('u on 11.0.0 (self-contained) agrees with SOS', { timeout: TIMEOUT }, () => {
  // disasm.test.ts's dumps on 10: seed-apm heap workstation, seed-apm full server, types full (server on 11).
  const dumps = elevens((d) => (d.scenario === 'seed-apm' && (d.dumpType === 'heap') !== d.serverGc) || (d.scenario === 'types' && d.dumpType === 'full'));
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: u covers the code range SOS reports, and its annotated targets are SOS's methods`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const starts = [...new Set([...methodStarts(session), ...readyToRunSample(session, 20)])];
        assert.ok(starts.length >= 10, `only ${starts.length} methods`);
        const sos = await runSosMany(dump.dumpPath, starts.flatMap((s) => [`gcinfo ${s.toString(16)}`, `ip2md ${s.toString(16)}`]));
        const targets = new Map<number, { md: string; name: string; kind: string }>();
        let checked = 0;
        let instructions = 0;
        starts.forEach((start, i) => {
          const gc = sos[2 * i]!;
          // SOS cannot always find a ReadyToRun method's code header; those are skipped.
          if (uLines(gc)[0] === 'No GC info available') return;
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
          dump.dumpPath,
          list.map(([dest, tg]) => (tg.kind === 'method' ? `ip2md ${dest.toString(16)}` : `dumpmd ${tg.md.replace(/^0x/, '')}`)),
        );
        list.forEach(([dest, tg], i) => {
          const answer = answers[i]!;
          if (tg.kind === 'method') assert.equal(hexOf(field(answer, /MethodDesc:\s+([0-9a-f]+)/) ?? '0'), hexOf(tg.md), `call target ${dest.toString(16)}`);
          // A precode: SOS's ip2md does not resolve it; its MethodDesc's name is what u printed.
          else assert.equal(field(answer, /Method Name:\s+(.*)/)?.trim(), tg.name.replace(/, mdToken: [0-9a-f]+$/, ''), `precode target ${dest.toString(16)}`);
        });
        t.diagnostic(`${checked} methods (${instructions} instructions), ${list.length} call targets checked`);
      } finally {
        session.close();
      }
    });
  }
});

/** The lines of the t_currentThread row and its per-thread values (as thread-statics.test.ts). */
function currentThreadBlock(text: string): string[] {
  const all = text.split('\n').map((l) => l.trimEnd());
  const at = all.findIndex((l) => / TLstatic +t_currentThread$/.test(l));
  if (at < 0) return [];
  const out = [all[at]!];
  for (let k = at + 1; k < all.length && all[k] !== '' && !/^[0-9a-f]{16} /.test(all[k]!); k++) out.push(all[k]!);
  return out;
}

describe('thread-static values in dumpobj on 11.0.0 (self-contained) equal SOS', { timeout: TIMEOUT }, () => {
  const dumps = elevens((d) => d.scenario === 'seed-apm' && d.dumpType === 'full');
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: every Thread object's t_currentThread values equal SOS`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const threads = runCommand<{ objects: { address: string }[] }>(dump.dumpPath, dumpheapCommand, ['-type', 'System.Threading.Thread']).json.objects;
      const addresses = threads.map((o) => o.address.replace(/^0x/, ''));
      const sos = await runSosMany(dump.dumpPath, addresses.map((a) => `dumpobj ${a}`));
      let values = 0;
      addresses.forEach((a, k) => {
        const expected = currentThreadBlock(sos[k]!);
        if (expected.length === 0) return; // not a System.Threading.Thread (a derived or nested type matched -type)
        assert.deepEqual(currentThreadBlock(runCommand(dump.dumpPath, dumpobjCommand, [a]).text), expected, `dumpobj ${a}`);
        values += expected.length - 2;
      });
      t.diagnostic(`${addresses.length} Thread objects, ${values} per-thread values`);
      assert.ok(values >= 2, `SOS lists per-thread values (${values})`);
    });
  }
});

describe('dumpobj on every object of the chosen types on 11.0.0 (self-contained) equals SOS', { timeout: TIMEOUT }, () => {
  const dumps = elevens((d) => d.dumpType === 'full' && d.scenario in OBJSIZE_TYPES);
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: dumpobj equals SOS field by field, static rows included`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const byType = objectsByType(session, typesOf(entry.scenario), 40);
        for (const [type, list] of byType) assert.ok(list.length > 0, `the dump holds objects of ${type}`);
        const all = [...byType.entries()].flatMap(([type, list]) => list.map((a) => ({ type, address: a })));
        const sos = await runSosMany(dump.dumpPath, all.map((o) => `dumpobj ${o.address.toString(16)}`));
        let fields = 0;
        let statics = 0;
        all.forEach((o, i) => {
          const expected = parseDumpObj(sos[i]!);
          const actual = parseDumpObj(consoleFilter(dumpobjCommand.run(session, [o.address.toString(16)]).text));
          const where = `${o.type} at ${o.address.toString(16)}`;
          assert.equal(actual.name, expected.name, `${where}: Name`);
          assert.equal(actual.methodTable, expected.methodTable, `${where}: MethodTable`);
          assert.equal(actual.size, expected.size, `${where}: Size`);
          assert.equal(actual.file, expected.file, `${where}: File`);
          assert.deepEqual(actual.array, expected.array, `${where}: Array`);
          assert.equal(actual.content, expected.content, `${where}: Content`);
          // A native SOS line of 8 KB or more prints nothing at all (util.cpp OutputVaList), so long strings are ''.
          if (expected.string !== undefined && !(expected.string === '' && (actual.string ?? '').length >= 8000)) {
            assert.equal(actual.string?.trimEnd(), expected.string.trimEnd(), `${where}: String`);
          }
          assert.deepEqual(comparable(actual.fields ?? []), comparable(expected.fields ?? []), `${where}: fields`);
          fields += expected.fields?.length ?? 0;
          statics += (expected.fields ?? []).filter((r) => r.attr !== 'instance').length;
        });
        t.diagnostic(`compared ${all.length} objects of ${byType.size} types, ${fields} field rows (${statics} static)`);
        assert.ok(all.length >= 20 && fields > 100 && statics > 0, `compared ${all.length} objects, ${fields} fields, ${statics} static`);
      } finally {
        session.close();
      }
    });
  }
});

interface GcRootJson {
  paths: { root: { kind: string }; chain: { address: string; type: string; field: string | null }[] }[];
}

const staticLines = (text: string) => [...new Set(text.split('\n').filter((l) => l.includes('(static variable: ')))].sort();
/** A chain line without its note: the object address and type, which must agree with SOS. */
const withoutNote = (line: string) => line.replace(/\(static variable: .*\)\s*$/, '').trimEnd();

describe('gcroot static variable notes on 11.0.0 (self-contained)', { timeout: TIMEOUT }, () => {
  const dumps = elevens((d) => d.scenario === 'seed-apm' && !d.serverGc);
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: static variable notes of the dead threads are on SOS's links and name the holding static`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = sessionFor(dump.dumpPath);
      const dead = readThreads(session.runtime).filter((th) => th.isDead && th.exposedObject !== 0).map((th) => th.exposedObject);
      assert.ok(dead.length >= 20, `the scenario leaves dead threads (${dead.length})`);
      const sosTexts = await runSosMany(dump.dumpPath, dead.map((a) => `gcroot ${a.toString(16)}`));
      const statics = staticSlots(session);
      let noted = 0;
      let named = 0;
      dead.forEach((target, k) => {
        const what = `gcroot ${target.toString(16)}`;
        const ours = runCommand<GcRootJson>(dump.dumpPath, gcrootCommand, [target.toString(16)]);
        const sosNoted = staticLines(sosTexts[k]!);
        // The same links carry a note; the note itself names the real static (SOS's names the slot before it).
        assert.deepEqual(staticLines(ours.text).map(withoutNote), sosNoted.map(withoutNote), `${what}: the chain lines with a static variable note`);
        noted += sosNoted.length;
        for (const p of ours.json.paths) {
          const [first, second] = p.chain;
          if (!first || !second || first.type !== 'System.Object[]') continue;
          const array = hexNumber(first.address);
          const next = hexNumber(second.address);
          const m = session.runtime.memory;
          const slots: number[] = [];
          for (let i = 0, n = m.readU32(array + 8); i < n; i++) if (m.readPointer(array + 16 + i * 8) === next) slots.push(array + 16 + i * 8);
          const held = slots.map((a) => statics.at(a)).find((a) => a !== undefined);
          if (!held) continue;
          named++;
          assert.equal(second.field, `${session.names.clrmdName(held.declaringMT)}.${held.field}`, `${what}: JSON field of ${second.address}`);
          const sos = slots.map((a) => statics.sosAt(a)).find((a) => a !== undefined);
          if (sos) assert.ok(sosNoted.some((l) => l.includes(`-> ${next.toString(16).padStart(12, '0')} `) && l.endsWith(`.${sos.field})`)), `${what}: SOS notes ${sos.field}`);
          const ourLine = staticLines(ours.text).find((l) => l.includes(`-> ${next.toString(16).padStart(12, '0')} `));
          if (ourLine) assert.ok(ourLine.trimEnd().endsWith(`.${held.field})`), `${what}: our note names ${held.field}`);
        }
      });
      assert.ok(noted > 0, 'SOS notes at least one static variable');
      t.diagnostic(`${dead.length} targets: ${noted} static variable lines on SOS's links, ${named} holding statics named`);
    });
  }
});
