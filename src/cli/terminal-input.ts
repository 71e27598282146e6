/**
 * The main thread's side of the interactive prompt's terminal input: a worker thread (terminal-input-worker.ts) owns
 * the terminal in raw mode and edits lines with readline, so it stays responsive while a synchronous command blocks
 * this thread, and turns Ctrl-C during a command into a cancellation request (cancellation.ts).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Cancellation } from './cancellation';

/** What the worker is started with. */
export interface TerminalInputData {
  readonly kind: 'dumpsleuth-terminal-input';
  readonly cancellation: SharedArrayBuffer;
  /** The terminal's width, for readline's line wrapping (updated by `columns` messages). */
  readonly columns: number;
}

/** Messages from the main thread to the worker. */
export type ToTerminalInput =
  | { readonly type: 'prompt'; readonly prompt: string }
  | { readonly type: 'columns'; readonly columns: number }
  | { readonly type: 'continue' }
  | { readonly type: 'close' };

/** Messages from the worker to the main thread. */
export type FromTerminalInput = { readonly type: 'ready' } | { readonly type: 'line'; readonly line: string } | { readonly type: 'end' };

/** How long `close` waits for the worker to give the terminal back before stopping it. */
const CLOSE_TIMEOUT_MS = 2000;

/** The terminal input worker, seen from the main thread. */
export class TerminalInput {
  private readonly lines: (string | undefined)[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  private readonly exited: Promise<void>;
  private readonly onResize = (): void => this.send({ type: 'columns', columns: process.stdout.columns ?? 0 });
  // A worker cannot receive signals; after Ctrl-Z and `fg` the terminal must go back to raw mode.
  private readonly onContinue = (): void => this.send({ type: 'continue' });

  private constructor(private readonly worker: Worker) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromTerminalInput) => {
      if (m.type === 'line') this.deliver(m.line);
      else if (m.type === 'end') this.deliver(undefined);
    });
    // The worker failing (the terminal went away) ends the input, as end of file would.
    worker.on('error', () => this.deliver(undefined));
    worker.on('exit', () => this.deliver(undefined));
    process.stdout.on('resize', this.onResize);
    process.on('SIGCONT', this.onContinue);
  }

  /** Starts the worker on the terminal at file descriptor 0; resolves to undefined when it cannot run here (the
   * caller then reads stdin the plain way). Must be called before anything touches `process.stdin`. */
  static open(cancellation: Cancellation): Promise<TerminalInput | undefined> {
    const data: TerminalInputData = { kind: 'dumpsleuth-terminal-input', cancellation: cancellation.buffer, columns: process.stdout.columns ?? 0 };
    let worker: Worker;
    try {
      // The worker writes to the terminal itself (fd 1, synchronously); its process.stdout/stderr are not forwarded.
      worker = new Worker(path.join(__dirname, 'terminal-input-worker.js'), { workerData: data, stdout: true, stderr: true });
    } catch (e) {
      debugNote(e);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const settle = (input: TerminalInput | undefined): void => {
        worker.off('error', fail);
        worker.off('exit', fail);
        worker.off('message', onReady);
        resolve(input);
      };
      // A worker that fails to start reports an error and then exits: the first of the two decides.
      const fail = (e: unknown): void => {
        debugNote(typeof e === 'number' ? `exited with code ${e}` : e);
        settle(undefined);
      };
      const onReady = (m: FromTerminalInput): void => {
        if (m.type === 'ready') settle(new TerminalInput(worker));
      };
      worker.on('message', onReady);
      worker.on('error', fail);
      worker.on('exit', fail);
    });
  }

  /** Shows `prompt` and resolves to the next line the user enters, or undefined at the end of input (Ctrl-D). From
   * the moment a line is handed over until the next call, Ctrl-C requests cancellation instead of editing. */
  readLine(prompt: string): Promise<string | undefined> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.ended) return Promise.resolve(undefined);
    this.send({ type: 'prompt', prompt });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Gives the terminal back (cooked mode, echo) and waits for the worker to end. */
  async close(): Promise<void> {
    process.stdout.off('resize', this.onResize);
    process.off('SIGCONT', this.onContinue);
    this.send({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([this.exited, late])) === 'late') await this.worker.terminate();
    clearTimeout(timer);
  }

  private deliver(line: string | undefined): void {
    if (this.ended) return;
    if (line === undefined) this.ended = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(line);
    else this.lines.push(line);
  }

  private send(message: ToTerminalInput): void {
    if (!this.ended) this.worker.postMessage(message);
  }
}

// Falling back to plain input is silent for users; DUMPSLEUTH_DEBUG says why it happened.
function debugNote(e: unknown): void {
  if (process.env.DUMPSLEUTH_DEBUG) process.stderr.write(`dumpsleuth: terminal input worker unavailable: ${e instanceof Error ? e.message : String(e)}\n`);
}
