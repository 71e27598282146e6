// Issue 11: other runtimes than the SDK's. The debuggee is published self-contained against NuGet's runtime packs
// (11.0.0, 10.0.15; a single-file app too) and the core SOS comparisons run on those dumps, SOS pointed at the app
// folder (setclrpath). The scenario subset is in test/support/extra-runtime-dumps.ts; DUMPSLEUTH_EXTRA_RUNTIMES=0
// skips the tier, DUMPSLEUTH_RUNTIME_PACK=<version> runs one pack.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../src/cli/session';
import { clrstackCommand } from '../../src/cli/commands/clrstack';
import { LayoutCheckError } from '../../src/errors';
import { readGcDacVars } from '../../src/runtime/gc/gc-dac-vars';
import { layoutFromSubDescriptor } from '../../src/runtime/gc/handle-table';
import { checkGcDacVarsAgainstSubDescriptor, checkSameGcVars, gcVarsFromSubDescriptor, readGcSubDescriptor } from '../../src/runtime/gc/gc-sub-descriptor';
import { assertOneErrorLine, runCli } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { extraDumpLabel, extraRuntimeDumps } from '../support/extra-runtime-dumps';
import { runSos, runSosMany } from '../support/sos';
import { consoleFilter } from '../support/sos-object-parsers';
import { parseDumpHeapStat } from '../support/sos-parsers';
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

    if (entry.runtimePack.startsWith('net')) {
      it(`${label}: refused cleanly, naming the version SOS's eeversion shows`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const m = /^(\d+)\.(\d+)\.(\d+)\.\d+ @Commit: ([0-9a-f]+)\s*$/m.exec(await runSos(dump.dumpPath, 'eeversion'));
        assert.ok(m, 'SOS prints the runtime version');
        const version = `${m[1]}.${m[2]}.${Math.floor(Number(m[3]) / 100)}`;
        assert.equal(`net${m[1]}.${m[2]}`, entry.runtimePack, 'the dump is of the framework asked for');
        const commands = [['clrthreads'], ['dumpheap', '-stat'], ['gchandles', '-stat'], ['clrstack', '-all'], ['analyze'], ['eeheap', '-gc']];
        if (entry.runtimePack === 'net9.0') {
          // info describes the runtime (exact version, not supported); every other command is refused by name.
          const info = await runCli([dump.dumpPath, '--json', 'info']);
          assert.equal(info.code, 0);
          const json = JSON.parse(info.stdout) as InfoJson;
          assert.equal(json.runtimeVersion, version);
          assert.equal(json.runtimeCommit, m[4]);
          assert.equal(json.supported, false);
        } else {
          commands.push(['info']);
        }
        for (const command of commands) {
          const run = await runCli([dump.dumpPath, ...command]);
          const line = assertOneErrorLine(run, command.join(' '));
          assert.ok(line.includes(`.NET ${version}`), `${command.join(' ')}: ${line}`);
          assert.match(line, /\.NET 10 and 11|\.NET 10 or 11/);
        }
      });
      continue;
    }

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
      // The runtime is linked into the app: it opens, and the thread list (descriptor data) equals SOS.
      it(`${label}: clrthreads text equals SOS's line for line`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const sos = sosLines(await runSos(dump.dumpPath, 'clrthreads'));
        assert.ok(sos.length > 3, 'SOS answers clrthreads');
        assert.deepEqual(sosLines(runDumpsleuth(dump.dumpPath, ['clrthreads']).text), sos);
      });
      // The GC's build-time constants (max_gen, GcDacVars' field-offset tables) sit in the executable's file-backed
      // .data, which a heap dump leaves out, and SOS answers nothing about the heap. They are read from the image
      // file; the answers are checked against SOS on the self-contained publish of the same program and runtime:
      // the program's own types, the handle kinds and the culprits are the same (the framework's strings and
      // assemblies differ between the two publishes). The count of Thread objects is not compared: it is a matter of
      // timing between the two processes (a thread-pool worker started in one and not yet in the other).
      it(`${label}: heap commands answer; the program's types, handles and culprits equal SOS on the self-contained publish`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const reference = await getDump(entry.scenario, { ...entry, publishKind: 'self-contained' });
        const [stat, handles] = await runSosMany(reference.dumpPath, ['dumpheap -stat', 'gchandles -stat']);
        const sosStat = parseDumpHeapStat(stat!);
        const ours = runDumpsleuth<{ types: { name: string; count: number; totalSize: number }[]; totalCount: number }>(dump.dumpPath, ['dumpheap', '-stat']);
        assert.deepEqual(ours.warnings, []);
        const own = (rows: readonly { name: string; count: number; totalSize: number }[]) =>
          rows.filter((r) => /^(Gateway\.|System\.Net\.Sockets\.Socket$)/.test(r.name)).map((r) => `${r.name} ${r.count} ${r.totalSize}`).sort();
        assert.ok(own(sosStat.types).length >= 3, 'SOS lists the program\'s types');
        assert.deepEqual(own(ours.json.types), own(sosStat.types));
        const sosHandles = parseGcHandles(handles!);
        const ourHandles = parseGcHandles(runDumpsleuth(dump.dumpPath, ['gchandles', '-stat']).text);
        assert.deepEqual(new Map(ourHandles.counts), new Map(sosHandles.counts));
        const eeheap = runDumpsleuth(dump.dumpPath, ['eeheap', '-gc']);
        assert.deepEqual(eeheap.warnings, []);
        assert.match(eeheap.text, /GC Allocated Heap Size:/);
        const findings = runDumpsleuth<{ findings: FindingJson[] }>(dump.dumpPath, ['analyze']).json.findings;
        const expected = runDumpsleuth<{ findings: FindingJson[] }>(reference.dumpPath, ['analyze']).json.findings;
        // A bundled assembly has no file name (its Module's path is empty, as clrmodules shows), so modules are not compared.
        const noModule = (list: readonly FindingJson[]) => findingKeys(list.map((f) => (f.culprit ? { ...f, culprit: { ...f.culprit, module: '' } } : f)));
        assert.deepEqual(noModule(findings), noModule(expected));
        assert.equal(findings[0]?.culprit?.method, 'Gateway.GatewayClientController.OnReceive(System.IAsyncResult)');
      });
      continue;
    }

    if (entry.runtimePack.startsWith('11.')) {
      it(`${label}: the heap is walked through the GC sub-descriptor, which agrees with g_dacTable; a disagreement is a LayoutCheckError`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const session = Session.open(dump.dumpPath);
        try {
          const sub = readGcSubDescriptor(session.runtime);
          assert.ok(sub, 'the 11 runtime publishes a GC sub-descriptor');
          assert.equal(sub.contractVersion, 'c1');
          assert.deepEqual(sub.identifiers.slice(0, 2), [entry.serverGc ? 'server' : 'workstation', 'regions']);
          const vars = readGcDacVars(session.runtime);
          checkGcDacVarsAgainstSubDescriptor(vars, sub);
          assert.throws(() => checkGcDacVarsAgainstSubDescriptor({ ...vars, isServer: !vars.isServer }, sub), LayoutCheckError);
          assert.throws(() => checkGcDacVarsAgainstSubDescriptor({ ...vars, handleTableMap: vars.handleTableMap + 8 }, sub), LayoutCheckError);
          assert.equal(session.heap.gcSubDescriptor?.address, sub.address, 'the heap was read with the check');
          // The heap is walked through the sub-descriptor: read alone (no g_dacTable), it names the same variables
          // and offsets as g_dacTable, and a difference in any of them is a LayoutCheckError.
          const fromSub = gcVarsFromSubDescriptor(session.runtime, sub, undefined);
          checkSameGcVars(fromSub, vars);
          assert.equal(session.heap.vars.handleTableMap, fromSub.handleTableMap);
          assert.equal(fromSub.isServer, entry.serverGc);
          assert.throws(() => checkSameGcVars({ ...fromSub, generationTable: fromSub.generationTable + 8 }, vars), LayoutCheckError);
          assert.throws(() => checkSameGcVars({ ...fromSub, generationFieldOffsets: [0, 64, -1] }, vars), LayoutCheckError);
          // Handles too: the sub-descriptor's handle table offsets and constants pick the layout (13 internal types).
          assert.equal(layoutFromSubDescriptor(sub).types, 13);
        } finally {
          session.close();
        }
      });
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

    if (entry.dumpType === 'full') {
      // dumpdomain is compared in runtimes-roots.test.ts.
      it(`${label}: clrmodules and clrmodules -v text equal SOS's`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const [plain, verbose] = await runSosMany(dump.dumpPath, ['clrmodules', 'clrmodules -v']);
        for (const [command, sos] of [[['clrmodules'], plain!], [['clrmodules', '-v'], verbose!]] as const) {
          const ours = sosLines(consoleFilter(runDumpsleuth(dump.dumpPath, command).text));
          assert.ok(sosLines(sos).length >= 8, `SOS answers ${command.join(' ')}`);
          assert.deepEqual(ours, sosLines(sos), command.join(' '));
        }
      });
    }

    it(`${label}: finalizequeue -stat equals SOS (objects, bytes, rows)`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = parseDumpHeapStat(await runSos(dump.dumpPath, 'finalizequeue -stat'));
      const ours = runDumpsleuth<{ totalCount: number; totalSize: number; types: { mt: string; count: number; totalSize: number }[] }>(dump.dumpPath, ['finalizequeue', '-stat']).json;
      assert.ok(sos.totalCount > 0, 'SOS lists finalizable objects');
      assert.equal(ours.totalCount, sos.totalCount);
      assert.equal(ours.totalSize, sos.totalSize);
      const rows = (list: { mt: number; count: number; totalSize: number }[]) => list.map((r) => `${r.mt.toString(16)} ${r.count} ${r.totalSize}`).sort();
      assert.deepEqual(rows(ours.types.map((r) => ({ ...r, mt: parseInt(r.mt.replace(/^0x/, ''), 16) }))), rows(sos.types));
    });

    if (entry.scenario === 'seed-apm') {
      it(`${label}: clrstack -all equals SOS (frames per thread, in order)`, async () => {
        const dump = await getDump(entry.scenario, entry);
        const session = Session.open(dump.dumpPath);
        try {
          const sos = normalize(await runSos(dump.dumpPath, 'clrstack -all')).map((l) => l.replace(/ \[[^\]]+ @ \d+\]$/, ''));
          const ours = normalize(clrstackCommand.run(session, ['-all']).text).map((l) => l.replace(/ \[[^\]]+ @ \d+\]$/, ''));
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
