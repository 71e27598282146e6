/**
 * The dumpsleuth command line: `dumpsleuth <dump> [command [args]]`, `dumpsleuth demo`, options, errors.
 * This is the only layer that catches errors broadly, writes to stdout/stderr and picks exit codes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot } from '../capture/paths';
import type { IndexSettings } from './index/session-index';
import { CancelledError, DumpsleuthError, UsageError } from '../errors';
import { allCommands, findCommandLazily as findCommand } from './command-loader';
import type { CommandResult } from './command';
import { Session } from './session';
import { setWalkProgressSink } from '../heap/walk-progress';
import { terminalProgress } from './progress';
import { commandHelpText, helpOf } from './help/command-help';
import type * as DiffModule from './commands/diff';
import { enterV8Mode } from './light-command';

const USAGE = `usage: dumpsleuth [--json] [--image-path DIR] [--no-index] [--index-dir DIR] [--index-max-size N[K|M|G]] [--workers N] <dump> [command [args...]]
       dumpsleuth [--json] diff <old-dump> <new-dump> [-stat] [-limit N]
       dumpsleuth demo [--json]
       dumpsleuth mcp            (Model Context Protocol server on stdio, for AI assistants)
       dumpsleuth --help | --version

Without a command, opens an interactive prompt on the dump. Commands take SOS's names and options
(a leading ! is accepted). --json prints one JSON document instead of text (errors too).
"dumpsleuth help <command>" or "<command> -h" explains one command.

Exit codes: 0 ok, 1 error (bad dump, missing data), 2 usage error, 70 internal error, 130 cancelled.
A piped session (commands on stdin) exits with the code of its last failed command.

The graph commands (gcroot, retained, dominators, analyze, ...) keep what they build from a dump (object graph,
roots, reverse edges, dominator tree) in a per-dump index under the cache folder ($DUMPSLEUTH_CACHE/index or
~/.cache/dumpsleuth/index; --index-dir or $DUMPSLEUTH_INDEX_DIR to move it), so the next process on the same dump
answers at once. A changed dump, a stale, truncated or corrupt index is rebuilt, never read. --no-index (or
DUMPSLEUTH_INDEX=off) neither reads nor writes it; --index-max-size (or $DUMPSLEUTH_INDEX_MAX_SIZE, default 4G)
caps one dump's index, and a part over the cap is not written (said on stderr).
--workers N (or $DUMPSLEUTH_WORKERS) walks the heap and builds the object graph's references on N threads (default 1; same answers).`;

/** Global options that may appear anywhere on the command line. */
interface GlobalOptions {
  json: boolean;
  imagePath?: string;
  // Test options, left out of the usage text: they make a dump read as if its managed image pages were missing.
  ignoreImagePagesInDump?: boolean;
  managedImagesFromImagePathOnly?: boolean;
  noIndex?: boolean;
  indexDir?: string;
  indexMaxSize?: string;
  workers?: string;
  rest: string[];
}

