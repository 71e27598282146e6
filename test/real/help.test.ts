// Help for every command, dotnet-dump's command names, exit codes and JSON errors, on the seed-apm heap dump.
// The help test is meant to fail when a command is added to the table without a help entry, or when the help names an
// option the command does not accept. `threads` (OS threads, dotnet-dump's meaning) is compared with dotnet-dump's
// own `threads` on the same dump.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as os from 'node:os';
import { before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/commands';
import { COMMAND_HELP, helpOf } from '../../src/cli/help/command-help';
import { assertNoStackTrace, assertOneErrorLine, linesOf, runCli } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { runSos } from '../support/sos';
import { parseClrThreads } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;

/** dotnet-dump's `threads` lines (`*0 0x085B (2139)`), without the loader's lines. */
function threadLines(text: string): string[] {
  return linesOf(text).filter((l) => /^[ *]\d+ 0x[0-9A-F]+ \(\d+\)$/.test(l));
}

/** Splits a piped session's stdout into the answers of `help <name>` lines (each starts with "<name>[, alias]: "). */
function helpSections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9]+)(?:, [a-z0-9, ]+)?: /.exec(line);
    if (m && COMMANDS.some((c) => c.name === m[1])) {
      current = m[1]!;
      out.set(current, (out.get(current) ?? '') + line + '\n');
    } else if (current !== undefined) out.set(current, out.get(current)! + line + '\n');
  }
  return out;
}

