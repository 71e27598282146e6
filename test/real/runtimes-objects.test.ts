// Issue 11 on 11.0.0: the object commands the SDK runtime's objects.test.ts compares with SOS, on the 11 dump of the
// same scenario (types full; 11's tier has it with server GC): dumparray on multi-dimensional, jagged, struct, enum
// and object arrays (with -start/-length on one-dimensional ones) and dumpvc on TypeZoo's embedded structs. And
// objsize (listing and -stat), which 10's tests do not compare with SOS: on every 11 full dump, the first object of
// each chosen type, text line for line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumparrayCommand } from '../../src/cli/commands/dumparray';
import { dumpobjCommand } from '../../src/cli/commands/dumpobj';
import { dumpvcCommand } from '../../src/cli/commands/dumpvc';
import { objsizeCommand } from '../../src/cli/commands/objsize';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { getDump } from '../support/dumps';
import { extraDumpLabel, extraRuntimeDumps, type ExtraRuntimeDump } from '../support/extra-runtime-dumps';
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
