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
    const list = [...this.rows.values()];
    return by === 'size' ? list.sort((a, b) => a.totalSize - b.totalSize) : list.sort((a, b) => a.count - b.count);
  }
}
