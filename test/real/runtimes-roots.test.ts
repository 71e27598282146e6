// Issue 11 on the current major (11.0.0): the object and root commands beyond the core set of runtimes.test.ts,
// each against an oracle on the same self-contained dumps — precise stack roots per thread equal the DAC's (ClrMD),
// gcroot's roots equal SOS's (handles, finalizer queue, stack slots and registers) with every chain link one of
// ClrMD's references, dumpobj on sampled objects equals SOS field by field (full dumps), clrstack -all equals SOS on
// every scenario, dumpheap -live -stat, syncblk -all (a Monitor is a managed Lock on 11) and threadpool equal SOS,
// and dumpdomain equals SOS's text (11's DAC lists the domain under "System Domain" too).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpdomainCommand } from '../../src/cli/commands/dumpdomain';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { syncblkCommand } from '../../src/cli/commands/syncblk';
import { threadpoolCommand } from '../../src/cli/commands/threadpool';
import { dumpobjCommand } from '../../src/cli/commands/dumpobj';
import { clrstackCommand } from '../../src/cli/commands/clrstack';
import { gcrootCommand } from '../../src/cli/commands/gcroot';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { enumerateStackRoots } from '../../src/runtime/code/stack-roots';
import { readThreads } from '../../src/runtime/thread-store';
import { runClrmd } from '../support/clrmd';
import { assertStackRootsMatchClrmd, runClrmdStackRoots } from '../support/clrmd-stack';
import { getDump } from '../support/dumps';
import { hexOf } from '../support/dumpsleuth';
import { extraDumpLabel, extraRuntimeDumps, type ExtraRuntimeDump } from '../support/extra-runtime-dumps';
import { runSos, runSosMany } from '../support/sos';
import { consoleFilter, parseDumpObj, type SosFieldRow } from '../support/sos-object-parsers';
import { parseGcRoot, SOS_ROOT_KIND } from '../support/sos-root-parsers';

const TIMEOUT = 10 * 60_000;
const COMMANDS = new Map([dumpheapCommand, syncblkCommand, threadpoolCommand].map((c) => [c.name, c]));

/** Runs `command` (words) on an open session and returns its text. */
function runCommandText(session: Session, command: string): string {
  const [name, ...args] = command.split(' ');
  const c = COMMANDS.get(name!);
  assert.ok(c, `no command ${name}`);
  return c.run(session, args).text;
}

const SOS_KIND = SOS_ROOT_KIND;

interface GcRootJson {
  paths: { root: { kind: string; address: string; thread: number | null; precise: boolean }; chain: { address: string }[] }[];
}

type Refs = Record<string, { address: string }[]>;

/** Lines without dotnet-dump's banner, SOS's " [file @ line]" suffixes, and blank lines; spaces collapsed. */
function normalize(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store settings:') && !l.startsWith('Set load path for DAC/DBI'))
    .map((l) => l.replace(/\s+/g, ' ').trim().replace(/ \[[^\]]+ @ \d+\]$/, ''))
    .filter((l) => l !== '');
}

function fieldRows(rows: readonly SosFieldRow[]): string[] {
  return rows.map((r) => `${r.mt.toString(16)} ${r.token.toString(16)} ${r.offset.toString(16)} ${r.type} ${r.isValueType} ${r.attr} ${r.value} ${r.name}`);
}


/** Up to `perType` objects of each type in heap order, for types of the scenario's own namespaces and a few BCL ones. */
function sampleObjects(session: Session, perType: number): { name: string; address: number }[] {
  const taken = new Map<number, number>();
  const out: { name: string; address: number }[] = [];
  const names = new Map<number, string>();
  const wanted = (n: string) => /^(Debuggees|Gateway)\./.test(n) || /^System\.(String|Threading\.Thread|Action|Net\.Sockets\.Socket|Collections\.Generic\.List<)/.test(n);
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, mt) => {
    let n = names.get(mt);
    if (n === undefined) {
      n = session.names.clrmdName(mt);
      names.set(mt, n);
    }
    const k = taken.get(mt) ?? 0;
    if (k >= perType || !wanted(n)) return;
    taken.set(mt, k + 1);
    out.push({ name: n, address });
  });
  return out;
}

function gcrootTargets(session: Session, entry: ExtraRuntimeDump): number[] {
  if (entry.scenario === 'seed-apm') return readThreads(session.runtime).filter((th) => th.isDead && th.exposedObject !== 0).map((th) => th.exposedObject);
  return sampleObjects(session, 2).filter((o) => /^(Debuggees|Gateway)\./.test(o.name)).slice(0, 30).map((o) => o.address);
}

/** What a dump's tests need from SOS, asked in one dotnet-dump run per dump (each dotnet-dump start costs seconds on
 * a cold machine): this file's commands, the gcroot targets and dumpobj sample, and the core commands runtimes.test.ts
 * asks next (answers are cached per command, so that file then reads them from the cache). */
