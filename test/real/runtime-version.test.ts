// Issue 11: the runtime's version comes from the runtime itself (libcoreclr's version string, the descriptor's
// RuntimeProductVersionString), checked against SOS's eeversion; the thread walk follows the Thread contract's
// version and a corrupted link is a typed error, never a list of garbage threads.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Session } from '../../src/cli/session';
import type { MemoryReader } from '../../src/dump/memory-reader';
import { LayoutCheckError } from '../../src/errors';
import { ContractDescriptor } from '../../src/runtime/contract-descriptor';
import { readThreads } from '../../src/runtime/thread-store';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSos } from '../support/sos';

const TIMEOUT = 10 * 60_000;

interface InfoJson {
  runtimeVersion: string | null;
  runtimeFileVersion: string | null;
  runtimeCommit: string | null;
  supported: boolean;
}

/** SOS's eeversion: "<file version> @Commit: <hash>" on its second line. */
function parseEeVersion(text: string): { fileVersion: string; commit: string } {
  const m = /^(\d+\.\d+\.\d+\.\d+) @Commit: ([0-9a-f]+)\s*$/m.exec(text);
  assert.ok(m, `eeversion output has a version line:\n${text}`);
  return { fileVersion: m[1]!, commit: m[2]! };
}

/** A MemoryReader that answers `readPointer(at)` with `value` and delegates everything else. */
function corruptPointer(real: MemoryReader, at: number, value: number): MemoryReader {
  return {
    pointerSize: real.pointerSize,
    read: (a, l) => real.read(a, l),
    readUpTo: (a, l) => real.readUpTo(a, l),
    isMapped: (a, l) => real.isMapped(a, l),
    readU8: (a) => real.readU8(a),
    readU16: (a) => real.readU16(a),
    readU32: (a) => real.readU32(a),
    readI32: (a) => real.readI32(a),
    readU64: (a) => (a === at ? value : real.readU64(a)),
    readPointer: (a) => (a === at ? value : real.readPointer(a)),
  };
}

describe('runtime version and thread walk on real dumps', { timeout: TIMEOUT }, () => {
  for (const dumpType of ['heap', 'full'] as const) {
    it(`seed-apm ${dumpType}: info's runtime version equals SOS eeversion and the runtime folder`, async () => {
      const dump = await getDump('seed-apm', { dumpType });
      const sos = parseEeVersion(await runSos(dump.dumpPath, 'eeversion'));
      const ours = runDumpsleuth<InfoJson>(dump.dumpPath, ['info']).json;
      assert.equal(ours.runtimeFileVersion, sos.fileVersion);
      assert.equal(ours.runtimeCommit, sos.commit);
      assert.equal(ours.runtimeVersion, dump.runtimeVersion, 'the version of the runtime folder the debuggee ran from');
      assert.equal(ours.supported, true);
    });
  }

  it('seed-apm heap: a corrupted thread-list link is a LayoutCheckError, not garbage threads', async () => {
    const dump = await getDump('seed-apm');
    const session = Session.open(dump.dumpPath);
    try {
      const rt = session.runtime;
      const threads = readThreads(rt);
      assert.ok(threads.length > 3);
      const linkNext = rt.descriptor.offset('Thread', 'LinkNext');
      const at = threads[2]!.address + linkNext;
      const walk = (memory: MemoryReader, descriptor: ContractDescriptor = rt.descriptor) =>
        readThreads({ descriptor, memory, readGlobalPointer: (name: string) => memory.readPointer(descriptor.global(name)), version: rt.version });
      const cases: [string, number][] = [
        ['unmapped', 0x10],
        ['misaligned', threads[3]!.address + linkNext + 3],
        ['back to an earlier thread', threads[0]!.address + linkNext],
        ['into the middle of a thread', threads[3]!.address + 24 + linkNext],
      ];
      for (const [what, value] of cases) {
        assert.throws(() => walk(corruptPointer(rt.memory, at, value)), LayoutCheckError, what);
      }
      // The .NET 11 rule (links point at the Thread) applied to a .NET 10 list: caught at the first link.
      const contracts = new Map(rt.descriptor.contracts);
      contracts.set('Thread', 'c1');
      const d = rt.descriptor;
      const as11 = new ContractDescriptor(d.address, d.version, d.baseline, d.types, d.globals, contracts, d.pointerData);
      assert.throws(() => walk(rt.memory, as11), LayoutCheckError);
      // An unknown contract version is refused by name.
      contracts.set('Thread', 'c7');
      const unknown = new ContractDescriptor(d.address, d.version, d.baseline, d.types, d.globals, contracts, d.pointerData);
      assert.throws(() => walk(rt.memory, unknown), /Thread contract version c7/);
    } finally {
      session.close();
    }
  });
});
