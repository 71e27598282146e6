// Issue 13, diff of two dumps of one process (test/debuggees/Grow.cs, captured by src/capture/capture-dump-pair.ts):
// the per-type deltas equal the difference of SOS's two `dumpheap -stat` tables for every type; the growth findings
// name the growing types with the count deltas the scenario states, their owner (the static field) and, for the
// event, the handler method; the churn-only twin gives no growth finding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sameProgramWarnings } from '../../src/analysis/heap-diff';
import { assertOneErrorLine, runCli } from '../support/cli-runner';
import { getDumpPair } from '../support/dumps';
import { runSos } from '../support/sos';
import { parseDumpHeapObjects, parseDumpHeapStat } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;

// The counts Grow.cs states (GrowScenario).
const SESSIONS = [300, 1000] as const;
const LISTENERS = [200, 500] as const;

interface DiffJson {
  old: { processId: number | null; runtimeVersion: string | null; appAssemblies: string[] };
  new: { processId: number | null; runtimeVersion: string | null; appAssemblies: string[] };
  sameProgram: boolean;
  totals: { oldCount: number; newCount: number; oldSize: number; newSize: number };
  types: { name: string; oldCount: number; newCount: number; countDelta: number; oldSize: number; newSize: number; sizeDelta: number }[];
  growth: {
    type: string;
    countDelta: number;
    oldCount: number;
    newCount: number;
    status: string;
    owner: string;
    culprit: { method: string; module: string; evidence: string } | null;
    culpritKind: string | null;
    chain: { type: string; field?: string; address?: string }[];
    alsoGrew: { type: string; countDelta: number }[];
    verify: string[];
  }[];
  warnings: string[];
}

