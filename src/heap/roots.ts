/**
 * GC roots as SOS's root cache gathers them (dotnet/diagnostics RootCacheService): strong GC handles (strong,
 * pinned, async-pinned, ref-counted, sized-ref) in handle-table order, then the finalizer queue's ready objects
 * (f-reachable), then the stack roots of each live thread. Weak handles are never roots; dependent handles are
 * edges of the object graph, not roots. .NET 10 statics are reached through the strong handle of their
 * `object[]` bucket, as SOS shows them, so they need no source of their own here.
 */
import type { CoreThread } from '../dump/core-notes';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import { forEachFinalizeSlot, type FinalizeQueue } from '../runtime/gc/finalize-queue';
import { isStrongHandleKind, type GcHandle } from '../runtime/gc/handle-table';
import type { ClrThread } from '../runtime/thread-store';
import { scanStackConservatively, stackMappingEnd, type StackRoot } from './conservative-stack-roots';
import { NO_OBJECT, type ObjectGraph } from './object-graph';

/** Where a root comes from. */
export type RootKind = 'strong' | 'pinned' | 'asyncPinned' | 'refCounted' | 'sizedRef' | 'finalizer' | 'stack';

/** One root: a location outside the heap that keeps `object` alive. */
export interface GcRoot {
  readonly kind: RootKind;
  /** The handle, the finalizer-queue slot, or the stack slot (0 for a register). */
  readonly address: number;
  /** The object kept alive (for an interior stack pointer, the object containing it). */
  readonly object: number;
  /** OS thread id of a stack root. */
  readonly thread?: number;
  /** The stack root's details (register, frame, interior). */
  readonly stack?: StackRoot;
  /** False for roots found by the conservative stack scan. */
  readonly precise: boolean;
}

/** A source of stack roots for one thread; returns undefined when it cannot walk that thread (then the
 * conservative scan is used for it). */
export type StackRootSource = (rt: DotNetRuntime, thread: ClrThread, core: CoreThread | undefined) => StackRoot[] | undefined;

/**
 * The precise stack-root source (managed unwinding + GC info decoding in src/runtime/code). Until it exists this is
 * undefined and every thread is scanned conservatively; plugging it in is this one line.
 */
const PRECISE_STACK_ROOTS: StackRootSource | undefined = undefined;

/** What the root enumeration reads. */
export interface RootInputs {
  readonly runtime: DotNetRuntime;
  readonly graph: ObjectGraph;
  readonly handles: readonly GcHandle[];
  readonly finalizeQueues: readonly FinalizeQueue[];
  readonly threads: readonly ClrThread[];
  readonly coreThreads: readonly CoreThread[];
  readonly segments: readonly { readonly vaddr: number; readonly memsz: number }[];
  readonly freeMethodTable: number;
}

/** Handle and finalizer roots (what `gcroot -nostacks` uses), in SOS's order. @throws UnmappedAddressError when a
 * finalizer queue is not in the dump. */
export function collectNonStackRoots(inputs: RootInputs): GcRoot[] {
  const out: GcRoot[] = [];
  for (const h of inputs.handles) {
    if (!isStrongHandleKind(h.kind)) continue;
    out.push({ kind: h.kind as RootKind, address: h.address, object: h.target, precise: true });
  }
  for (const q of inputs.finalizeQueues) {
    forEachFinalizeSlot(inputs.runtime, q.ready, (slot, object) => out.push({ kind: 'finalizer', address: slot, object, precise: true }));
  }
  return out;
}

/** True for threads whose stacks the GC scans (ClrMD `IsAlive`: started, not dead, with an OS thread). */
export function isLiveThread(t: ClrThread): boolean {
  return t.osId !== 0 && !t.isDead && !t.isUnstarted;
}

/** Stack roots of every live thread, precise where a precise source walks the thread, else conservative. */
export function collectStackRoots(inputs: RootInputs, options: { interior?: boolean } = {}): GcRoot[] {
  const out: GcRoot[] = [];
  const cores = new Map(inputs.coreThreads.map((c) => [c.tid, c]));
  for (const t of inputs.threads) {
    if (!isLiveThread(t)) continue;
    const core = cores.get(t.osId);
    let roots = PRECISE_STACK_ROOTS ? PRECISE_STACK_ROOTS(inputs.runtime, t, core) : undefined;
    if (roots === undefined && core !== undefined) {
      const end = stackMappingEnd(inputs.segments, core.stackPointer);
      roots = scanStackConservatively(inputs.runtime.memory, inputs.graph, core, end, {
        interior: options.interior ?? false,
        freeMethodTable: inputs.freeMethodTable,
      });
    }
    for (const r of roots ?? []) {
      // A precise source reports raw slot values; resolve interior pointers to their object as ClrMD does.
      let object = r.object;
      if (inputs.graph.indexOf(object) === NO_OBJECT) {
        const i = inputs.graph.containing(object);
        if (i === NO_OBJECT) continue;
        object = inputs.graph.addresses[i]!;
      }
      out.push({ kind: 'stack', address: r.address, object, thread: t.osId, stack: r, precise: r.precise });
    }
  }
  return out;
}
