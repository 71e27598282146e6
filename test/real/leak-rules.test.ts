// Issue 6, the leak rules of src/analysis/rules on the leak-* debuggees and their no-leak controls: each leak
// scenario makes its rule fire with the count the scenario states (±0) and the culprit method it wrote; the controls
// (same types, correctly unsubscribed/disposed/freed/bounded/finalized/completed) get nothing above "info".
// The finalizer backlog is also checked against SOS's "Ready for finalization" count.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeCommand } from '../../src/cli/commands/analyze';
import { getDump, type DumpRequest } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runCommand } from '../support/run-command';
import { runSos } from '../support/sos';

const TIMEOUT = 10 * 60_000;

// The counts each scenario states (test/debuggees/Leaks*.cs).
const EVENT_SUBSCRIBERS = 40; // EventLeakScenario.SubscriberCount
const TIMER_PROBES = 30; // TimerLeakScenario.ProbeCount
const TIMER_REAPERS = 20; // TimerLeakScenario.ReaperCount
const PINNED_BUFFERS = 64; // PinnedLeakScenario.PinnedBufferCount
const CALLBACK_CONTEXTS = 24; // PinnedLeakScenario.CallbackContextCount
const CACHE_RECORDS = 3000; // CacheLeakScenario.RecordCount
const FINALIZABLE = 50; // FinalizerLeakScenario.ObjectCount (one of them is being finalized)
const PENDING_REQUESTS = 20; // TcsLeakScenario.RequestCount

/** A finding as `analyze --json` prints it. */
interface FindingJson {
  rule: string;
  title: string;
  severity: 'error' | 'warning' | 'info';
  verdict: string;
  objectCount: number;
  retainedBytes: number;
  culprit: { method: string; type: string; module: string; evidence: string } | null;
  chain: { type: string; field?: string }[];
  examples: string[];
  verify: string[];
  details?: Record<string, unknown>;
}

/** The analyze command's findings on a scenario's dump. */
async function findingsOf(scenario: string, request: DumpRequest = {}): Promise<{ dumpPath: string; findings: FindingJson[] }> {
  const dump = await getDump(scenario, request);
  return { dumpPath: dump.dumpPath, findings: runCommand<{ findings: FindingJson[] }>(dump.dumpPath, analyzeCommand, []).json.findings };
}

function describeFindings(findings: readonly FindingJson[]): string {
  return findings.map((f) => `${f.severity} ${f.rule} x${f.objectCount}: ${f.title} [${f.culprit?.method ?? '-'}]`).join('\n');
}

function only(findings: readonly FindingJson[], rule: string, match: (f: FindingJson) => boolean = () => true): FindingJson {
  const hits = findings.filter((f) => f.rule === rule && match(f));
  assert.equal(hits.length, 1, `one ${rule} finding expected, got:\n${describeFindings(findings)}`);
  return hits[0]!;
}

