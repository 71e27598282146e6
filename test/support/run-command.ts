// Runs a command object directly (not through the command registry) on a dump, one Session per dump path, so tests
// of commands not yet registered can run; the answer has the same shape as runDumpsleuth's.
import type { Command } from '../../src/cli/command';
import { Session } from '../../src/cli/session';
import type { CommandAnswer } from './dumpsleuth';

const sessions = new Map<string, Session>();

/** The shared session of a dump (opened on first use). */
export function sessionFor(dumpPath: string): Session {
  let session = sessions.get(dumpPath);
  if (!session) {
    session = Session.open(dumpPath);
    sessions.set(dumpPath, session);
  }
  return session;
}

/** Runs `command` with `args` on the dump at `dumpPath`; throws what the command throws. */
export function runCommand<T = unknown>(dumpPath: string, command: Command, args: readonly string[]): CommandAnswer<T> {
  const session = sessionFor(dumpPath);
  const result = command.run(session, args);
  return { json: result.json as T, text: result.text, warnings: session.takeWarnings() };
}
