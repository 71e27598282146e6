// `dumpheap -strings` (listing and statistics) and `dumpheap -strings -stat` equal dotnet-dump's text on every
// standard dump of the types and seed-apm scenarios: strings grouped by their first 1,024 characters and size,
// sorted by total size (stable), values sanitized and cut as SOS does for an 80-column console.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { runCommand } from '../support/run-command';
import { runSosMany } from '../support/sos';
import { consoleFilter } from '../support/sos-object-parsers';

const TIMEOUT = 10 * 60_000;

function lines(text: string): string[] {
  const out = text.split('\n').map((l) => l.trimEnd());
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** SOS's output of one command: runSosMany's split leaves the newline that ends `help exit` in front of it. */
function sosLines(text: string): string[] {
  return lines(text.replace(/^\n/, ''));
}


for (const entry of STANDARD_DUMPS.filter((d) => d.scenario === 'types' || d.scenario === 'seed-apm')) {
  describe(`dumpheap -strings on ${entry.scenario} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`, { timeout: TIMEOUT }, () => {
    it('equals SOS, with and without -stat', async (t) => {
      const dump = await getDump(entry.scenario, entry);
      const [listing, stat] = await runSosMany(dump.dumpPath, ['dumpheap -strings', 'dumpheap -strings -stat']);
      const ours = runCommand<{ strings: { value: string; count: number; size: number; totalSize: number }[]; totalCount: number }>(dump.dumpPath, dumpheapCommand, ['-strings']);
      assert.deepEqual(lines(consoleFilter(ours.text)), sosLines(listing!));
      assert.deepEqual(lines(consoleFilter(runCommand(dump.dumpPath, dumpheapCommand, ['-strings', '-stat']).text)), sosLines(stat!));
      // The JSON carries the same groups: counts add up to the objects listed, totals are count × size.
      const groups = ours.json.strings;
      assert.equal(groups.reduce((n, g) => n + g.count, 0), ours.json.totalCount);
      for (const g of groups) assert.equal(g.totalSize, g.count * g.size);
      assert.ok(groups.some((g) => g.count > 1), 'some strings are duplicated');
      assert.ok(sosLines(stat!).length > 100, `compared ${sosLines(stat!).length} statistics rows`);
      t.diagnostic(`compared ${sosLines(listing!).length} + ${sosLines(stat!).length} lines, ${groups.length} groups`);
    });
  });
}
