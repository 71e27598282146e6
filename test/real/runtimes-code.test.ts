// Issue 11 on 11.0.0: the code and listing commands that the SDK runtime's tests compare (code.test.ts,
// strings.test.ts, roots and handles), against SOS on the 11 dumps of the same scenarios: dumpdelegate on every
// delegate (SOS prints no rows on 11: its rows are checked against SOS's dumpmd instead), ip2md (SOS's IL Addr aside) on every frame's IP (inside the method and its start) and on delegates' code, dumpmd on every
// MethodDesc met, the whole-dump listings threads, dumpheap -strings [-stat], finalizequeue, threadpool -wi and
// gchandles, gcinfo of every frame's method (GC info v4 as on 10), and on full dumps dumpmodule -mt, dumpclass,
// dumpmt -md and name2ee. One dotnet-dump run per dump asks every command (answers cached per command).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { walkManagedThread } from '../../src/cli/commands/clrstack';
import { delegateReaderOf } from '../../src/cli/commands/dumpdelegate';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { extraDumpLabel, extraRuntimeDumps } from '../support/extra-runtime-dumps';
import { runSosMany, sosLines } from '../support/sos';
import { consoleFilter } from '../support/sos-object-parsers';

const TIMEOUT = 10 * 60_000;
const LISTINGS = ['threads', 'dumpheap -strings', 'dumpheap -strings -stat', 'finalizequeue', 'threadpool -wi', 'gchandles'];
const SCENARIOS = new Set(['seed-apm', 'types', 'hang']);
const NAME2EE = ['* System.String', '* System.String.Concat', '* System.Object.ToString', 'System.Private.CoreLib.dll System.Collections.Generic.List`1', '* Debuggees.TypeZoo'];

/** SOS text without the optional "Source file:" line ip2md adds when it finds a PDB. */
const lines = (text: string) => sosLines(consoleFilter(text)).filter((l) => !l.startsWith('Source file:'));

/** The per-object commands for a dump: its delegates, the code addresses of its frames and delegates, their MethodDescs. */
function objectCommands(dumpPath: string, full: boolean): string[] {
  const session = Session.open(dumpPath);
  try {
    const reader = delegateReaderOf(session);
    const delegates: number[] = [];
    forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, mt) => {
      if (reader.isDelegateType(mt) && delegates.length < 60) delegates.push(address);
    });
    const code = new Set<number>();
    const starts = new Set<number>();
    const mds = new Set<number>();
    for (const t of readThreads(session.runtime)) {
      for (const f of walkManagedThread(session, t)?.frames ?? []) {
        if (f.kind !== 'managed') continue;
        code.add(f.ip - 1);
        code.add(f.block.startAddress);
        starts.add(f.block.startAddress);
        mds.add(f.methodDesc);
      }
    }
    for (const d of delegates) {
      for (const inv of reader.read(d).invocations) {
        if (inv.resolution?.kind === 'code') code.add(inv.resolution.block.startAddress);
        if (inv.methodDesc !== 0) mds.add(inv.methodDesc);
      }
    }
    const hex = (a: number) => a.toString(16);
    // Full dumps: the loader commands of modules.test.ts — dumpmodule -mt on every module, dumpclass and dumpmt -md
    // on the program's own types (generic definitions among them), name2ee on a few names.
    const loader: string[] = [];
    if (full) {
      const modules = session.modules.enumerate();
      loader.push(...modules.map((m) => `dumpmodule -mt ${hex(m.address)}`));
      const own = modules.find((m) => /\/Debuggees(\.dll)?$/.test(m.path));
      if (own) {
        const defined = (runDumpsleuth(dumpPath, ['dumpmodule', '-mt', hex(own.address)]).json as { typesDefined: { mt: string }[] }).typesDefined;
        const mts = defined.map((t) => parseInt(t.mt.slice(2), 16)).filter((mt) => mt !== 0).slice(0, 40);
        loader.push(...mts.map((mt) => `dumpclass ${hex(mt)}`), ...mts.map((mt) => `dumpmt -md ${hex(mt)}`));
      }
      loader.push(...NAME2EE.map((q) => `name2ee ${q}`));
    }
    return [
      ...loader,
      ...[...starts].map((a) => `gcinfo ${hex(a)}`),...delegates.map((d) => `dumpdelegate ${hex(d)}`), ...[...code].slice(0, 80).map((a) => `ip2md ${hex(a)}`), ...[...mds].map((m) => `dumpmd ${hex(m)}`)];
  } finally {
    session.close();
  }
}

