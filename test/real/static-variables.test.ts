// gcroot's `(static variable: …)` notes on real dumps: for the 25 dead Thread objects of seed-apm (heap and full,
// workstation GC), the chain lines that carry a static variable note are SOS's links; the note names the static that
// holds the reference (SOS, through ClrMD, names the static of the slot before it — checked here too), and the JSON `field` of that
// link names the static whose slot of the statics `System.Object[]` holds the next object.
//
// SOS's note comes from ClrMD's StaticVariableService, which keys each static one pointer past its slot
// (gcBase + offset + 8): the field it prints is the static of the slot *before* the one that holds the reference
// (e.g. `SocketAsyncEngine[].s_engines` on a `SocketAsyncContext[]` held by `s_registeredContexts`). The text
// reproduces SOS; the JSON names the static that really holds the reference.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gcrootCommand, staticSlots } from '../../src/cli/commands/gcroot';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { hexOf } from '../support/dumpsleuth';
import { runCommand, sessionFor } from '../support/run-command';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;

interface GcRootJson {
  paths: { root: { kind: string }; chain: { address: string; type: string; field: string | null }[] }[];
}

const staticLines = (text: string) => [...new Set(text.split('\n').filter((l) => l.includes('(static variable: ')))].sort();
/** A chain line without its note: the object address and type, which must agree with SOS. */
const withoutNote = (line: string) => line.replace(/\(static variable: .*\)\s*$/, '').trimEnd();

describe('gcroot static variable notes on real dumps', { timeout: TIMEOUT }, () => {
  for (const dumpType of ['heap', 'full'] as const) {
    it(`seed-apm ${dumpType} workstation: static variable notes of the 25 dead threads equal SOS's`, async (t) => {
      const dump = await getDump('seed-apm', { dumpType, serverGc: false });
      const session = sessionFor(dump.dumpPath);
      const dead = readThreads(session.runtime).filter((th) => th.isDead && th.exposedObject !== 0).map((th) => th.exposedObject);
      assert.equal(dead.length, 25, 'the scenario leaves 25 dead threads');
      const sosTexts = await runSosMany(dump.dumpPath, dead.map((a) => `gcroot ${a.toString(16)}`));
      const statics = staticSlots(session);
      let noted = 0;
      dead.forEach((target, k) => {
        const what = `gcroot ${target.toString(16)}`;
        const ours = runCommand<GcRootJson>(dump.dumpPath, gcrootCommand, [target.toString(16)]);
        const sosLines = staticLines(sosTexts[k]!);
        // The same links carry a note; the note itself names the real static (SOS's names the slot before it).
        assert.deepEqual(staticLines(ours.text).map(withoutNote), sosLines.map(withoutNote), `${what}: the chain lines with a static variable note`);
        noted += sosLines.length;
        for (const p of ours.json.paths) {
          const [first, second] = p.chain;
          if (!first || !second || first.type !== 'System.Object[]') continue;
          const array = hexOf(first.address);
          const next = hexOf(second.address);
          const m = session.runtime.memory;
          const slots: number[] = [];
          for (let i = 0, n = m.readU32(array + 8); i < n; i++) if (m.readPointer(array + 16 + i * 8) === next) slots.push(array + 16 + i * 8);
          const held = slots.map((s) => statics.at(s)).find((s) => s !== undefined);
          if (!held) continue;
          // The JSON names the static that holds the reference, declared in its type as the runtime lays it out.
          assert.equal(second.field, `${session.names.clrmdName(held.declaringMT)}.${held.field}`, `${what}: JSON field of ${second.address}`);
          // SOS's note names the static of the slot before (ClrMD's off-by-one key).
          const sos = slots.map((s) => statics.sosAt(s)).find((s) => s !== undefined);
          if (sos) assert.ok(sosLines.some((l) => l.includes(`-> ${next.toString(16).padStart(12, '0')} `) && l.endsWith(`.${sos.field})`)), `${what}: SOS notes ${sos.field}`);
          const ourLine = staticLines(ours.text).find((l) => l.includes(`-> ${next.toString(16).padStart(12, '0')} `));
          if (ourLine) assert.ok(ourLine.trimEnd().endsWith(`.${held.field})`), `${what}: our note names ${held.field}`);
        }
      });
      assert.ok(noted > 0, 'SOS notes at least one static variable');
      t.diagnostic(`${noted} distinct static variable lines across 25 targets on the same links as SOS's; ours name the holding static, SOS's the slot before`);
    });
  }
});
