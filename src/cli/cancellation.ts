/**
 * The interactive prompt's Ctrl-C, shared between the thread that reads the terminal and the main thread that runs
 * commands. A running command blocks the main thread's event loop (commands are synchronous heap walks), so neither a
 * signal handler nor a message can reach it; one Int32 in a SharedArrayBuffer can, and the main thread reads it at
 * the safe points of long loops (`throwIfCancelled` in heap/walk-progress.ts).
 *
 * One cell, three states, moved by compare-and-swap so that a Ctrl-C racing the end of a command can never leak into
 * the next one:
 *   IDLE --(a line is handed to the main thread)--> BUSY --(Ctrl-C)--> CANCEL_REQUESTED
 *   BUSY or CANCEL_REQUESTED --(the next prompt is drawn)--> IDLE
 */
import { setCancellationSource } from '../heap/walk-progress';

const IDLE = 0;
const BUSY = 1;
const CANCEL_REQUESTED = 2;

/** What a Ctrl-C did: asked the running command to stop, found it already asked, or found no command running. */
export type CancelOutcome = 'requested' | 'already-requested' | 'idle';

/** Test hook: each safe point first sleeps this many milliseconds, so a test can cancel a command that is really
 * under way on a small dump. Read once per prompt session; unset in real use. */
const SAFE_POINT_DELAY_ENV = 'DUMPSLEUTH_TEST_SAFE_POINT_DELAY_MS';

/** The shared cell; both threads build one over the same buffer. */
export class Cancellation {
  private readonly cell: Int32Array;

  /** Wraps `buffer` (from the other thread), or a new one. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
    this.cell = new Int32Array(buffer, 0, 1);
  }

  /** Terminal side: a line goes to the main thread, so from now on Ctrl-C cancels it. */
  begin(): void {
    Atomics.store(this.cell, 0, BUSY);
  }

  /** Terminal side: the main thread asked for the next line, so the last command is over and a late Ctrl-C that
   * reached it after its last safe point is forgotten. */
  finish(): void {
    Atomics.store(this.cell, 0, IDLE);
  }

  /** Terminal side: Ctrl-C was pressed. */
  request(): CancelOutcome {
    const before = Atomics.compareExchange(this.cell, 0, BUSY, CANCEL_REQUESTED);
    return before === BUSY ? 'requested' : before === CANCEL_REQUESTED ? 'already-requested' : 'idle';
  }

  /** Main side: true when the user pressed Ctrl-C during the running command. */
  get requested(): boolean {
    return Atomics.load(this.cell, 0) === CANCEL_REQUESTED;
  }
}

/** Makes every safe point of the main thread poll `cancellation` until the returned function is called. */
export function installCancellation(cancellation: Cancellation): () => void {
  const delayMs = Number(process.env[SAFE_POINT_DELAY_ENV] ?? '');
  if (Number.isFinite(delayMs) && delayMs > 0) {
    const sleeper = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    setCancellationSource(() => {
      Atomics.wait(sleeper, 0, 0, delayMs);
      return cancellation.requested;
    });
  } else {
    setCancellationSource(() => cancellation.requested);
  }
  return () => setCancellationSource(undefined);
}