/** Runs the CLI and returns the process exit code (0 ok, 1 error, 2 usage). Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  quietOnClosedStdout();
  let opts: GlobalOptions;
  try {
    opts = parseGlobal(argv);
  } catch (e) {
    return fail(e);
  }
  // Short commands keep the light V8 settings bin/dumpsleuth.js starts with; anything else gets full speed.
  const restoreV8 = enterV8Mode(opts.rest);
  try {
    return await runWithOptions(opts);
  } finally {
    restoreV8();
  }
}

/** `main` after the global options were parsed. Never throws. */
async function runWithOptions(opts: GlobalOptions): Promise<number> {
  const [first, ...rest] = opts.rest;
  if (first === undefined) {
    // Called wrongly: the usage goes to stderr so it is not mistaken for an answer.
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    // `dumpsleuth help dumpheap` explains a command without a dump.
    if (rest.length > 0) return printHelp(rest[0]!, opts.json);
    process.stdout.write(USAGE + '\n\nCommands:\n' + commandList() + '\n');
    return 0;
  }
  if (first === '--version') {
    process.stdout.write(`dumpsleuth ${packageVersion()}\n`);
    return 0;
  }
  if (first.startsWith('-')) return fail(new UsageError(`unknown option ${first} (try --help)`));
  if (first === 'mcp') {
    if (rest.length > 0) return fail(new UsageError('mcp takes no arguments (dumps are named in each tool call)'));
    const { runMcpServer } = await import('./mcp/mcp-server');
    return runMcpServer(packageVersion());
  }
  if (first === 'demo') {
    const { runDemo } = await import('./demo');
    // The demo's progress notes are for people at a terminal (design: never in pipes); its failures always show.
    const showProgress = process.stderr.isTTY === true;
    const error = (s: string): void => {
      if (showProgress || s.startsWith('dumpsleuth: ')) process.stderr.write(s);
    };
    return runDemo({ json: opts.json, write: (s) => process.stdout.write(s), error });
  }
  // A folder that does not exist would silently leave every missing image page missing.
  if (opts.imagePath !== undefined && !isDirectory(opts.imagePath)) return fail(new UsageError(`--image-path ${opts.imagePath}: no such folder`), undefined, opts.json);
  if (first === 'diff') return runDiffCli(rest, opts);
  let index: IndexSettings | undefined;
  let workers: number | undefined;
  try {
    index = indexSettings(opts);
    workers = workerCount(opts);
  } catch (e) {
    return fail(e, undefined, opts.json);
  }
  let session: Session;
  try {
    session = Session.open(first, {
      ...(opts.imagePath ? { imagePath: opts.imagePath } : {}),
      ...(opts.ignoreImagePagesInDump ? { ignoreImagePagesInDump: true } : {}),
      ...(opts.managedImagesFromImagePathOnly ? { managedImagesFromImagePathOnly: true } : {}),
      ...(index !== undefined ? { index } : {}),
      ...(workers !== undefined ? { workers } : {}),
    });
  } catch (e) {
    return fail(e, undefined, opts.json);
  }
  try {
    if (rest.length === 0) return await (await import('./repl')).runRepl(session, opts.json);
    return runCommand(session, rest, opts.json);
  } finally {
    session.close();
  }
}

/** Runs one command line on a session and prints its result; returns false when it failed (message printed). */
export function runOne(session: Session, words: readonly string[], json: boolean): boolean {
  return runCommand(session, words, json) === 0;
}

/** Runs one command line on a session and prints its result or one error line; returns the exit code (0 ok, 1 error,
 * 2 usage, 70 internal, 130 cancelled at the interactive prompt). Never throws. */
export function runCommand(session: Session, words: readonly string[], json: boolean): number {
  const [name, ...args] = words;
  let wantJson = json;
  const cleanArgs = args.filter((a) => (a === '--json' ? ((wantJson = true), false) : true));
  // A truncated file may lack any page an answer needs, and reads of the lost bytes look like unmapped memory:
  // every answer and every error on such a dump says so.
  const truncation = session.dump.truncation;
  try {
    if (name === undefined) return 0;
    if (['help', 'soshelp'].includes(name.replace(/^!/, '').toLowerCase())) {
      if (cleanArgs.length === 0) {
        writeHelpList(wantJson);
        return 0;
      }
      return printHelp(cleanArgs[0]!, wantJson);
    }
    const cmd = findCommand(name);
    if (!cmd) throw new UsageError(`unknown command "${name}" (try "help")`);
    if (cleanArgs.some((a) => HELP_FLAGS.includes(a))) return printHelp(name, wantJson);
    // Long walks draw a progress line on a terminal; JSON and pipes stay clean.
    setWalkProgressSink(wantJson ? undefined : terminalProgress('Walking heap'));
    let result: CommandResult;
    session.commandName = cmd.name;
    session.commandCount++;
    try {
      result = cmd.run(session, cleanArgs);
    } finally {
      setWalkProgressSink(undefined);
    }
    const warnings = session.takeWarnings();
    if (truncation !== undefined && !warnings.includes(truncation)) warnings.unshift(truncation);
    if (wantJson) {
      const doc = isPlainObject(result.json) ? { ...result.json, warnings } : { result: result.json, warnings };
      process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    } else {
      if (result.text) process.stdout.write(result.text + '\n');
      for (const w of warnings) process.stdout.write(`Warning: ${w}\n`);
    }
    return 0;
  } catch (e) {
    session.takeWarnings();
    return fail(e, truncation, wantJson);
  } finally {
    // After the answer: e.g. what the command built goes into the per-dump index for the next process.
    for (const hook of session.afterCommand) for (const note of hook()) process.stderr.write(`dumpsleuth: ${oneLine(note)}\n`);
  }
}

