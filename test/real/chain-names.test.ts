// Issue 10: retention chains name what a person would look for, checked against SOS on the same dumps:
// - a static is named by its declaring type and field (the debuggee's source declares it; SOS's dumpclass of that
//   type shows the field holding the same object), in text and JSON;
// - a reference inside a struct embedded in an object is named by its field path (`_receiveQueue._tail`), and SOS's
//   dumpobj + dumpvc follow the same path to the same object;
// - a root held in a register is shown by register and thread, as SOS's gcroot shows it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { analyzeCommand } from '../../src/cli/commands/analyze';
import { gcrootCommand } from '../../src/cli/commands/gcroot';
import { findRepoRoot } from '../../src/capture/paths';
import { getDump } from '../support/dumps';
import { getExternalDumps } from '../support/external-dumps';
import { runCommand } from '../support/run-command';
import { runSos } from '../support/sos';
import { parseDumpObj } from '../support/sos-object-parsers';

const TIMEOUT = 10 * 60_000;

interface ChainStepJson {
  type: string;
  field?: string;
  static?: boolean;
  address?: string;
}
interface FindingJson {
  rule: string;
  chain: ChainStepJson[];
  examples: string[];
  details?: { root?: { kind: string; address: string; thread?: string; register?: string; object?: string } };
}
interface GcrootJson {
  paths: { chain: { address: string; type: string; field: string | null }[] }[];
}

