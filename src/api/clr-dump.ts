/**
 * The library's entry point: `openDump(path)` → a ClrDump (the process: OS threads, native modules) → its ClrRuntime
 * (managed threads, modules, the heap). Names follow ClrMD (DataTarget → ClrRuntime → ClrHeap) so people who know
 * ClrMD find their way; the objects underneath are the ones the CLI uses (a Session), so the library and the CLI
 * give the same answers. Errors are typed (DumpsleuthError and its subclasses); nothing here prints or exits.
 */
import { Session } from '../cli/session';
import { findCommand } from '../cli/commands';
import { UsageError } from '../errors';
import { ClrRuntime } from './clr-runtime';

/** Options of {@link openDump}. */
export interface OpenDumpOptions {
  /** A folder searched first for image files (libcoreclr.so, assemblies) that fill pages the dump lacks, e.g. when
   * the dump was made on another machine. */
  readonly imagePath?: string;
}

/** One OS thread of the dumped process. */
export interface DumpThread {
  /** Position in the dump (the index `threads`/`setthread` use). */
  readonly index: number;
  /** OS thread id. */
  readonly osId: number;
}

/** A file mapped into the dumped process (from the core's NT_FILE note). */
export interface DumpModule {
  readonly path: string;
  readonly baseAddress: number;
  readonly size: number;
}

/** A JSON document of a command: the same document `dumpsleuth --json <dump> <command>` prints. */
export type CommandDocument = Record<string, unknown> & { readonly warnings: readonly string[] };

/**
 * An opened dump. Holds the file open until {@link ClrDump.close}; everything is read lazily and cached, so keep one
 * ClrDump per dump and ask it many questions.
 */
export class ClrDump {
  private runtimeValue?: ClrRuntime;

  /** @internal Use {@link openDump}. */
  constructor(
    /** @internal */
    readonly session: Session,
  ) {}

  /** The dump file's path. */
  get path(): string {
    return this.session.dump.path;
  }

  /** The dumped process's id (from the dump's notes), when the dump records it. */
  get processId(): number | undefined {
    return this.session.dump.processId;
  }

  /** The dumped process's name (e.g. `dotnet`). */
  get processName(): string {
    return this.session.dump.processName;
  }

  /** `x64` or `arm64`. */
  get architecture(): string {
    return this.session.dump.architecture;
  }

  /** The OS threads of the dumped process, in dump order. */
  get threads(): DumpThread[] {
    return this.session.dump.threads.map((t, index) => ({ index, osId: t.tid }));
  }

  /** Files mapped into the process (native libraries, assemblies), from the dump's file note. */
  get modules(): DumpModule[] {
    return this.session.dump.modules.map((m) => ({ path: m.path, baseAddress: m.baseAddress, size: m.endAddress - m.baseAddress }));
  }

  /** The .NET runtime in the process. @throws MissingRuntimeDataError when the process is not a .NET process. */
  get runtime(): ClrRuntime {
    return (this.runtimeValue ??= new ClrRuntime(this.session));
  }

  /**
   * Runs any dumpsleuth command (SOS's names and options, as on the command line: `command('dumpheap', '-stat')`)
   * and returns its JSON document, `warnings` included. Every command of `dumpsleuth --help` is available.
   * @throws UsageError for an unknown command or bad arguments; DumpsleuthError when the dump lacks what it needs.
   */
  command(name: string, ...args: string[]): CommandDocument {
    const cmd = findCommand(name);
    if (!cmd) throw new UsageError(`unknown command "${name}"`);
    this.session.takeWarnings();
    const result = cmd.run(this.session, args);
    const warnings = this.session.takeWarnings();
    const truncation = this.session.dump.truncation;
    if (truncation !== undefined && !warnings.includes(truncation)) warnings.unshift(truncation);
    const json = result.json;
    return typeof json === 'object' && json !== null && !Array.isArray(json) ? { ...(json as Record<string, unknown>), warnings } : { result: json, warnings };
  }

  /** Warnings gathered since the last call (pages missing from the dump, unreadable objects...), then cleared. */
  takeWarnings(): string[] {
    return this.session.takeWarnings();
  }

  /** Closes the dump file. The ClrDump and everything from it must not be used afterwards. */
  close(): void {
    this.session.close();
  }
}

/**
 * Opens a dump (a Linux ELF core made by createdump, dotnet-dump collect or the kernel). Reading is synchronous and
 * the file is never written.
 * @throws DumpFormatError when the file is not a dump this library reads; other DumpsleuthErrors for unreadable input.
 */
export function openDump(path: string, options: OpenDumpOptions = {}): ClrDump {
  return new ClrDump(Session.open(path, options.imagePath !== undefined ? { imagePath: options.imagePath } : {}));
}
