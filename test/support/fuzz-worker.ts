/**
 * Child process of the fuzz test (test/real/fuzz.test.ts): for each mutation named on stdin ("<fileOffset> <hex
 * bytes>" a line, or "base"), patches a private copy of a dump, opens it afresh, runs the fuzzed commands and prints
 * one JSON line per mutation: each command's text, warnings and how it ended ("ok", "error" for a typed one-line
 * error, "crash" for anything else); then restores the bytes. Run in a child so the parent can time out a hang.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { findCommand } from '../../src/cli/commands';
import { Session } from '../../src/cli/session';
import { DumpsleuthError } from '../../src/errors';

/** The commands every mutated dump is asked. */
export const FUZZ_COMMANDS: readonly (readonly string[])[] = [['dumpheap', '-stat'], ['gchandles', '-stat'], ['eeheap', '-gc'], ['finalizequeue', '-stat'], ['threads']];

/** One command's answer on one mutated dump. */
export interface FuzzAnswer {
  readonly end: 'ok' | 'error' | 'crash';
  readonly text: string;
  readonly warnings: readonly string[];
}

function runAll(dumpPath: string): FuzzAnswer[] {
  let session: Session;
  try {
    session = Session.open(dumpPath);
  } catch (e) {
    const end = e instanceof DumpsleuthError ? 'error' : 'crash';
    return FUZZ_COMMANDS.map(() => ({ end, text: String((e as Error).message), warnings: [] }));
  }
  try {
    return FUZZ_COMMANDS.map(([name, ...args]) => {
      try {
        const r = findCommand(name!)!.run(session, args);
        return { end: 'ok' as const, text: r.text, warnings: session.takeWarnings() };
      } catch (e) {
        session.takeWarnings();
        return { end: e instanceof DumpsleuthError ? ('error' as const) : ('crash' as const), text: `${(e as Error).name}: ${(e as Error).message}`, warnings: [] };
      }
    });
  } finally {
    session.close();
  }
}

if (require.main === module) {
  const dumpPath = process.argv[2]!;
  const fd = fs.openSync(dumpPath, 'r+');
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (line === 'base') {
      process.stdout.write(JSON.stringify(runAll(dumpPath)) + '\n');
      return;
    }
    const [offText, hex] = line.split(' ');
    const offset = Number(offText);
    const bytes = Buffer.from(hex!, 'hex');
    const saved = Buffer.alloc(bytes.length);
    fs.readSync(fd, saved, 0, saved.length, offset);
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
    try {
      process.stdout.write(JSON.stringify(runAll(dumpPath)) + '\n');
    } finally {
      fs.writeSync(fd, saved, 0, saved.length, offset);
    }
  });
}
