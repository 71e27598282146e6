// Issue 14, Windows dumps: the debuggee scenarios published for win-x64 run under Wine and dump themselves with
// createdump.exe; dumpsleuth reads those minidumps on Linux and its answers equal ClrMD's, run under Wine with the
// Windows DAC (mscordaccore.dll), on the same dumps: dumpheap -stat, threads, gchandles -stat, clrstack -all and
// dumpobj on sampled objects. analyze names the same culprit as on the Linux dump of the same scenario, and the
// program's own types have the same counts on both. Where Wine cannot run, the tests are skipped with the reason.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { openDump } from '../../src/dump';
import { DumpsleuthError } from '../../src/errors';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { enumerateStackRoots } from '../../src/runtime/code/stack-roots';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runCli } from '../support/cli-runner';
import { getWindowsDump, windowsTierSkipReasonNow, WINDOWS_LEAK_SCENARIOS, WINDOWS_SCENARIOS } from '../support/windows-dumps';

const TIMEOUT = 20 * 60_000;

interface Oracle {
  threads: { managedId: number; osId: number; address: string; isAlive: boolean; isFinalizer: boolean; state: string }[];
  heapstat: { types: { mt: string; name: string; count: number; totalSize: number }[]; totalCount: number; totalSize: number };
  handles: { kinds: Record<string, number>; objectsByMt: Record<string, number> };
  stacks: { osId: number; managedId: number; frames: { sp: string; ip: string; method: string | null }[] }[];
  stackroots: { osId: number; roots: { address: string; object: string; interior: boolean }[] }[];
  objects: { address: string; type: string | null; mt: string; size: number; fields: { name: string; offset: number; type: string | null; bytes: string }[] }[];
}

interface HeapStatJson { types: { mt: string; name: string; count: number; totalSize: number }[]; totalCount: number; totalSize: number }
interface ThreadsJson { threads: { managedId: number; osId: number; address: string; state: number; isDead: boolean; isFinalizer: boolean }[] }
interface HandlesJson { handles: { kind: string; target: string }[]; summary: Record<string, number> }
interface StackJson { threads: { osId: number; frames: { kind: string; sp: string; ip: string; method?: string; frame?: string }[] }[] }
interface ObjJson { mt: string; name: string; size: number; fields: { name: string; offset: number; isStatic: boolean; isValueType: boolean; value: unknown }[] }
interface AnalyzeJson { findings: { rule: string; severity: string; objectCount: number; culprit?: { method: string; type: string; module: string } }[] }

const hex = (text: string): string => `0x${BigInt(text).toString(16)}`;

const skip = windowsTierSkipReasonNow();

