// Issue 10, damaged dumps: a seeded fuzz test. A private copy of a real heap dump (leak-event, workstation) gets
// 8 random bytes written at one place per run — inside a heap object, a handle, a GC segment's memory or anywhere in
// the dump's memory — and every fuzzed command (test/support/fuzz-worker.ts) is run on it in a child process:
// no crash (only typed one-line errors), no hang (each batch has a deadline), and an answer that differs from the
// undamaged dump's carries a warning or is a clear error. The figures go to the test's diagnostics and the README.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { rootCache } from '../../src/cli/commands/root-cache';
import { getDump } from '../support/dumps';
import { FUZZ_COMMANDS, type FuzzAnswer } from '../support/fuzz-worker';
import { sessionFor } from '../support/run-command';

const MUTATIONS = 200;
const BATCH = 25;
const BATCH_DEADLINE_MS = 5 * 60_000;

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the worker on `lines` (mutations); resolves with one answer list per line, or rejects on a hang or exit. */
function runBatch(dumpPath: string, lines: readonly string[]): Promise<FuzzAnswer[][]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'fuzz-worker.js'), dumpPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: FuzzAnswer[][] = [];
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hang: mutation "${lines[out.length]}" did not finish within the batch deadline`));
    }, BATCH_DEADLINE_MS);
    child.stdout.on('data', (c: Buffer) => {
      buffer += c.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        out.push(JSON.parse(buffer.slice(0, nl)) as FuzzAnswer[]);
        buffer = buffer.slice(nl + 1);
      }
      if (out.length === lines.length) child.stdin.end();
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (out.length === lines.length) resolve(out);
      else reject(new Error(`the worker exited (code ${code}) at mutation "${lines[out.length]}": ${stderr.slice(-2000)}`));
    });
    child.stdin.write(lines.join('\n') + '\n');
  });
}

describe('fuzzed dumps (issue 10)', { timeout: 20 * 60_000 }, () => {
  it(`${MUTATIONS} seeded mutations of a real dump: no crash, no hang, no changed answer without a warning`, async (t) => {
    const dump = await getDump('leak-event', { dumpType: 'heap' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-fuzz-'));
    const copy = path.join(dir, 'fuzz.dmp');
    try {
      fs.copyFileSync(dump.dumpPath, copy);
      // Where to write: places the commands read, found on the undamaged dump.
      const session = sessionFor(dump.dumpPath);
      const cache = rootCache(session);
      const graph = cache.objectIndex;
      const handles = cache.handles;
      session.takeWarnings();
      const gcSegments = session.heap.segments.filter((s) => s.end > s.start);
      const loads = session.dump.segments;
      const fileOffsetOf = (address: number): number | undefined => {
        const s = loads.find((l) => address >= l.vaddr && address + 8 <= l.vaddr + l.size);
        return s === undefined ? undefined : s.fileOffset + (address - s.vaddr);
      };
      const next = random(4242);
      const lines: string[] = [];
      const kinds = new Map<string, number>();
      while (lines.length < MUTATIONS) {
        const r = next();
        let address: number;
        let kind: string;
        if (r < 0.5) {
          const i = Math.floor(next() * graph.count);
          address = graph.addresses[i]! + Math.floor((next() * Math.min(graph.sizes[i]!, 256)) / 8) * 8;
          kind = 'object';
        } else if (r < 0.65) {
          address = handles[Math.floor(next() * handles.length)]!.address;
          kind = 'handle';
        } else if (r < 0.85) {
          const s = gcSegments[Math.floor(next() * gcSegments.length)]!;
          address = s.start + Math.floor((next() * (s.end - s.start)) / 8) * 8;
          kind = 'segment';
        } else {
          const l = loads[Math.floor(next() * loads.length)]!;
          address = l.vaddr + Math.floor((next() * l.size) / 8) * 8;
          kind = 'anywhere';
        }
        const offset = fileOffsetOf(address);
        if (offset === undefined) continue;
        const bytes = Buffer.alloc(8);
        for (let k = 0; k < 8; k++) bytes[k] = Math.floor(next() * 256);
        lines.push(`${offset} ${bytes.toString('hex')}`);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
      const [base] = await runBatch(copy, ['base']);
      assert.ok(base!.every((a) => a.end === 'ok' && a.warnings.length === 0), 'the undamaged copy answers every command without warnings');
      let changed = 0;
      let warned = 0;
      let errors = 0;
      const silent: string[] = [];
      const crashes: string[] = [];
      const errorTexts: string[] = [];
      for (let b = 0; b < lines.length; b += BATCH) {
        const batch = lines.slice(b, b + BATCH);
        const answers = await runBatch(copy, batch);
        answers.forEach((list, k) => {
          list.forEach((a, c) => {
            const what = `${FUZZ_COMMANDS[c]!.join(' ')} after "${batch[k]}"`;
            if (a.end === 'crash') crashes.push(`${what}: ${a.text}`);
            if (a.end === 'error') {
              errors++;
              if (errorTexts.length < 5) errorTexts.push(`${what}: ${a.text}`);
            }
            if (a.end === 'ok' && a.text !== base![c]!.text) {
              changed++;
              if (a.warnings.length > 0) warned++;
              else silent.push(what);
            }
          });
        });
      }
      t.diagnostic(`${lines.length} mutations (${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}) × ${FUZZ_COMMANDS.length} commands: ${crashes.length} crashes, 0 hangs, ${errors} one-line errors, ${changed} changed answers (${warned} with a warning, ${silent.length} without)`);
      for (const e of errorTexts) t.diagnostic(`one-line error: ${e}`);
      assert.deepEqual(crashes, [], 'no crash');
      assert.deepEqual(silent.slice(0, 20), [], `no changed answer without a warning (${silent.length} in all)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
