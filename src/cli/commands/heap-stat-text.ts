/**
 * The statistics table SOS's C# commands share (DumpHeapService.PrintHeap): `MT Count TotalSize Class Name`,
 * columns as wide as their widest cell, sizes with thousands separators, then `Total N objects, M bytes`.
 */
import type { HeapHistogram } from '../../analysis/heap-histogram';
import { n0, right, x12 } from '../format';
import type { Session } from '../session';

/** The `Statistics:` block for a histogram (nothing when it is empty, as SOS prints nothing). */
export function heapStatLines(session: Session, histogram: HeapHistogram): string[] {
  if (histogram.totalCount === 0) return [];
  const rows = histogram.sorted('size');
  const mtWidth = Math.max(2, ...rows.map((r) => x12(r.mt).length));
  const countWidth = Math.max(5, ...rows.map((r) => n0(r.count).length));
  const sizeWidth = Math.max(9, ...rows.map((r) => n0(r.totalSize).length));
  const lines = ['Statistics:', `${right('MT', mtWidth)} ${right('Count', countWidth)} ${right('TotalSize', sizeWidth)} Class Name`];
  for (const r of rows) lines.push(`${x12(r.mt)} ${right(n0(r.count), countWidth)} ${right(n0(r.totalSize), sizeWidth)} ${session.names.clrmdName(r.mt)}`);
  lines.push(`Total ${n0(histogram.totalCount)} objects, ${n0(histogram.totalSize)} bytes`);
  return lines;
}

/** The JSON rows of a histogram. */
export function heapStatJson(session: Session, histogram: HeapHistogram): { mt: string; name: string; count: number; totalSize: number }[] {
  return histogram.sorted('size').map((r) => ({ mt: '0x' + r.mt.toString(16), name: session.names.clrmdName(r.mt), count: r.count, totalSize: r.totalSize }));
}
