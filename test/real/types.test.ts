// Issue 3's "Must show" for types: `dumpmt -md` of a user type, generic instantiations and System.String equals
// SOS's (header lines, and every method row: entry point, MethodDesc, JIT state, slot, name) on full dumps with
// both GCs; and in a heap dump whose image pages are missing and not overlaid, type names come back as
// `<unknown type @mt>` with a warning (never a wrong name).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpmtCommand } from '../../src/cli/commands/dumpmt';
import { Session } from '../../src/cli/session';
import type { MemoryReader } from '../../src/dump/memory-reader';
import { openDump } from '../../src/dump/open-dump';
import { readLoadedImageBytes } from '../../src/dump/loaded-image-bytes';
import { forEachObject } from '../../src/heap/heap-walker';
import { DotNetRuntime } from '../../src/runtime/dotnet-runtime';
import { GcHeap } from '../../src/runtime/gc/gc-heap';
import { ModuleReader } from '../../src/runtime/loader';
import { MethodTableReader } from '../../src/runtime/method-table';
import { TypeNameResolver } from '../../src/runtime/type-names';
import { UnmappedAddressError } from '../../src/errors';
import { getDump } from '../support/dumps';
import { runSosMany } from '../support/sos';
import { parseDumpMt } from '../support/sos-object-parsers';

const TIMEOUT = 10 * 60_000;
const WANTED = [
  'Debuggees.TypeZoo',
  'Debuggees.Outer<System.Int32>+Inner<System.String>',
  'System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Int32>>',
  'System.Func<System.Int32, System.Int32>',
  'System.Int32[,]',
  'System.String',
  'System.Threading.Thread',
];

/** MethodTables of the wanted types (by exact ClrMD name) found on the heap. */
function methodTablesByName(session: Session, wanted: readonly string[]): Map<string, number> {
  const want = new Set(wanted);
  const out = new Map<string, number>();
  const seen = new Set<number>();
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (_a, mt) => {
    if (seen.has(mt)) return;
    seen.add(mt);
    const n = session.names.clrmdName(mt);
    if (want.has(n)) out.set(n, mt);
  });
  return out;
}

for (const serverGc of [false, true]) {
  describe(`dumpmt on types full ${serverGc ? 'server' : 'workstation'}`, { timeout: TIMEOUT }, () => {
    it('dumpmt -md equals SOS for a user type, generic instantiations, an array and System.String', async () => {
      const dump = await getDump('types', { dumpType: 'full', serverGc });
      const session = Session.open(dump.dumpPath);
      const mts = methodTablesByName(session, WANTED);
      assert.deepEqual([...mts.keys()].sort(), [...WANTED].sort(), 'every wanted type is on the heap');
      const list = [...mts.entries()];
      const sos = await runSosMany(dump.dumpPath, list.map(([, mt]) => `dumpmt -md ${mt.toString(16)}`));
      let rows = 0;
      list.forEach(([name, mt], i) => {
        const expected = parseDumpMt(sos[i]!);
        const actual = parseDumpMt(dumpmtCommand.run(session, ['-md', mt.toString(16)]).text);
        assert.deepEqual([...actual.fields.entries()], [...expected.fields.entries()], `${name}: header lines`);
        assert.deepEqual(actual.methods, expected.methods, `${name}: methods`);
        assert.deepEqual(actual.other, expected.other, `${name}: other lines`);
        rows += expected.methods.length;
      });
      assert.ok(rows > 300, `compared ${rows} method rows`);
      session.close();
    });
  });
}

describe('names without image pages (types heap workstation)', { timeout: TIMEOUT }, () => {
  it('are <unknown type @mt> with a warning, never a wrong name', async () => {
    const dump = await getDump('types', { dumpType: 'heap', serverGc: false });
    const reference = Session.open(dump.dumpPath);
    const mts = [...methodTablesByName(reference, WANTED).values()];
    const expectedNames = mts.map((mt) => reference.names.dacName(mt));

    // This runtime's heap dumps keep the managed images' pages (createdump includes them), so "pages missing and
    // files not on disk" is simulated: reads inside the managed modules' images fail as unmapped memory would.
    const full = openDump(dump.dumpPath);
    const ranges = reference.modules.enumerate().map((m) => [m.imageBase, m.imageBase + Math.max(m.imageSize, 1)] as const);
    const pick = (a: number, l = 1): MemoryReader => {
      if (ranges.some(([lo, hi]) => a < hi && a + l > lo)) throw new UnmappedAddressError(a, l);
      return full.memory;
    };
    const memory: MemoryReader = {
      pointerSize: 8,
      read: (a, l) => pick(a, l).read(a, l),
      readUpTo: (a, l) => pick(a, l).readUpTo(a, l),
      isMapped: (a, l) => ranges.every(([lo, hi]) => !(a < hi && a + l > lo)) && full.memory.isMapped(a, l),
      readU8: (a) => pick(a).readU8(a),
      readU16: (a) => pick(a, 2).readU16(a),
      readU32: (a) => pick(a, 4).readU32(a),
      readI32: (a) => pick(a, 4).readI32(a),
      readU64: (a) => pick(a, 8).readU64(a),
      readPointer: (a) => pick(a, 8).readPointer(a),
    };
    const bareRt = DotNetRuntime.open({ path: dump.dumpPath, memory, modules: full.modules }, (a, l) => readLoadedImageBytes(full, a, l));
    const bareMts = new MethodTableReader(bareRt);
    const bare = { d: full, names: new TypeNameResolver(bareRt, bareMts, new ModuleReader(bareRt), GcHeap.read(bareRt).freeObjectMethodTable) };
    let unknown = 0;
    mts.forEach((mt, i) => {
      const n = bare.names.dacName(mt);
      if (n.includes('<unknown type @')) {
        // The unknown parts stand where the real name has a name (e.g. `<unknown type @elementMT>[,]`).
        const pattern = new RegExp('^' + n.split(/<unknown type @[0-9a-f]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+') + '$');
        assert.match(expectedNames[i]!, pattern);
        unknown++;
      } else {
        assert.equal(n, expectedNames[i], 'a name that resolves is the right one');
      }
    });
    assert.ok(unknown > 0, 'without the image files some names are unknown');
    assert.ok(bare.names.problems.size > 0, 'and the resolver says why (a warning per module)');
    for (const msg of bare.names.problems.values()) assert.match(msg, /--image-path/);
    bare.d.close();

    reference.close();
  });
});
