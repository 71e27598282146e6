/**
 * Per-type object counts and sizes over a heap walk: the data behind `dumpheap -stat`.
 */

/** One row: all objects of one MethodTable. */
export interface HistogramRow {
  readonly mt: number;
  count: number;
  totalSize: number;
}

/** Accumulates objects by MethodTable, remembering first-seen order (SOS sorts stably, so ties keep it). */
export class HeapHistogram {
  private readonly rows = new Map<number, HistogramRow>();
  totalCount = 0;
  totalSize = 0;

  /** Counts one object. */
  add(mt: number, size: number): void {
    let row = this.rows.get(mt);
    if (row === undefined) {
      row = { mt, count: 0, totalSize: 0 };
      this.rows.set(mt, row);
    }
    row.count++;
    row.totalSize += size;
    this.totalCount++;
    this.totalSize += size;
  }

  /** Rows sorted as SOS prints them: by total size ascending (or by count), ties in first-seen order. */
  sorted(by: 'size' | 'count' = 'size'): HistogramRow[] {
    return sortRows([...this.rows.values()], by);
  }
}

/** The same accumulation keyed by the walk's dense MethodTable index (typed arrays, no per-object lookups). */
export class IndexedHeapHistogram {
  private counts = new Float64Array(256);
  private sizes = new Float64Array(256);
  /** Indexes in the order their first object was counted. */
  private readonly order: number[] = [];
  totalCount = 0;
  totalSize = 0;

  /** Counts one object of the MethodTable with dense index `mtIndex`. */
  add(mtIndex: number, size: number): void {
    if (mtIndex >= this.counts.length) this.grow(mtIndex);
    if (this.counts[mtIndex] === 0) this.order.push(mtIndex);
    this.counts[mtIndex]!++;
    this.sizes[mtIndex]! += size;
    this.totalCount++;
    this.totalSize += size;
  }

  /** Counts `count` objects of `totalSize` bytes of the MethodTable with dense index `mtIndex` at once (a walk that
   * counted them itself); calls in first-seen order keep SOS's order of ties. */
  addCounted(mtIndex: number, count: number, totalSize: number): void {
    if (count === 0) return;
    if (mtIndex >= this.counts.length) this.grow(mtIndex);
    if (this.counts[mtIndex] === 0) this.order.push(mtIndex);
    this.counts[mtIndex]! += count;
    this.sizes[mtIndex]! += totalSize;
    this.totalCount += count;
    this.totalSize += totalSize;
  }

  /** Rows sorted as SOS prints them; `addressOf` maps a dense index back to its MethodTable address. */
  sorted(addressOf: (mtIndex: number) => number, by: 'size' | 'count' = 'size'): HistogramRow[] {
    return sortRows(
      this.order.map((i) => ({ mt: addressOf(i), count: this.counts[i]!, totalSize: this.sizes[i]! })),
      by,
    );
  }

  private grow(atLeast: number): void {
    let n = this.counts.length;
    while (n <= atLeast) n *= 2;
    const c = new Float64Array(n);
    c.set(this.counts);
    const s = new Float64Array(n);
    s.set(this.sizes);
    this.counts = c;
    this.sizes = s;
  }
}

function sortRows(list: HistogramRow[], by: 'size' | 'count'): HistogramRow[] {
  // Array.prototype.sort is stable, so equal keys keep first-seen order.
  return by === 'size' ? list.sort((a, b) => a.totalSize - b.totalSize) : list.sort((a, b) => a.count - b.count);
}
