// Issue 3's "Must show" for objects, on FULL dumps (dotnet-dump's dumpobj prints no fields on heap dumps), both
// workstation and server GC: for every object of the chosen types (strings, arrays, generics, nested types,
// structs, enums, Thread, the Linux socket async objects, delegates) our dumpobj equals SOS's dumpobj field by
// field (MT, token, offset, type, VT, attr, value, name) and in its header lines; dumparray and dumpvc equal SOS's;
// bad addresses give one clear line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpobjCommand } from '../../src/cli/commands/dumpobj';
import { dumpvcCommand } from '../../src/cli/commands/dumpvc';
import { Session } from '../../src/cli/session';
import { DumpsleuthError } from '../../src/errors';
import { getDump } from '../support/dumps';
import { compareDumparrayWithSos, compareDumpobjWithSos, compareDumpvcWithSos, DUMPOBJ_TYPES, objectsByType } from '../support/object-checks';

const TIMEOUT = 10 * 60_000;
const sessions = new Map<string, Session>();
function sessionOf(path: string): Session {
  let s = sessions.get(path);
  if (!s) {
    s = Session.open(path);
    sessions.set(path, s);
  }
  return s;
}

for (const scenario of ['types', 'seed-apm'] as const) {
  for (const serverGc of [false, true]) {
    const label = `${scenario} full ${serverGc ? 'server' : 'workstation'}`;
    describe(`objects on ${label}`, { timeout: TIMEOUT }, () => {
      it('dumpobj equals SOS for every object of the chosen types', async (t) => {
        const dump = await getDump(scenario, { dumpType: 'full', serverGc });
        const r = await compareDumpobjWithSos(sessionOf(dump.dumpPath), dump.dumpPath, DUMPOBJ_TYPES[scenario]);
        t.diagnostic(`compared ${r.objects} objects of ${r.types} types, ${r.fields} field rows`);
        assert.ok(r.objects >= 20 && r.fields > 100, `compared ${r.objects} objects, ${r.fields} fields`);
      });
    });
  }
}

describe('dumparray, dumpvc and bad input on types full workstation', { timeout: TIMEOUT }, () => {
  it('dumparray equals SOS for multi-dimensional, jagged, struct and object arrays, with -start/-length', async () => {
    const dump = await getDump('types', { dumpType: 'full', serverGc: false });
    const r = await compareDumparrayWithSos(sessionOf(dump.dumpPath), dump.dumpPath);
    assert.ok(r.cases >= 10 && r.elements >= 20, `${r.cases} cases, ${r.elements} elements`);
  });

  it('dumpvc equals SOS for embedded structs', async () => {
    const dump = await getDump('types', { dumpType: 'full', serverGc: false });
    await compareDumpvcWithSos(sessionOf(dump.dumpPath), dump.dumpPath);
  });

  it('an address that is not an object start, an unmapped address and a bad MethodTable each give one clear line', async () => {
    const dump = await getDump('types', { dumpType: 'full', serverGc: false });
    const session = sessionOf(dump.dumpPath);
    const zoo = objectsByType(session, ['Debuggees.TypeZoo'], 1).get('Debuggees.TypeZoo')![0]!;
    const oneLine = (f: () => unknown, pattern: RegExp) => {
      assert.throws(f, (e: unknown) => e instanceof DumpsleuthError && !e.message.includes('\n') && pattern.test(e.message));
    };
    oneLine(() => dumpobjCommand.run(session, [(zoo + 8).toString(16)]), /not .*object/);
    oneLine(() => dumpobjCommand.run(session, ['10']), /not in the dump|not an object/);
    oneLine(() => dumpobjCommand.run(session, ['7ffffffff000']), /not in the dump/);
    oneLine(() => dumpvcCommand.run(session, [(zoo + 8).toString(16), zoo.toString(16)]), /MethodTable/);
  });
});
