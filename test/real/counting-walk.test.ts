// The counting walk (src/heap/type-count-walk.ts, what an unfiltered `dumpheap -stat` runs) on every standard dump:
// its fragmentation table equals SOS's ("Fragmented blocks larger than 0.5 MB", which the statistics comparison in
// foundation.test.ts does not look at), and its whole answer (rows in order, totals, fragmentation, warnings) equals
// the per-object visitor walk's, which `-min 0` forces without changing what is counted; so do its answers with a
// type filter (-type, -mt).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { hexOf, runDumpsleuth } from '../support/dumpsleuth';
import { runSos } from '../support/sos';

const TIMEOUT = 10 * 60_000;

interface StatJson {
  types: { mt: string; name: string; count: number; totalSize: number }[];
  totalCount: number;
  totalSize: number;
  fragmentation: { address: string; size: number; followedBy: string; followedByType: string }[];
}

/** SOS's fragmentation table as `address size followedBy type` strings (addresses as numbers in hex). */
function sosFragmentation(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trim());
  const at = lines.indexOf('Fragmented blocks larger than 0.5 MB:');
  if (at < 0) return [];
  const rows: string[] = [];
  // The header line ("Address Size Followed By") comes first; rows run to the first line that is not one.
  for (const line of lines.slice(at + 2)) {
    const m = /^([0-9a-f]+)\s+([\d,]+)\s+([0-9a-f]+)\s+(.+)$/.exec(line);
    if (m === null) break;
    rows.push(`${parseInt(m[1]!, 16).toString(16)} ${Number(m[2]!.replace(/,/g, ''))} ${parseInt(m[3]!, 16).toString(16)} ${m[4]}`);
  }
  return rows;
}

describe('the counting walk of dumpheap -stat', { timeout: TIMEOUT }, () => {
  let blocksSeen = 0;
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;

    it(`${label}: fragmentation table equals SOS, whole answer equals the visitor walk's`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const counted = runDumpsleuth<StatJson>(dump.dumpPath, ['dumpheap', '-stat']);
      const visited = runDumpsleuth<StatJson>(dump.dumpPath, ['dumpheap', '-stat', '-min', '0']);
      assert.deepEqual(counted.json, visited.json);
      assert.equal(counted.text, visited.text);
      assert.deepEqual(counted.warnings, visited.warnings);

      const expected = sosFragmentation(await runSos(dump.dumpPath, 'dumpheap -stat'));
      const actual = counted.json.fragmentation.map((f) => `${hexOf(f.address).toString(16)} ${f.size} ${hexOf(f.followedBy).toString(16)} ${f.followedByType}`);
      assert.deepEqual(actual, expected);
      blocksSeen += expected.length;

      // Filtered by type only, -stat counts in the walk too: the same answers as the visitor walk, for a type, for
      // Free (the fragmentation lines need both Free and the following type; "e" keeps both on leak-controls), for one
      // MethodTable, for no match.
      const stringMt = counted.json.types.find((t) => t.name === 'System.String')!.mt;
      for (const filter of [['-type', 'System.String'], ['-type', 'Free'], ['-type', 'System.'], ['-mt', stringMt], ['-type', 'e'], ['-type', 'NoSuchTypeAnywhere']]) {
        const fast = runDumpsleuth<StatJson>(dump.dumpPath, ['dumpheap', '-stat', ...filter]);
        const slow = runDumpsleuth<StatJson>(dump.dumpPath, ['dumpheap', '-stat', ...filter, '-min', '0']);
        assert.deepEqual(fast.json, slow.json, filter.join(' '));
        assert.equal(fast.text, slow.text, filter.join(' '));
      }
    });
  }

  it('some standard dump has a fragmentation table (the comparison above is not vacuous)', () => {
    assert.ok(blocksSeen > 0, 'SOS printed no fragmented block on any standard dump');
  });
});
