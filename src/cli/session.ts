/**
 * One loaded dump and everything derived from it, built lazily and kept for the next command (the REPL reuses it).
 */
import { openDump, type Dump } from '../dump/open-dump';
import { readImageFileText, readLoadedImageBytes } from '../dump/loaded-image-bytes';
import { DotNetRuntime } from '../runtime/dotnet-runtime';
import { GcHeap } from '../runtime/gc/gc-heap';
import { MethodTableReader } from '../runtime/method-table';
import { ModuleReader } from '../runtime/loader';
import { TypeNameResolver } from '../runtime/type-names';
import type { IndexSettings } from './index/session-index';

/** Options that shape how a dump is opened. */
export interface SessionOptions {
  /** A folder searched first for image files that fill pages missing from the dump. */
  readonly imagePath?: string;
  /** Test option: treat managed image pages held by the dump as missing (`OpenDumpOptions.ignoreImagePagesInDump`). */
  readonly ignoreImagePagesInDump?: boolean;
  /** Test option: managed image files only from `imagePath` (`OpenDumpOptions.managedImagesFromImagePathOnly`). */
  readonly managedImagesFromImagePathOnly?: boolean;
  /** The persistent per-dump index (cli/index/session-index.ts); none when undefined. */
  readonly index?: IndexSettings;
  /** Threads for the graph build (heap/parallel-edges.ts); 1 or undefined: the calling thread alone. */
  readonly workers?: number;
}

/** The objects one dump yields, created on first use. */
export class Session {
  private runtimeValue?: DotNetRuntime;
  private heapValue?: GcHeap;
  private mtsValue?: MethodTableReader;
  private modulesValue?: ModuleReader;
  private namesValue?: TypeNameResolver;
  /** The running command's name, so a refusal of an unsupported runtime can name it. */
  commandName: string | undefined;
  /** Commands started in this session (counted by the CLI's runCommand): a stored answer (the per-dump index) stands
   * in only for a command that runs first, in the state the answer was computed in. */
  commandCount = 0;
  /** Warnings of the current command; the CLI prints and clears them after each command. */
  readonly warnings: string[] = [];
  /** Run after each command (its answer printed); each returns notes for stderr (the per-dump index's writes). */
  readonly afterCommand: (() => string[])[] = [];
  /** Index into `dump.threads` of the current thread (dotnet-dump's `setthread`); clrstack shows it by default. */
  currentThread = 0;

  private constructor(
    readonly dump: Dump,
    /** The options the dump was opened with. */
    readonly options: SessionOptions = {},
  ) {}

  /** Opens the dump file. @throws DumpFormatError and friends for bad input. */
  static open(path: string, options: SessionOptions = {}): Session {
    const session = new Session(
      openDump(path, {
        ...(options.imagePath ? { imagePath: options.imagePath } : {}),
        ...(options.ignoreImagePagesInDump === true ? { ignoreImagePagesInDump: true } : {}),
        ...(options.managedImagesFromImagePathOnly === true ? { managedImagesFromImagePathOnly: true } : {}),
      }),
      options,
    );
    session.imagePath = options.imagePath;
    return session;
  }

  /** The `--image-path` folder the dump was opened with (also searched for PDBs). */
  imagePath: string | undefined;

  /** The runtime, for commands that read its structures. @throws UnsupportedRuntimeError on a runtime other than .NET 10 or 11. */
  get runtime(): DotNetRuntime {
    const rt = this.anyRuntime;
    rt.requireSupportedVersion(this.commandName === undefined ? 'this command' : `\`${this.commandName}\``);
    return rt;
  }

  /** The runtime whatever its version (for `info`, which only describes it). */
  get anyRuntime(): DotNetRuntime {
    return (this.runtimeValue ??= DotNetRuntime.open(
      this.dump,
      (a, l) => readLoadedImageBytes(this.dump, a, l),
      (a, l) => readImageFileText(this.dump, a, l),
    ));
  }

  get heap(): GcHeap {
    return (this.heapValue ??= GcHeap.read(this.runtime));
  }

  get methodTables(): MethodTableReader {
    return (this.mtsValue ??= new MethodTableReader(this.runtime));
  }

  get modules(): ModuleReader {
    return (this.modulesValue ??= new ModuleReader(this.runtime));
  }

  get names(): TypeNameResolver {
    return (this.namesValue ??= new TypeNameResolver(this.runtime, this.methodTables, this.modules, this.heap.freeObjectMethodTable));
  }

  /** Adds a warning once per command. */
  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** The current command's warnings, cleared for the next command (dump-level warnings such as truncation are
   * added by the CLI's runCommand). */
  /** The current command's warnings so far (names it could not read included), without clearing them: for answers
   * that say in their own text and JSON that they are incomplete. */
  peekWarnings(): string[] {
    for (const m of this.namesValue?.takeUsedProblems() ?? []) this.warn(m);
    return [...this.warnings];
  }

  takeWarnings(): string[] {
    // Names that could not be read are a loss in whatever answer showed them.
    for (const m of this.namesValue?.takeUsedProblems() ?? []) this.warn(m);
    const all = [...this.warnings];
    this.warnings.length = 0;
    return all;
  }

  close(): void {
    this.dump.close();
  }
}
