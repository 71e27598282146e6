// Issue 6's "Must show" for analyze on seed-apm and seed-apm-overlapped (heap and full, workstation and server GC):
// the FIRST finding says the 25 dead threads (SeedApmScenario.ClientCount) are kept alive by never-completed
// operations whose callback is the controller's OnReceive (the AsyncCallback the debuggee binds), names that method,
// its type and Debuggees.dll; its chain passes through the pending operation; and every `verify` command, run one by
// one through our own commands and through SOS (dotnet-dump prints object fields on full dumps only, so dumpobj is
// checked against SOS there), confirms its link: gcroot lists the finding's root, dumpobj shows the state field and
// the field holding the AsyncCallback, dumpdelegate / dumpmd name the method.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeCommand } from '../../src/cli/commands/analyze';
import { findCommand } from '../../src/cli/commands';
import { getDump } from '../support/dumps';
import { runCommand } from '../support/run-command';
import { runSosMany } from '../support/sos';
import { parseDumpObj } from '../support/sos-object-parsers';
import { parseGcRoot } from '../support/sos-root-parsers';

const TIMEOUT = 10 * 60_000;
/** What the debuggees build (SeedApm.cs / SeedApmOverlapped.cs). */
const CLIENTS = 25;
const EXPECTED = {
  'seed-apm': { type: 'Gateway.GatewayClientController', operation: /^System\.Net\.Sockets\.SocketAsyncContext\+\w*Operation$/ },
  'seed-apm-overlapped': { type: 'Gateway.GatewayOverlappedClientController', operation: /^System\.Threading\.Overlapped$/ },
} as const;

interface FindingJson {
  rule: string;
  severity: string;
  verdict: string;
  objectCount: number;
  retainedBytes: number;
  culprit: { method: string; type: string; module: string; evidence: string } | null;
  chain: { type: string; field?: string }[];
  examples: string[];
  verify: string[];
  confidence: string;
  details: {
    root: { kind: string; address: string };
    operations: { address: string; type: string; pending: boolean | null; state: string }[];
    callback: { delegate: string; holder: string; field: string; methodDesc: string };
    stateObject?: { address: string; type: string; field: string };
  };
}

const hexOf = (s: string) => parseInt(s.replace(/^0x/, ''), 16);

for (const scenario of ['seed-apm', 'seed-apm-overlapped'] as const) {
  for (const dumpType of ['heap', 'full'] as const) {
    for (const serverGc of [false, true]) {
      const label = `${scenario} ${dumpType} ${serverGc ? 'svr' : 'wks'}`;
      describe(`analyze on ${label}`, { timeout: TIMEOUT }, () => {
        it('first finding: the dead threads, kept alive by never-completed operations, blamed on the controller callback', async () => {
          const dump = await getDump(scenario, { dumpType, serverGc });
          const answer = runCommand<{ findings: FindingJson[] }>(dump.dumpPath, analyzeCommand, []);
          const f = answer.json.findings[0];
          assert.ok(f, 'at least one finding');
          const want = EXPECTED[scenario];
          assert.equal(f.rule, 'finished-but-alive');
          assert.equal(f.severity, 'error');
          assert.equal(f.objectCount, CLIENTS);
          assert.match(f.verdict, new RegExp(`^${CLIENTS} dead threads .* kept alive by never-completed operations .*whose callback is ${escape(want.type)}\\.OnReceive`));
          assert.ok(f.culprit, 'a culprit');
          assert.equal(f.culprit.method, `${want.type}.OnReceive(System.IAsyncResult)`);
          assert.equal(f.culprit.type, want.type);
          assert.equal(f.culprit.module, 'Debuggees.dll');
          assert.equal(f.confidence, 'high');
          assert.ok(f.retainedBytes >= CLIENTS * 72, `retained ${f.retainedBytes} covers at least the 25 Thread objects`);
          // The chain: root object first, the dead Thread last, the pending operation and the callback on it.
          assert.equal(f.chain[f.chain.length - 1]!.type, 'System.Threading.Thread');
          assert.ok(f.chain.some((s) => want.operation.test(s.type)), `chain passes through the pending operation: ${JSON.stringify(f.chain)}`);
          assert.ok(f.chain.some((s) => s.type === want.type), 'chain passes through the controller');
          const pending = f.details.operations.filter((o) => o.pending === true);
          assert.ok(pending.some((o) => want.operation.test(o.type)), 'the operation is named pending');
          assert.equal(f.examples.length > 0, true);
        });

        it('every verify command confirms its link (ours and SOS)', async () => {
          const dump = await getDump(scenario, { dumpType, serverGc });
          const f = runCommand<{ findings: FindingJson[] }>(dump.dumpPath, analyzeCommand, []).json.findings[0]!;
          const symptom = hexOf(f.examples[0]!);
          const cb = f.details.callback;
          const commands = f.verify;
          assert.ok(commands.includes(`gcroot ${f.examples[0]}`), 'gcroot of the example');
          assert.ok(commands.includes(`dumpdelegate ${cb.delegate}`), 'dumpdelegate of the callback');
          assert.ok(commands.includes(`dumpobj ${cb.holder}`) || f.details.operations.some((o) => o.address === cb.holder), 'dumpobj of the callback holder');
          // Ours, one by one.
          for (const line of commands) {
            const [name, ...args] = line.split(' ');
            const cmd = findCommand(name!);
            assert.ok(cmd, `we have ${name}`);
            const r = runCommand<Record<string, unknown>>(dump.dumpPath, cmd, args);
            checkOurs(f, line, r.json, r.text);
          }
          // SOS: gcroot, dumpdelegate and dumpmd on every dump; dumpobj where SOS shows fields (full dumps).
          const sosCommands = commands.filter((c) => !c.startsWith('dumpobj') || dumpType === 'full').map((c) => c.replace(/ 0x/, ' '));
          const outputs = await runSosMany(dump.dumpPath, sosCommands);
          sosCommands.forEach((c, k) => checkSos(f, c, outputs[k]!, symptom));
        });
      });
    }
  }
}

