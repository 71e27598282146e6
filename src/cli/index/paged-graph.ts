/**
 * The object graph as the per-dump index stores it, read page by page (index-file.ts's PagedSection): what a
 * one-object answer (gcroot, retained) needs — an address looked up by binary search in the sorted object table,
 * the reverse edges of the objects a search visits, one object's dominator entries — costs the pages it touches, so
 * the second process on a 20 M-object dump does not read the ~1 GB index to answer. Every read can throw
 * IndexFileError (a corrupt page): callers fall back to the whole graph.
 */
import { UNREACHABLE } from '../../analysis/dominators';
import type { ReverseGraphAccess } from '../../analysis/gcroot';
import type { MemoryReader } from '../../dump/memory-reader';
import { dumpSlotOffsets, NO_OBJECT, type GraphProblems } from '../../heap/object-graph';
import type { MethodTableReader } from '../../runtime/method-table';
import { IndexFileError, type IndexFile, type PagedSection } from './index-file';

/** The dominator tree's per-object answers, stored by the first process that computed them. */
export interface PagedDominators {
  /** Immediate dominator (graph index), VIRTUAL_ROOT under the roots, UNREACHABLE for garbage. */
  readonly idom: PagedSection;
  /** Retained size in bytes. */
  readonly retained: PagedSection;
  /** Objects in the node's dominator subtree (itself included). */
  readonly subtree: PagedSection;
  /** `childStart[i]..childStart[i+1]` index `children`: the objects i dominates directly, in DFS preorder. */
  readonly childStart: PagedSection;
  readonly children: PagedSection;
}

/** Offsets recomputed for a chain are remembered (a handful per answer). */
const OFFSET_CACHE_LIMIT = 1 << 12;

/** A stored graph read page by page; see the file comment. */
export class PagedGraph implements ReverseGraphAccess {
  readonly count: number;
  private readonly slotOffset: (graph: PagedGraph, edge: number) => number;
  private readonly offsets = new Map<number, number>();

  constructor(
    private readonly addresses: PagedSection,
    private readonly typeIndexes: PagedSection,
    private readonly methodTables: Float64Array,
    private readonly sizes: PagedSection,
    private readonly edgeStart: PagedSection,
    private readonly edgeTarget: PagedSection,
    readonly problems: GraphProblems,
    private readonly reverseStart: PagedSection | undefined,
    private readonly reverseSource: PagedSection | undefined,
    readonly dominators: PagedDominators | undefined,
    /** The index files the sections read from (closed by `close`). */
    private readonly files: readonly IndexFile[],
    mts: MethodTableReader,
    memory: MemoryReader,
  ) {
    const n = addresses.length;
    this.count = n;
    if (typeIndexes.length !== n || sizes.length !== n || edgeStart.length !== n + 1 || edgeStart.at(n) !== edgeTarget.length) {
      throw new IndexFileError(`stored graph sections do not fit together (${n} objects, ${typeIndexes.length} types, ${sizes.length} sizes, ${edgeStart.length} offsets, ${edgeTarget.length} edges)`);
    }
    if (reverseStart !== undefined && (reverseStart.length !== n + 1 || reverseSource?.length !== edgeTarget.length)) {
      throw new IndexFileError('stored reverse edges do not fit the graph');
    }
    if (dominators !== undefined) {
      const d = dominators;
      if (d.idom.length !== n || d.retained.length !== n || d.subtree.length !== n || d.childStart.length !== n + 1 || d.childStart.at(n) !== d.children.length) {
        throw new IndexFileError('stored dominator sections do not fit the graph');
      }
    }
    this.slotOffset = dumpSlotOffsets(mts, memory, methodTables, problems.unreadableCount === 0);
  }

  /** Pages read from the index so far (said in the index log). */
  get pagesRead(): number {
    const sections = [this.addresses, this.typeIndexes, this.sizes, this.edgeStart, this.edgeTarget, this.reverseStart, this.reverseSource];
    const d = this.dominators;
    if (d !== undefined) sections.push(d.idom, d.retained, d.subtree, d.childStart, d.children);
    return sections.reduce((sum, s) => sum + (s?.pagesRead ?? 0), 0);
  }

  addressOf(i: number): number {
    return this.addresses.at(i);
  }

  typeIndexOf(i: number): number {
    const t = this.typeIndexes.at(i);
    if (t >= this.methodTables.length) throw new IndexFileError(`stored type index ${t} of object ${i} is outside the type table (${this.methodTables.length})`);
    return t;
  }

  mtOf(i: number): number {
    return this.methodTables[this.typeIndexOf(i)]!;
  }

  sizeOf(i: number): number {
    return this.sizes.at(i);
  }

  edgeStartOf(i: number): number {
    return this.edgeStart.at(i);
  }

  edgeTargetOf(edge: number): number {
    return this.edgeTarget.at(edge);
  }

  firstEdgeBetween(from: number, to: number): number {
    return this.edgeTarget.indexOf(to, this.edgeStart.at(from), this.edgeStart.at(from + 1));
  }

  countEdgesTo(target: number, from: number, to: number): number {
    return this.edgeTarget.count(target, from, to);
  }

  reverseStartOf(i: number): number {
    return this.reverse().start.at(i);
  }

  reverseSourceOf(k: number): number {
    return this.reverse().source.at(k);
  }

  /** Binary search of the sorted object table (the pages of its path: about a dozen for 20 M objects). */
  indexOf(address: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.addresses.at(mid);
      if (v === address) return mid;
      if (v < address) lo = mid + 1;
      else hi = mid - 1;
    }
    return NO_OBJECT;
  }

  sourceOf(edge: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.edgeStart.at(mid) <= edge) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  edgeOffsetOf(edge: number): number {
    if (!(edge >= 0 && edge < this.edgeTarget.length) || !Number.isInteger(edge)) return NaN;
    let offset = this.offsets.get(edge);
    if (offset === undefined) {
      offset = this.slotOffset(this, edge);
      if (this.offsets.size >= OFFSET_CACHE_LIMIT) this.offsets.clear();
      this.offsets.set(edge, offset);
    }
    return offset;
  }

  /** True when `i` is reachable from a strong root (its stored immediate dominator is not UNREACHABLE). */
  reachable(i: number): boolean {
    return this.tree().idom.at(i) !== UNREACHABLE;
  }

  /** The stored dominator answers. @throws IndexFileError when the index has none. */
  tree(): PagedDominators {
    if (this.dominators === undefined) throw new IndexFileError('the index has no dominator answers');
    return this.dominators;
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  private reverse(): { start: PagedSection; source: PagedSection } {
    if (this.reverseStart === undefined || this.reverseSource === undefined) throw new IndexFileError('the index has no reverse edges');
    return { start: this.reverseStart, source: this.reverseSource };
  }
}
