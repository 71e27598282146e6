// Issue 12, `dumpasync --fields`: each frame's state machine fields (or the task's own) equal dotnet-dump's
// DumpAsyncCommand line for line on the hang dumps (heap workstation, full server): field addresses, the declared
// types' MethodTables and names (a `Task<T>.m_result` typed by the instantiation's argument), values; with --tasks
// --completed also plain tasks whose delegate is a static method that never ran (reached through a precode).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getDump } from '../support/dumps';
import { runDumpsleuth } from '../support/dumpsleuth';
import { runSosMany, sosLines } from '../support/sos';

const TIMEOUT = 10 * 60_000;
const COMMANDS = ['dumpasync --fields', 'dumpasync --tasks --completed --fields', 'dumpasync --type LoadAsync -f'] as const;

interface FrameJson {
  readonly type: string;
  readonly fields?: { readonly name: string; readonly value: string }[];
}

describe('dumpasync --fields on the hang dumps', { timeout: TIMEOUT }, () => {
  for (const [scenario, serverGc] of [['hang', false], ['hang', true], ['hang-pool', false]] as const) {
    const dumpType = serverGc ? 'full' : 'heap';
    // hang-pool has no state machines: only its plain tasks (the local queues' Tasks) have fields to show.
    const commands = scenario === 'hang' ? COMMANDS : COMMANDS.slice(1, 2);
    it(`${scenario} ${dumpType} ${serverGc ? 'server' : 'workstation'}: ${commands.join(', ')} equal dotnet-dump line for line`, async () => {
      const dump = await getDump(scenario, { dumpType, serverGc });
      const sos = await runSosMany(dump.dumpPath, commands);
      for (let i = 0; i < commands.length; i++) {
        const expected = sosLines(sos[i]!);
        assert.ok(expected.some((l) => / Name$/.test(l)), `dotnet-dump printed fields for ${commands[i]}`);
        assert.deepEqual(sosLines(runDumpsleuth(dump.dumpPath, commands[i]!.split(' ')).text), expected, commands[i]);
      }
      if (scenario !== 'hang') return;
      // Hang.cs: LoadAsync(int order, Task<string> reply) for orders 0..24, each suspended at its first await.
      const ours = runDumpsleuth<{ stacks: { frames: FrameJson[] }[] }>(dump.dumpPath, ['dumpasync', '--type', 'LoadAsync', '--fields']);
      const load = ours.json.stacks.flatMap((s) => s.frames).filter((f) => f.type === 'Hangs.OrderPipeline+<LoadAsync>d__4');
      assert.deepEqual(load.map((f) => Number(f.fields?.find((x) => x.name === 'order')?.value)).sort((a, b) => a - b), Array.from({ length: 25 }, (_, k) => k));
      assert.ok(load.every((f) => f.fields?.find((x) => x.name === '<>1__state')?.value === '0'));
    });
  }
});