describe('help, command names and exit codes', { timeout: TIMEOUT }, () => {
  let dumpPath: string;

  before(async () => {
    dumpPath = (await getDump('seed-apm', { dumpType: 'heap', serverGc: false })).dumpPath;
  });

  it('every registered command has a help entry with options, an example and its SOS equivalent, and no entry is orphaned', () => {
    const missing = COMMANDS.filter((c) => helpOf(c) === undefined).map((c) => c.name);
    assert.deepEqual(missing, [], `commands without a help entry in src/cli/help/command-help.ts: ${missing.join(', ')}`);
    for (const c of COMMANDS) {
      const help = helpOf(c)!;
      assert.ok(help.examples.length > 0, `${c.name}: at least one example`);
      assert.ok(help.sos.trim() !== '', `${c.name}: names its SOS equivalent`);
      for (const e of help.examples) {
        const word = e.split(' ')[0]!;
        assert.ok(c.name === word || c.aliases.includes(word), `${c.name}: example "${e}" runs this command`);
      }
    }
    const orphans = Object.keys(COMMAND_HELP).filter((name) => !COMMANDS.some((c) => c.name === name));
    assert.deepEqual(orphans, [], 'help entries for commands that do not exist');
  });

  it('help <command> and <command> -h print the same help, with usage, every option and an example, for every command', async () => {
    const input = COMMANDS.map((c) => `help ${c.name}\n${c.name} -h\n`).join('') + 'exit\n';
    const run = await runCli([dumpPath], { input, timeoutMs: 60_000 });
    assertNoStackTrace(run, 'help session');
    assert.equal(run.code, 0, `help session exit code (stderr: ${run.stderr})`);
    assert.equal(run.stderr, '');
    // Each command's help appears twice (help X, X -h), identical.
    const blocks = run.stdout.split(/\n(?=[a-z0-9]+(?:, [a-z0-9, ]+)?: )/);
    assert.equal(blocks.length, COMMANDS.length * 2, 'one help block per request');
    const sections = helpSections(run.stdout);
    for (const c of COMMANDS) {
      const text = sections.get(c.name)?.replace(/\n+$/, '\n');
      assert.ok(text !== undefined, `${c.name}: help printed`);
      const half = text.slice(0, text.length / 2);
      assert.equal(text, half + half, `${c.name}: help ${c.name} and ${c.name} -h print the same text`);
      assert.match(half, /^Usage:\n {2}\S/m, `${c.name}: usage`);
      assert.match(half, /^Examples:\n {2}\S/m, `${c.name}: examples`);
      assert.match(half, /^SOS: \S/m, `${c.name}: the SOS equivalent`);
      for (const [option] of helpOf(c)!.options) assert.ok(half.includes(option), `${c.name}: option ${option} explained`);
    }
  });

  it('every option the help names is one the command accepts', async () => {
    // Each dash option is tried on its own; the command may fail (a missing address, say), but never with
    // "unknown option", which would mean the help documents an option that does not exist.
    const lines: string[] = [];
    for (const c of COMMANDS) {
      for (const [option] of helpOf(c)!.options) {
        const m = /^(--?[A-Za-z-]+)(?: <[^>]+>)?/.exec(option);
        if (!m) continue;
        const takesValue = option.includes('<');
        lines.push(`${c.name} ${m[1]}${takesValue ? ' 1' : ''} 0`);
      }
    }
    const run = await runCli([dumpPath], { input: lines.join('\n') + '\nexit\n', timeoutMs: 120_000 });
    assertNoStackTrace(run, 'options session');
    assert.equal(run.timedOut, false);
    const unknown = linesOf(run.stderr).filter((l) => /unknown option|unknown command/.test(l));
    assert.deepEqual(unknown, [], `options the help names but the command rejects (tried: ${lines.length})`);
    assert.ok(lines.length >= 40, `enough options tried (${lines.length})`);
  });

  it('dumpsleuth help <command> works without a dump; help of an unknown command is a usage error', async () => {
    const run = await runCli(['help', 'dumpheap']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^dumpheap: /);
    assert.match(run.stdout, /-stat\s+per-type statistics/);
    const bad = await runCli(['help', 'nosuchcommand']);
    assert.equal(bad.code, 2);
    assert.match(assertOneErrorLine(bad, 'help nosuchcommand'), /unknown command "nosuchcommand"/);
    const json = await runCli(['--json', dumpPath, 'help', 'gcroot']);
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { command: string; usage: string; options: [string, string][]; examples: string[]; sos: string };
    assert.equal(doc.command, 'gcroot');
    assert.ok(doc.options.some(([o]) => o === '-all'));
    assert.equal(doc.sos, 'gcroot');
  });

  it('--help lists every command and documents the exit codes', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0);
    for (const c of COMMANDS) assert.match(run.stdout, new RegExp(`^  ${c.name}\\b`, 'm'), `${c.name} listed`);
    assert.match(run.stdout, /Exit codes: 0 ok, 1 error .*2 usage.*70 internal.*130 cancelled/s);
  });

  it('threads lists the OS threads exactly as dotnet-dump does', async () => {
    const sos = threadLines(await runSos(dumpPath, 'threads'));
    assert.ok(sos.length > 0, 'dotnet-dump printed threads');
    const run = await runCli([dumpPath, 'threads']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(linesOf(run.stdout), sos);
  });

  it('setthread changes the current thread: threads marks it, clrstack shows it', async () => {
    const clr = parseClrThreads(await runSos(dumpPath, 'clrthreads'));
    const sosThreads = threadLines(await runSos(dumpPath, 'threads'));
    // A live managed thread other than thread 0 (the finalizer thread, say).
    const managed = clr.threads.find((t) => t.dbgIndex !== null && t.dbgIndex > 0 && t.osId !== null);
    assert.ok(managed !== undefined && managed.osId !== null, 'a live managed thread besides thread 0');
    const index = managed.dbgIndex!;
    const input = `setthread ${index}\nthreads\nclrstack\nsetthread -tid ${managed.osId}\nclrstack -t ${managed.osId.toString(16)}\n`;
    const run = await runCli([dumpPath], { input });
    assert.equal(run.code, 0, run.stderr);
    const lines = linesOf(run.stdout);
    const marked = lines.filter((l) => l.startsWith('*'));
    assert.deepEqual(marked, [sosThreads[index]!.replace(/^ /, '*')], 'the chosen thread is marked *');
    const stacks = run.stdout.split(/^(?=OS Thread Id: )/m).filter((s) => s.startsWith('OS Thread Id:'));
    assert.equal(stacks.length, 2);
    assert.equal(stacks[0], stacks[1], 'clrstack after setthread equals clrstack -t of that thread');
    assert.match(stacks[0]!, new RegExp(`^OS Thread Id: 0x${managed.osId.toString(16)}\\n`));
    const bad = await runCli([dumpPath, 'setthread', '999']);
    assert.equal(bad.code, 2);
    assert.match(assertOneErrorLine(bad, 'setthread 999'), /no thread 999/);
  });

  it('names that mean something else in dotnet-dump are not aliases here (da)', async () => {
    const run = await runCli([dumpPath, 'da', '0']);
    assert.equal(run.code, 2);
    assert.match(assertOneErrorLine(run, 'da'), /unknown command "da"/);
  });

  it('exit codes: 0 ok, 1 bad dump, 2 usage; under --json errors are one JSON document on stdout', async () => {
    const ok = await runCli([dumpPath, 'clrthreads']);
    assert.equal(ok.code, 0);
    const missing = await runCli(['--json', path.join(os.tmpdir(), 'no-such-dump.dmp'), 'clrthreads']);
    assert.equal(missing.code, 1);
    assertOneErrorLine(missing, 'missing dump --json');
    const missingDoc = JSON.parse(missing.stdout) as { error: { kind: string; message: string; exitCode: number } };
    assert.equal(missingDoc.error.exitCode, 1);
    assert.match(missingDoc.error.message, /no-such-dump\.dmp/);
    const usage = await runCli([dumpPath, '--json', 'dumpobj', 'zz']);
    assert.equal(usage.code, 2);
    const line = assertOneErrorLine(usage, 'dumpobj zz --json');
    const usageDoc = JSON.parse(usage.stdout) as { error: { kind: string; message: string; exitCode: number } };
    assert.deepEqual(usageDoc.error, { kind: 'UsageError', message: line.replace(/^dumpsleuth: /, ''), exitCode: 2 });
    const piped = await runCli(['--json', dumpPath], { input: 'bogus\nclrthreads\n' });
    assert.equal(piped.code, 2, 'a piped session with a failed command exits non-zero');
    const docs = piped.stdout.split(/^}\n/m).filter((s) => s.trim() !== '').map((s) => JSON.parse(s + '}') as Record<string, unknown>);
    assert.equal(docs.length, 2, 'one JSON document per command, the error included');
    assert.ok('error' in docs[0]! && 'threads' in docs[1]!);
  });
});
