// Issue 4, GC handles on every standard dump (heap and full, workstation and server GC): `gchandles -stat` counts
// per kind and per-type statistics equal SOS's; the handle set (address, kind, target, dependent secondary) equals
// ClrMD's `runtime.EnumerateHandles()`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runClrmd } from '../support/clrmd';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { gchandlesCommand } from '../../src/cli/commands/gchandles';
import { hexOf } from '../support/dumpsleuth';
import { runCommand } from '../support/run-command';
import { runSos } from '../support/sos';
import { parseGcHandles } from '../support/sos-root-parsers';

const TIMEOUT = 10 * 60_000;

interface HandlesJson {
  handles: { address: string; kind: string; target: string; targetType: string; secondary: string | null }[];
  summary: Record<string, number>;
}

/** SOS's Handles-section label (cut to 21 characters as SOS cuts it) for our JSON kind. */
const LABEL: Record<string, string> = {
  strong: 'Strong Handles:',
  pinned: 'Pinned Handles:',
  asyncPinned: 'Async Pinned Handles:',
  refCounted: 'Ref Count Handles:',
  weakLong: 'Weak Long Handles:',
  weakShort: 'Weak Short Handles:',
  weakWinRT: 'Weak WinRT Handles:',
  weakInteriorPointer: 'Weak Interior Pointer',
  variable: 'Variable Handles:',
  sizedRef: 'SizedRef Handles:',
  dependent: 'Dependent Handles:',
  crossReference: 'Other Handles:',
};

describe('GC handles on real dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;

    it(`${label}: gchandles -stat equals SOS`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const sos = parseGcHandles(await runSos(dump.dumpPath, 'gchandles -stat'));
      const ours = runCommand<HandlesJson>(dump.dumpPath, gchandlesCommand, ['-stat']);
      const counts = new Map<string, number>();
      for (const [kind, n] of Object.entries(ours.json.summary)) if (n > 0) counts.set(LABEL[kind]!, n);
      assert.ok(sos.counts.size > 0, 'SOS lists handle kinds');
      assert.deepEqual(counts, new Map(sos.counts));
      const parsed = parseGcHandles(ours.text);
      assert.equal(parsed.totalObjects, sos.totalObjects, 'Total N objects');
      const rows = (r: readonly { mt: number; count: number; totalSize: number; name: string }[]) => r.map((x) => `${x.mt.toString(16)} ${x.count} ${x.totalSize} ${x.name}`);
      assert.deepEqual(rows(parsed.stats), rows(sos.stats), 'statistics rows, in SOS order');
    });

    it(`${label}: the handle set equals ClrMD's`, async () => {
      const dump = await getDump(entry.scenario, entry);
      const clrmd = (await runClrmd(dump.dumpPath, 'handles')) as { address: string; kind: string; object: string; dependent: string }[];
      const ours = runCommand<HandlesJson>(dump.dumpPath, gchandlesCommand, []);
      const kindName = (k: string) => k[0]!.toUpperCase() + k.slice(1);
      const expected = clrmd.map((h) => `${hexOf(h.address).toString(16)} ${h.kind} ${hexOf(h.object).toString(16)}${h.kind === 'Dependent' ? ' ' + hexOf(h.dependent).toString(16) : ''}`).sort();
      const actual = ours.json.handles
        .map((h) => `${hexOf(h.address).toString(16)} ${kindName(h.kind)} ${hexOf(h.target).toString(16)}${h.kind === 'dependent' ? ' ' + hexOf(h.secondary ?? '0x0').toString(16) : ''}`)
        .sort();
      assert.ok(expected.length > 0, 'ClrMD finds handles');
      assert.deepEqual(actual, expected);
    });
  }
});
