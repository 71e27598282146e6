/**
 * Per-session caches for the root and retention commands: GC handles, finalizer queues, the object graph with its
 * reverse index, the roots, and the live set are built once per loaded dump and reused by later commands.
 */
import { markLive } from '../../analysis/liveness';
import { ObjectGraph, type GraphProblems } from '../../heap/object-graph';
import { collectNonStackRoots, collectStackRoots, type GcRoot, type RootInputs } from '../../heap/roots';
import { readFinalizeQueues, type FinalizeQueue } from '../../runtime/gc/finalize-queue';
import { DumpsleuthError } from '../../errors';
import { handleSlotCountOf, readGcHandles, type GcHandle, type HandleSlotCount } from '../../runtime/gc/handle-table';
import { readThreads } from '../../runtime/thread-store';
import type { Session } from '../session';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { parallelWalkOf } from './parallel-walk-options';
import { reportWalkProblems } from './warnings';
import { sessionIndexOf } from '../index/session-index';

/** What the root commands share within one session. */
export class RootCache {
  private handlesValue?: GcHandle[];
  private readonly handleProblems: string[] = [];
  /** How many handle tables each bucket has, and where that count came from (set by the handle walk). */
  readonly handleWalk: { slots?: HandleSlotCount } = {};
  private queuesValue?: FinalizeQueue[];
  private graphValue?: ObjectGraph;
  private nonStackValue?: GcRoot[];
  private stackValue?: GcRoot[];
  private liveValue?: Uint8Array;
  /** Milliseconds spent building the graph (for `info`-style reporting and the bench). */
  graphBuildMs = 0;

  constructor(private readonly session: Session) {}

  /** Every readable GC handle; what could not be read becomes a warning of each command that uses them. */
  get handles(): GcHandle[] {
    if (!this.handlesValue) {
      const heap = this.session.heap;
      let known: HandleSlotCount | undefined;
      try {
        known = handleSlotCountOf(this.session.runtime, heap.vars, heap.gcSubDescriptor);
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
        this.handleProblems.push(`${e.message}; the handle table slots are counted by validating each one instead`);
      }
      this.handlesValue = readGcHandles(this.session.runtime, heap.vars, this.handleProblems, known, this.handleWalk, heap.gcSubDescriptor);
    }
    for (const p of this.handleProblems) this.session.warn(p);
    return this.handlesValue;
  }

  get finalizeQueues(): FinalizeQueue[] {
    return (this.queuesValue ??= readFinalizeQueues(this.session.runtime, this.session.heap));
  }

  /** The object graph, with dependent-handle edges; walk problems become session warnings. */
  get graph(): ObjectGraph {
    this.build();
    this.reportGraphProblems();
    return this.graphValue!;
  }

  /** The same graph for commands that only look objects up (type and size by address) and never follow references:
   * only heap-walk problems concern them, so unreadable references are not their warning. */
  get objectIndex(): ObjectGraph {
    this.build();
    reportWalkProblems(this.session, this.graphValue!.problems.walk);
    return this.graphValue!;
  }

  private build(): void {
    if (!this.graphValue) {
      const s = this.session;
      const t0 = Date.now();
      // Read even when the graph comes from the index: their problems are warnings of the commands that use them.
      const dependents = this.handles.filter((h) => h.kind === 'dependent' && h.secondary !== 0).map((h) => ({ primary: h.target, secondary: h.secondary }));
      const index = sessionIndexOf(s);
      const stored = index?.loadGraph();
      if (stored !== undefined) this.graphValue = stored;
      else {
        const o = s.options;
        const parallel =
          o.workers !== undefined && o.workers > 1
            ? {
                workers: o.workers,
                ...(parallelWalkOf(s)?.minBytes !== undefined ? { minWalkBytes: parallelWalkOf(s)!.minBytes! } : {}),
                dumpPath: s.dump.path,
                openOptions: {
                  ...(o.imagePath ? { imagePath: o.imagePath } : {}),
                  ...(o.ignoreImagePagesInDump === true ? { ignoreImagePagesInDump: true } : {}),
                  ...(o.managedImagesFromImagePathOnly === true ? { managedImagesFromImagePathOnly: true } : {}),
                },
              }
            : undefined;
        this.graphValue = ObjectGraph.build(s.heap, s.methodTables, s.runtime.memory, dependents, parallel);
        index?.graphBuilt(this.graphValue);
      }
      this.graphBuildMs = Date.now() - t0;
    }
  }