async function diffOf(scenario: string, extra: readonly string[] = []): Promise<{ json: DiffJson; paths: [string, string] }> {
  const pair = await getDumpPair(scenario);
  const run = await runCli(['--json', 'diff', pair.first.dumpPath, pair.second.dumpPath, ...extra], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  return { json: JSON.parse(run.stdout) as DiffJson, paths: [pair.first.dumpPath, pair.second.dumpPath] };
}

/** SOS's histogram summed by type name (a name may have several MethodTables). */
async function sosByName(dumpPath: string): Promise<{ rows: Map<string, { count: number; size: number }>; totalCount: number; totalSize: number }> {
  const stat = parseDumpHeapStat(await runSos(dumpPath, 'dumpheap -stat'));
  const rows = new Map<string, { count: number; size: number }>();
  for (const t of stat.types) {
    const r = rows.get(t.name) ?? { count: 0, size: 0 };
    r.count += t.count;
    r.size += t.totalSize;
    rows.set(t.name, r);
  }
  return { rows, totalCount: stat.totalCount, totalSize: stat.totalSize };
}

async function assertEqualsSosDifference(json: DiffJson, paths: readonly [string, string]): Promise<void> {
  const [a, b] = [await sosByName(paths[0]), await sosByName(paths[1])];
  const names = new Set([...a.rows.keys(), ...b.rows.keys()]);
  assert.ok(names.size > 10, 'SOS lists the types');
  const ours = new Map(json.types.map((t) => [t.name, t]));
  assert.equal(ours.size, names.size, 'the same set of type names as SOS');
  for (const name of names) {
    const o = a.rows.get(name) ?? { count: 0, size: 0 };
    const n = b.rows.get(name) ?? { count: 0, size: 0 };
    const t = ours.get(name);
    assert.ok(t, `diff lists ${name}`);
    assert.deepEqual([t.oldCount, t.newCount, t.oldSize, t.newSize], [o.count, n.count, o.size, n.size], name);
    assert.deepEqual([t.countDelta, t.sizeDelta], [n.count - o.count, n.size - o.size], name);
  }
  assert.deepEqual(json.totals, { oldCount: a.totalCount, newCount: b.totalCount, oldSize: a.totalSize, newSize: b.totalSize });
}

describe('diff of two dumps of one process', { timeout: TIMEOUT }, () => {
  it('grow: every type delta equals the difference of SOS dumpheap -stat on the two dumps', async () => {
    const { json, paths } = await diffOf('grow', ['-stat']);
    assert.equal(json.growth.length, 0, '-stat computes no growth by owner');
    await assertEqualsSosDifference(json, paths);
    const session = json.types.find((t) => t.name === 'Growth.UserSession')!;
    assert.deepEqual([session.oldCount, session.newCount], [...SESSIONS]);
  });

  it('grow: the same process, and the two growth findings with their owners, count deltas and culprit', async () => {
    const { json } = await diffOf('grow');
    assert.equal(json.sameProgram, true);
    assert.equal(json.old.processId, json.new.processId);
    assert.deepEqual(json.warnings, []);
    assert.equal(json.growth.length, 2, JSON.stringify(json.growth.map((g) => `${g.type} ${g.owner}`)));
    const sessions = json.growth.find((g) => g.type === 'Growth.UserSession');
    assert.ok(sessions, 'a finding for the sessions');
    assert.equal(sessions.countDelta, SESSIONS[1] - SESSIONS[0]);
    assert.equal(sessions.owner, 'static Growth.SessionRegistry.s_sessions');
    assert.equal(sessions.status, 'grew');
    assert.deepEqual(sessions.alsoGrew.map((x) => `${x.type} ${x.countDelta}`).sort(), ['System.Byte[] 700', 'System.String 700']);
    assert.equal(sessions.chain.at(-1)!.type, 'Growth.UserSession');
    // No delegate on this chain: the culprit is the registry's method that adds to s_sessions (Grow.cs: only Open).
    assert.match(sessions.culprit?.method ?? '', /^Growth\.SessionRegistry\.Open\(System\.String\)$/);
    assert.equal(sessions.culprit?.module, 'Debuggees.dll');
    assert.equal(sessions.culpritKind, 'adder');
    assert.match(sessions.culprit?.evidence ?? '', /loads Growth\.SessionRegistry\.s_sessions.*calls set_Item \(the only method/);
    assert.match(sessions.chain.at(-1)!.address ?? '', /^0x[0-9a-f]+$/);
    const listeners = json.growth.find((g) => g.type === 'Growth.BeatListener');
    assert.ok(listeners, 'a finding for the event subscribers');
    assert.equal(listeners.countDelta, LISTENERS[1] - LISTENERS[0]);
    assert.equal(listeners.owner, 'static Growth.Heartbeat.Beat');
    assert.match(listeners.culprit?.method ?? '', /^Growth\.BeatListener\.OnBeat\(/);
    assert.equal(listeners.culprit?.module, 'Debuggees.dll');
    assert.equal(listeners.culpritKind, 'callback');
  });

  it('grow: each growth chain address is the object SOS shows there', async () => {
    const { json, paths } = await diffOf('grow');
    const listeners = json.growth.find((g) => g.type === 'Growth.BeatListener')!;
    const last = listeners.chain.at(-1)!;
    const sos = parseDumpHeapObjects(await runSos(paths[1], 'dumpheap -type Growth.BeatListener'));
    assert.equal(sos.length, LISTENERS[1]);
    assert.ok(sos.some((o) => o.address === parseInt(last.address!.slice(2), 16)), `${last.address} is a Growth.BeatListener in SOS's listing`);
  });

  it('grow-churn: the twin that only churns gives no growth finding, and its deltas equal SOS', async () => {
    const { json, paths } = await diffOf('grow-churn');
    assert.deepEqual(json.growth, []);
    await assertEqualsSosDifference(json, paths);
    const run = await runCli(['diff', paths[0], paths[1]], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Growth by owner: none/);
  });

  it('analyze --baseline: growth findings first, then the event leak that grew since the first dump', async () => {
    const pair = await getDumpPair('grow');
    const run = await runCli(['--json', pair.second.dumpPath, 'analyze', '--baseline', pair.first.dumpPath], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { findings: { rule: string; title: string; objectCount: number; chain: { type: string; address?: string }[]; culprit: { method: string } | null; details?: { baseline?: { status: string; baselineObjectCount: number }; owner?: string } }[] };
    assert.deepEqual(json.findings.slice(0, 2).map((f) => [f.rule, f.objectCount, f.details?.owner]).sort(), [
      ['growth', LISTENERS[1] - LISTENERS[0], 'static Growth.Heartbeat.Beat'],
      ['growth', SESSIONS[1] - SESSIONS[0], 'static Growth.SessionRegistry.s_sessions'],
    ]);
    const event = json.findings.find((f) => f.rule === 'event-handler-leak');
    assert.ok(event, 'the event-handler leak is listed');
    assert.deepEqual(event.details?.baseline, { status: 'grew', baselineObjectCount: LISTENERS[0] });
    assert.equal(event.objectCount, LISTENERS[1]);
    assert.match(event.culprit?.method ?? '', /^Growth\.BeatListener\.OnBeat\(/);
    assert.ok(event.chain.every((s) => s.type.startsWith('…') || /^0x[0-9a-f]+$/.test(s.address ?? '')), 'every uncollapsed chain link has its object address');
  });

  it('analyze --baseline on the churn-only twin: nothing new, nothing grew', async () => {
    const pair = await getDumpPair('grow-churn');
    const run = await runCli(['--json', pair.second.dumpPath, 'analyze', '--baseline', pair.first.dumpPath], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout) as { growth: unknown[]; findings: { title: string }[] };
    assert.deepEqual(json.growth, []);
    assert.deepEqual(json.findings.map((f) => f.title), []);
  });

  it('bad input: one clear line for a missing dump or argument', async () => {
    const pair = await getDumpPair('grow');
    const missing = await runCli(['diff', pair.first.dumpPath, '/nonexistent/core.1']);
    assert.equal(missing.code, 1);
    assertOneErrorLine(missing, 'diff of a missing dump');
    const usage = await runCli(['diff', pair.first.dumpPath]);
    assert.equal(usage.code, 2);
    assert.match(assertOneErrorLine(usage, 'diff with one dump'), /two dumps/);
  });
});

describe('same-program check', () => {
  const base = { path: 'a', processId: 1, processName: 'dotnet', runtimeVersion: '10.0.12', appAssemblies: ['App.dll'] };
  it('warns for other runtimes, executables and application assemblies, not for two moments of one program', () => {
    assert.deepEqual(sameProgramWarnings(base, { ...base, processId: 2 }), []);
    assert.match(sameProgramWarnings(base, { ...base, runtimeVersion: '10.0.1' }).join('\n'), /different runtimes/);
    assert.match(sameProgramWarnings(base, { ...base, processName: 'other' }).join('\n'), /different executables/);
    assert.match(sameProgramWarnings(base, { ...base, appAssemblies: ['Other.dll'] }).join('\n'), /different application assemblies/);
  });
});
