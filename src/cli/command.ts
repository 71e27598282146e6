/**
 * The shape of a CLI command: SOS's name and aliases, and a function from arguments to text and JSON.
 */
import type { CommandHelp } from './help/command-help';
import type { Session } from './session';

/** What a command produced: text for people, a JSON-able document for scripts. */
export interface CommandResult {
  readonly text: string;
  readonly json: unknown;
}

/** One command of the grammar `dumpsleuth <dump> <command> [args]`. */
export interface Command {
  readonly name: string;
  readonly aliases: readonly string[];
  /** One line for `help`. */
  readonly summary: string;
  /** Usage line(s) for `help <command>`. */
  readonly usage: string;
  /** Help for `help <command>` (options, examples, SOS equivalent); else the entry in help/command-help.ts. */
  readonly help?: CommandHelp;
  run(session: Session, args: readonly string[]): CommandResult;
}