/** The graph build's thread count from --workers or $DUMPSLEUTH_WORKERS. @throws UsageError when it is not 1..64. */
function workerCount(opts: GlobalOptions): number | undefined {
  const text = opts.workers ?? process.env.DUMPSLEUTH_WORKERS;
  if (text === undefined || text === '') return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 64)) throw new UsageError(`--workers ${text}: expected a thread count from 1 to 64`);
  return n;
}

/** The default cap of one dump's index. */
const DEFAULT_INDEX_MAX_BYTES = 4 * 2 ** 30;

/** The index settings from the global options and the environment, or undefined when the index is off.
 * @throws UsageError for a bad size. */
function indexSettings(opts: GlobalOptions): IndexSettings | undefined {
  const env = process.env;
  if (opts.noIndex || /^(off|0|no|false)$/i.test(env.DUMPSLEUTH_INDEX ?? '')) return undefined;
  const dir = opts.indexDir ?? (env.DUMPSLEUTH_INDEX_DIR || path.join(cacheRoot(), 'index'));
  const sizeText = opts.indexMaxSize ?? env.DUMPSLEUTH_INDEX_MAX_SIZE;
  let maxBytes = DEFAULT_INDEX_MAX_BYTES;
  if (sizeText !== undefined && sizeText !== '') {
    const m = /^(\d+(?:\.\d+)?)([kmg]?)i?b?$/i.exec(sizeText.trim());
    if (m === null) throw new UsageError(`--index-max-size ${sizeText}: expected a size such as 500M or 2G`);
    maxBytes = Math.floor(Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase()));
  }
  return { dir: path.resolve(dir), maxBytes, log: /^(1|on|yes|true)$/i.test(env.DUMPSLEUTH_INDEX_LOG ?? '') };
}

/** The spellings that ask a command for its help instead of running it. */
const HELP_FLAGS = ['-h', '--help', '-?', '/?'];

/** Prints one command's help (text or JSON); an unknown name is a usage error. Returns the exit code. */
function printHelp(name: string, json: boolean): number {
  const cmd = findCommand(name);
  if (!cmd) return fail(new UsageError(`help: unknown command "${name}" (try "help")`), undefined, json);
  if (json) {
    const help = helpOf(cmd);
    const doc = { command: cmd.name, aliases: cmd.aliases, summary: cmd.summary, usage: cmd.usage, ...(help ?? {}) };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else process.stdout.write(commandHelpText(cmd) + '\n');
  return 0;
}

/** The command list `help` prints inside a session. */
function writeHelpList(json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify({ commands: allCommands().map((c) => ({ command: c.name, aliases: c.aliases, summary: c.summary, usage: c.usage })) }, null, 2) + '\n');
  } else process.stdout.write(commandList() + '\n\nhelp <command> (or <command> -h) explains one command.\n');
}

/** `dumpsleuth diff <old> <new> [options]`: opens both dumps, prints the diff and its warnings. Never throws. */
function runDiffCli(words: readonly string[], opts: GlobalOptions): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- diff loads the analysis code: only when asked
  const { DIFF_USAGE, runDiff } = require('./commands/diff') as typeof DiffModule;
  let wantJson = opts.json;
  const args = words.filter((a) => (a === '--json' ? ((wantJson = true), false) : true));
  const [oldPath, newPath, ...rest] = args;
  if (oldPath === undefined || newPath === undefined) return fail(new UsageError(`diff needs two dumps (usage: dumpsleuth ${DIFF_USAGE})`), undefined, wantJson);
  const sessionOptions = { ...(opts.imagePath ? { imagePath: opts.imagePath } : {}) };
  const sessions: Session[] = [];
  try {
    sessions.push(Session.open(oldPath, sessionOptions));
    sessions.push(Session.open(newPath, sessionOptions));
    const [a, b] = sessions as [Session, Session];
    setWalkProgressSink(wantJson ? undefined : terminalProgress('Walking heaps'));
    let result;
    try {
      result = runDiff(a, b, rest);
    } finally {
      setWalkProgressSink(undefined);
    }
    const warnings = wantJson ? [...result.diff.warnings, ...result.warnings.filter((w) => !result.diff.warnings.includes(w))] : result.warnings;
    if (wantJson) process.stdout.write(JSON.stringify({ ...(result.json as object), warnings }, null, 2) + '\n');
    else {
      process.stdout.write(result.text + '\n');
      for (const w of warnings) process.stdout.write(`Warning: ${w}\n`);
    }
    return 0;
  } catch (e) {
    return fail(e, undefined, wantJson);
  } finally {
    for (const s of sessions) s.close();
  }
}

