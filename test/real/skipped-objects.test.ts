// Issue 10, degrade per object: one bad object costs that object, not the rest of its segment or the command, and
// every answer that lost something says how much and why. A private copy of the leak-event heap dump gets the
// MethodTable word of one Leaks.QuoteWidget (of the 40 the event keeps alive) overwritten; the expected answers come
// from the undamaged dump (whose dumpheap -stat equals SOS's in foundation.test.ts):
// - dumpheap -stat: exactly that object is missing (one QuoteWidget fewer, its size fewer bytes), and the warning
//   names it and the next object the walk resumed at, which is the object after it on the undamaged dump;
// - gcroot on another subscriber: the same root as on the undamaged dump, with the skipped reference counted;
// - analyze: the event-handler finding still comes first, with 39 subscribers, marked incomplete, and the JSON carries
//   the warnings; dominators (reusing analyze's context) warns too;
// - the library's heap.statistics() and objectBatches(): one object fewer, and takeWarnings names it;
// - verifyheap: reports the object and where the walk resumed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeCommand } from '../../src/cli/commands/analyze';
import { dominatorsCommand } from '../../src/cli/commands/dominators';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { gcrootCommand } from '../../src/cli/commands/gcroot';
import { rootCache } from '../../src/cli/commands/root-cache';
import { verifyheapCommand } from '../../src/cli/commands/verifyheap';
import { openDump } from '../../src';
import { getDump } from '../support/dumps';
import { runCli } from '../support/cli-runner';
import { runCommand, sessionFor } from '../support/run-command';

interface StatJson {
  types: { mt: string; name: string; count: number; totalSize: number }[];
  totalCount: number;
  totalSize: number;
}
interface GcrootJson {
  paths: { root: { kind: string; address: string }; chain: { address: string }[] }[];
}

describe('one bad object costs one object (issue 10)', { timeout: 10 * 60_000 }, () => {
  it('a QuoteWidget with a garbage MethodTable: dumpheap, gcroot, analyze and verifyheap skip it and say so', async () => {
    const dump = await getDump('leak-event', { dumpType: 'heap' });
    const session = sessionFor(dump.dumpPath);
    const graph = rootCache(session).objectIndex;
    session.takeWarnings();
    const widgets: number[] = [];
    for (let i = 0; i < graph.count; i++) if (session.names.clrmdName(graph.mtOf(i)) === 'Leaks.QuoteWidget') widgets.push(i);
    assert.equal(widgets.length, 40, 'the scenario keeps 40 subscribers');
    const victim = widgets[20]!;
    const victimAddress = graph.addresses[victim]!;
    const following = graph.addresses[victim + 1]!;
    const victimSize = graph.sizes[victim]!;
    const load = session.dump.segments.find((l) => victimAddress >= l.vaddr && victimAddress + 8 <= l.vaddr + l.size);
    assert.ok(load, 'the object is in the dump');

    const undamaged = runCommand<StatJson>(dump.dumpPath, dumpheapCommand, ['-stat']).json;
    const survivor = '0x' + graph.addresses[widgets[5]!]!.toString(16);
    const rootsBefore = runCommand<GcrootJson>(dump.dumpPath, gcrootCommand, [survivor]).json.paths.map((p) => `${p.root.kind} ${p.root.address}`);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-skip-'));
    const copy = path.join(dir, 'damaged.dmp');
    try {
      fs.copyFileSync(dump.dumpPath, copy);
      const fd = fs.openSync(copy, 'r+');
      fs.writeSync(fd, Buffer.from('efbeaddeefbe0000', 'hex'), 0, 8, load.fileOffset + (victimAddress - load.vaddr));
      fs.closeSync(fd);

      // dumpheap -stat: exactly the victim is missing.
      const stat = runCommand<StatJson>(copy, dumpheapCommand, ['-stat']);
      assert.equal(stat.json.totalCount, undamaged.totalCount - 1);
      assert.equal(stat.json.totalSize, undamaged.totalSize - victimSize);
      const before = undamaged.types.find((t) => t.name === 'Leaks.QuoteWidget')!;
      const after = stat.json.types.find((t) => t.name === 'Leaks.QuoteWidget')!;
      assert.equal(after.count, before.count - 1);
      const walkWarning = stat.warnings.find((w) => w.includes(`0x${victimAddress.toString(16)}`));
      assert.ok(walkWarning, `a warning names the skipped object: ${stat.warnings.join(' | ')}`);
      assert.match(walkWarning, new RegExp(`${victimSize} bytes skipped up to the next valid object at 0x${following.toString(16)}`));

      // gcroot on another subscriber: the same roots, and the lost reference is counted.
      const roots = runCommand<GcrootJson>(copy, gcrootCommand, [survivor]);
      assert.deepEqual(roots.json.paths.map((p) => `${p.root.kind} ${p.root.address}`), rootsBefore);
      assert.ok(roots.warnings.some((w) => /^1 references skipped: they do not point at the start of a heap object/.test(w)), roots.warnings.join(' | '));
      assert.ok(roots.warnings.some((w) => w.includes(`0x${victimAddress.toString(16)}`)));

      // analyze (through the CLI, for the JSON's warnings): the same first finding, one subscriber fewer.
      const cli = await runCli([copy, '--json', 'analyze']);
      assert.equal(cli.code, 0, cli.stderr);
      const json = JSON.parse(cli.stdout) as { findings: { rule: string; objectCount: number }[]; warnings?: string[] };
      assert.equal(json.findings[0]?.rule, 'event-handler-leak');
      assert.equal(json.findings[0]?.objectCount, 39);
      assert.ok((json.warnings ?? []).some((w) => w.includes(`0x${victimAddress.toString(16)}`)), `analyze's JSON warns: ${JSON.stringify(json.warnings)}`);
      const text = runCommand(copy, analyzeCommand, []);
      assert.ok(text.warnings.some((w) => /references skipped/.test(w)));
      assert.match(text.text, /^Incomplete: /m, 'analyze says it is incomplete');
      // dominators reuses analyze's context: it says the same.
      const dominators = runCommand(copy, dominatorsCommand, []);
      assert.ok(dominators.warnings.some((w) => /references skipped/.test(w)), dominators.warnings.join(' | '));

      // The library: statistics() (the counting walk) and objectBatches (the visitor walk) miss the same object, and
      // ClrDump.takeWarnings says which.
      const lib = openDump(copy);
      try {
        lib.takeWarnings();
        const libStats = lib.runtime.heap.statistics();
        assert.equal(libStats.reduce((a, t) => a + t.count, 0), undamaged.totalCount - 1);
        const statWarnings = lib.takeWarnings();
        assert.ok(statWarnings.some((w) => w.includes(`0x${victimAddress.toString(16)}`)), `statistics() warns: ${statWarnings.join(' | ')}`);
        let batched = 0;
        for (const b of lib.runtime.heap.objectBatches()) batched += b.count;
        assert.equal(batched, undamaged.totalCount - 1);
        assert.ok(lib.takeWarnings().some((w) => w.includes(`0x${victimAddress.toString(16)}`)), 'objectBatches() warns');
      } finally {
        lib.close();
      }

      const verify = runCommand<{ ok: boolean; walkProblems: { address: string; resumedAt: string | null }[] }>(copy, verifyheapCommand, []);
      assert.equal(verify.json.ok, false);
      assert.deepEqual(verify.json.walkProblems.map((p) => [p.address, p.resumedAt]), [['0x' + victimAddress.toString(16), '0x' + following.toString(16)]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