describe('names in retention chains (issue 10)', { timeout: TIMEOUT }, () => {
  it('a static is named by declaring type and field (leak-event; SOS dumpclass shows that static holding the same object)', async () => {
    const dump = await getDump('leak-event');
    const answer = runCommand<{ findings: FindingJson[] }>(dump.dumpPath, analyzeCommand, []);
    const finding = answer.json.findings.find((f) => f.rule === 'event-handler-leak');
    assert.ok(finding, 'the event-handler finding');
    const step = finding.chain.find((s) => s.static === true);
    assert.ok(step?.field !== undefined && step.address !== undefined, `a static step with an address: ${JSON.stringify(finding.chain)}`);
    // The debuggee declares `public static event EventHandler<decimal>? PriceChanged;` in class PriceFeed of namespace Leaks.
    const source = fs.readFileSync(path.join(findRepoRoot(), 'test', 'debuggees', 'LeaksEvent.cs'), 'utf8');
    assert.match(source, /namespace Leaks\b/);
    assert.match(source, /class PriceFeed\b[\s\S]*static event [^;]*\bPriceChanged\b/);
    assert.equal(step.field, 'Leaks.PriceFeed.PriceChanged');
    // SOS's dumpclass of that type lists the static with the object the chain passes through.
    const mt = /MethodTable:\s+([0-9a-f]+)/.exec(await runSos(dump.dumpPath, 'name2ee Debuggees.dll!Leaks.PriceFeed'))?.[1];
    assert.ok(mt, 'SOS finds Leaks.PriceFeed');
    const row = (await runSos(dump.dumpPath, `dumpclass ${mt}`)).split('\n').find((l) => / static [0-9a-f]+ PriceChanged\s*$/.test(l));
    assert.ok(row, 'SOS lists the static PriceChanged');
    assert.equal(BigInt('0x' + / static ([0-9a-f]+) PriceChanged/.exec(row)![1]!), BigInt(step.address));
    const text = runCommand(dump.dumpPath, analyzeCommand, []).text;
    assert.match(text, /static Leaks\.PriceFeed\.PriceChanged → System\.EventHandler<System\.Decimal>/);
    assert.match(text, /held in the static field Leaks\.PriceFeed\.PriceChanged/);
    assert.doesNotMatch(text, /static storage \(System\.Object\[\]/);
  });

  it('register roots by register and thread, struct fields by path (VBCSCompiler heap and full dumps; SOS gcroot, dumpobj, dumpvc)', async () => {
    const dumps = await getExternalDumps();
    const dump = dumps.find((d) => d.program === 'vbcscompiler' && d.dumpType === 'heap');
    assert.ok(dump, 'the VBCSCompiler heap dump');
    const answer = runCommand<{ findings: FindingJson[] }>(dump.dumpPath, analyzeCommand, []);
    const text = runCommand(dump.dumpPath, analyzeCommand, []).text;
    assert.doesNotMatch(text, /stack root 0x0\b/);
    assert.doesNotMatch(text, /\.\+0x[0-9a-f]+ →/, 'no unnamed struct slot');

    // Register roots: SOS's gcroot on the root object lists it under the same thread, in the same register.
    const registerRooted = answer.json.findings.filter((f) => f.details?.root?.register !== undefined);
    assert.ok(registerRooted.length > 0, 'a finding whose chain starts at a register (the compiler server dispatcher on its main thread)');
    for (const f of registerRooted) {
      const root = f.details!.root!;
      const thread = root.thread;
      assert.ok(thread !== undefined && root.object !== undefined);
      assert.ok(text.includes(`register ${root.register} (thread ${thread})`), `text names register ${root.register} of thread ${thread}`);
      const sos = await runSos(dump.dumpPath, `gcroot ${root.object}`);
      const block = sos.split(/\n(?=Thread [0-9a-f]+:)/).find((b) => b.startsWith(`Thread ${thread.slice(2)}:`) || b.includes(`\nThread ${thread.slice(2)}:`));
      assert.ok(block, `SOS lists a root of ${root.object} on thread ${thread}:\n${sos}`);
      assert.match(block, new RegExp(`\\n\\s+${root.register}:\\s*\\n\\s+-> ${root.object.slice(2)} `), `SOS shows it in ${root.register}:\n${block}`);
    }

    // Struct field paths: every `a.b` link of the pending-accept chain is the same path in SOS's dumpobj + dumpvc, on
    // the full dump of the same process (SOS's dumpobj of a SocketAsyncContext crashes dotnet-dump on the heap dump).
    const full = dumps.find((d) => d.program === 'vbcscompiler' && d.dumpType === 'full');
    assert.ok(full, 'the VBCSCompiler full dump');
    const fullAnswer = runCommand<{ findings: FindingJson[] }>(full.dumpPath, analyzeCommand, []);
    assert.doesNotMatch(fullAnswer.text, /\.\+0x[0-9a-f]+ →/, 'no unnamed struct slot');
    const accept = fullAnswer.json.findings.find((f) => f.chain.some((s) => s.field !== undefined && s.static !== true && /^[A-Za-z_<][^.[]*\.[A-Za-z_<]/.test(s.field)));
    assert.ok(accept, 'a chain with a field inside an embedded struct (SocketAsyncContext._receiveQueue._tail)');
    const symptom = accept.chain[accept.chain.length - 1]!;
    const roots = runCommand<GcrootJson>(full.dumpPath, gcrootCommand, [symptom.address!]).json;
    let checked = 0;
    for (const p of roots.paths) {
      for (let k = 1; k < p.chain.length; k++) {
        const link = p.chain[k]!;
        if (link.field === null || !/^[A-Za-z_<][^.[]*\.[A-Za-z_<]/.test(link.field) || link.field.includes('.s_')) continue;
        const [outer, ...inner] = link.field.split('.');
        let obj = parseDumpObj(await runSos(full.dumpPath, `dumpobj ${p.chain[k - 1]!.address}`));
        let row = obj.fields?.find((r) => r.name === outer && r.attr === 'instance');
        for (const name of inner) {
          assert.ok(row?.isValueType, `${outer} is a struct field in SOS's dumpobj`);
          obj = parseDumpObj(await runSos(full.dumpPath, `dumpvc ${row.mt.toString(16)} ${row.value}`));
          row = obj.fields?.find((r) => r.name === name && r.attr === 'instance');
        }
        assert.ok(row, `SOS finds ${link.field}`);
        assert.equal(BigInt('0x' + row.value), BigInt(link.address), `${link.field} holds ${link.address} in SOS`);
        checked++;
      }
    }
    assert.ok(checked > 0, 'at least one struct field path checked against SOS');
  });
});