describe('leak rules on the leak debuggees', { timeout: TIMEOUT }, () => {
  it('leak-event: the static event keeps exactly the dropped subscribers; culprit is their handler', async () => {
    const { findings } = await findingsOf('leak-event');
    const f = only(findings, 'event-handler-leak');
    assert.equal(f.severity, 'warning');
    assert.equal(f.objectCount, EVENT_SUBSCRIBERS);
    assert.match(f.culprit?.method ?? '', /^Leaks\.QuoteWidget\.OnPriceChanged\(/);
    assert.equal(f.culprit?.type, 'Leaks.QuoteWidget');
    assert.equal(f.culprit?.module, 'Debuggees.dll');
    assert.equal(f.details?.['subscriberType'], 'Leaks.QuoteWidget');
    assert.ok(f.retainedBytes >= EVENT_SUBSCRIBERS * (256 + 24), 'each subscriber retains its 256-byte view');
  });

  it('leak-timer: undisposed timers per callback method, System.Timers.Timer resolved to its Elapsed handler', async () => {
    const { findings } = await findingsOf('leak-timer');
    const probes = only(findings, 'timer-leak', (f) => /HealthProbe/.test(f.culprit?.method ?? ''));
    assert.equal(probes.objectCount, TIMER_PROBES);
    assert.match(probes.culprit!.method, /^Leaks\.HealthProbe\.OnProbeTimer\(/);
    assert.equal(probes.severity, 'warning');
    const reapers = only(findings, 'timer-leak', (f) => /SessionReaper/.test(f.culprit?.method ?? ''));
    assert.equal(reapers.objectCount, TIMER_REAPERS);
    assert.match(reapers.culprit!.method, /^Leaks\.SessionReaper\.OnReap\(/);
    assert.equal(findings.filter((f) => f.rule === 'timer-leak').length, 2, describeFindings(findings));
  });

  it('leak-pinned: pinned and strong handles never freed, with their counts and the holes between the pins', async () => {
    const { findings } = await findingsOf('leak-pinned');
    const pinned = only(findings, 'gc-handle-growth', (f) => f.details?.['kind'] === 'pinned');
    assert.equal(pinned.objectCount, PINNED_BUFFERS);
    assert.equal(pinned.details?.['targetType'], 'System.Byte[]');
    assert.equal(pinned.details?.['objectBytes'], PINNED_BUFFERS * (4096 + 24));
    assert.equal(pinned.details?.['orphanedTargets'], PINNED_BUFFERS);
    const strong = only(findings, 'gc-handle-growth', (f) => f.details?.['kind'] === 'strong');
    assert.equal(strong.objectCount, CALLBACK_CONTEXTS);
    assert.equal(strong.details?.['targetType'], 'Leaks.NativeCallbackContext');
    assert.equal(strong.details?.['userType'], true);
  });

  it('leak-cache: the unbounded dictionary is the accumulation point, with its record count', async () => {
    const { findings } = await findingsOf('leak-cache');
    const f = only(findings, 'accumulation-point', (x) => x.severity === 'warning');
    assert.equal(f.objectCount, CACHE_RECORDS);
    assert.equal(f.details?.['elementType'], 'Leaks.ProductRecord');
    assert.match(String(f.details?.['holderType']), /^System\.Collections\.Generic\.Dictionary<System\.String, Leaks\.ProductRecord>$/);
    assert.equal(f.details?.['ownerType'], 'Leaks.CatalogCache');
    assert.ok(f.retainedBytes >= CACHE_RECORDS * (1024 + 24), 'the records and their payloads');
  });

  for (const serverGc of [false, true]) {
    it(`leak-finalizer (${serverGc ? 'server' : 'workstation'} GC): the finalizer thread is blocked in the user finalizer; the queue behind it equals SOS's`, async () => {
      const { findings } = await findingsOf('leak-finalizer', { serverGc });
      const f = only(findings, 'finalizer-backlog');
      assert.equal(f.severity, 'error');
      assert.equal(f.culprit?.method, 'Leaks.LegacyFileLock.Finalize()');
      assert.equal(f.culprit?.module, 'Debuggees.dll');
      assert.match(f.verdict, /Monitor\.Enter/);
      // The scenario's objects: all but the one whose finalizer is running.
      assert.equal((f.details?.['byType'] as Record<string, number>)['Leaks.LegacyFileLock'], FINALIZABLE - 1);
      const dump = await getDump('leak-finalizer', { serverGc });
      const sos = await runSos(dump.dumpPath, 'finalizequeue');
      const ready = [...sos.matchAll(/Ready for finalization (\d+) objects/g)].reduce((n, m) => n + Number(m[1]), 0);
      assert.equal(f.objectCount, ready, 'ready-for-finalization count equals SOS');
    });
  }
});

describe('never-completed TaskCompletionSources (the analyze core rule) on leak-tcs', { timeout: TIMEOUT }, () => {
  it('leak-tcs: one finding for the never-set TaskCompletionSources, culprit the awaiting method', async () => {
    const { findings } = await findingsOf('leak-tcs');
    const f = only(findings, 'never-completed-async');
    assert.equal(f.objectCount, PENDING_REQUESTS);
    assert.match(f.culprit?.method ?? '', /^Leaks\.RequestBroker\.FetchAsync\b/);
    assert.equal(f.culprit?.module, 'Debuggees.dll');
  });
});

describe('the verify commands of the leak findings', { timeout: TIMEOUT }, () => {
  /** Runs one verify line as the CLI would. */
  const run = (dumpPath: string, line: string) => runDumpsleuth(dumpPath, line.split(/\s+/));

  for (const scenario of ['leak-event', 'leak-timer', 'leak-pinned', 'leak-cache', 'leak-finalizer']) {
    it(`${scenario}: every verify command of every warning or error runs`, async () => {
      const { dumpPath, findings } = await findingsOf(scenario);
      const lines = findings.filter((f) => f.severity !== 'info').flatMap((f) => f.verify);
      assert.ok(lines.length > 0);
      for (const line of lines) assert.doesNotThrow(() => run(dumpPath, line), line);
    });
  }

  it('leak-event: dumpdelegate on the event lists every leaked subscriber with the handler', async () => {
    const { dumpPath, findings } = await findingsOf('leak-event');
    const f = only(findings, 'event-handler-leak');
    const text = run(dumpPath, f.verify.find((v) => v.startsWith('dumpdelegate'))!).text;
    assert.equal(text.split('\n').filter((l) => l.includes('Leaks.QuoteWidget.OnPriceChanged')).length, EVENT_SUBSCRIBERS);
  });

  it('leak-timer: dumpdelegate on the resolved callback shows the culprit method', async () => {
    const { dumpPath, findings } = await findingsOf('leak-timer');
    for (const f of findings.filter((x) => x.rule === 'timer-leak')) {
      const text = run(dumpPath, f.verify.find((v) => v.startsWith('dumpdelegate'))!).text;
      assert.ok(text.includes(f.culprit!.method), `${f.culprit!.method} in\n${text}`);
    }
  });

  it('leak-finalizer: clrstack of the finalizer thread shows the finalizer waiting in Monitor.Enter', async () => {
    const { dumpPath, findings } = await findingsOf('leak-finalizer');
    const f = only(findings, 'finalizer-backlog');
    const text = run(dumpPath, f.verify.find((v) => v.startsWith('clrstack -t'))!).text;
    assert.match(text, /System\.Threading\.Monitor\.Enter[\s\S]*Leaks\.LegacyFileLock\.Finalize\(\)/);
  });
});

describe('leak rules on the no-leak controls', { timeout: TIMEOUT }, () => {
  it('leak-controls: no finding above info from any rule', async () => {
    const { findings } = await findingsOf('leak-controls');
    assert.deepEqual(
      findings.filter((f) => f.severity !== 'info').map((f) => `${f.rule}: ${f.title}`),
      [],
      describeFindings(findings),
    );
  });

  for (const scenario of ['leak-event', 'leak-timer', 'leak-pinned', 'leak-cache', 'leak-finalizer', 'leak-tcs']) {
    it(`${scenario}: only the scenario's own rule fires above info`, async () => {
      const own: Record<string, string> = {
        'leak-event': 'event-handler-leak',
        'leak-timer': 'timer-leak',
        'leak-pinned': 'gc-handle-growth',
        'leak-cache': 'accumulation-point',
        'leak-finalizer': 'finalizer-backlog',
        'leak-tcs': 'never-completed-async',
      };
      const { findings } = await findingsOf(scenario);
      assert.deepEqual(
        findings.filter((f) => f.severity !== 'info' && f.rule !== own[scenario]).map((f) => `${f.rule}: ${f.title}`),
        [],
        describeFindings(findings),
      );
    });
  }
});
