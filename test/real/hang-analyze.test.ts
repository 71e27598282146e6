// Issue 12, analyze for hangs: on the hang scenario's dumps (test/debuggees/Hang.cs) the first finding is the
// Monitor deadlock, naming the two threads SOS's syncblk shows as owners of the two contended ledger locks, each
// waiting for the lock the other owns, in the methods SOS's clrstack shows on those threads; the thread-pool
// starvation finding names the workers SOS's clrstack shows in Task.Result and counts SOS's queue. Controls stay quiet:
// the finalizer blocked on a lock without a cycle (leak-finalizer), the no-leak twins, and a dump with no locks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;

interface FindingJson {
  rule: string;
  severity: string;
  culprit: { method: string } | null;
  details?: {
    threads?: { osId: number; method: string; waitsFor: string; heldBy: number; lockType: string }[];
    queued?: number;
    blockedThreads?: { osId: number; method: string | null }[];
  };
}

interface SosSyncBlock {
  monitorHeld: number;
  osId: number;
  object: number;
  type: string;
}

/** SOS syncblk rows of held locks: `Index SyncBlock MonitorHeld Recursion Thread OSID DBG Object Type`. */
function parseSyncblk(text: string): SosSyncBlock[] {
  const rows: SosSyncBlock[] = [];
  for (const m of text.matchAll(/^\s*\d+ [0-9A-F]{16}\s+(\d+)\s+\d+ [0-9A-F]{16}\s+([0-9a-f]+)\s+\d+\s+([0-9a-f]{16}) (\S+)$/gm)) {
    rows.push({ monitorHeld: Number(m[1]), osId: parseInt(m[2]!, 16), object: parseInt(m[3]!, 16), type: m[4]! });
  }
  return rows;
}

/** SOS clrstack -all: the call-site lines of each OS thread. */
function parseClrstackAll(text: string): Map<number, string[]> {
  const threads = new Map<number, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const head = /^OS Thread Id: 0x([0-9a-f]+)/.exec(line);
    if (head) threads.set(parseInt(head[1]!, 16), (current = []));
    else if (current && /^[0-9A-F]{16} [0-9A-F]{16} /.test(line)) current.push(line.slice(34).replace(/ \[[^\]]* @ \d+\]$/, ''));
  }
  return threads;
}

