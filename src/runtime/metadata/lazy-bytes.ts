/**
 * Metadata bytes filled page by page on first use. A single-object answer reads a few rows and names of an
 * assembly whose metadata is megabytes (Roslyn's: 4 MB): copying all of it cost a `dumpobj` more time and memory than
 * the answer itself (issue 16). The array is allocated at full size (the OS maps untouched pages lazily) and each
 * reader of the metadata (table rows, heaps) asks for its bytes with `ensure` before it reads them.
 */

const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;

/** Copies `length` bytes of the source at `offset` into `target` at `offset` (throws the source's own errors). */
export type FillBytes = (offset: number, target: Uint8Array, length: number) => void;

/** A byte array of a known size whose pages are read from their source the first time they are needed. */
export class LazyBytes {
  readonly bytes: Uint8Array;
  private readonly filled: Uint8Array;

  constructor(
    size: number,
    private readonly fill: FillBytes,
  ) {
    this.bytes = new Uint8Array(size);
    this.filled = new Uint8Array((size + PAGE - 1) >>> PAGE_SHIFT);
  }

  /** Makes [offset, offset+length) (clipped to the array) readable in `bytes`; throws what the source throws. */
  ensure(offset: number, length: number): void {
    const last = Math.min(offset + length, this.bytes.length) - 1;
    if (last < offset) return;
    const first = offset >>> PAGE_SHIFT;
    const end = last >>> PAGE_SHIFT;
    if (this.filled[first] === 1 && this.filled[end] === 1 && end - first <= 1) return;
    for (let p = first; p <= end; p++) {
      if (this.filled[p] === 1) continue;
      // Contiguous missing pages are read in one go.
      let q = p;
      while (q + 1 <= end && this.filled[q + 1] === 0) q++;
      const from = p << PAGE_SHIFT;
      const to = Math.min((q + 1) << PAGE_SHIFT, this.bytes.length);
      this.fill(from, this.bytes, to - from);
      this.filled.fill(1, p, q + 1);
      p = q;
    }
  }
}
