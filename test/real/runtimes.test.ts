// Issue 11: other runtimes than the SDK's. The debuggee is published self-contained against NuGet's runtime packs
// (11.0.0, 10.0.15; a single-file app too) and the core SOS comparisons run on those dumps, SOS pointed at the app
// folder (setclrpath). The scenario subset is in test/support/extra-runtime-dumps.ts; DUMPSLEUTH_EXTRA_RUNTIMES=0
// skips the tier, DUMPSLEUTH_RUNTIME_PACK=<version> runs one pack.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../src/cli/session';
import { clrstackCommand } from '../../src/cli/commands/clrstack';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { extraDumpLabel, extraRuntimeDumps } from '../support/extra-runtime-dumps';
import { runSos } from '../support/sos';
import { parseGcHandles } from '../support/sos-root-parsers';

const TIMEOUT = 10 * 60_000;

interface InfoJson {
  runtimeVersion: string | null;
  runtimeFileVersion: string | null;
  runtimeCommit: string | null;
  supported: boolean;
}

interface FindingJson {
  rule: string;
  severity: string;
  objectCount: number;
  culprit?: { method: string; type: string; module: string };
}

/** Lines without dotnet-dump's banner and blank edges, trailing spaces dropped (as foundation.test.ts). */
function sosLines(text: string): string[] {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store settings:'));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const normalize = (text: string) => sosLines(text).map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l !== '');

function findingKeys(findings: readonly FindingJson[]): string[] {
  return findings.filter((f) => f.severity !== 'info').map((f) => `${f.rule} ${f.severity} ${f.objectCount} ${f.culprit?.method ?? '-'} ${f.culprit?.module ?? '-'}`);
}

describe('other runtimes (self-contained publishes against runtime packs)', { timeout: TIMEOUT }, () => {
  const dumps = extraRuntimeDumps();
  if (dumps.length === 0) {
    it('skipped: DUMPSLEUTH_EXTRA_RUNTIMES=0', () => undefined);
    return;
  }
  for (const entry of dumps) {
    const label = extraDumpLabel(entry);

    it(`${label}: info shows the pack's exact version, libcoreclr's stamp equals SOS eeversion`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const ours = runDumpsleuth<InfoJson>(dump.dumpPath, ['info']).json;
      assert.equal(ours.runtimeVersion, entry.runtimePack);
      assert.equal(ours.supported, true);
      const m = /^(\d+\.\d+\.\d+\.\d+) @Commit: ([0-9a-f]+)\s*$/m.exec(await runSos(dump.dumpPath, 'eeversion'));
      assert.ok(m, 'SOS prints the runtime version');
      assert.equal(ours.runtimeFileVersion, m[1]);
      assert.equal(ours.runtimeCommit, m[2]);
    });

    if (entry.publishKind === 'single-file') {
      // The runtime is linked into the app: it opens, and the thread list (descriptor data) equals SOS. The GC's
      // globals sit in the executable's never-written .data pages, which heap dumps leave out (README, Limits).
      it(`${label}: clrthreads text equals SOS's line for line`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const sos = sosLines(await runSos(dump.dumpPath, 'clrthreads'));
        assert.ok(sos.length > 3, 'SOS answers clrthreads');
        assert.deepEqual(sosLines(runDumpsleuth(dump.dumpPath, ['clrthreads']).text), sos);
      });
      continue;
    }

    for (const command of ['dumpheap -stat', 'clrthreads', 'eeheap -gc']) {
      it(`${label}: ${command} text equals SOS's line for line`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const sos = sosLines(await runSos(dump.dumpPath, command));
        const ours = runDumpsleuth(dump.dumpPath, command.split(' '));
        assert.ok(sos.length > 3, `SOS answers ${command}`);
        assert.deepEqual(sosLines(ours.text), sos);
        assert.deepEqual(ours.warnings, []);
      });
    }

    it(`${label}: gchandles -stat equals SOS`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = parseGcHandles(await runSos(dump.dumpPath, 'gchandles -stat'));
      const ours = parseGcHandles(runDumpsleuth(dump.dumpPath, ['gchandles', '-stat']).text);
      assert.ok(sos.counts.size > 0, 'SOS lists handle kinds');
      assert.deepEqual(new Map(ours.counts), new Map(sos.counts));
      assert.equal(ours.totalObjects, sos.totalObjects);
      const rows = (r: readonly { mt: number; count: number; totalSize: number; name: string }[]) => r.map((x) => `${x.mt.toString(16)} ${x.count} ${x.totalSize} ${x.name}`);
      assert.deepEqual(rows(ours.stats), rows(sos.stats));
    });

    if (entry.scenario === 'seed-apm') {
      it(`${label}: clrstack -all equals SOS (frames per thread, in order)`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const session = Session.open(dump.dumpPath);
        try {
          const sos = normalize(await runSos(dump.dumpPath, 'clrstack -all')).map((l) => l.replace(/ \[[^\]]+ @ \d+\]$/, ''));
          const ours = normalize(clrstackCommand.run(session, ['-all']).text);
          assert.ok(ours.filter((l) => /^[0-9A-F]{16} [0-9A-F]{16} /.test(l)).length >= 3, 'managed frames were found');
          assert.deepEqual(ours, sos);
        } finally {
          session.close();
        }
      });
    }

    it(`${label}: analyze finds what it finds on the SDK's runtime (rules, counts, culprits)`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const reference = await getDump(entry.scenario, { dumpType: entry.dumpType, serverGc: entry.serverGc });
      const ours = runDumpsleuth<{ findings: FindingJson[] }>(dump.dumpPath, ['analyze']).json.findings;
      const expected = runDumpsleuth<{ findings: FindingJson[] }>(reference.dumpPath, ['analyze']).json.findings;
      assert.deepEqual(findingKeys(ours), findingKeys(expected));
      if (entry.scenario === 'seed-apm') {
        assert.equal(ours[0]?.rule, 'finished-but-alive');
        assert.equal(ours[0]?.objectCount, 25);
        assert.equal(ours[0]?.culprit?.method, 'Gateway.GatewayClientController.OnReceive(System.IAsyncResult)');
      }
    });
  }
});