interface Prepared {
  readonly dumpPath: string;
  readonly targets: readonly number[];
  readonly sample: readonly { name: string; address: number }[];
}

const CORE_COMMANDS = ['eeversion', 'dumpheap -stat', 'clrthreads', 'eeheap -gc', 'gchandles -stat', 'finalizequeue -stat'];
const OWN_COMMANDS = ['clrstack -all', 'dumpdomain', 'dumpheap -live -stat', 'syncblk -all', 'threadpool'];
const prepared = new Map<string, Promise<Prepared>>();

function prepare(entry: ExtraRuntimeDump): Promise<Prepared> {
  const key = extraDumpLabel(entry);
  let p = prepared.get(key);
  if (!p) {
    p = (async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      let targets: number[];
      let sample: { name: string; address: number }[];
      try {
        targets = entry.scenario === 'seed-apm' || entry.scenario === 'types' ? gcrootTargets(session, entry) : [];
        sample = entry.dumpType === 'full' ? sampleObjects(session, 2) : [];
      } finally {
        session.close();
      }
      const full = entry.dumpType === 'full' ? ['clrmodules', 'clrmodules -v'] : [];
      await runSosMany(dump.dumpPath, [
        ...CORE_COMMANDS,
        ...full,
        ...OWN_COMMANDS,
        ...targets.map((a) => `gcroot ${a.toString(16)}`),
        ...sample.map((o) => `dumpobj ${o.address.toString(16)}`),
      ]);
      return { dumpPath: dump.dumpPath, targets, sample };
    })();
    prepared.set(key, p);
  }
  return p;
}

