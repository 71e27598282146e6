/**
 * The worker thread that owns the interactive prompt's terminal (see terminal-input.ts for the main thread's side).
 * Its event loop stays free while a command blocks the main thread, so it sees every key. It puts the terminal in raw
 * mode and lets readline edit lines (history, cursor keys, Ctrl-D), but only while the main thread waits for a line:
 * keys typed during a command are held back and replayed at the next prompt (type-ahead), except Ctrl-C, which asks
 * the command to stop (cancellation.ts) and drops the type-ahead, as a terminal's interrupt does.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { Writable } from 'node:stream';
import * as tty from 'node:tty';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Cancellation } from './cancellation';
import type { FromTerminalInput, TerminalInputData, ToTerminalInput } from './terminal-input';

const CTRL_C = 0x03;
const CR = 0x0d;
const LF = 0x0a;
/** The Ctrl-C press, within one command, that says the command will not stop soon; the next one quits. */
const WARN_PRESS = 2;
const QUIT_PRESS = 3;

/** Runs the terminal input loop until the main thread sends `close` or the user ends input; called on the worker. */
export function runTerminalInput(port: MessagePort, data: TerminalInputData): void {
  const cancellation = new Cancellation(data.cancellation);
  const terminal = new tty.ReadStream(0);
  const keys = new KeyGate(terminal);
  const output = new TerminalOutput(data.columns);
  // A terminal that went away fails writes; its input then ends too, which ends the session, so nothing to add here.
  output.on('error', () => undefined);
  const rl = readline.createInterface({ input: keys as unknown as NodeJS.ReadableStream, output, terminal: true, prompt: '> ' });
  const post = (m: FromTerminalInput): void => port.postMessage(m);
  /** Bytes read but not yet given to readline: type-ahead during a command, or the rest after a line ended. */
  let pending: Buffer = Buffer.alloc(0);
  /** True while a prompt is shown and the main thread waits for a line. */
  let accepting = false;
  let presses = 0;
  let closing = false;

  // Give readline one line at a time: the line it completes stops the flow, so what follows waits for the next prompt
  // and is not echoed under the running command's output.
  const pump = (): void => {
    while (accepting && pending.length > 0) {
      const cut = lineEnd(pending);
      const piece = pending.subarray(0, cut);
      pending = pending.subarray(cut);
      keys.emit('data', piece);
    }
    if (!accepting) interruptCommand();
  };

  const interruptCommand = (): void => {
    const last = pending.lastIndexOf(CTRL_C);
    if (last < 0) return;
    let count = 0;
    for (let i = 0; i <= last; i++) if (pending[i] === CTRL_C) count++;
    // Like the terminal's own interrupt, Ctrl-C flushes what was typed ahead of it.
    pending = pending.subarray(last + 1);
    for (let k = 0; k < count; k++) {
      if (cancellation.request() === 'idle') continue;
      presses++;
      if (presses === WARN_PRESS) {
        writeAll(2, Buffer.from('\ndumpsleuth: this step of the command cannot stop yet; press Ctrl-C again to quit dumpsleuth (the loaded dump is lost)\n'));
      } else if (presses >= QUIT_PRESS) {
        // The escape hatch for a loop without safe points: the default SIGINT ends the process, and Node puts the
        // terminal back the way it found it on the way out.
        terminal.setRawMode(false);
        process.kill(process.pid, 'SIGINT');
        return;
      }
    }
  };

  keys.on('bytes', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    pump();
  });

  rl.on('line', (line: string) => {
    accepting = false;
    presses = 0;
    cancellation.begin();
    post({ type: 'line', line });
  });

  // Ctrl-C at the prompt abandons the line being typed; it never ends the session, so a press that comes just after a
  // command finished costs nothing.
  rl.on('SIGINT', () => {
    const empty = rl.line.length === 0;
    rl.write('', { ctrl: true, name: 'e' });
    rl.write('', { ctrl: true, name: 'u' });
    output.write(empty ? '^C\n(To quit, type "exit" or press Ctrl-D.)\n' : '^C\n');
    rl.prompt();
  });

  // Ctrl-Z: readline would wait for SIGCONT itself, but a worker receives no signals; the main thread forwards it.
  rl.on('SIGTSTP', () => {
    terminal.setRawMode(false);
    process.kill(process.pid, 'SIGTSTP');
  });

  rl.on('close', () => {
    if (!closing) {
      // Ctrl-D or the terminal went away: end the shell's line, then tell the main thread.
      output.write('\n');
      post({ type: 'end' });
    }
    terminal.destroy();
    port.close();
  });

  port.on('message', (m: ToTerminalInput) => {
    switch (m.type) {
      case 'prompt':
        // The last command is over: a Ctrl-C from now on edits the prompt again.
        cancellation.finish();
        presses = 0;
        accepting = true;
        rl.setPrompt(m.prompt);
        rl.prompt();
        pump();
        break;
      case 'columns':
        output.columns = m.columns;
        output.emit('resize');
        break;
      case 'continue':
        terminal.setRawMode(true);
        if (accepting) rl.prompt(true);
        break;
      case 'close':
        closing = true;
        rl.close();
        break;
    }
  });

  post({ type: 'ready' });
}

/** The end of the first line in `bytes` (after CR, LF or CR LF), or its length when no line ends in it. */
function lineEnd(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF) return i + 1;
    if (b === CR) return bytes[i + 1] === LF ? i + 2 : i + 1;
  }
  return bytes.length;
}

/**
 * The input stream readline sees: the terminal's bytes, but only as the worker passes them on (`emit('data')`), so the
 * worker can hold keys back during a command. Raw mode goes to the real terminal.
 */
class KeyGate extends EventEmitter {
  readonly isTTY = true;

  constructor(private readonly terminal: tty.ReadStream) {
    super();
    terminal.on('data', (chunk: Buffer) => this.emit('bytes', chunk));
    // End of input (or a terminal that went away) ends readline, which then reports the end to the main thread.
    terminal.on('end', () => this.emit('end'));
    terminal.on('error', () => this.emit('end'));
  }

  setRawMode(mode: boolean): this {
    this.terminal.setRawMode(mode);
    return this;
  }

  resume(): this {
    this.terminal.resume();
    return this;
  }

  pause(): this {
    this.terminal.pause();
    return this;
  }
}

/** readline's output: the terminal at file descriptor 1, written synchronously so it interleaves with the main
 * thread's own (synchronous) writes in the order they happen. */
class TerminalOutput extends Writable {
  readonly isTTY = true;

  constructor(public columns: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      writeAll(1, chunk);
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

// The terminal may be non-blocking (another handle on it set O_NONBLOCK); a full terminal buffer then says EAGAIN.
function writeAll(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += fs.writeSync(fd, bytes, offset);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

function isTerminalInputData(value: unknown): value is TerminalInputData {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'dumpsleuth-terminal-input';
}

// Loaded as a worker by terminal-input.ts; inert anywhere else (e.g. when a tool imports every module).
if (!isMainThread && parentPort !== null && isTerminalInputData(workerData)) runTerminalInput(parentPort, workerData);
