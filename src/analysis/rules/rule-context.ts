/**
 * What the leak rules of this folder read: the one loaded heap as a graph with its strong roots and dominator tree,
 * the runtime's handle, finalizer and thread lists, and the readers that name types, decode fields and delegates and
 * walk stacks. The analyze command's analysis context satisfies this interface; rules never see a CLI session.
 */
import type { DominatorTree } from '../dominators';
import type { ReferenceNamer } from '../reference-names';
import type { ObjectGraph } from '../../heap/object-graph';
import type { ObjectReader } from '../../heap/object-reader';
import type { GcRoot } from '../../heap/roots';
import type { CodeResolver } from '../../runtime/code/code-resolver';
import type { DelegateReader } from '../../runtime/code/delegates';
import type { StackWalk } from '../../runtime/code/stack-walker';
import type { DotNetRuntime } from '../../runtime/dotnet-runtime';
import type { FinalizeQueue } from '../../runtime/gc/finalize-queue';
import type { GcHeap } from '../../runtime/gc/gc-heap';
import type { GcHandle } from '../../runtime/gc/handle-table';
import type { ModuleReader } from '../../runtime/loader';
import type { ClrThread } from '../../runtime/thread-store';
import type { TypeNameResolver } from '../../runtime/type-names';

/** The read-only inputs every rule of `RULES` needs. */
export interface RuleContext {
  readonly runtime: DotNetRuntime;
  readonly heap: GcHeap;
  /** Every object of the heap (dead ones too) with its references and dependent-handle edges. */
  readonly graph: ObjectGraph;
  /** One byte per graph object: 1 when strongly reachable from `roots`. */
  readonly live: Uint8Array;
  /** Strong roots (strong/pinned/async-pinned/ref-counted/sized-ref handles, f-reachable objects, stacks). */
  readonly roots: readonly GcRoot[];
  /** The dominator tree of the live graph over `roots` (graph indexes). */
  readonly dominators: DominatorTree;
  /** Retained size per graph object (0 for dead objects). */
  readonly retained: Float64Array;
  /** Every GC handle, weak ones included. */
  readonly handles: readonly GcHandle[];
  readonly finalizeQueues: readonly FinalizeQueue[];
  /** The runtime's managed threads (dead ones included). */
  readonly threads: readonly ClrThread[];
  readonly names: TypeNameResolver;
  readonly objects: ObjectReader;
  readonly delegates: DelegateReader;
  readonly code: CodeResolver;
  readonly modules: ModuleReader;
  readonly referenceNames: ReferenceNamer;
  /** Graph indexes of objects a rule that ran earlier already explained (pending operations on a finding's chain);
   * rules leave them, and what only they reference, to that finding. */
  readonly claimed?: ReadonlySet<number>;
  /** One shortest strong path from a root to object `index` (root object first; `edges[k]` leads to `nodes[k]`, -1 for
   * the root object), when the context keeps one per object; rules search the graph themselves without it. */
  pathTo?(index: number): { readonly root: GcRoot; readonly nodes: readonly number[]; readonly edges: readonly number[] } | undefined;
  /** `Type.field` when edge `edge` of object `from` is a static field's slot in the runtime's statics storage. */
  staticFieldName?(from: number, edge: number): string | undefined;
  /** True for a module path that is user code (not part of the .NET shared framework, or named by --user-assembly). */
  isUserModule(path: string): boolean;
  /** The managed stack of a live thread whose OS thread is in the dump, innermost frame first; undefined otherwise. */
  walkThread(thread: ClrThread): StackWalk | undefined;
}
