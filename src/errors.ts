/**
 * Typed errors shared by every layer. Only the CLI catches them broadly; it prints `message` as one line.
 */

/** Base class: every error dumpsleuth raises on purpose. */
export class DumpsleuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input file is not a dump this tool reads, or one of its structures is malformed or truncated. */
export class DumpFormatError extends DumpsleuthError {}

/** A read touched memory that is neither in the dump nor in an overlaid image file. */
export class UnmappedAddressError extends DumpsleuthError {
  constructor(
    readonly address: number,
    readonly length: number,
    what?: string,
  ) {
    super(`memory at 0x${address.toString(16)} (${length} bytes${what ? `, ${what}` : ''}) is not in the dump`);
  }
}

/** The runtime data the command needs is absent (descriptor field, global, symbol, or a missing module). */
export class MissingRuntimeDataError extends DumpsleuthError {}

/** A structure read from the dump failed a sanity check: reading on would give plausible but wrong answers. */
export class LayoutCheckError extends DumpsleuthError {}

/** A count read from the dump exceeds its cap; the dump is corrupt or the cap is too small. */
export class LimitExceededError extends DumpsleuthError {}

/** The user's request is malformed (unknown command, bad address syntax, an address that is not an object). */
export class UsageError extends DumpsleuthError {}

/**
 * The user cancelled the running command (Ctrl-C at the interactive prompt); the session stays usable, and every cache
 * the command was building is left unbuilt, so the next command builds it afresh. Deliberately not a DumpsleuthError:
 * many layers turn a DumpsleuthError into "this part of the dump is unreadable, skip it" (a failed leak rule, an
 * unnamed method), which would swallow the cancellation and finish the command with a wrong, partial answer; as a
 * plain Error it passes through every such catch up to the CLI.
 */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
