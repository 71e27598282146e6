/**
 * The .NET runtime of a dump (ClrMD's ClrRuntime): its version, managed threads, modules, and the GC heap.
 */
import type { Session } from '../cli/session';
import type { ClrModule } from '../runtime/loader';
import { readThreads, type ClrThread } from '../runtime/thread-store';
import { ClrHeap } from './clr-heap';

/** The runtime (CoreCLR) loaded in the dumped process. */
export class ClrRuntime {
  private heapValue?: ClrHeap;

  /** @internal Use {@link ClrDump.runtime}. */
  constructor(private readonly session: Session) {
    // Opening the runtime finds libcoreclr and its contract descriptor: a non-.NET dump fails here, not later.
    void session.runtime;
  }

  /** The runtime version (e.g. `10.0.12`), from the shared framework's folder name; undefined when unknown. */
  get version(): string | undefined {
    return this.session.runtime.version;
  }

  /** Path of libcoreclr.so in the dumped process. */
  get coreclrPath(): string {
    return this.session.runtime.coreclrPath;
  }

  /** Every managed thread the runtime's ThreadStore lists, dead ones included (as SOS `clrthreads`). */
  get threads(): ClrThread[] {
    return readThreads(this.session.runtime);
  }

  /** The loaded managed modules (as SOS `clrmodules`). */
  get modules(): ClrModule[] {
    return this.session.modules.enumerate();
  }

  /** The GC heap. */
  get heap(): ClrHeap {
    return (this.heapValue ??= new ClrHeap(this.session));
  }
}
