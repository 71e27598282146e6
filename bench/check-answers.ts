// The bench times answers only after checking them: dumpsleuth's heap statistics must equal dotnet-dump's (per
// MethodTable and in total) and ClrMD's totals, and its thread list must equal clrthreads'. A fast wrong answer
// is not a result.
import { parseClrThreads, parseDumpHeapStat } from '../test/support/sos-parsers';

/** A `dumpheap -stat` answer reduced to what the tools must agree on. */
export interface HeapAnswer {
  readonly totalCount: number;
  readonly totalSize: number;
  /** Count and total size per MethodTable, when the tool reports them. */
  readonly byMt?: ReadonlyMap<number, { readonly count: number; readonly totalSize: number }>;
}

/** A `clrthreads` answer reduced to what the tools must agree on. */
export interface ThreadsAnswer {
  readonly summary: Readonly<Record<string, number>>;
  /** `managedId/osId/ThreadOBJ` of each thread, sorted. */
  readonly threads: readonly string[];
}

/** Thrown when two tools disagree about the same dump; the bench stops rather than time a wrong answer. */
export class AnswerMismatchError extends Error {
  /** Creates the error from the list of differences. */
  constructor(what: string, differences: readonly string[]) {
    super(`${what} disagree:\n  ${differences.slice(0, 20).join('\n  ')}${differences.length > 20 ? `\n  … ${differences.length - 20} more` : ''}`);
    this.name = 'AnswerMismatchError';
  }
}

/** Reads `dumpsleuth --json … dumpheap -stat` output; throws when it is not the expected JSON document. */
export function heapAnswerFromDumpsleuthJson(stdout: string): HeapAnswer {
  const doc = JSON.parse(stdout) as { types?: { mt: string; count: number; totalSize: number }[]; totalCount?: number; totalSize?: number };
  if (!Array.isArray(doc.types) || typeof doc.totalCount !== 'number' || typeof doc.totalSize !== 'number') {
    throw new Error('dumpsleuth --json dumpheap -stat printed no {types, totalCount, totalSize} document');
  }
  const byMt = new Map<number, { count: number; totalSize: number }>();
  for (const row of doc.types) byMt.set(parseInt(row.mt.replace(/^0x/, ''), 16), { count: row.count, totalSize: row.totalSize });
  return { totalCount: doc.totalCount, totalSize: doc.totalSize, byMt };
}

/** Reads SOS's `dumpheap -stat` table (dotnet-dump's, or dumpsleuth's text, which prints the same); throws SosParseError when there is none. */
export function heapAnswerFromSosText(stdout: string): HeapAnswer {
  const stat = parseDumpHeapStat(stdout);
  const byMt = new Map<number, { count: number; totalSize: number }>();
  for (const row of stat.types) byMt.set(row.mt, { count: row.count, totalSize: row.totalSize });
  return { totalCount: stat.totalCount, totalSize: stat.totalSize, byMt };
}

/** Reads the ClrMD oracle's `heapstat` JSON (totals only are compared); throws when it is not that document. */
export function heapAnswerFromClrmdJson(stdout: string): HeapAnswer {
  const doc = JSON.parse(stdout) as { totalCount?: number; totalSize?: number };
  if (typeof doc.totalCount !== 'number' || typeof doc.totalSize !== 'number') throw new Error('the ClrMD oracle printed no totals');
  return { totalCount: doc.totalCount, totalSize: doc.totalSize };
}

/** Lists how `actual` differs from `expected` (totals, and per MethodTable when both have rows); empty when they agree. */
export function diffHeapAnswers(expected: HeapAnswer, actual: HeapAnswer): string[] {
  const out: string[] = [];
  if (expected.totalCount !== actual.totalCount) out.push(`total count ${expected.totalCount} ≠ ${actual.totalCount}`);
  if (expected.totalSize !== actual.totalSize) out.push(`total size ${expected.totalSize} ≠ ${actual.totalSize}`);
  if (expected.byMt !== undefined && actual.byMt !== undefined) {
    for (const [mt, row] of expected.byMt) {
      const other = actual.byMt.get(mt);
      const name = `MT 0x${mt.toString(16)}`;
      if (other === undefined) out.push(`${name}: ${row.count} objects / ${row.totalSize} bytes, missing on the other side`);
      else if (other.count !== row.count || other.totalSize !== row.totalSize) {
        out.push(`${name}: ${row.count} objects / ${row.totalSize} bytes ≠ ${other.count} / ${other.totalSize}`);
      }
    }
    for (const [mt, row] of actual.byMt) {
      if (!expected.byMt.has(mt)) out.push(`MT 0x${mt.toString(16)}: only on the other side (${row.count} objects / ${row.totalSize} bytes)`);
    }
  }
  return out;
}

/** Reads a `clrthreads`/`threads` text (SOS's layout, which dumpsleuth prints too); throws SosParseError when malformed. */
export function threadsAnswerFromText(stdout: string): ThreadsAnswer {
  const parsed = parseClrThreads(stdout);
  const threads = parsed.threads.map((t) => `${t.managedId}/${t.osId === null ? 'XXXX' : t.osId.toString(16)}/${t.address.toString(16)}`).sort();
  return { summary: { ...parsed.summary }, threads };
}

/** Lists how two thread answers differ (summary counts and the set of threads); empty when they agree. */
export function diffThreadsAnswers(expected: ThreadsAnswer, actual: ThreadsAnswer): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(expected.summary)) {
    if (actual.summary[key] !== value) out.push(`${key} ${value} ≠ ${actual.summary[key]}`);
  }
  const theirs = new Set(actual.threads);
  const ours = new Set(expected.threads);
  for (const t of expected.threads) if (!theirs.has(t)) out.push(`thread ${t} missing on the other side`);
  for (const t of actual.threads) if (!ours.has(t)) out.push(`thread ${t} only on the other side`);
  return out;
}
