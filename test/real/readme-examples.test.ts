// Every `$ dumpsleuth ...` example of the README runs on the seed-apm heap dump (the dump the README's examples were
// made from is of the same scenario): it must succeed, print nothing on stderr, and start like the README's output.
// Addresses in the examples are of another run of the scenario; each is mapped to the object of the same role in
// this dump (an example with an address this table does not know is reported as skipped, naming the address).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { openDump } from '../../src';
import { runCli } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { readme } from '../support/readme';
import { getWindowsDump, windowsTierSkipReasonNow } from '../support/windows-dumps';

const TIMEOUT = 10 * 60_000;

/** One README example: the command line (after `$ `) and the output lines shown under it. */
interface Example {
  readonly line: string;
  readonly output: string[];
}

function examples(): Example[] {
  const out: Example[] = [];
  const lines = readme().split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\$ (dumpsleuth .*)$/.exec(lines[i]!);
    if (!m) continue;
    const output: string[] = [];
    for (let j = i + 1; j < lines.length && !lines[j]!.startsWith('$ ') && !lines[j]!.startsWith('```'); j++) output.push(lines[j]!);
    out.push({ line: m[1]!, output });
  }
  return out;
}

/** Shell words, with '...' and "..." quoting. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** Dumps the README names other than `core.N` (the seed-apm heap dump): the scenario each example was made from.
 * An example on a dump not listed here is reported as skipped, naming the dump. */
const DUMP_FOR: Record<string, () => Promise<string>> = {
  'hang.dmp': async () => (await getDump('hang', { dumpType: 'heap', serverGc: false })).dumpPath,
  'crash.dmp': async () => (await getDump('crash')).dumpPath,
  'hang-pool.dmp': async () => (await getDump('hang-pool', { dumpType: 'heap', serverGc: false })).dumpPath,
  'win-seed-apm-full.dmp': async () => (await getWindowsDump('seed-apm')).dumpPath,
};

/** A line with addresses and numbers made generic, for comparing the shape of two answers. */
function shape(line: string): string {
  return line
    .replace(/\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]{6,}\b/g, 'H')
    .replace(/\d[\d,.]*/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 40);
}

describe('the README\'s command examples', { timeout: TIMEOUT }, () => {
  let dumpPath: string;
  let roles: Map<string, string>;

  before(async () => {
    dumpPath = (await getDump('seed-apm', { dumpType: 'heap', serverGc: false })).dumpPath;
    const dump = openDump(dumpPath);
    try {
      const heap = dump.runtime.heap;
      const callback = [...heap.enumerateObjects()].find((o) => o.type.name === 'System.AsyncCallback' && o.readObjectField('_target')?.type.name === 'Gateway.GatewayClientController');
      assert.ok(callback, 'an AsyncCallback whose target is a GatewayClientController');
      const deadThread = heap.analyze().findings[0]!.examples[0]!;
      const stack = dump.command('clrstack') as unknown as { threads: { frames: { method?: string; ip: string }[] }[] };
      const ready = stack.threads[0]!.frames.find((f) => f.method?.includes('ReadyAndWait'));
      assert.ok(ready, 'thread 0 is in Program.ReadyAndWait');
      const hex = (n: number) => n.toString(16);
      roles = new Map([
        ['7fa90100f180', hex(callback.address)], // the AsyncCallback (do, dumpdelegate)
        ['00007fb4dc4c5d00', hex(callback.type.methodTable)], // its MethodTable (dumpmt -md)
        ['7fa90100c958', deadThread.replace(/^0x/, '')], // a dead Thread (gcroot)
        ['00007F58EA295A59', ready.ip.replace(/^0x/, '')], // an IP in Program.ReadyAndWait (ip2md)
      ]);
    } finally {
      dump.close();
    }
  });

  it('the README has command examples', () => assert.ok(examples().length >= 15, `${examples().length} examples`));

  for (const example of examples()) {
    it(example.line, async (t) => {
      // An address this test has no role for (an example added by another change): reported as skipped, naming it.
      const unknown = words(example.line).find((w) => /^(0x)?[0-9a-fA-F]{8,}$/.test(w) && !roles.has(w));
      if (unknown !== undefined) {
        t.skip(`the README address ${unknown} has no role in test/real/readme-examples.test.ts: add one`);
        return;
      }
      const dumps = new Map<string, string>();
      for (const w of words(example.line)) {
        if (!/\.dmp$/.test(w)) continue;
        const find = DUMP_FOR[w];
        if (find === undefined) {
          t.skip(`the README dump ${w} has no scenario in DUMP_FOR of test/real/readme-examples.test.ts: add one`);
          return;
        }
        const windowsSkip = w.startsWith('win-') ? windowsTierSkipReasonNow() : undefined;
        if (windowsSkip !== undefined) {
          t.skip(`Windows tier skipped: ${windowsSkip}`);
          return;
        }
        dumps.set(w, await find());
      }
      const images = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-images-'));
      try {
        const args = words(example.line)
          .slice(1)
          .map((w, i, all) => {
            if (/^core\.\d+$/.test(w)) return dumpPath;
            if (dumps.has(w)) return dumps.get(w)!;
            if (all[i - 1] === '--image-path') return images;
            if (/^(0x)?[0-9a-fA-F]{8,}$/.test(w)) {
              const mapped = roles.get(w);
              assert.ok(mapped !== undefined, `the README address ${w} has no role in this test`);
              return mapped;
            }
            return w;
          });
        const run = await runCli(args, { timeoutMs: 120_000 });
        assert.equal(run.code, 0, `${example.line}: exit code (stderr: ${run.stderr})`);
        assert.equal(run.stderr, '', 'nothing on stderr');
        if (args[0] === '--json') {
          const doc = JSON.parse(run.stdout) as Record<string, unknown>;
          const shown = JSON.parse(example.output.join('\n')) as Record<string, unknown>;
          for (const key of Object.keys(shown)) assert.ok(key in doc, `the JSON has "${key}" as the README shows`);
        } else {
          const first = example.output.find((l) => l.trim() !== '' && l.trim() !== '...');
          let text = run.stdout;
          for (const [name, file] of [['core.3323', dumpPath], ...dumps] as const) text = text.split(file).join(name);
          const ours = text.split('\n').filter((l) => l.trim() !== '');
          assert.ok(ours.length > 0, 'an answer');
          // An example shown without its output only has to run. The README may leave lines out: its first shown
          // line must be one of the answer's lines (compared in shape: addresses and numbers generic).
          if (first === undefined) return;
          assert.ok(ours.map(shape).includes(shape(first)), `the answer has the README's line\nREADME: ${first}\nours:   ${ours.slice(0, 3).join('\n        ')}`);
        }
      } finally {
        fs.rmSync(images, { recursive: true, force: true });
      }
    });
  }
});