describe('analyze on the hang scenario', { timeout: TIMEOUT }, () => {
  for (const serverGc of [false, true]) {
    const dumpType = serverGc ? 'full' : 'heap';
    it(`hang ${dumpType} ${serverGc ? 'server' : 'workstation'}: the first finding is the Monitor deadlock SOS's syncblk and clrstack show`, async () => {
      const dump = await getDump('hang', { dumpType, serverGc });
      const [syncblk, clrstack] = await runSosMany(dump.dumpPath, ['syncblk', 'clrstack -all']);
      // Hang.cs: each deadlocked ledger has one waiter (MonitorHeld 3); the report lock has two (MonitorHeld 5).
      const ledgers = parseSyncblk(syncblk!).filter((r) => r.type === 'Hangs.LedgerLock' && r.monitorHeld === 3);
      assert.equal(ledgers.length, 2, syncblk);
      const stacks = parseClrstackAll(clrstack!);
      const ours = runDumpsleuth<{ findings: FindingJson[] }>(dump.dumpPath, ['analyze']);
      const first = ours.json.findings[0]!;
      assert.equal(first.rule, 'deadlock');
      assert.equal(first.severity, 'error');
      const threads = first.details?.threads ?? [];
      assert.deepEqual(threads.map((t) => t.osId).sort(), ledgers.map((l) => l.osId).sort(), 'the deadlocked threads are the two ledger owners');
      for (const t of threads) {
        const other = ledgers.find((l) => l.osId !== t.osId)!;
        assert.equal(parseInt(t.waitsFor, 16), other.object, `thread 0x${t.osId.toString(16)} waits for the lock the other thread owns`);
        assert.equal(t.lockType, 'Hangs.LedgerLock');
        const frames = stacks.get(t.osId) ?? [];
        assert.ok(frames.includes(t.method), `SOS shows ${t.method} on thread 0x${t.osId.toString(16)}: ${frames.join(' | ')}`);
        assert.ok(frames.some((f) => f.startsWith('System.Threading.Monitor.Enter')), 'SOS shows the thread in Monitor.Enter');
      }
      assert.deepEqual(threads.map((t) => t.method.replace(/\(.*$/, '')).sort(), ['Hangs.TransferDesk.MoveAToB', 'Hangs.TransferDesk.MoveBToA']);
      assert.equal(ours.json.findings.filter((f) => f.rule === 'deadlock').length, 1, 'the held report lock and the held Lock are not cycles');
    });

    it(`hang ${dumpType} ${serverGc ? 'server' : 'workstation'}: thread-pool starvation names the workers SOS shows blocked on Task.Result and the queue SOS lists`, async () => {
      const dump = await getDump('hang', { dumpType, serverGc });
      const [tp, clrstack] = await runSosMany(dump.dumpPath, ['threadpool -wi', 'clrstack -all']);
      const queued = tp!.split('\n').filter((l) => l.startsWith('[Global')).length;
      assert.ok(queued > 0, tp);
      const blockedBySos = [...parseClrstackAll(clrstack!).entries()]
        .filter(([, frames]) => frames.some((f) => f.includes('.GetResultCore(')) && frames.some((f) => f.startsWith('System.Threading.ThreadPoolWorkQueue.Dispatch(')))
        .map(([osId]) => osId)
        .sort();
      const ours = runDumpsleuth<{ findings: FindingJson[] }>(dump.dumpPath, ['analyze']);
      const starvation = ours.json.findings.find((f) => f.rule === 'threadpool-starvation');
      assert.ok(starvation, 'a starvation finding');
      assert.equal(starvation.details?.queued, queued, 'queued work items as SOS threadpool -wi lists them');
      assert.deepEqual((starvation.details?.blockedThreads ?? []).map((t) => t.osId).sort(), blockedBySos);
      assert.equal(starvation.culprit?.method, 'Hangs.SyncOverAsync.BlockOnResult(System.Object)');
    });
  }

  for (const serverGc of [false, true]) {
    const dumpType = serverGc ? 'full' : 'heap';
    it(`hang ${dumpType} ${serverGc ? 'server' : 'workstation'}: stuck-async names the task dotnet-dump's dumpasync shows 25 OrderPipeline chains waiting for, and ProcessAsync`, async () => {
      const dump = await getDump('hang', { dumpType, serverGc });
      const [stacks] = await runSosMany(dump.dumpPath, ['dumpasync']);
      // dotnet-dump: each STACK starts at the awaited task; the LoadAsync chains hang off one Task<String>.
      const blocks = stacks!.split(/^STACK \d+$/m).slice(1);
      const pipeline = blocks.find((b) => b.includes('Hangs.OrderPipeline+<LoadAsync>d__4'));
      assert.ok(pipeline, stacks);
      const awaited = /^([0-9a-f]{16}) [0-9a-f]{16} \( \) System\.Threading\.Tasks\.Task<System\.String>$/m.exec(pipeline.trim())?.[1];
      assert.ok(awaited, pipeline);
      const outermost = [...pipeline.matchAll(/^ {4}([0-9a-f]{16}) [0-9a-f]{16} \(0\) Hangs\.OrderPipeline\+<ProcessAsync>d__3$/gm)].map((m) => parseInt(m[1]!, 16));
      // Hang.cs PendingChainCount; the 5 completed twins are not stuck.
      assert.equal(outermost.length, 25);
      const ours = runDumpsleuth<{ findings: (FindingJson & { objectCount: number; details?: { awaited?: string; chains?: { count: number; methods: string[]; outermost: string[] }[] } })[] }>(dump.dumpPath, ['analyze']);
      const stuck = ours.json.findings.filter((f) => f.rule === 'stuck-async');
      assert.equal(stuck.length, 1, 'one stuck-async finding (FetchRateAsync has only 2 chains)');
      const f = stuck[0]!;
      assert.equal(parseInt(f.details!.awaited!, 16), parseInt(awaited, 16));
      assert.equal(f.objectCount, 25);
      assert.deepEqual(f.details!.chains!.map((c) => [c.count, c.methods]), [[25, ['Hangs.OrderPipeline.LoadAsync', 'Hangs.OrderPipeline.ProcessAsync']]]);
      for (const a of f.details!.chains![0]!.outermost) assert.ok(outermost.includes(parseInt(a, 16)), `${a} is an outermost ProcessAsync box in dotnet-dump's stack`);
      assert.equal(f.culprit?.method, 'Hangs.OrderPipeline.ProcessAsync');
      assert.equal(f.severity, 'warning', 'the TaskCompletionSource is still referenced (OrderPipeline.s_neverReply)');
      assert.equal(ours.json.findings[0]!.rule, 'deadlock', 'the deadlock stays first');
    });
  }

  for (const scenario of ['leak-finalizer', 'leak-controls', 'types', 'leak-tcs', 'seed-apm']) {
    it(`${scenario}: no deadlock, starvation or stuck-async finding (control)`, async () => {
      const dump = await getDump(scenario, {});
      for (const rule of ['deadlock', 'threadpool-starvation', 'stuck-async']) {
        const ours = runDumpsleuth<{ findings: FindingJson[] }>(dump.dumpPath, ['analyze', '-rule', rule]);
        assert.deepEqual(ours.json.findings, [], rule);
      }
    });
  }
});
