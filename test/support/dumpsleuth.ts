// Runs dumpsleuth commands in-process on a dump (one Session per dump path, as the REPL keeps one), returning the
// command's JSON document and text, so real-dump tests compare our answers with SOS's and ClrMD's without spawning.
import { findCommand } from '../../src/cli/commands';
import { Session } from '../../src/cli/session';

const sessions = new Map<string, Session>();

/** One command's answer: its JSON document, its text, and the warnings it raised. */
export interface CommandAnswer<T> {
  readonly json: T;
  readonly text: string;
  readonly warnings: string[];
}

/** Runs `words` (command and arguments) on the dump at `dumpPath`; throws what the command throws. */
export function runDumpsleuth<T = unknown>(dumpPath: string, words: readonly string[]): CommandAnswer<T> {
  let session = sessions.get(dumpPath);
  if (!session) {
    session = Session.open(dumpPath);
    sessions.set(dumpPath, session);
  }
  const [name, ...args] = words;
  const command = findCommand(name ?? '');
  if (!command) throw new Error(`no command ${name}`);
  const result = command.run(session, args);
  return { json: result.json as T, text: result.text, warnings: session.takeWarnings() };
}

/** Parses a JSON hex address ("0x7f..."). */
export function hexOf(text: string): number {
  return parseInt(text.replace(/^0x/, ''), 16);
}
