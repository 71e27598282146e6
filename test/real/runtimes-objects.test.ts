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
import { gcrootCommand, staticSlots } from '../../src/cli/commands/gcroot';
import { Session } from '../../src/cli/session';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { extraDumpLabel, extraRuntimeDumps, type ExtraRuntimeDump } from '../support/extra-runtime-dumps';
import { hexOf as hexNumber } from '../support/dumpsleuth';
import { runCommand, sessionFor } from '../support/run-command';
import { compareUWithSos } from '../support/code-checks';
import { compareDumparrayWithSos, compareDumpobjWithSos, compareDumpvcWithSos, compareObjsizeWithSos, compareThreadStaticsWithSos, DUMPOBJ_TYPES, OBJSIZE_TYPES } from '../support/object-checks';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;
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
        const r = await compareDumparrayWithSos(session, dump.dumpPath);
        t.diagnostic(`compared ${r.cases} dumparray answers, ${r.elements} elements`);
        assert.ok(r.elements >= 20, `only ${r.elements} elements`);
        assert.ok(r.cases >= 10, `only ${r.cases} cases`);
      } finally {
        session.close();
      }
    });

    it(`${label}: dumpvc equals SOS for TypeZoo's embedded structs`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      try {
        const r = await compareDumpvcWithSos(session, dump.dumpPath);
        t.diagnostic(`compared ${r.answers} dumpvc answers, ${r.fields} field rows`);
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
        const r = await compareObjsizeWithSos(session, dump.dumpPath, OBJSIZE_TYPES[entry.scenario as keyof typeof OBJSIZE_TYPES]);
        t.diagnostic(`compared ${r.answers} objsize answers over ${r.objects} objects`);
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
        const r = await compareUWithSos(session, dump.dumpPath);
        t.diagnostic(`${r.methods} methods (${r.instructions} instructions), ${r.targets} call targets checked`);
      } finally {
        session.close();
      }
    });
  }
});

describe('thread-static values in dumpobj on 11.0.0 (self-contained) equal SOS', { timeout: TIMEOUT }, () => {
  const dumps = elevens((d) => d.scenario === 'seed-apm' && d.dumpType === 'full');
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: every Thread object's t_currentThread values equal SOS`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const r = await compareThreadStaticsWithSos(dump.dumpPath);
      t.diagnostic(`${r.objects} Thread objects, ${r.values} per-thread values`);
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
        const r = await compareDumpobjWithSos(session, dump.dumpPath, DUMPOBJ_TYPES[entry.scenario as keyof typeof DUMPOBJ_TYPES]);
        t.diagnostic(`compared ${r.objects} objects of ${r.types} types, ${r.fields} field rows (${r.statics} static)`);
        assert.ok(r.objects >= 20 && r.fields > 100 && r.statics > 0, `compared ${r.objects} objects, ${r.fields} fields, ${r.statics} static`);
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
