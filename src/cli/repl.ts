/**
 * The interactive prompt: one dump stays loaded, each line is a command, errors keep the session alive.
 */
import * as readline from 'node:readline';
import { runOne } from './main';
import type { Session } from './session';

/** Reads commands from stdin until `exit`/`quit` or end of input. Returns the exit code. */
export async function runRepl(session: Session, json: boolean): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  // readline's default prompt is "> " even without a terminal; piped output must be only the answers (one JSON
  // document per command with --json), so the prompt is shown to people only.
  const prompt = () => {
    if (interactive) rl.prompt();
  };
  if (interactive) process.stdout.write(`dumpsleuth: ${session.dump.path} loaded. Type "help" for commands, "exit" to quit.\n`);
  prompt();
  for await (const line of rl) {
    const words = splitWords(line);
    if (words.length && ['exit', 'quit', 'q'].includes(words[0]!.toLowerCase())) break;
    if (words.length && words[0]!.toLowerCase() === 'help') {
      const { COMMANDS } = await import('./commands');
      for (const c of COMMANDS) process.stdout.write(`  ${c.usage.padEnd(60)} ${c.summary}\n`);
    } else if (words.length) {
      runOne(session, words, json);
    }
    prompt();
  }
  rl.close();
  return 0;
}

/** Splits a command line on spaces, keeping "quoted strings" together. */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2]!);
  return out;
}