describe('code and listing commands on 11.0.0 (self-contained) equal SOS', { timeout: TIMEOUT }, () => {
  const dumps = extraRuntimeDumps().filter((d) => d.runtimePack.startsWith('11.') && d.publishKind === 'self-contained' && SCENARIOS.has(d.scenario));
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    it(`${extraDumpLabel(entry)}: dumpdelegate, ip2md, dumpmd and ${LISTINGS.join(', ')} equal SOS line for line`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const perObject = objectCommands(dump.dumpPath, entry.dumpType === 'full');
      const commands = [...LISTINGS, ...perObject];
      const sos = await runSosMany(dump.dumpPath, commands);
      const counts = new Map<string, number>();
      const sosOf = new Map(commands.map((c, i) => [c, sos[i]!]));
      commands.forEach((command, i) => {
        const ours = runDumpsleuth(dump.dumpPath, command.split(' '));
        const expected = lines(sos[i]!);
        assert.ok(expected.length > 0, `SOS answered ${command}`);
        if (command.startsWith('dumpdelegate ')) {
          // SOS's dumpdelegate (strike.cpp) reads _invocationList / _invocationCount, which .NET 11 renamed
          // (_helperObject / _extraData): it prints its header and no row for any delegate. Ours prints the rows;
          // each names a MethodDesc whose name SOS's own dumpmd gives (those dumpmd commands are in this batch).
          assert.deepEqual(expected, ['Target           Method           Name'], `${command}: SOS prints only its header on 11`);
          const rows = lines(ours.text);
          assert.equal(rows[0], expected[0]);
          for (const row of rows.slice(1)) {
            const m = /^[0-9a-f]{16} ([0-9a-f]{16}) (.+)$/.exec(row);
            assert.ok(m, `${command}: ${row}`);
            const md = sosOf.get(`dumpmd ${BigInt(`0x${m[1]}`).toString(16)}`);
            assert.ok(md !== undefined, `${command}: MethodDesc ${m[1]} is among the dumpmd checks`);
            assert.ok(lines(md).some((l) => l.replace(/\s+/g, ' ') === `Method Name: ${m[2]}`), `${command}: SOS's dumpmd ${m[1]} names ${m[2]}`);
          }
        } else if (/^(ip2md|dumpmd) /.test(command)) {
          // On 11 SOS asks the cDAC, which reports the default ILCodeVersion's IL address as 0; the DAC of 10 (and
          // SOS there, compared in code.test.ts) gives the IL body's address, which dumpsleuth prints on both. Every
          // other line is SOS's.
          const got = lines(ours.text);
          assert.equal(got.length, expected.length, `${command}: line count`);
          got.forEach((l, k) => {
            const il = /^ {2}IL Addr: {12}([0-9a-f]{16})$/.exec(l);
            if (!il || expected[k] !== '  IL Addr:            0000000000000000') assert.equal(l, expected[k], `${command} line ${k}`);
          });
        } else if (command.startsWith('dumpclass ')) {
          // The cDAC of 11 gives some static fields of a loaded class type System.Void's MethodTable (a field is
          // never void): for those rows the MT and type columns are not compared; the rest of the row is.
          const voidRow = /^([0-9a-f]{16}) ([0-9a-f]{8} +[0-9a-f]+) +System\.Void( .*)$/;
          const got = lines(ours.text);
          assert.equal(got.length, expected.length, `${command}: line count`);
          got.forEach((l, k) => {
            const v = voidRow.exec(expected[k]!);
            if (!v) return assert.equal(l, expected[k], `${command} line ${k}`);
            const m = /^([0-9a-f]{16}) ([0-9a-f]{8} +[0-9a-f]+) +\S+( .*)$/.exec(l);
            assert.ok(m && m[2] === v[2] && m[3] === v[3], `${command} line ${k}: ${l} vs ${expected[k]}`);
          });
        } else {
          assert.deepEqual(lines(ours.text), expected, command);
        }
        const verb = command.split(' ')[0]!;
        counts.set(verb, (counts.get(verb) ?? 0) + 1);
      });
      assert.ok((counts.get('dumpdelegate') ?? 0) >= 5 && (counts.get('ip2md') ?? 0) >= 10 && (counts.get('dumpmd') ?? 0) >= 5, JSON.stringify([...counts]));
      assert.ok((counts.get('gcinfo') ?? 0) >= 5, JSON.stringify([...counts]));
      if (entry.dumpType === 'full') assert.ok((counts.get('dumpmodule') ?? 0) >= 5 && (counts.get('dumpclass') ?? 0) >= 5 && (counts.get('dumpmt') ?? 0) >= 5, JSON.stringify([...counts]));
      t.diagnostic(`compared ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
    });
  }
});