  /** Fills both root lists from the index when it has them (after the graph, whose digest they must match). */
  private loadRoots(): void {
    if (this.nonStackValue !== undefined || this.stackValue !== undefined) return;
    this.build();
    const index = sessionIndexOf(this.session);
    const stored = index?.loadRoots();
    if (stored !== undefined) {
      this.nonStackValue = stored.nonStack;
      this.stackValue = stored.stack;
    } else index?.rootsCollected(() => ({ nonStack: this.nonStackRoots, stack: this.stackRoots }));
  }

  /** True once roots have been gathered in this session (SOS prints its caching notice only the first time). */
  get hasRoots(): boolean {
    return this.nonStackValue !== undefined || this.rootsAnswered;
  }

  private rootsAnswered = false;

  /** Says that a command answered from the per-dump index gathered the roots when it was computed (so a later
   * gcroot in this session prints what it would have printed after that command ran in full). */
  rootsGatheredByStoredAnswer(): void {
    this.rootsAnswered = true;
  }

  /** Strong handle roots and finalizer roots. */
  get nonStackRoots(): GcRoot[] {
    this.loadRoots();
    return (this.nonStackValue ??= collectNonStackRoots(this.inputs()));
  }

  /** Stack roots of live threads (conservative until precise stack roots are plugged into heap/roots.ts). */
  get stackRoots(): GcRoot[] {
    this.loadRoots();
    // Interior words count: precise roots include interior pointers (e.g. a statics base inside its object[]).
    return (this.stackValue ??= collectStackRoots(this.inputs(), { interior: true }));
  }

  /** All roots in SOS's order: handles, finalizer queue, stacks. */
  roots(includeStacks: boolean): GcRoot[] {
    return includeStacks ? [...this.nonStackRoots, ...this.stackRoots] : this.nonStackRoots;
  }

  /** One byte per graph object: 1 when reachable from a root (stacks included). */
  get live(): Uint8Array {
    return (this.liveValue ??= markLive(this.graph, this.roots(true)));
  }

  /** Adds warnings that say which answers may be incomplete. */
  reportGraphProblems(): void {
    const g = this.graphValue;
    if (!g) return;
    this.reportProblemsOf(g.problems);
  }

  /** The warnings of `reportGraphProblems` for a graph's problems (also of the graph the per-dump index reads page by
   * page, which is not this cache's graph). */
  reportProblemsOf(problems: GraphProblems): void {
    reportWalkProblems(this.session, problems.walk);
    if (problems.collectibleObjects > 0) {
      this.session.warn(`${problems.collectibleObjects} types are collectible: their LoaderAllocator reference is not followed (the runtime's descriptor does not describe it)`);
    }
    if (problems.unreadableCount > 0) {
      const first = problems.unreadable[0];
      this.session.warn(
        `${problems.unreadableCount.toLocaleString('en-US')} objects skipped: their references could not be read${first ? ` (first at 0x${first.address.toString(16)}: ${first.reason})` : ''}; what only they keep alive is not reached`,
      );
    }
    if (problems.unresolvedReferences > 0) {
      this.session.warn(`${problems.unresolvedReferences.toLocaleString('en-US')} references skipped: they do not point at the start of a heap object (run verifyheap)`);
    }
  }

  /** True once this session holds the whole object graph (then one-object answers use it, not index pages). */
  get graphLoaded(): boolean {
    return this.graphValue !== undefined;
  }

  /** Both root lists from the per-dump index without the whole graph (for an answer read from index pages), or
   * false when the index does not have them. */
  loadStoredRoots(): boolean {
    if (this.nonStackValue !== undefined || this.stackValue !== undefined) return true;
    const stored = sessionIndexOf(this.session)?.loadRoots();
    if (stored === undefined) return false;
    this.nonStackValue = stored.nonStack;
    this.stackValue = stored.stack;
    return true;
  }

  private inputs(): RootInputs {
    const s = this.session;
    return {
      runtime: s.runtime,
      graph: this.graph,
      handles: this.handles,
      finalizeQueues: this.finalizeQueues,
      threads: readThreads(s.runtime),
      coreThreads: s.dump.threads,
      segments: s.dump.segments,
      freeMethodTable: s.heap.freeObjectMethodTable,
      methodName: (md) => {
        try {
          return codeResolverOf(s).methodDescs.name(md);
        } catch {
          return undefined;
        }
      },
    };
  }
}

const caches = new WeakMap<Session, RootCache>();

/** The root cache of a session (created on first use). */
export function rootCache(session: Session): RootCache {
  let c = caches.get(session);
  if (!c) caches.set(session, (c = new RootCache(session)));
  return c;
}
