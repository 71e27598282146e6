/**
 * What long heap walks report to and ask of whoever runs them: progress, shown to whoever the CLI installs (a terminal
 * line on stderr), and cancellation, polled at safe points (the interactive prompt's Ctrl-C). Nobody by default.
 * Ambient rather than a parameter so every walker reports and stops without threading a callback through each caller.
 */
import { CancelledError } from '../errors';

/** Receives progress: heap bytes walked so far out of the total, and objects visited. */
export interface WalkProgressSink {
  update(bytesDone: number, bytesTotal: number, objects: number): void;
  done(): void;
}

let current: WalkProgressSink | undefined;
let cancelRequested: (() => boolean) | undefined;

/** Installs (or removes, with undefined) the sink for walks started from now on. */
export function setWalkProgressSink(sink: WalkProgressSink | undefined): void {
  current = sink;
}

/** The installed sink, if any. */
export function walkProgressSink(): WalkProgressSink | undefined {
  return current;
}

/** Installs (or removes, with undefined) the question safe points ask: has the user cancelled the running command?
 * It is asked often (every 8 MiB of heap walked), so it must be cheap. */
export function setCancellationSource(isCancelRequested: (() => boolean) | undefined): void {
  cancelRequested = isCancelRequested;
}

/**
 * A safe point: call it from long loops at a place where stopping leaves nothing half-built that outlives the throw
 * (caches are assigned only once complete, so an interrupted builder leaves its cache empty). A no-op unless a
 * cancellation source is installed. @throws CancelledError when the user cancelled.
 */
export function throwIfCancelled(): void {
  if (cancelRequested !== undefined && cancelRequested()) throw new CancelledError();
}
