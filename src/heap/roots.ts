/**
 * GC roots as SOS's root cache gathers them (dotnet/diagnostics RootCacheService): strong GC handles (strong,
 * pinned, async-pinned, ref-counted, sized-ref) in handle-table order, then the finalizer queue's ready objects
 * (f-reachable), then the stack roots of each live thread. Weak handles are never roots; dependent handles are
 * edges of the object graph, not roots. .NET 10 statics are reached through the strong handle of their
 * `object[]` bucket, as SOS shows them, so they need no source of their own here.
 */
import type { CoreThread } from '../dump/core-notes';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import { DumpsleuthError } from '../errors';
import { enumerateStackRoots } from '../runtime/code/stack-roots';
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
 * The precise stack-root source: managed unwinding + GC info decoding (src/runtime/code/stack-roots.ts). A thread it
 * cannot fully decode (a transition Frame's arguments, an undecodable method) is scanned conservatively instead, so
 * a root is never missed; such roots are labelled conservative.
 */
function preciseStackRoots(methodName?: (md: number) => string | undefined): StackRootSource {
  return (rt, thread, core) => {
    if (!core) return undefined;
    let result;
    try {
      result = enumerateStackRoots(rt, thread, core.registers);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
    if (result.undecoded.length > 0) return undefined;
    return result.roots.map((x) => ({
      address: x.location.kind === 'stack' ? x.location.address : 0,
      object: x.value,
      value: x.value,
      ...(x.location.kind === 'register' ? { register: x.location.name } : x.slot ? { register: x.slot.register, registerOffset: x.slot.offset } : {}),
      frame: { stackPointer: x.frameSp, instructionPointer: x.frameIp, ...(methodName ? { method: methodName(x.methodDesc) } : {}) },
      interior: x.interior,
      precise: true,
    }));
  };
}

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
  /** Names a MethodDesc for stack-root frame lines (optional: frames are then shown by address only). */
  readonly methodName?: (md: number) => string | undefined;
  /** Use only the conservative scan (for comparison and as a fallback switch). */
  readonly conservativeOnly?: boolean;
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
  const precise = inputs.conservativeOnly ? undefined : preciseStackRoots(inputs.methodName);
  for (const t of inputs.threads) {
    if (!isLiveThread(t)) continue;
    const core = cores.get(t.osId);
    let roots = precise ? precise(inputs.runtime, t, core) : undefined;
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
