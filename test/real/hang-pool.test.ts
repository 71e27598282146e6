// Issue 12, thread pool local queues: on the hang-pool scenario (test/debuggees/HangPool.cs) every worker left work in
// its local (work-stealing) queue; `threadpool -wi` lists those items as SOS does (hangs.test.ts compares the text line
// for line on every standard dump), and its JSON says which queue holds each item and the method it will run: the
// method SOS's own `dumpdelegate` names for the Task's `m_action` / the work item's `_callback` (full dump: SOS's
// `dumpobj` crashes on heap dumps).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;

/** HangPool.cs: per worker, LocalWork.TasksPerWorker Tasks and one work item; HangPoolScenario.GlobalItemCount global items. */
const TASKS_PER_WORKER = 2;
const GLOBAL_ITEMS = 3;

interface WorkItemJson {
  readonly queue: 'global' | 'global-high-priority' | 'local';
  readonly queueObject: string;
  readonly object: string;
  readonly type: string;
  readonly method: string | null;
}

describe('threadpool -wi: local queues', { timeout: TIMEOUT }, () => {
  for (const serverGc of [false, true]) {
    const dumpType = serverGc ? 'full' : 'heap';
    it(`hang-pool ${dumpType} ${serverGc ? 'server' : 'workstation'}: each worker's local queue holds the work it queued, in SOS's listing, with the method to run`, async () => {
      const dump = await getDump('hang-pool', { dumpType, serverGc });
      const [tp] = await runSosMany(dump.dumpPath, ['threadpool -wi']);
      const workers = Number(/^Workers Total:\s+(\d+)$/m.exec(tp!)?.[1]);
      assert.ok(workers > 0, tp);
      const sosRows = [...tp!.matchAll(/^\[Global\]\s+([0-9a-f]+)\s+(\S+)$/gm)].map((m) => `0x${m[1]!} ${m[2]!}`);
      // The scenario's counts: every item it queued is still there, and SOS lists them all.
      assert.equal(sosRows.length, GLOBAL_ITEMS + workers * (TASKS_PER_WORKER + 1), tp);
      const ours = runDumpsleuth<{ workItems: WorkItemJson[] }>(dump.dumpPath, ['threadpool', '-wi']);
      assert.deepEqual(ours.json.workItems.map((w) => `${w.object} ${w.type}`), sosRows);
      const local = ours.json.workItems.filter((w) => w.queue === 'local');
      assert.equal(new Set(local.map((w) => w.queueObject)).size, workers, 'one local queue per worker');
      assert.deepEqual(
        local.map((w) => w.type).sort(),
        Array.from({ length: workers }, () => [...Array<string>(TASKS_PER_WORKER).fill('System.Threading.Tasks.Task'), 'System.Threading.QueueUserWorkItemCallbackDefaultContext<System.Int32>']).flat().sort(),
      );
      assert.equal(ours.json.workItems.filter((w) => w.queue === 'global').length, GLOBAL_ITEMS);
      if (dumpType !== 'full') return;
      // The method each item runs, from SOS: dumpobj finds the delegate, dumpdelegate names its method.
      const objs = await runSosMany(dump.dumpPath, ours.json.workItems.map((w) => `dumpobj ${w.object}`));
      const delegates = objs.map((text, i) => {
        const d = /\s([0-9a-f]{16}) (m_action|_callback)$/m.exec(text)?.[1];
        assert.ok(d, `SOS dumpobj ${ours.json.workItems[i]!.object}: ${text}`);
        return d;
      });
      const named = await runSosMany(dump.dumpPath, delegates.map((d) => `dumpdelegate ${d}`));
      for (let i = 0; i < named.length; i++) {
        const method = /^[0-9a-f]{16} [0-9a-f]{16} (.+)$/m.exec(named[i]!)?.[1];
        assert.ok(method, named[i]);
        assert.equal(ours.json.workItems[i]!.method, method, ours.json.workItems[i]!.object);
      }
      assert.ok(local.every((w) => /^Hangs\.LocalWork\.Run(Task|Item)\(/.test(w.method ?? '')), 'the scenario queued LocalWork.RunTask / RunItem locally');
    });
  }
});
