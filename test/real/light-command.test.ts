// A short command runs with TurboFan off and a small young generation (src/cli/light-command.ts, issue 16: peak RSS
// not above dotnet-dump's): on a real dump, V8 optimizes nothing during `clrthreads`, `dumpobj` and `info`, their
// answers equal those of a run with V8's default settings (a node flag of the user's own, here --turbofan, turns the light mode off), and
// a heavy command (`dumpheap -stat`) still gets optimized code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { CLI_PATH, REPO_ROOT } from '../support/cli-runner';
import { getDump } from '../support/dumps';

const TIMEOUT = 10 * 60_000;

/** Runs the CLI under `node <nodeFlags>`; returns stdout and how many functions V8 finished optimizing. */
function run(nodeFlags: string[], args: string[]): { stdout: string; optimized: number } {
  const r = spawnSync(process.execPath, [...nodeFlags, CLI_PATH, ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  const optimized = r.stdout.split('\n').filter((l) => l.startsWith('[completed optimizing')).length;
  return { stdout: r.stdout.split('\n').filter((l) => !/^\[(completed|marking|compiling|optimizing|bailout)/.test(l)).join('\n'), optimized };
}

describe('light commands', () => {
  it('run without TurboFan, answer as with the default settings; dumpheap -stat is still optimized', { timeout: TIMEOUT }, async () => {
    const dump = await getDump('types', { dumpType: 'heap' });
    const first = /^\s*([0-9a-f]{12,16})\s/im.exec(run([], [dump.dumpPath, 'dumpheap', '-short', '-type', 'System.String']).stdout);
    assert.ok(first, 'dumpheap -short listed a string');
    for (const args of [['clrthreads'], ['dumpobj', `0x${first[1]!}`], ['info']]) {
      const light = run(['--trace-opt'], [dump.dumpPath, ...args]);
      assert.equal(light.optimized, 0, `${args[0]}: V8 optimized ${light.optimized} functions`);
      const plain = run(['--trace-opt', '--turbofan'], [dump.dumpPath, ...args]);
      assert.equal(light.stdout, plain.stdout, `${args[0]}: the same answer with V8's default settings`);
    }
    const heavy = run(['--trace-opt'], [dump.dumpPath, 'dumpheap', '-stat']);
    assert.ok(heavy.optimized > 0, 'dumpheap -stat ran without optimized code');
  });
});
