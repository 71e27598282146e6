// gcwhere (issue 16) against dotnet-dump's gcwhere on heap and full dumps, workstation and server GC: for addresses
// taken from SOS's own `eeheap -gc` (each region's first object, the page before it, its last allocated byte, the
// end of its committed memory, the reserved tail, the byte past the region) and addresses in no region, our text
// equals SOS's line for line; every generation kind and the "not found" answer occur; bad input is one line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertOneErrorLine, runCli } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany, sosLines } from '../support/sos';
import { parseEeHeapGc } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;

const DUMPS = [
  { scenario: 'types', dumpType: 'heap', serverGc: false },
  { scenario: 'types', dumpType: 'full', serverGc: true },
  { scenario: 'seed-apm', dumpType: 'heap', serverGc: true },
  { scenario: 'seed-apm', dumpType: 'full', serverGc: false },
] as const;

/** Probe addresses for one SOS segment row: inside and around its objects, committed and reserved memory. */
function probes(begin: number, allocated: number, committed: number): number[] {
  const page = begin - (begin % 4096);
  const out = [begin, begin + 0x10, page, page - 1, committed - 1, committed, committed + 0x10000];
  if (allocated > begin) out.push(allocated - 1, allocated);
  return out;
}

describe('gcwhere equals dotnet-dump gcwhere', () => {
  for (const d of DUMPS) {
    it(`${d.scenario} ${d.dumpType} ${d.serverGc ? 'server' : 'workstation'} GC`, { timeout: TIMEOUT }, async () => {
      const dump = await getDump(d.scenario, { dumpType: d.dumpType, serverGc: d.serverGc });
      const [eeheapText] = await runSosMany(dump.dumpPath, ['eeheap -gc']);
      const segments = parseEeHeapGc(eeheapText!).heaps.flatMap((h) => h.segments);
      assert.ok(segments.length >= 5, `SOS's eeheap -gc lists ${segments.length} segments`);
      const addresses = [...new Set([...segments.flatMap((s) => probes(s.begin, s.allocated, s.committed)), 0x1234, 0x10000])].sort((a, b) => a - b);
      const commands = addresses.map((a) => `gcwhere ${a.toString(16)}`);
      const sos = await runSosMany(dump.dumpPath, commands);
      const seen = new Set<string>();
      for (let i = 0; i < addresses.length; i++) {
        const expected = sosLines(sos[i]!);
        const ours = sosLines(runDumpsleuth(dump.dumpPath, ['gcwhere', `0x${addresses[i]!.toString(16)}`]).text);
        assert.deepEqual(ours, expected, commands[i]);
        if (/not found in the managed heap/.test(expected[0] ?? '')) seen.add('not found');
        for (const row of expected.slice(1)) seen.add(row.split(/\s+/)[3]!);
      }
      for (const kind of ['0', '2', 'large', 'pinned', 'frozen', 'reserve', 'not found']) assert.ok(seen.has(kind), `no probe answered ${kind}: ${[...seen].join(', ')}`);
    });
  }

  it('a bad or missing address is one clear line', { timeout: TIMEOUT }, async () => {
    const dump = await getDump('types', { dumpType: 'heap' });
    assert.match(assertOneErrorLine(await runCli([dump.dumpPath, 'gcwhere', 'zz']), 'gcwhere zz'), /gcwhere: "zz" is not a hex address/);
    assert.match(assertOneErrorLine(await runCli([dump.dumpPath, 'gcwhere']), 'gcwhere'), /gcwhere: missing address/);
  });
});
