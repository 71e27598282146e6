// Issue 10, completeness as data: a heap dump analyzed where the managed image files are not on disk (the normal case
// on another machine). The dump layer's test options hide the managed images' pages (`ignoreImagePagesInDump`) and
// keep the files at their recorded paths from being read (`managedImagesFromImagePathOnly`, --image-path at an empty
// folder). Every command is run with and without the images on the same dump: each answer with the images hidden is
// the same answer, or says what it lost (a warning), or is a clear one-line error; never a different answer in
// silence. Then the specific losses: analyze marks itself incomplete (text and JSON), clrstack says which frames it
// could not show, info lists the missing images.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import { rootCache } from '../../src/cli/commands/root-cache';
import { Session } from '../../src/cli/session';
import { DumpsleuthError } from '../../src/errors';
import { getDump } from '../support/dumps';

interface Answer {
  text?: string;
  json?: unknown;
  error?: string;
  warnings: string[];
}

function run(session: Session, words: readonly string[]): Answer {
  const command = COMMANDS.find((c) => c.name === words[0] || c.aliases.includes(words[0]!));
  assert.ok(command, `command ${words[0]}`);
  try {
    const r = command.run(session, words.slice(1));
    return { text: r.text, json: r.json, warnings: session.takeWarnings() };
  } catch (e) {
    // Only the typed errors the CLI prints as one line; anything else is a crash and fails the test here.
    if (!(e instanceof DumpsleuthError)) throw e;
    assert.doesNotMatch(e.message, /\n/, 'a one-line error');
    return { error: e.message, warnings: session.takeWarnings() };
  }
}

describe('managed images hidden (issue 10)', { timeout: 10 * 60_000 }, () => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-hidden-'));
  after(() => fs.rmSync(temp, { recursive: true, force: true }));

  it('every command on the leak-event heap dump: the same answer, or a warning naming the loss, or a one-line error', async () => {
    const dump = await getDump('leak-event', { dumpType: 'heap' });
    const reference = Session.open(dump.dumpPath);
    const hidden = Session.open(dump.dumpPath, { ignoreImagePagesInDump: true, managedImagesFromImagePathOnly: true, imagePath: temp });
    try {
      // Addresses for the commands that take one, from the reference session.
      const graph = rootCache(reference).objectIndex;
      let widget = -1;
      let delegate = -1;
      for (let i = 0; i < graph.count && (widget < 0 || delegate < 0); i++) {
        const name = reference.names.clrmdName(graph.mtOf(i));
        if (name === 'Leaks.QuoteWidget' && widget < 0) widget = i;
        if (name === 'System.EventHandler<System.Decimal>' && delegate < 0) delegate = i;
      }
      assert.ok(widget >= 0 && delegate >= 0);
      const hex = (n: number) => '0x' + n.toString(16);
      const stacks = run(reference, ['clrstack', '-all']).json as { threads: { frames: { kind: string; ip: string; methodDesc?: string }[] }[] };
      const managed = stacks.threads.flatMap((t) => t.frames).find((f) => f.kind === 'managed' && f.methodDesc !== undefined)!;
      reference.takeWarnings();
      const commands: string[][] = [
        ['info'],
        ['clrthreads'],
        ['threads'],
        ['dumpheap', '-stat'],
        ['dumpheap', '-type', 'Leaks.QuoteWidget'],
        ['eeheap', '-gc'],
        ['dumpobj', hex(graph.addresses[widget]!)],
        ['dumpobj', hex(graph.addresses[delegate]!)],
        ['dumpmt', '-md', hex(graph.mtOf(widget))],
        ['dumpclass', hex(graph.mtOf(widget))],
        ['dumpdelegate', hex(graph.addresses[delegate]!)],
        ['clrmodules'],
        ['dumpdomain'],
        ['ip2md', managed.ip],
        ['dumpmd', managed.methodDesc!],
        ['u', managed.ip],
        ['clrstack', '-all'],
        ['gchandles', '-stat'],
        ['gchandles'],
        ['gcroot', hex(graph.addresses[widget]!)],
        ['finalizequeue', '-stat'],
        ['objsize', hex(graph.addresses[delegate]!)],
        ['dumpstackobjects'],
        ['verifyheap'],
        ['analyze'],
        ['dominators'],
        ['syncblk'],
        ['dumpexceptions'],
        ['threadpool'],
      ];
      const silent: string[] = [];
      let changed = 0;
      for (const words of commands) {
        const a = run(reference, words);
        const b = run(hidden, words);
        if (a.text === b.text && a.error === b.error) continue;
        changed++;
        // info's own text is where it lists the missing images: that is its way of saying what is lost.
        const says = b.error !== undefined || b.warnings.length > 0 || (words[0] === 'info' && /not found on disk/.test(b.text ?? ''));
        if (!says) silent.push(words.join(' '));
      }
      assert.ok(changed >= 10, `hiding the images changes many answers (${changed})`);
      assert.deepEqual(silent, [], 'answers that changed without saying so');

      // The specific losses, said where the user looks.
      const analyze = run(hidden, ['analyze']);
      const json = analyze.json as { complete: boolean; incomplete: string[] };
      assert.equal(json.complete, false);
      assert.ok(json.incomplete.some((w) => /type names from .*System\.Private\.CoreLib\.dll are unknown/.test(w)), json.incomplete.join(' | '));
      assert.match(analyze.text!, /^Incomplete: \d+ problems? reading the dump/m);
      const full = run(reference, ['analyze']).json as { complete: boolean; findings: unknown[] };
      assert.ok(full.findings.length > 0, 'with the images the event-handler leak is found');
      const stacks2 = run(hidden, ['clrstack', '-all']);
      assert.ok(stacks2.warnings.some((w) => /cannot be looked up .*managed frames from there to the next Frame are not shown/.test(w)), stacks2.warnings.join(' | '));
      assert.match(run(hidden, ['info']).text!, /System\.Private\.CoreLib\.dll not found on disk/);
    } finally {
      hidden.close();
      reference.close();
    }
  });
});
