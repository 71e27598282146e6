// Issue 4, roots and retention on real dumps (heap and full, workstation and server GC):
// - gcroot on the 25 dead Thread objects of seed-apm / seed-apm-overlapped and on 30+ objects of `types`: the handle
//   and finalizer roots (kind + address) equal SOS's exactly; every SOS stack root held in a stack slot is among our
//   (conservative) stack roots — register-only roots and extra conservative finds are reported, not asserted —
//   and every link of every chain is one of ClrMD's references of the previous object;
// - dumpheap -live -stat and finalizequeue -stat equal SOS's.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { finalizequeueCommand } from '../../src/cli/commands/finalizequeue';
import { gcrootCommand } from '../../src/cli/commands/gcroot';
import { rootCache } from '../../src/cli/commands/root-cache';
import { readThreads } from '../../src/runtime/thread-store';
import { runClrmd } from '../support/clrmd';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { hexOf } from '../support/dumpsleuth';
import { runCommand, sessionFor } from '../support/run-command';
import { runSos, runSosMany } from '../support/sos';
import { parseDumpHeapStat } from '../support/sos-parsers';
import { parseGcRoot, SOS_ROOT_KIND, type GcRootEntry } from '../support/sos-root-parsers';

const TIMEOUT = 10 * 60_000;

interface GcRootJson {
  target: string;
  paths: { root: { kind: string; address: string; thread: number | null; register: string | null; precise: boolean }; chain: { address: string; type: string; field: string | null }[] }[];
}

interface StatJson {
  types: { mt: string; name: string; count: number; totalSize: number }[];
  totalCount: number;
  totalSize: number;
}

const SOS_KIND = SOS_ROOT_KIND;

type Refs = Record<string, { address: string; isDependent: boolean }[]>;

/** Compares gcroot for `targets` with SOS and checks every chain link against ClrMD's references. */
async function compareGcRoots(t: TestContext, dumpPath: string, targets: readonly number[]): Promise<void> {
  const sosTexts = await runSosMany(dumpPath, targets.map((a) => `gcroot ${a.toString(16)}`));
  const answers = targets.map((a) => runCommand<GcRootJson>(dumpPath, gcrootCommand, [a.toString(16)]).json);
  // Every link source of every chain, checked against ClrMD in one oracle run.
  const sources = new Set<string>();
  for (const ans of answers) for (const p of ans.paths) for (const link of p.chain.slice(0, -1)) sources.add(link.address);
  const refs = (sources.size > 0 ? await runClrmd(dumpPath, 'refs', ...[...sources].sort()) : {}) as Refs;
  let sosStackSlots = 0;
  let sosRegisterRoots = 0;
  let extraConservative = 0;
  let rooted = 0;
  targets.forEach((target, k) => {
    const sos = parseGcRoot(sosTexts[k]!);
    const ours = answers[k]!;
    const what = `gcroot ${target.toString(16)}`;
    const key = (r: { kind: string; address: number }) => `${r.kind} ${r.address.toString(16)}`;
    const sosFixed = sos.roots.filter((r) => r.kind !== 'stack').map(key).sort();
    const ourFixed = ours.paths.filter((p) => p.root.kind !== 'stack').map((p) => key({ kind: SOS_KIND[p.root.kind]!, address: hexOf(p.root.address) }));
    assert.deepEqual([...new Set(ourFixed)].sort(), sosFixed, `${what}: handle and finalizer roots`);
    const ourStack = new Set(ours.paths.filter((p) => p.root.kind === 'stack').map((p) => `${p.root.thread} ${hexOf(p.root.address).toString(16)}`));
    const sosStack = sos.roots.filter((r: GcRootEntry) => r.kind === 'stack');
    for (const r of sosStack) {
      if (r.address === 0) {
        sosRegisterRoots++;
        continue;
      }
      sosStackSlots++;
      assert.ok(ourStack.has(`${r.thread} ${r.address.toString(16)}`), `${what}: SOS stack root ${r.thread?.toString(16)} ${r.address.toString(16)} is among ours`);
    }
    extraConservative += ourStack.size - sosStack.filter((r) => r.address !== 0).length;
    if (ours.paths.every((p) => p.root.kind !== 'stack' || p.root.precise)) {
      // Precise stack roots (GC info): the same roots as SOS's, register roots (address 0) included, none extra.
      const stackKey = (thread: number | null | undefined, address: number) => `${thread} ${address.toString(16)}`;
      const ourAll = ours.paths.filter((p) => p.root.kind === 'stack').map((p) => stackKey(p.root.thread, hexOf(p.root.address)));
      const sosAll = sosStack.map((r: GcRootEntry) => stackKey(r.thread, r.address));
      assert.deepEqual([...new Set(ourAll)].sort(), [...new Set(sosAll)].sort(), `${what}: precise stack roots equal SOS's`);
    }
    if (sos.roots.length > 0) rooted++;
    for (const p of ours.paths) {
      assert.equal(hexOf(p.chain[p.chain.length - 1]!.address), target, `${what}: chains end at the target`);
      for (let i = 1; i < p.chain.length; i++) {
        const from = p.chain[i - 1]!.address;
        const to = hexOf(p.chain[i]!.address);
        const list = refs[`0x${hexOf(from).toString(16)}`] ?? [];
        assert.ok(list.some((r) => hexOf(r.address) === to), `${what}: ${from} refers to 0x${to.toString(16)} (ClrMD)`);
      }
    }
  });
  t.diagnostic(`${targets.length} targets (${rooted} rooted): SOS stack-slot roots ${sosStackSlots} all found; SOS register roots ${sosRegisterRoots} (not found by a stack scan); extra conservative stack roots ${extraConservative}`);
}