function parseGlobal(argv: readonly string[]): GlobalOptions {
  const out: GlobalOptions = { json: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') out.json = true;
    else if (a === '--image-path') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError('--image-path needs a folder');
      out.imagePath = v;
    } else if (a.startsWith('--image-path=')) out.imagePath = a.slice('--image-path='.length);
    else if (a === '--ignore-image-pages-in-dump') out.ignoreImagePagesInDump = true;
    else if (a === '--managed-images-from-image-path-only') out.managedImagesFromImagePathOnly = true;
    else if (a === '--no-index') out.noIndex = true;
    else if (a === '--index-dir' || a === '--index-max-size' || a === '--workers') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      if (a === '--index-dir') out.indexDir = v;
      else if (a === '--workers') out.workers = v;
      else out.indexMaxSize = v;
    } else if (a.startsWith('--index-dir=')) out.indexDir = a.slice('--index-dir='.length);
    else if (a.startsWith('--index-max-size=')) out.indexMaxSize = a.slice('--index-max-size='.length);
    else out.rest.push(a);
  }
  return out;
}

/** Prints one clear line for an error (with `note`, e.g. that the dump is truncated, appended to errors about the
 * dump) and returns the exit code. Unknown errors are internal bugs. Under --json the error is also a JSON document
 * on stdout (`{"error": {"kind", "message", "exitCode"}}`), so a script reading stdout always gets JSON. */
export function fail(e: unknown, note?: string, json = false): number {
  const code = failText(e, note);
  if (json) {
    const kind = e instanceof Error ? e.name : 'Error';
    const message = oneLine(e instanceof Error && e.message ? e.message : String(e)) + (note === undefined || code === 2 || code === 130 ? '' : ` (${note})`);
    process.stdout.write(JSON.stringify({ error: { kind: code === 70 ? 'InternalError' : kind, message, exitCode: code } }, null, 2) + '\n');
  }
  return code;
}

/** The line printed when an answer's text exceeds what one JavaScript string can hold. */
export const ANSWER_TOO_LARGE = 'the answer is more text than Node can hold in one string (about 512 MiB): ask for less of it (dumparray -start/-length, dumpheap -type/-mt/-min, -stat)';

function failText(e: unknown, note?: string): number {
  const suffix = note === undefined ? '' : ` (${note})`;
  if (e instanceof CancelledError) {
    // The user's own Ctrl-C: nothing about the dump to add. 130 is what a shell reports for an interrupted command.
    process.stderr.write(`dumpsleuth: ${e.message}\n`);
    return 130;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`dumpsleuth: ${oneLine(e.message)}\n`);
    return 2;
  }
  if (e instanceof DumpsleuthError) {
    process.stderr.write(`dumpsleuth: ${oneLine(e.message)}${suffix}\n`);
    return 1;
  }
  if (e instanceof RangeError && e.message === 'Invalid string length') {
    // V8 caps one string at ~2^29 characters: an answer of more text than that (dumparray -details of a huge array)
    // cannot be assembled. Say so, and how to ask for less, instead of reporting a bug.
    process.stderr.write(`dumpsleuth: ${ANSWER_TOO_LARGE}\n`);
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`dumpsleuth: internal error: ${oneLine(err && err.message ? err.message : String(e))}${suffix}\n`);
  if (process.env.DUMPSLEUTH_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  return 70;
}

// The promise is one line per error: a multi-line message (a path with a newline, a wrapped cause) is folded.
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ');
}

let stdoutGuarded = false;

// `dumpsleuth dump dumpheap | head` closes the pipe early: Node then raises EPIPE as an unhandled 'error' event with
// a stack trace. The reader has all it wanted, so stop quietly, as `cat` does on SIGPIPE.
function quietOnClosedStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    process.stderr.write(`dumpsleuth: cannot write the output: ${e.code ?? e.message}\n`);
    process.exit(1);
  });
}

function commandList(): string {
  return allCommands().map((c) => `  ${[c.name, ...c.aliases].join(', ').padEnd(24)} ${c.summary}`).join('\n');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function packageVersion(): string {
  // The nearest package.json named dumpsleuth above this file: dist/src/cli in a checkout, dist/package when installed.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dumpsleuth' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