/** Checks one of our verify answers against the finding's claim for that link. */
function checkOurs(f: FindingJson, line: string, json: Record<string, unknown>, text: string): void {
  const [name, arg] = line.split(' ');
  const cb = f.details.callback;
  if (name === 'gcroot') {
    const paths = json.paths as { root: { kind: string; address: string } }[];
    assert.ok(paths.some((p) => p.root.kind === f.details.root.kind && hexOf(p.root.address) === hexOf(f.details.root.address)), `our gcroot lists the root ${f.details.root.address}`);
  } else if (name === 'dumpdelegate') {
    const inv = json.invocations as { method: string; module: string }[];
    assert.ok(inv.some((i) => i.method === f.culprit!.method && i.module === f.culprit!.module), `our dumpdelegate names ${f.culprit!.method}`);
  } else if (name === 'dumpmd' || name === 'ip2md') {
    assert.ok(text.includes(f.culprit!.method), `our ${name} names the method`);
  } else if (name === 'dumpobj') {
    const fields = json.fields as { name: string; value: unknown }[];
    const at = hexOf(arg!);
    if (at === hexOf(cb.holder)) assert.ok(fields.some((x) => x.name === cb.field && typeof x.value === 'string' && hexOf(x.value) === hexOf(cb.delegate)), `our dumpobj ${arg} shows ${cb.field} = ${cb.delegate}`);
    const so = f.details.stateObject;
    if (so && at === hexOf(so.address)) assert.ok(fields.some((x) => x.name === so.field && typeof x.value === 'string' && hexOf(x.value) === hexOf(cb.delegate)), `our dumpobj shows the state object's ${so.field}`);
    const op = f.details.operations.find((o) => hexOf(o.address) === at);
    if (op && op.state.includes(' = ')) {
      const [field, value] = op.state.split(' = ');
      if (!field!.includes('.')) assert.ok(fields.some((x) => x.name === field && String(typeof x.value === 'string' ? hexOf(x.value) : x.value) === String(parseValue(value!))), `our dumpobj shows ${op.state}`);
    }
  }
}

/** Checks one SOS answer against the finding's claim for that link. */
function checkSos(f: FindingJson, line: string, output: string, symptom: number): void {
  const [name, arg] = line.split(' ');
  const cb = f.details.callback;
  if (name === 'gcroot') {
    const parsed = parseGcRoot(output);
    const root = parsed.roots.find((r) => r.address === hexOf(f.details.root.address));
    assert.ok(root, `SOS gcroot ${arg} lists the finding's root ${f.details.root.address}`);
    assert.equal(root.chain[root.chain.length - 1], symptom);
  } else if (name === 'dumpdelegate' || name === 'dumpmd') {
    assert.ok(output.includes(f.culprit!.method), `SOS ${name} ${arg} names ${f.culprit!.method}:\n${output}`);
  } else if (name === 'dumpobj') {
    const obj = parseDumpObj(output);
    const at = hexOf(arg!);
    const value = (field: string) => obj.fields?.find((x) => x.name === field)?.value;
    if (at === symptom) assert.equal(value('_isDead'), '1', 'SOS shows the Thread is dead');
    if (at === hexOf(cb.holder)) assert.equal(hexOf(value(cb.field) ?? ''), hexOf(cb.delegate), `SOS dumpobj shows ${cb.field} holding the AsyncCallback`);
    const so = f.details.stateObject;
    if (so && at === hexOf(so.address)) assert.equal(hexOf(value(so.field) ?? ''), hexOf(cb.delegate), `SOS dumpobj of the state object shows ${so.field} holding the AsyncCallback`);
    const op = f.details.operations.find((o) => hexOf(o.address) === at);
    if (op && op.state.includes(' = ')) {
      const [field, v] = op.state.split(' = ');
      if (!field!.includes('.')) {
        const shown = value(field!);
        assert.ok(shown !== undefined, `SOS shows ${field}`);
        assert.equal(/^[0-9a-f]{16}$/i.test(shown) ? hexOf(shown) : Number(shown), parseValue(v!), `SOS dumpobj shows ${op.state}`);
      }
    }
  }
}

/** `0 (Waiting)` → 0, `0x7f..` → the number. */
function parseValue(text: string): number {
  const t = text.split(' ')[0]!;
  return t.startsWith('0x') ? hexOf(t) : Number(t);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
