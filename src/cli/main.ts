/**
 * The dumpsleuth command line: `dumpsleuth <dump> [command [args]]`, `dumpsleuth demo`, options, errors.
 * This is the only layer that catches errors broadly, writes to stdout/stderr and picks exit codes.
 */
import * as fs from 'node:fs';
import { CancelledError, DumpsleuthError, UsageError } from '../errors';
import { findCommand, COMMANDS } from './commands';
import type { CommandResult } from './command';
import { runRepl } from './repl';
import { Session } from './session';
import { setWalkProgressSink } from '../heap/walk-progress';
import { terminalProgress } from './progress';

const USAGE = `usage: dumpsleuth [--json] [--image-path DIR] <dump> [command [args...]]
       dumpsleuth demo [--json]
       dumpsleuth --help | --version

Without a command, opens an interactive prompt on the dump. Commands take SOS's names and options
(a leading ! is accepted). --json prints one JSON document instead of text.`;

/** Global options that may appear anywhere on the command line. */
interface GlobalOptions {
  json: boolean;
  imagePath?: string;
  // Test options, left out of the usage text: they make a dump read as if its managed image pages were missing.
  ignoreImagePagesInDump?: boolean;
  managedImagesFromImagePathOnly?: boolean;
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
  const [first, ...rest] = opts.rest;
  if (first === undefined) {
    // Called wrongly: the usage goes to stderr so it is not mistaken for an answer.
    process.stderr.write(USAGE + '\n');
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE + '\n\nCommands:\n' + commandList() + '\n');
    return 0;
  }
  if (first === '--version') {
    process.stdout.write(`dumpsleuth ${packageVersion()}\n`);
    return 0;
  }
  if (first.startsWith('-')) return fail(new UsageError(`unknown option ${first} (try --help)`));
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
  if (opts.imagePath !== undefined && !isDirectory(opts.imagePath)) return fail(new UsageError(`--image-path ${opts.imagePath}: no such folder`));
  let session: Session;
  try {
    session = Session.open(first, {
      ...(opts.imagePath ? { imagePath: opts.imagePath } : {}),
      ...(opts.ignoreImagePagesInDump ? { ignoreImagePagesInDump: true } : {}),
      ...(opts.managedImagesFromImagePathOnly ? { managedImagesFromImagePathOnly: true } : {}),
    });
  } catch (e) {
    return fail(e);
  }
  try {
    if (rest.length === 0) return await runRepl(session, opts.json);
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
    const cmd = findCommand(name);
    if (!cmd) throw new UsageError(`unknown command "${name}" (try "help")`);
    // Long walks draw a progress line on a terminal; JSON and pipes stay clean.
    setWalkProgressSink(wantJson ? undefined : terminalProgress('Walking heap'));
    let result: CommandResult;
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
    return fail(e, truncation);
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
    else out.rest.push(a);
  }
  return out;
}

/** Prints one clear line for an error (with `note`, e.g. that the dump is truncated, appended to errors about the
 * dump) and returns the exit code. Unknown errors are internal bugs. */
export function fail(e: unknown, note?: string): number {
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
  return COMMANDS.map((c) => `  ${[c.name, ...c.aliases].join(', ').padEnd(24)} ${c.summary}`).join('\n');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function packageVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