describe('object and root commands on 11.0.0 (self-contained)', { timeout: TIMEOUT }, () => {
  const dumps = extraRuntimeDumps().filter((d) => d.runtimePack.startsWith('11.'));
  if (dumps.length === 0) {
    it('skipped: no 11.x pack in DUMPSLEUTH_EXTRA_RUNTIMES / DUMPSLEUTH_RUNTIME_PACK', () => undefined);
    return;
  }
  for (const entry of dumps) {
    const label = extraDumpLabel(entry);

    it(`${label}: every thread's precise stack roots equal the DAC's (ClrMD)`, async () => {
      const dump = await prepare(entry);
      const oracle = await runClrmdStackRoots(dump.dumpPath);
      const session = Session.open(dump.dumpPath);
      try {
        const threads = readThreads(session.runtime);
        let compared = 0;
        for (const ot of oracle.threads) {
          const t = threads.find((x) => x.osId === ot.osId);
          const core = session.dump.threads.find((c) => c.tid === ot.osId);
          assert.ok(t && core, `thread ${ot.osId} is in the dump and the thread store`);
          const result = enumerateStackRoots(session.runtime, t, core.registers);
          assertStackRootsMatchClrmd(result, ot.raw, `thread ${ot.osId}`);
          compared += result.roots.length;
        }
        assert.ok(compared >= 10, `only ${compared} roots compared`);
      } finally {
        session.close();
      }
    });

    it(`${label}: clrstack -all equals SOS (frames per thread, in order)`, async () => {
      const dump = await prepare(entry);
      const session = Session.open(dump.dumpPath);
      try {
        const sos = normalize(await runSos(dump.dumpPath, 'clrstack -all'));
        const ours = normalize(clrstackCommand.run(session, ['-all']).text);
        assert.ok(ours.filter((l) => /^[0-9A-F]{16} [0-9A-F]{16} /.test(l)).length >= 3, 'managed frames were found');
        assert.deepEqual(ours, sos);
      } finally {
        session.close();
      }
    });

    if (entry.scenario === 'seed-apm' || entry.scenario === 'types') {
      it(`${label}: gcroot's roots equal SOS's, every chain link is a ClrMD reference`, async (t) => {
        const dump = await prepare(entry);
        const session = Session.open(dump.dumpPath);
        try {
          const targets = dump.targets;
          assert.ok(targets.length >= (entry.scenario === 'seed-apm' ? 25 : 10), `${targets.length} targets`);
          const sosTexts = await runSosMany(dump.dumpPath, targets.map((a) => `gcroot ${a.toString(16)}`));
          const answers = targets.map((a) => gcrootCommand.run(session, [a.toString(16)]).json as GcRootJson);
          const sources = new Set<string>();
          for (const ans of answers) for (const p of ans.paths) for (const link of p.chain.slice(0, -1)) sources.add(link.address);
          const refs = (sources.size > 0 ? await runClrmd(dump.dumpPath, 'refs', ...[...sources].sort()) : {}) as Refs;
          let rooted = 0;
          let registers = 0;
          targets.forEach((target, k) => {
            const what = `gcroot ${target.toString(16)}`;
            const sos = parseGcRoot(sosTexts[k]!);
            const ours = answers[k]!;
            const sosKeys = sos.roots.map((r) => (r.kind === 'stack' ? `stack ${r.thread} ${r.address.toString(16)}` : `${r.kind} ${r.address.toString(16)}`));
            const stackRootKeys = ours.paths.map((p) =>
              p.root.kind === 'stack' ? `stack ${p.root.thread} ${hexOf(p.root.address).toString(16)}` : `${SOS_KIND[p.root.kind]} ${hexOf(p.root.address).toString(16)}`,
            );
            assert.ok(ours.paths.every((p) => p.root.kind !== 'stack' || p.root.precise), `${what}: stack roots are precise`);
            assert.deepEqual([...new Set(stackRootKeys)].sort(), [...new Set(sosKeys)].sort(), `${what}: roots`);
            if (sos.roots.length > 0) rooted++;
            registers += sos.roots.filter((r) => r.kind === 'stack' && r.address === 0).length;
            for (const p of ours.paths) {
              assert.equal(hexOf(p.chain[p.chain.length - 1]!.address), target, `${what}: chains end at the target`);
              for (let i = 1; i < p.chain.length; i++) {
                const from = `0x${hexOf(p.chain[i - 1]!.address).toString(16)}`;
                assert.ok((refs[from] ?? []).some((r) => hexOf(r.address) === hexOf(p.chain[i]!.address)), `${what}: ${from} refers to ${p.chain[i]!.address} (ClrMD)`);
              }
            }
          });
          t.diagnostic(`${targets.length} targets, ${rooted} rooted, ${registers} register roots`);
          assert.ok(rooted > 0, 'some targets are rooted');
        } finally {
          session.close();
        }
      });
    }

    if (entry.dumpType === 'full') {
      it(`${label}: dumpobj on sampled objects equals SOS field by field`, async (t) => {
        const dump = await prepare(entry);
        const session = Session.open(dump.dumpPath);
        try {
          const sample = dump.sample;
          const sos = await runSosMany(dump.dumpPath, sample.map((o) => `dumpobj ${o.address.toString(16)}`));
          let fields = 0;
          sample.forEach((o, i) => {
            const where = `${o.name} at ${o.address.toString(16)}`;
            const expected = parseDumpObj(sos[i]!);
            const text = dumpobjCommand.run(session, [o.address.toString(16)]).text;
            const actual = parseDumpObj(consoleFilter(text));
            assert.equal(actual.name, expected.name, `${where}: Name`);
            assert.equal(actual.methodTable, expected.methodTable, `${where}: MethodTable`);
            assert.equal(actual.size, expected.size, `${where}: Size`);
            assert.equal(actual.file, expected.file, `${where}: File`);
            assert.deepEqual(actual.array, expected.array, `${where}: Array`);
            if (expected.string !== undefined && !(expected.string === '' && (actual.string ?? '').length >= 8000)) {
              assert.equal(actual.string?.trimEnd(), expected.string.trimEnd(), `${where}: String`);
            }
            assert.deepEqual(fieldRows(actual.fields ?? []), fieldRows(expected.fields ?? []), `${where}: fields`);
            fields += expected.fields?.length ?? 0;
          });
          t.diagnostic(`compared ${sample.length} objects, ${fields} field rows`);
          assert.ok(sample.length >= 15 && fields >= 40, `compared ${sample.length} objects, ${fields} fields`);
        } finally {
          session.close();
        }
      });
    }

    it(`${label}: dumpheap -live -stat, syncblk -all and threadpool text equal SOS's`, async () => {
      const dump = await prepare(entry);
      const commands = ['dumpheap -live -stat', 'syncblk -all', 'threadpool'];
      const sos = await runSosMany(dump.dumpPath, commands);
      const session = Session.open(dump.dumpPath);
      try {
        commands.forEach((command, i) => {
          // SOS's progress lines for the live-object pass are not part of the answer.
          const expected = normalize(sos[i]!).filter((l) => !/^(Calculating live objects|Caching GC roots|Subsequent runs of this command)/.test(l));
          assert.ok(expected.length >= (command === 'threadpool' ? 1 : 2), `SOS answers ${command}`);
          assert.deepEqual(normalize(runCommandText(session, command)), expected, command);
        });
      } finally {
        session.close();
      }
    });

    it(`${label}: dumpdomain text equals SOS's`, async () => {
      const dump = await prepare(entry);
      const session = Session.open(dump.dumpPath);
      try {
        const sos = normalize(await runSos(dump.dumpPath, 'dumpdomain'));
        assert.ok(sos.some((l) => l.startsWith('Assembly:')), 'SOS lists assemblies');
        assert.deepEqual(normalize(dumpdomainCommand.run(session, []).text), sos);
      } finally {
        session.close();
      }
    });
  }
});
