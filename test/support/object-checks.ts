// The object commands' SOS comparisons (dumpobj, dumparray, dumpvc, objsize, thread-static values), shared by the
// SDK runtime's tests (objects.test.ts, objsize.test.ts, thread-statics.test.ts) and the 11.0.0 tier's
// (runtimes-objects.test.ts), so both runtimes are held to the same check.
import assert from 'node:assert/strict';
import { dumparrayCommand } from '../../src/cli/commands/dumparray';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { dumpobjCommand } from '../../src/cli/commands/dumpobj';
import { dumpvcCommand } from '../../src/cli/commands/dumpvc';
import { objsizeCommand } from '../../src/cli/commands/objsize';
import type { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { runCommand } from './run-command';
import { runSosMany, sosLines } from './sos';
import { consoleFilter, parseDumpArray, parseDumpObj, type SosFieldRow } from './sos-object-parsers';

/** The types whose objects dumpobj is compared on: strings, arrays, generics, nested types, structs, enums, Thread,
 * the Linux socket async objects, delegates. Types with many instances: their first 40 objects in heap order. */
export const DUMPOBJ_TYPES: Readonly<Record<'types' | 'seed-apm', readonly string[]>> = {
  types: [
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
  ],
  'seed-apm': [
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
  ],
};

/** objsize roots: small and large graphs, generics, delegates, the program's own types and the socket objects. */
export const OBJSIZE_TYPES: Readonly<Record<'types' | 'seed-apm', readonly string[]>> = {
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

/** Multi-dimensional, jagged, struct, enum and object arrays, for dumparray. */
const ARRAY_TYPES = ['System.Int32[,]', 'System.String[,,]', 'System.Int32[][]', 'Debuggees.LabeledPoint[]', 'Debuggees.Color[]', 'System.Object[]'];

/** Addresses of the objects of each wanted type, by exact ClrMD name, in heap order (at most `max` each). */
export function objectsByType(session: Session, wanted: readonly string[], max: number): Map<string, number[]> {
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

/** A field row as compared with SOS: MT, token, offset, type, VT, attr, value, name. */
export function comparableFieldRows(rows: readonly SosFieldRow[]): string[] {
  return rows.map((r) => `${r.mt.toString(16)} ${r.token.toString(16)} ${r.offset.toString(16)} ${r.type} ${r.isValueType} ${r.attr} ${r.value} ${r.name}`);
}

/** The field rows of our dumpobj text. */
export function ourFieldRows(text: string): SosFieldRow[] {
  return parseDumpObj(consoleFilter(text)).fields ?? [];
}

/** dumpobj of every object of `types` (up to 40 each) against SOS: header lines and every field row. Asserts that the
 * dump holds objects of each type; returns what was compared. */
export async function compareDumpobjWithSos(session: Session, dumpPath: string, types: readonly string[]): Promise<{ objects: number; types: number; fields: number; statics: number }> {
  const byType = objectsByType(session, types, 40);
  for (const [type, list] of byType) assert.ok(list.length > 0, `the dump holds objects of ${type}`);
  const all = [...byType.entries()].flatMap(([type, list]) => list.map((a) => ({ type, address: a })));
  const sos = await runSosMany(dumpPath, all.map((o) => `dumpobj ${o.address.toString(16)}`));
  let fields = 0;
  let statics = 0;
  all.forEach((o, i) => {
    const expected = parseDumpObj(sos[i]!);
    const text = dumpobjCommand.run(session, [o.address.toString(16)]).text;
    const actual = parseDumpObj(consoleFilter(text));
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
    assert.deepEqual(comparableFieldRows(actual.fields ?? []), comparableFieldRows(expected.fields ?? []), `${where}: fields`);
    fields += expected.fields?.length ?? 0;
    statics += (expected.fields ?? []).filter((r) => r.attr !== 'instance').length;
  });
  return { objects: all.length, types: byType.size, fields, statics };
}

/** dumparray of up to 3 arrays of each kind (and -start/-length on one-dimensional ones) against SOS, whole answers. */
export async function compareDumparrayWithSos(session: Session, dumpPath: string): Promise<{ cases: number; elements: number }> {
  const byType = objectsByType(session, ARRAY_TYPES, 3);
  for (const [type, list] of byType) assert.ok(list.length > 0, `the dump holds objects of ${type}`);
  const cases = [...byType.entries()]
    .flatMap(([type, list]) => list.map((a) => ({ type, a: a.toString(16) })))
    // -start and -length apply to one-dimensional arrays only.
    .flatMap(({ type, a }) => (type.endsWith('[]') ? [[a], ['-start', '1', '-length', '2', a]] : [[a]]));
  const sos = await runSosMany(dumpPath, cases.map((c) => `dumparray ${c.join(' ')}`));
  let elements = 0;
  cases.forEach((c, i) => {
    const expected = parseDumpArray(sos[i]!);
    assert.ok(expected.methodTable !== 0 && expected.array !== undefined, `SOS answered dumparray ${c.join(' ')}`);
    assert.deepEqual(parseDumpArray(dumparrayCommand.run(session, c).text), expected, `dumparray ${c.join(' ')}`);
    elements += expected.elements.length;
  });
  return { cases: cases.length, elements };
}

/** dumpvc of the first TypeZoo's embedded struct fields against SOS: header lines and field rows. */
export async function compareDumpvcWithSos(session: Session, dumpPath: string): Promise<{ answers: number; fields: number }> {
  const zoo = objectsByType(session, ['Debuggees.TypeZoo'], 1).get('Debuggees.TypeZoo')![0]!;
  const rows = ourFieldRows(dumpobjCommand.run(session, [zoo.toString(16)]).text).filter((r) => r.isValueType && r.type.startsWith('Debuggees.'));
  assert.ok(rows.length > 0, 'TypeZoo has an embedded struct field');
  const args = rows.map((r) => [r.mt.toString(16), r.value]);
  const sos = await runSosMany(dumpPath, args.map((a) => `dumpvc ${a.join(' ')}`));
  let fields = 0;
  args.forEach((a, i) => {
    const expected = parseDumpObj(sos[i]!);
    const actual = parseDumpObj(dumpvcCommand.run(session, a).text);
    assert.equal(actual.name, expected.name, `dumpvc ${a.join(' ')}: Name`);
    assert.equal(actual.methodTable, expected.methodTable, `dumpvc ${a.join(' ')}: MethodTable`);
    assert.equal(actual.size, expected.size, `dumpvc ${a.join(' ')}: Size`);
    assert.ok((expected.fields ?? []).length > 0, `SOS lists the fields of dumpvc ${a.join(' ')}`);
    assert.deepEqual(comparableFieldRows(actual.fields ?? []), comparableFieldRows(expected.fields ?? []), `dumpvc ${a.join(' ')}: fields`);
    fields += expected.fields?.length ?? 0;
  });
  return { answers: args.length, fields };
}

/** objsize and objsize -stat of the first object of each of `types` against SOS, text line for line. */
export async function compareObjsizeWithSos(session: Session, dumpPath: string, types: readonly string[]): Promise<{ answers: number; objects: number }> {
  const byType = objectsByType(session, types, 1);
  for (const [type, list] of byType) assert.ok(list.length > 0, `the dump holds objects of ${type}`);
  const commands = [...byType.values()].flatMap(([a]) => [`objsize ${a!.toString(16)}`, `objsize -stat ${a!.toString(16)}`]);
  const sos = await runSosMany(dumpPath, commands);
  let objects = 0;
  commands.forEach((command, i) => {
    const expected = sosLines(consoleFilter(sos[i]!));
    const total = /^Total (\d+) objects, [\d,]+ bytes$/.exec(expected[expected.length - 1] ?? '');
    assert.ok(total, `SOS answered ${command}`);
    assert.deepEqual(sosLines(consoleFilter(objsizeCommand.run(session, command.split(' ').slice(1)).text)), expected, command);
    objects += Number(total[1]);
  });
  return { answers: commands.length, objects };
}

/** The lines of dumpobj's t_currentThread row and its per-thread values. */
export function currentThreadBlock(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const at = lines.findIndex((l) => / TLstatic +t_currentThread$/.test(l));
  if (at < 0) return [];
  const out = [lines[at]!];
  for (let k = at + 1; k < lines.length && lines[k] !== '' && !/^[0-9a-f]{16} /.test(lines[k]!); k++) out.push(lines[k]!);
  return out;
}

/** dumpobj of every `System.Threading.Thread` object: its t_currentThread block (the TLstatic row and each thread's
 * value) equals SOS's. Returns the objects and per-thread values compared; fails when SOS lists fewer than 2 values. */
export async function compareThreadStaticsWithSos(dumpPath: string): Promise<{ objects: number; values: number }> {
  const threads = runCommand<{ objects: { address: string }[] }>(dumpPath, dumpheapCommand, ['-type', 'System.Threading.Thread']).json.objects;
  const addresses = threads.map((o) => o.address.replace(/^0x/, ''));
  const sos = await runSosMany(dumpPath, addresses.map((a) => `dumpobj ${a}`));
  let values = 0;
  addresses.forEach((a, k) => {
    const expected = currentThreadBlock(sos[k]!);
    if (expected.length === 0) return; // not a System.Threading.Thread (a derived or nested type matched -type)
    assert.deepEqual(currentThreadBlock(runCommand(dumpPath, dumpobjCommand, [a]).text), expected, `dumpobj ${a}`);
    values += expected.length - 2;
  });
  assert.ok(values >= 2, `SOS lists per-thread values (${values})`);
  return { objects: addresses.length, values };
}
