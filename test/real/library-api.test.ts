// The library API (src/index.ts) on real dumps, against SOS and ClrMD on the same dumps: threads, heap statistics,
// objects of a type, field values, strings, arrays, gcroot and analyze. The seed-apm scenario builds 25 client
// threads that end while their sockets keep them reachable (SeedApm.cs).
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClrObject, DumpFormatError, DumpsleuthError, openDump, UsageError, type ClrDump } from '../../src';
import { runClrmd } from '../support/clrmd';
import { getDump } from '../support/dumps';
import { runSos } from '../support/sos';
import { parseDumpObj } from '../support/sos-object-parsers';
import { parseClrThreads, parseDumpHeapStat } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;

describe('the library API on the seed-apm full dump (SOS reads objects only from full dumps)', { timeout: TIMEOUT }, () => {
  let dumpPath: string;
  let dump: ClrDump;

  before(async () => {
    dumpPath = (await getDump('seed-apm', { dumpType: 'full', serverGc: false })).dumpPath;
    dump = openDump(dumpPath);
  });
  after(() => dump?.close());

  it('managed threads equal SOS clrthreads; OS threads equal dotnet-dump threads', async () => {
    const sos = parseClrThreads(await runSos(dumpPath, 'clrthreads'));
    const threads = dump.runtime.threads;
    assert.equal(threads.length, sos.summary.threadCount);
    assert.equal(threads.filter((t) => t.isDead).length, sos.summary.dead);
    assert.equal(sos.summary.dead, 25);
    const sosOs = (await runSos(dumpPath, 'threads')).split('\n').filter((l) => /^[ *]\d+ 0x/.test(l)).map((l) => Number(/\((\d+)\)$/.exec(l)![1]));
    assert.deepEqual(dump.threads.map((t) => t.osId), sosOs);
  });

  it('heap.statistics() equals SOS dumpheap -stat type by type; objectBatches covers the same objects', async () => {
    const sos = parseDumpHeapStat(await runSos(dumpPath, 'dumpheap -stat'));
    const ours = dump.runtime.heap.statistics();
    const key = (mt: number, count: number, size: number) => `${mt.toString(16)} ${count} ${size}`;
    assert.deepEqual(ours.map((s) => key(s.type.methodTable, s.count, s.totalSize)).sort(), sos.types.map((t) => key(t.mt, t.count, t.totalSize)).sort());
    for (const t of sos.types) if (t.name !== 'Free') assert.equal(ours.find((s) => s.type.methodTable === t.mt)!.type.name, t.name);
    let count = 0;
    let size = 0;
    for (const b of dump.runtime.heap.objectBatches(100)) {
      assert.ok(b.count <= 100 && b.count > 0);
      count += b.count;
      for (let i = 0; i < b.count; i++) size += b.sizes[i]!;
    }
    assert.equal(count, sos.totalCount);
    assert.equal(size, sos.totalSize);
  });

  it('enumerateObjects finds the Thread objects ClrMD finds; readField equals SOS dumpobj', async () => {
    // The oracle's type filter is a substring: keep the exact type.
    const clrmd = ((await runClrmd(dumpPath, 'objects', 'System.Threading.Thread')) as { address: string; name: string }[]).filter((o) => o.name === 'System.Threading.Thread');
    const heap = dump.runtime.heap;
    const type = heap.getTypeByName('System.Threading.Thread');
    assert.ok(type, 'the type is on the heap');
    const threads = [...heap.enumerateObjects()].filter((o) => o.type === type);
    assert.deepEqual(threads.map((o) => o.address).sort((a, b) => a - b), clrmd.map((o) => Number(BigInt(o.address))).sort((a, b) => a - b));
    const sample = threads[threads.length - 1]!;
    const sos = parseDumpObj(await runSos(dumpPath, `dumpobj ${sample.address.toString(16)}`));
    assert.equal(sample.size, sos.size);
    assert.equal(sample.type.methodTable, sos.methodTable);
    const row = (name: string) => sos.fields!.find((f) => f.name === name)!;
    assert.equal(sample.readField('_managedThreadId'), Number(row('_managedThreadId').value));
    assert.equal(sample.readField('_isDead'), Number(row('_isDead').value) === 1);
    const name = sample.readObjectField('_name');
    const sosName = BigInt('0x' + row('_name').value);
    assert.equal(name === null ? 0n : BigInt(name.address), sosName);
    if (name) {
      const str = parseDumpObj(await runSos(dumpPath, `dumpobj ${name.address.toString(16)}`));
      assert.equal(name.asString(), str.string);
    }
    assert.deepEqual(sample.fields.filter((f) => !f.isStatic).map((f) => f.name), sos.fields!.filter((f) => f.attr === 'instance').map((f) => f.name));
    assert.throws(() => sample.readField('noSuchField'), UsageError);
  });

  it('arrays: length and elements equal SOS dumparray', async () => {
    const heap = dump.runtime.heap;
    const arr = [...heap.enumerateObjects()].find((o) => o.type.name === 'System.Object[]' && o.arrayLength >= 3 && o.arrayElement(0) instanceof ClrObject)!;
    assert.ok(arr, 'an Object[] with an object in slot 0');
    const sos = await runSos(dumpPath, `dumparray ${arr.address.toString(16)}`);
    assert.match(sos, new RegExp(`Number of elements ${arr.arrayLength}\\b`));
    const first = /^\[0\] ([0-9a-f]+)/m.exec(sos);
    assert.ok(first, `SOS listed element 0:\n${sos}`);
    assert.equal((arr.arrayElement(0) as ClrObject).address, Number(BigInt('0x' + first[1])));
  });

  it('gcroot and analyze give the CLI\'s documents: the dead threads, their root and the culprit', () => {
    const heap = dump.runtime.heap;
    const { findings } = heap.analyze();
    const first = findings[0]!;
    assert.equal(first.objectCount, 25);
    assert.equal(first.severity, 'error');
    assert.match(first.culprit!.method, /^Gateway\.GatewayClientController\.OnReceive\(/);
    const example = Number(BigInt(first.examples[0]!));
    const roots = heap.gcroot(example) as unknown as { paths: { root: { kind: string }; chain: { type: string }[] }[] };
    assert.ok(roots.paths.length > 0, 'the dead thread has a root');
    assert.equal(roots.paths[0]!.chain.at(-1)!.type, 'System.Threading.Thread');
    assert.equal(dump.command('dumpheap', '-stat').totalCount, heap.statistics().reduce((a, s) => a + s.count, 0));
  });

  it('bad input: typed errors, no crash', () => {
    assert.throws(() => openDump(path.join(os.tmpdir(), 'no-such-dump.dmp')), DumpsleuthError);
    assert.throws(() => openDump(__filename), DumpFormatError);
    assert.throws(() => dump.runtime.heap.getObject(0x10), DumpsleuthError);
    assert.throws(() => dump.runtime.heap.getObject(0x11), UsageError);
    assert.throws(() => dump.command('nosuchcommand'), UsageError);
  });
});
