/**
 * `dumpsleuth demo`: builds and runs the seed-apm debuggee (the motivating leak), dumps it with the runtime's own
 * createdump, and runs the investigation on it: the threads (25 dead ones), then `analyze`, which goes from those
 * dead threads to the user callback that keeps them alive.
 */
import { CaptureError, captureDump } from '../capture';
import { fail, runOne } from './main';
import { findCommand } from './commands';
import { Session } from './session';

/** Where the demo writes. */
export interface DemoOutput {
  readonly json: boolean;
  write(text: string): void;
  error(text: string): void;
}

/** The commands the demo runs, in the order an engineer would type them; `analyze` is the main step. */
export const DEMO_COMMANDS: readonly string[][] = [['info'], ['clrthreads'], ['analyze']];

/** Runs the demo; returns the exit code. */
export async function runDemo(out: DemoOutput): Promise<number> {
  let dumpPath: string;
  try {
    out.error('demo: building the seed-apm debuggee and capturing a heap dump (cached after the first run)...\n');
    const captured = await captureDump({ scenario: 'seed-apm', dumpType: 'heap' });
    dumpPath = captured.dumpPath;
    out.error(`demo: dump ${dumpPath} (${Math.round(captured.sizeBytes / 1048576)} MiB, .NET ${captured.runtimeVersion}${captured.cached ? ', from cache' : ''})\n`);
  } catch (e) {
    if (e instanceof CaptureError) {
      out.error(`dumpsleuth: demo: ${e.message.split('\n')[0]}\n`);
      return 1;
    }
    return fail(e);
  }
  let session: Session;
  try {
    session = Session.open(dumpPath);
  } catch (e) {
    return fail(e);
  }
  let ok = true;
  try {
    for (const words of DEMO_COMMANDS) {
      // A command not in the table yet is skipped with a note rather than failing the whole demo.
      if (!findCommand(words[0]!)) {
        out.error(`demo: command ${words[0]} is not available in this build; skipped\n`);
        continue;
      }
      if (!out.json) out.write(`\n> dumpsleuth ${dumpPath} ${words.join(' ')}\n`);
      ok = runOne(session, words, out.json) && ok;
    }
  } finally {
    session.close();
  }
  return ok ? 0 : 1;
}
