// Issue 12, analyze for hangs: on the hang scenario's dumps (test/debuggees/Hang.cs) the first finding is the
// Monitor deadlock, naming the two threads SOS's syncblk shows as owners of the two contended ledger locks, each
// waiting for the lock the other owns, in the methods SOS's clrstack shows on those threads. Controls stay quiet:
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
  details?: { threads?: { osId: number; method: string; waitsFor: string; heldBy: number; lockType: string }[] };
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
  }

  for (const scenario of ['leak-finalizer', 'leak-controls', 'types']) {
    it(`${scenario}: no deadlock finding (control)`, async () => {
      const dump = await getDump(scenario, {});
      const ours = runDumpsleuth<{ findings: FindingJson[] }>(dump.dumpPath, ['analyze', '-rule', 'deadlock']);
      assert.deepEqual(ours.json.findings, []);
    });
  }
});
