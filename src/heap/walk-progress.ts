/**
 * Progress of long heap walks, reported to whoever the CLI installs (a terminal line on stderr), nobody otherwise.
 * Ambient rather than a parameter so every walker reports without threading a callback through each caller.
 */

/** Receives progress: heap bytes walked so far out of the total, and objects visited. */
export interface WalkProgressSink {
  update(bytesDone: number, bytesTotal: number, objects: number): void;
  done(): void;
}

let current: WalkProgressSink | undefined;

/** Installs (or removes, with undefined) the sink for walks started from now on. */
export function setWalkProgressSink(sink: WalkProgressSink | undefined): void {
  current = sink;
}

/** The installed sink, if any. */
export function walkProgressSink(): WalkProgressSink | undefined {
  return current;
}