describe('Windows minidumps (made under Wine) against ClrMD with the Windows DAC', { timeout: TIMEOUT, skip: skip === undefined ? false : `Windows tier skipped: ${skip}` }, () => {
  for (const scenario of WINDOWS_SCENARIOS) {
    describe(scenario, () => {
      let dumpPath = '';
      let publishDir = '';
      let oracle: Oracle;
      before(async () => {
        const d = await getWindowsDump(scenario);
        dumpPath = d.dumpPath;
        publishDir = d.publishDir;
        oracle = JSON.parse(fs.readFileSync(d.oraclePath, 'utf8')) as Oracle;
      });

      it('info names the format, the OS and the runtime version the app was published with', () => {
        const info = runDumpsleuth<{ format: string; os: string; architecture: string; runtimeVersion: string | null }>(dumpPath, ['info']);
        const config = JSON.parse(fs.readFileSync(path.join(publishDir, 'Debuggees.runtimeconfig.json'), 'utf8')) as { runtimeOptions: { includedFrameworks: { name: string; version: string }[] } };
        const framework = config.runtimeOptions.includedFrameworks.find((f) => f.name === 'Microsoft.NETCore.App');
        assert.ok(framework, 'the self-contained publish names its runtime');
        assert.equal(info.json.runtimeVersion, framework.version);
        assert.equal(info.json.format, 'minidump');
        assert.equal(info.json.os, 'windows');
        assert.equal(info.json.architecture, 'x64');
        assert.match(info.text, /^Format: +Windows minidump$/m);
      });

      it('dumpheap -stat equals ClrMD per MethodTable (count, size) and in total', () => {
        const ours = runDumpsleuth<HeapStatJson>(dumpPath, ['dumpheap', '-stat']).json;
        const key = (t: { mt: string; name: string; count: number; totalSize: number }): string => `${hex(t.mt)} ${t.count} ${t.totalSize}`;
        assert.ok(oracle.heapstat.totalCount > 100, 'ClrMD walked the heap');
        assert.deepEqual(ours.types.map(key).sort(), oracle.heapstat.types.map(key).sort());
        assert.equal(ours.totalCount, oracle.heapstat.totalCount);
        assert.equal(ours.totalSize, oracle.heapstat.totalSize);
        const names = new Map(oracle.heapstat.types.map((t) => [hex(t.mt), t.name]));
        const differentNames = ours.types.filter((t) => t.name !== 'Free' && names.get(hex(t.mt)) !== t.name).map((t) => `${t.name} / ${names.get(hex(t.mt))}`);
        assert.deepEqual(differentNames, [], 'type names equal ClrMD\'s');
      });

      it('threads equal ClrMD (address, managed id, OS id, state, dead, finalizer)', () => {
        const ours = runDumpsleuth<ThreadsJson>(dumpPath, ['clrthreads']).json.threads;
        const mine = ours.map((t) => `${hex(t.address)} ${t.managedId} ${t.osId} 0x${t.state.toString(16)} ${t.isDead} ${t.isFinalizer}`).sort();
        const theirs = oracle.threads.map((t) => `${hex(t.address)} ${t.managedId} ${t.osId} ${t.state} ${!t.isAlive} ${t.isFinalizer}`).sort();
        assert.ok(theirs.length >= 2);
        assert.deepEqual(mine, theirs);
      });

      it('gchandles -stat equals ClrMD (per kind, per type of target)', () => {
        const ours = runDumpsleuth<HandlesJson>(dumpPath, ['gchandles', '-stat']).json;
        const kinds = Object.fromEntries(Object.entries(ours.summary).filter(([, n]) => n > 0).map(([k, n]) => [k[0]!.toUpperCase() + k.slice(1), n]));
        assert.deepEqual(kinds, oracle.handles.kinds);
        const byMt = new Map<string, number>();
        const mtOf = new Map<string, string>();
        for (const h of ours.handles) {
          if (BigInt(h.target) === 0n) continue;
          let mt = mtOf.get(h.target);
          if (mt === undefined) mtOf.set(h.target, (mt = hex(runDumpsleuth<ObjJson>(dumpPath, ['dumpobj', h.target]).json.mt)));
          byMt.set(mt, (byMt.get(mt) ?? 0) + 1);
        }
        assert.deepEqual(Object.fromEntries([...byMt].sort()), Object.fromEntries(Object.entries(oracle.handles.objectsByMt).map(([k, v]) => [hex(k), v]).sort()));
      });

      it('clrstack -all: the managed frames of every live thread equal ClrMD\'s (SP, IP, method)', () => {
        const ours = runDumpsleuth<StackJson>(dumpPath, ['clrstack', '-all']).json.threads;
        const theirs = oracle.stacks.filter((t) => t.osId !== 0);
        assert.ok(theirs.some((t) => t.frames.some((f) => f.method === 'Debuggees.Program.Main(System.String[])')), 'ClrMD sees Main');
        for (const t of theirs) {
          const mine = ours.find((o) => o.osId === t.osId);
          const expected = t.frames.map((f) => `${hex(f.sp)} ${hex(f.ip)} ${f.method ?? ''}`);
          // The DAC reports a Frame whose identifier it does not know (an idle thread-pool worker's stale m_pFrame) as a
          // managed frame with no method; dumpsleuth lists it as an unknown `Frame` and stops the chain there.
          const actual = (mine?.frames ?? []).filter((f) => f.kind === 'managed' || f.frame === 'Frame').map((f) => `${hex(f.sp)} ${hex(f.ip)} ${f.method ?? ''}`);
          assert.deepEqual(actual, expected, `thread 0x${t.osId.toString(16)}`);
        }
      });

      it('precise stack roots (Windows x64 frames and GC info) equal ClrMD\'s: slot and object, per thread', () => {
        const session = Session.open(dumpPath);
        try {
          const starts: number[] = [];
          const ends: number[] = [];
          forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, _mt, size) => {
            starts.push(address);
            ends.push(address + size);
          });
          const containing = (v: number): number | undefined => {
            let lo = 0;
            let hi = starts.length - 1;
            let found = -1;
            while (lo <= hi) {
              const mid = (lo + hi) >> 1;
              if (starts[mid]! <= v) {
                found = mid;
                lo = mid + 1;
              } else hi = mid - 1;
            }
            return found >= 0 && v < ends[found]! ? starts[found] : undefined;
          };
          const threads = readThreads(session.runtime);
          let compared = 0;
          for (const ot of oracle.stackroots) {
            const t = threads.find((x) => x.osId === ot.osId);
            const core = session.dump.threads.find((c) => c.tid === ot.osId);
            assert.ok(t, `thread ${ot.osId} is in the thread store`);
            if (!core) {
              // A thread the thread store still lists live but whose OS thread the dump does not hold (it was exiting
              // when Wine's dbghelp wrote the dump): no registers and no stack, so the DAC finds no roots either.
              assert.deepEqual(ot.roots.filter((r) => BigInt(r.object) !== 0n), [], `thread 0x${ot.osId.toString(16)} is not in the dump, yet ClrMD has roots on it`);
              continue;
            }
            const ours = enumerateStackRoots(session.runtime, t, core.registers, { containingObject: containing });
            const mine = ours.roots.map((r) => `${r.location.kind === 'stack' ? hex(String(r.location.address)) : '0x0'} ${hex(String(r.object))}`).sort();
            const theirs = ot.roots.filter((r) => BigInt(r.object) !== 0n).map((r) => `${hex(r.address)} ${hex(r.object)}`).sort();
            assert.deepEqual(mine, theirs, `thread 0x${ot.osId.toString(16)}`);
            compared += theirs.length;
          }
          assert.ok(compared >= 3, `only ${compared} roots compared`);
        } finally {
          session.close();
        }
      });

      it('dumpobj on sampled objects equals ClrMD (type, MethodTable, size, field offsets and values)', () => {
        assert.ok(oracle.objects.length >= 20, 'ClrMD sampled objects');
        for (const o of oracle.objects) {
          const ours = runDumpsleuth<ObjJson>(dumpPath, ['dumpobj', o.address]).json;
          assert.equal(hex(ours.mt), hex(o.mt), o.address);
          // dumpobj names generic types as SOS does (the DAC's `2[[...]] form); the names of every MethodTable are
          // compared with ClrMD's in the dumpheap -stat test above.
          if (!ours.name.includes('`')) assert.equal(ours.name, o.type, o.address);
          // ClrMD rounds a size up to the 24-byte minimum object (String.Empty: 24); SOS's dumpobj, which dumpsleuth
          // follows (checked against SOS on the Linux dumps), shows BaseSize + length × ComponentSize (22).
          assert.equal(Math.max(ours.size, 24), o.size, `${o.address} ${o.type} size`);
          const fields = ours.fields.filter((f) => !f.isStatic);
          // dumpobj's offsets count from the object's start as SOS's do; ClrMD's from after the MethodTable pointer.
          assert.deepEqual(fields.map((f) => `${f.name}@${f.offset}`).sort(), o.fields.map((f) => `${f.name}@${f.offset + 8}`).sort(), `${o.address} ${o.type} fields`);
          for (const f of o.fields) {
            const mine = fields.find((m) => m.name === f.name)!;
            const raw = BigInt(`0x${f.bytes || '0'}`);
            if (!mine.isValueType) assert.equal(BigInt((mine.value as string | null) ?? 0), raw, `${o.type}.${f.name}`);
            else if (typeof mine.value === 'number' && Number.isInteger(mine.value) && f.bytes.length > 0 && f.bytes.length <= 16) {
              assert.equal(BigInt.asUintN(f.bytes.length * 4, BigInt(mine.value)), raw, `${o.type}.${f.name}`);
            }
          }
        }
      });
    });
  }

  it('analyze names the same culprit on the Windows and the Linux dump of seed-apm, with the same count', async () => {
    const win = runDumpsleuth<AnalyzeJson>((await getWindowsDump('seed-apm')).dumpPath, ['analyze']).json.findings.filter((f) => f.severity === 'error');
    const linux = runDumpsleuth<AnalyzeJson>((await getDump('seed-apm', { dumpType: 'full' })).dumpPath, ['analyze']).json.findings.filter((f) => f.severity === 'error');
    const summary = (fs: AnalyzeJson['findings']): string[] => fs.map((f) => `${f.rule} ${f.objectCount} ${f.culprit?.method} ${f.culprit?.module}`);
    assert.ok(linux.length > 0);
    assert.deepEqual(summary(win), summary(linux));
    assert.equal(win[0]!.culprit?.method, 'Gateway.GatewayClientController.OnReceive(System.IAsyncResult)');
  });

  for (const scenario of WINDOWS_LEAK_SCENARIOS) {
    it(`analyze finds on the Windows dump of ${scenario} what it finds on the Linux dump (rule, count, culprit)`, async () => {
      const win = runDumpsleuth<AnalyzeJson>((await getWindowsDump(scenario)).dumpPath, ['analyze']).json.findings.filter((f) => f.severity !== 'info');
      const linux = runDumpsleuth<AnalyzeJson>((await getDump(scenario)).dumpPath, ['analyze']).json.findings.filter((f) => f.severity !== 'info');
      const summary = (fs: AnalyzeJson['findings']): string[] => fs.map((f) => `${f.rule} ${f.objectCount} ${f.culprit?.method}`);
      if (scenario === 'leak-event') assert.ok(linux.some((f) => f.rule === 'event-handler-leak'));
      if (scenario !== 'leak-controls') assert.ok(linux.length > 0, 'the leak fires on Linux');
      assert.deepEqual(summary(win), summary(linux));
    });
  }

  it('the program\'s own types have the same counts on the Windows and the Linux dumps', async () => {
    for (const scenario of WINDOWS_SCENARIOS) {
      const own = (p: string): string[] => runDumpsleuth<HeapStatJson>(p, ['dumpheap', '-stat']).json.types
        .filter((t) => /^(Gateway|Debuggees|Leaks)\./.test(t.name)).map((t) => `${t.name} ${t.count}`).sort();
      const win = own((await getWindowsDump(scenario)).dumpPath);
      const linux = own((await getDump(scenario)).dumpPath);
      // leak-tcs keeps none of the program's own types alive; the others must find some.
      if (linux.length > 0) assert.ok(win.length > 0, `${scenario}: own types found`);
      assert.deepEqual(win, linux, scenario);
    }
  });

  it('a truncated minidump gives a partial answer with a warning, a cut header a one-line error', async () => {
    const source = (await getWindowsDump('seed-apm')).dumpPath;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-win-'));
    try {
      const bytes = fs.readFileSync(source);
      const cut = path.join(dir, 'cut.dmp');
      fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.9)));
      const dump = openDump(cut);
      assert.match(dump.truncation ?? '', /is truncated: \d+ memory range\(s\)/);
      dump.close();
      const run = await runCli([cut, 'clrthreads']);
      assert.match(`${run.stdout}${run.stderr}`, /truncated/);
      const header = path.join(dir, 'header.dmp');
      fs.writeFileSync(header, bytes.subarray(0, 20));
      assert.throws(() => openDump(header), (e: unknown) => e instanceof DumpsleuthError && /truncated inside its minidump header/.test(e.message));
      const bad = await runCli([header, 'clrthreads']);
      assert.notEqual(bad.code, 0);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
      assert.doesNotMatch(bad.stderr, /\n\s+at /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
