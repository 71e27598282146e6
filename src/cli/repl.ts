/**
 * The interactive prompt: one dump stays loaded, each line is a command, errors keep the session alive. On a terminal,
 * Ctrl-C cancels the running command and keeps the session (terminal-input.ts, cancellation.ts); from a pipe, lines
 * are read plainly and nothing else changes.
 */
import * as readline from 'node:readline';
import * as tty from 'node:tty';
import { Cancellation, installCancellation } from './cancellation';
import { runCommand } from './main';
import type { Session } from './session';
import { TerminalInput } from './terminal-input';

const PROMPT = '> ';

/** Reads commands from stdin until `exit`/`quit` or end of input. Returns the exit code. */
export async function runRepl(session: Session, json: boolean): Promise<number> {
  // isatty, not process.stdin.isTTY: creating process.stdin would put a second reader on the terminal the worker owns.
  // Windows keeps the plain prompt: its console input is not a file descriptor a second thread can share.
  if (tty.isatty(0) && tty.isatty(1) && process.platform !== 'win32') {
    const cancellation = new Cancellation();
    const input = await TerminalInput.open(cancellation);
    if (input) return runCancellableRepl(session, json, input, cancellation);
  }
  return runPlainRepl(session, json);
}

async function runCancellableRepl(session: Session, json: boolean, input: TerminalInput, cancellation: Cancellation): Promise<number> {
  const uninstall = installCancellation(cancellation);
  try {
    banner(session);
    for (;;) {
      const line = await input.readLine(PROMPT);
      if (line === undefined || (await runLine(session, line, json)) === 'exit') break;
    }
  } finally {
    uninstall();
    await input.close();
  }
  return 0;
}

async function runPlainRepl(session: Session, json: boolean): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  // readline's default prompt is "> " even without a terminal; piped output must be only the answers (one JSON
  // document per command with --json), so the prompt is shown to people only.
  const prompt = () => {
    if (interactive) rl.prompt();
  };
  if (interactive) banner(session);
  prompt();
  // A script that pipes commands in learns from the exit code that one failed (the last failure's code).
  let failed = 0;
  for await (const line of rl) {
    const outcome = await runLine(session, line, json);
    if (outcome === 'exit') break;
    if (outcome !== 0) failed = outcome;
    prompt();
  }
  rl.close();
  return interactive ? 0 : failed;
}

function banner(session: Session): void {
  process.stdout.write(`dumpsleuth: ${session.dump.path} loaded. Type "help" for commands, "exit" to quit.\n`);
}

/** Runs one prompt line: a command (help included), or `exit`/`quit`. Returns 'exit' or the command's exit code. */
async function runLine(session: Session, line: string, json: boolean): Promise<'exit' | number> {
  const words = splitWords(line);
  if (words.length && ['exit', 'quit', 'q'].includes(words[0]!.toLowerCase())) return 'exit';
  return words.length ? runCommand(session, words, json) : 0;
}

/** Splits a command line on spaces, keeping "quoted strings" together. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2]!);
  return out;
}