describe('roots and retention on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS.filter((e) => e.scenario !== 'many')) {
    const label = `${entry.scenario} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;

    if (entry.scenario.startsWith('seed-apm')) {
      it(`${label}: gcroot on the 25 dead Thread objects equals SOS`, async (t) => {
        const dump = await getDump(entry.scenario, entry);
        const session = sessionFor(dump.dumpPath);
        const dead = readThreads(session.runtime).filter((th) => th.isDead && th.exposedObject !== 0).map((th) => th.exposedObject);
        assert.equal(dead.length, 25, 'the scenario leaves 25 dead threads');
        await compareGcRoots(t, dump.dumpPath, dead);
      });
    } else if (entry.scenario === 'types') {
      it(`${label}: gcroot on 30+ objects of the type zoo equals SOS`, async (t) => {
        const dump = await getDump(entry.scenario, entry);
        const zoo = (await runClrmd(dump.dumpPath, 'objects', 'Debuggees.TypeZoo')) as { address: string; name: string }[];
        const root = zoo.find((o) => o.name === 'Debuggees.TypeZoo');
        assert.ok(root, 'ClrMD finds the TypeZoo');
        const refs = (await runClrmd(dump.dumpPath, 'refs', root.address)) as Refs;
        const targets = [...new Set([hexOf(root.address), ...(refs[root.address] ?? []).map((r) => hexOf(r.address))])];
        const more = (await runClrmd(dump.dumpPath, 'objects', 'Debuggees.')) as { address: string }[];
        for (const o of more) if (targets.length < 40 && !targets.includes(hexOf(o.address))) targets.push(hexOf(o.address));
        assert.ok(targets.length >= 30, `at least 30 targets (have ${targets.length})`);
        await compareGcRoots(t, dump.dumpPath, targets);
      });
    }

    it(`${label}: dumpheap -live -stat equals SOS (a superset while stack roots are conservative)`, async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const sos = parseDumpHeapStat(await runSos(dump.dumpPath, 'dumpheap -live -stat'));
      const ours = runCommand<StatJson>(dump.dumpPath, dumpheapCommand, ['-live', '-stat']);
      const conservative = rootCache(sessionFor(dump.dumpPath)).stackRoots.some((r) => !r.precise);
      const rows = (list: { mt: number; count: number; totalSize: number }[]) => list.map((r) => `${r.mt.toString(16)} ${r.count} ${r.totalSize}`).sort();
      const ourRows = ours.json.types.map((r) => ({ ...r, mt: hexOf(r.mt) }));
      if (!conservative) {
        assert.equal(ours.json.totalCount, sos.totalCount, 'live objects');
        assert.deepEqual(rows(ourRows), rows(sos.types));
        return;
      }
      // Stale stack words can only add live objects: every object SOS finds live must be live for us too.
      const byMt = new Map(ourRows.map((r) => [r.mt, r]));
      for (const r of sos.types) {
        const o = byMt.get(r.mt);
        assert.ok(o && o.count >= r.count && o.totalSize >= r.totalSize, `live ${r.name}: ours ${o?.count ?? 0} >= SOS ${r.count}`);
      }
      t.diagnostic(`live objects: ours ${ours.json.totalCount}, SOS ${sos.totalCount} (+${ours.json.totalCount - sos.totalCount} held only by conservative stack words)`);
    });
  }

  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: finalizequeue -stat equals SOS`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const text = await runSos(dump.dumpPath, 'finalizequeue -stat');
      const sos = parseDumpHeapStat(text);
      const ours = runCommand<StatJson & { heaps: { generations: { count: number }[]; ready: { count: number } }[] }>(dump.dumpPath, finalizequeueCommand, ['-stat']);
      assert.equal(ours.json.totalCount, sos.totalCount, 'finalizable objects');
      assert.equal(ours.json.totalSize, sos.totalSize, 'their bytes');
      const rows = (list: { mt: number; count: number; totalSize: number }[]) => list.map((r) => `${r.mt.toString(16)} ${r.count} ${r.totalSize}`).sort();
      assert.deepEqual(rows(ours.json.types.map((r) => ({ ...r, mt: hexOf(r.mt) }))), rows(sos.types));
      const gens = [...text.matchAll(/^(generation \d|Ready for finalization).* ([\d,]+) objects \((\w+)->(\w+)\)/gm)].map((m) => `${m[1]} ${m[2]}`);
      const ourGens = ours.json.heaps.flatMap((h) => [...h.generations.map((g, i) => `generation ${i} ${g.count}`), `Ready for finalization ${h.ready.count}`]);
      assert.deepEqual(ourGens, gens, 'per-heap generation and ready counts');
    });
  }
});
