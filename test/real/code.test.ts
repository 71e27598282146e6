// Issue 5 "must show" on real dumps, against SOS (dotnet-dump) on the same dump:
// - every delegate object: dumpdelegate rows (target, MethodDesc, name) equal SOS's;
// - code addresses (method entry points, addresses inside JIT'd and R2R methods, precodes, non-code): ip2md equals
//   SOS's text (SOS's optional "Source file:" line aside); precodes and non-code addresses give SOS's one line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clrstackCommand, walkManagedThread } from '../../src/cli/commands/clrstack';
import { delegateReaderOf, dumpdelegateCommand } from '../../src/cli/commands/dumpdelegate';
import { ip2mdCommand, NOT_IN_JIT_CODE } from '../../src/cli/commands/ip2md';
import { dumpmdCommand } from '../../src/cli/commands/dumpmd';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { findDotnet, findRepoRoot, runProcess } from '../../src/capture';
import { restoreDotnetTools, runSos, runSosMany } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const DUMPS = [
  { scenario: 'seed-apm', dumpType: 'heap', serverGc: false },
  { scenario: 'types', dumpType: 'heap', serverGc: false },
  { scenario: 'types', dumpType: 'full', serverGc: true },
] as const;

/** SOS text without the header echo, the optional source-line line, and with hex compared case-insensitively. */
function normalizeSos(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('Source file:'))
    .map((l) => l.trimEnd());
}

/** One SOS command whose failure is the expected answer: dotnet-dump exits with 1 after a failed command, which
 * runSos treats as an error, so this runs it directly (uncached). */
async function runFailingSos(dumpPath: string, command: string): Promise<string> {
  await restoreDotnetTools();
  const dotnet = await findDotnet();
  const args = ['tool', 'run', 'dotnet-dump', 'analyze', dumpPath, '-c', 'setsymbolserver --disable', '-c', command, '-c', 'exit'];
  const result = await runProcess(dotnet, args, { cwd: findRepoRoot(), timeoutMs: 5 * 60_000 });
  assert.ok(result.stdout.startsWith('Loading core dump:'), `dotnet-dump ran on ${dumpPath}`);
  return result.stdout.split('\n').slice(2).join('\n');
}

function delegatesOf(session: Session): number[] {
  const reader = delegateReaderOf(session);
  const out: number[] = [];
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, mt) => {
    if (reader.isDelegateType(mt)) out.push(address);
  });
  return out;
}

describe('code on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of DUMPS) {
    const label = `${entry.scenario} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;

    it(`${label}: dumpdelegate equals SOS for every delegate object`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      const delegates = delegatesOf(session);
      assert.ok(delegates.length >= 10, `expected delegates in the ${entry.scenario} dump, found ${delegates.length}`);
      const sos = await runSosMany(dump.dumpPath, delegates.map((d) => `dumpdelegate ${d.toString(16)}`));
      let rows = 0;
      delegates.forEach((d, i) => {
        const ours = normalizeSos(dumpdelegateCommand.run(session, [d.toString(16)]).text);
        assert.deepEqual(ours, normalizeSos(sos[i]!), `dumpdelegate ${d.toString(16)}`);
        rows += ours.length - 1;
      });
      assert.ok(rows >= delegates.length);
      session.close();
    });

    it(`${label}: ip2md equals SOS for code addresses, precodes and non-code`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      // Addresses inside methods (stack IPs), their entry points, and R2R code, from every thread's stack.
      const inside = new Set<number>();
      const starts = new Set<number>();
      for (const t of readThreads(session.runtime)) {
        for (const f of walkManagedThread(session, t)?.frames ?? []) {
          if (f.kind !== 'managed') continue;
          inside.add(f.ip);
          starts.add(f.block.startAddress);
          // The last byte before the return address is inside the call instruction, still in the method.
          inside.add(f.ip - 1);
        }
      }
      // Entry points of delegates' methods: compiled code (entry points) and precodes (not method code for ip2md).
      const precodes = new Set<number>();
      const reader = delegateReaderOf(session);
      for (const d of delegatesOf(session)) {
        for (const inv of reader.read(d).invocations) {
          const r = inv.resolution;
          if (r?.kind === 'code') starts.add(r.block.startAddress);
          if (r?.kind === 'precode') {
            precodes.add(r.address);
            if (r.block) starts.add(r.block.startAddress);
          }
        }
      }
      const codeAddresses = [...new Set([...starts, ...inside])].slice(0, 60);
      assert.ok(codeAddresses.length >= 15, `only ${codeAddresses.length} code addresses`);
      const sos = await runSosMany(dump.dumpPath, codeAddresses.map((a) => `ip2md ${a.toString(16)}`));
      let r2r = 0;
      codeAddresses.forEach((a, i) => {
        const ours = ip2mdCommand.run(session, [a.toString(16)]);
        assert.deepEqual(normalizeSos(ours.text), normalizeSos(sos[i]!), `ip2md ${a.toString(16)}`);
        if ((ours.json as { kind?: string }).kind === 'r2r') r2r++;
      });
      assert.ok(r2r > 0, 'some addresses are ReadyToRun code in CoreLib');
      // A failing ip2md ends a dotnet-dump batch, so each of these runs alone.
      const heapObject = delegatesOf(session)[0]!;
      const notCode = [...[...precodes].slice(0, 2), heapObject, 0x1234, session.dump.threads[0]!.stackPointer];
      for (const a of notCode) {
        const expected = normalizeSos(await runFailingSos(dump.dumpPath, `ip2md ${a.toString(16)}`));
        assert.deepEqual(expected, [NOT_IN_JIT_CODE], `SOS: ${a.toString(16)} is not method code`);
        assert.deepEqual(normalizeSos(ip2mdCommand.run(session, [a.toString(16)]).text), expected, `ip2md ${a.toString(16)}`);
      }
      session.close();
    });

    it(`${label}: dumpmd equals SOS for the MethodDescs of delegates`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      const reader = delegateReaderOf(session);
      const mds = new Set<number>();
      for (const d of delegatesOf(session)) for (const inv of reader.read(d).invocations) if (inv.methodDesc !== 0) mds.add(inv.methodDesc);
      const list = [...mds];
      const sos = await runSosMany(dump.dumpPath, list.map((md) => `dumpmd ${md.toString(16)}`));
      list.forEach((md, i) => {
        assert.deepEqual(normalizeSos(dumpmdCommand.run(session, [md.toString(16)]).text), normalizeSos(sos[i]!), `dumpmd ${md.toString(16)}`);
      });
      session.close();
    });

  }
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label}: clrstack -all equals SOS (frames per thread, in order)`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const session = Session.open(dump.dumpPath);
      // SOS appends " [file @ line]" to frames with debug info; we do not read line numbers.
      const sos = normalizeSos(await runSos(dump.dumpPath, 'clrstack -all'))
        .filter((l) => !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store settings:'))
        .map((l) => l.replace(/ \[[^\]]+ @ \d+\]$/, ''));
      const ours = normalizeSos(clrstackCommand.run(session, ['-all']).text).map((l) => l.replace(/ \[[^\]]+ @ \d+\]$/, ''));
      assert.ok(ours.filter((l) => /^[0-9A-F]{16} [0-9A-F]{16} /.test(l)).length >= 3, 'managed frames were found');
      assert.deepEqual(ours, sos);
      session.close();
    });
  }
});
