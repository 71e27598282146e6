// Parsers for the text of SOS commands as printed by the pinned dotnet-dump (10.0.750501).
// Formats: research/names-and-sos-output.md Part B (B0, B1, B2, B9, B15), checked against real output.
// Addresses are parsed as numbers (user-space addresses fit below 2^53); counts drop `n0` commas.

/** One row of `dumpheap -stat`. */
export interface DumpHeapStatRow {
  readonly mt: number;
  readonly count: number;
  readonly totalSize: number;
  /** The ClrMD-style type name (may contain spaces), or "Free". */
  readonly name: string;
}

/** The statistics table of `dumpheap` (with or without `-stat`). */
export interface DumpHeapStat {
  /** In SOS's order (TotalSize ascending, first-seen order among ties). */
  readonly types: DumpHeapStatRow[];
  readonly totalCount: number;
  readonly totalSize: number;
}

/** One row of a `dumpheap` object listing (without `-stat`). */
export interface DumpHeapObject {
  readonly address: number;
  readonly mt: number;
  readonly size: number;
  readonly isFree: boolean;
}

/** The key/value summary above the `clrthreads` table. */
export interface ClrThreadsSummary {
  readonly threadCount: number;
  readonly unstarted: number;
  readonly background: number;
  readonly pending: number;
  readonly dead: number;
}

/** One row of the `clrthreads` table. */
export interface ClrThreadRow {
  /** The debugger's thread index, or null for `XXXX` (no OS thread in the dump). */
  readonly dbgIndex: number | null;
  readonly managedId: number;
  /** The OS thread id, or null when DBG is `XXXX` (SOS prints 0 then). */
  readonly osId: number | null;
  /** The native `Thread*` (ThreadOBJ column). */
  readonly address: number;
  /** `Thread::m_State` bits. */
  readonly state: number;
  /** State bit 0x800 (TS_Dead). */
  readonly isDead: boolean;
  readonly isBackground: boolean;
  readonly gcMode: string;
  readonly allocContext: { readonly pointer: number; readonly limit: number };
  readonly domain: number;
  readonly lockCount: number;
  readonly apartment: string;
  /** `Finalizer`, `GC`, `Threadpool Worker`, `Threadpool Completion Port`. */
  readonly tags: string[];
  /** The last thrown exception, when the Exception column names one. */
  readonly exception: { readonly type: string; readonly address: number } | null;
}

/** The parsed `clrthreads` output. */
export interface ClrThreads {
  readonly summary: ClrThreadsSummary;
  readonly threads: ClrThreadRow[];
}

/** The kind of a GC segment as `eeheap -gc` groups it. */
export type EeHeapSegmentKind = 'gen0' | 'gen1' | 'gen2' | 'nonGC' | 'loh' | 'poh';

/** One segment row of `eeheap -gc`. */
export interface EeHeapSegment {
  readonly kind: EeHeapSegmentKind;
  /** The `heap_segment` (region descriptor) address. */
  readonly segment: number;
  readonly begin: number;
  readonly allocated: number;
  readonly committed: number;
  /** Blank in SOS's output (printed as 0 here) when nothing is allocated. */
  readonly allocatedSize: number;
  readonly committedSize: number;
}

/** One GC heap of `eeheap -gc` (workstation GC: one heap with a null address). */
export interface EeHeapGcHeap {
  readonly index: number;
  /** The server GC `gc_heap*` printed after `Heap N`, or null for workstation GC. */
  readonly address: number | null;
  readonly segments: EeHeapSegment[];
}

/** The parsed `eeheap -gc` output. */
export interface EeHeapGc {
  /** The text after `DATAS = ` (e.g. "0", "1"), or null when empty. */
  readonly datas: string | null;
  readonly heapCount: number;
  readonly heaps: EeHeapGcHeap[];
  readonly totalAllocated: number;
  readonly totalCommitted: number;
}

/** Thrown when SOS output does not have the expected shape. */
export class SosParseError extends Error {
  /** Creates a parse error naming the command and what was wrong. */
  constructor(command: string, message: string) {
    super(`${command}: ${message}`);
    this.name = 'SosParseError';
  }
}

const HEX = '[0-9A-Fa-f]+';

function hex(text: string): number {
  const value = parseInt(text, 16);
  if (!Number.isSafeInteger(value)) throw new SosParseError('sos', `hex value ${text} does not fit a number`);
  return value;
}

function n0(text: string): number {
  return Number(text.replace(/,/g, ''));
}

function lines(text: string): string[] {
  return text.replace(/\r/g, '').split('\n');
}

/** Parses the `Statistics:` table of `dumpheap [-stat]`; empty output (no match) gives no rows and zero totals; throws SosParseError when the table has no Total line. */
export function parseDumpHeapStat(text: string): DumpHeapStat {
  const all = lines(text);
  const start = all.findIndex((line) => line.trim() === 'Statistics:');
  if (start < 0) {
    if (text.trim() === '') return { types: [], totalCount: 0, totalSize: 0 };
    throw new SosParseError('dumpheap -stat', 'no "Statistics:" line');
  }
  const row = new RegExp(`^\\s*(${HEX})\\s+([\\d,]+)\\s+([\\d,]+) (.*)$`);
  const total = /^Total ([\d,]+) objects, ([\d,]+) bytes\s*$/;
  const types: DumpHeapStatRow[] = [];
  for (let i = start + 1; i < all.length; i++) {
    const line = all[i];
    const totalMatch = total.exec(line);
    if (totalMatch !== null) return { types, totalCount: n0(totalMatch[1]), totalSize: n0(totalMatch[2]) };
    if (/^\s*MT\s+Count\s+TotalSize\s+Class Name\s*$/.test(line) || line.startsWith('Scanning heap:')) continue;
    const match = row.exec(line);
    if (match === null) throw new SosParseError('dumpheap -stat', `unexpected line ${JSON.stringify(line)}`);
    types.push({ mt: hex(match[1]), count: n0(match[2]), totalSize: n0(match[3]), name: match[4].trimEnd() });
  }
  throw new SosParseError('dumpheap -stat', 'no "Total N objects, M bytes" line');
}

/** Parses the object listing of `dumpheap` (without `-stat`): the rows above `Statistics:`. */
export function parseDumpHeapObjects(text: string): DumpHeapObject[] {
  const row = new RegExp(`^\\s*(${HEX})\\s+(${HEX})\\s+([\\d,]+)(?: (Free))?\\s*$`);
  const objects: DumpHeapObject[] = [];
  for (const line of lines(text)) {
    if (line.trim() === 'Statistics:') break;
    const match = row.exec(line);
    if (match !== null) objects.push({ address: hex(match[1]), mt: hex(match[2]), size: n0(match[3]), isFree: match[4] === 'Free' });
  }
  return objects;
}

const SUMMARY_KEYS: Record<string, keyof ClrThreadsSummary> = {
  ThreadCount: 'threadCount',
  UnstartedThread: 'unstarted',
  BackgroundThread: 'background',
  PendingThread: 'pending',
  DeadThread: 'dead',
};

const THREAD_TAGS = ['Finalizer', 'GC', 'Threadpool Worker', 'Threadpool Completion Port'];

/** Parses `clrthreads`: the summary counts and one row per managed thread; throws SosParseError when the summary is incomplete or a row is malformed. */
export function parseClrThreads(text: string): ClrThreads {
  const summary: Partial<Record<keyof ClrThreadsSummary, number>> = {};
  const threads: ClrThreadRow[] = [];
  let inTable = false;
  for (const line of lines(text)) {
    const kv = /^(\w+):\s+(\d+)\s*$/.exec(line);
    if (!inTable && kv !== null && kv[1] in SUMMARY_KEYS) {
      summary[SUMMARY_KEYS[kv[1]]] = Number(kv[2]);
      continue;
    }
    if (/^\s*DBG\s+ID\s+OSID\s+ThreadOBJ/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable || line.trim() === '') continue;
    threads.push(parseThreadRow(line));
  }
  for (const key of Object.values(SUMMARY_KEYS)) {
    if (summary[key] === undefined) throw new SosParseError('clrthreads', `summary lacks ${key}`);
  }
  return { summary: summary as ClrThreadsSummary, threads };
}

function parseThreadRow(line: string): ClrThreadRow {
  // Whitespace tokens, not fixed columns: the `-00001` lock count overflows its 5-wide column.
  const match = new RegExp(
    `^\\s*(XXXX|\\d+)\\s+(\\d+)\\s+(${HEX})\\s+(${HEX})\\s+(${HEX})\\s+(\\w+)\\s+(${HEX}):(${HEX})\\s+(${HEX})\\s+(-?\\d+)\\s+(\\S+)\\s?(.*)$`,
  ).exec(line);
  if (match === null) throw new SosParseError('clrthreads', `unexpected row ${JSON.stringify(line)}`);
  const dead = match[1] === 'XXXX';
  const state = hex(match[5]);
  let rest = match[12].trim();
  const tags: string[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const tag of THREAD_TAGS) {
      if (rest.startsWith(`(${tag})`)) {
        tags.push(tag);
        rest = rest.slice(tag.length + 2).trim();
        changed = true;
      }
    }
  }
  const exceptionMatch = new RegExp(`^(\\S.*?) (${HEX})(?: \\(nested exceptions\\))?$`).exec(rest);
  return {
    dbgIndex: dead ? null : Number(match[1]),
    managedId: Number(match[2]),
    osId: dead ? null : hex(match[3]),
    address: hex(match[4]),
    state,
    isDead: (state & 0x800) !== 0,
    isBackground: (state & 0x200) !== 0,
    gcMode: match[6],
    allocContext: { pointer: hex(match[7]), limit: hex(match[8]) },
    domain: hex(match[9]),
    lockCount: Number(match[10]),
    apartment: match[11],
    tags,
    exception: exceptionMatch === null ? null : { type: exceptionMatch[1], address: hex(exceptionMatch[2]) },
  };
}

const SECTION_KINDS: Record<string, EeHeapSegmentKind | 'soh'> = {
  'Small object heap': 'soh',
  'NonGC heap': 'nonGC',
  'Large object heap': 'loh',
  'Pinned object heap': 'poh',
};

/** Parses `eeheap -gc` (regions layout of .NET 7+): heaps, their segments by kind, and the totals; throws SosParseError on an unexpected segment row or missing totals. */
export function parseEeHeapGc(text: string): EeHeapGc {
  let datas: string | null = null;
  let heapCount: number | undefined;
  let totalAllocated: number | undefined;
  let totalCommitted: number | undefined;
  const heaps: EeHeapGcHeap[] = [];
  let current: EeHeapGcHeap | undefined;
  let kind: EeHeapSegmentKind | 'soh' | undefined;
  const segmentRow = new RegExp(`^\\s+(${HEX})\\s+(${HEX})\\s+(${HEX})\\s+(${HEX})((?:\\s+0x${HEX} \\(\\d+\\))*)\\s*$`);
  const heap = (): EeHeapGcHeap => {
    if (current === undefined) {
      current = { index: heaps.length, address: null, segments: [] };
      heaps.push(current);
    }
    return current;
  };
  for (const line of lines(text)) {
    let match: RegExpExecArray | null;
    if ((match = /^DATAS = ?(.*)$/.exec(line)) !== null) {
      datas = match[1].trim() === '' ? null : match[1].trim();
    } else if ((match = /^Number of GC Heaps: (\d+)/.exec(line)) !== null) {
      heapCount = Number(match[1]);
    } else if ((match = new RegExp(`^Heap (\\d+) \\((${HEX})\\)`).exec(line)) !== null) {
      current = { index: Number(match[1]), address: hex(match[2]), segments: [] };
      heaps.push(current);
      kind = undefined;
    } else if (line.trim() in SECTION_KINDS) {
      heap();
      kind = SECTION_KINDS[line.trim()];
    } else if ((match = /^generation (\d):\s*$/.exec(line)) !== null) {
      kind = `gen${match[1]}` as EeHeapSegmentKind;
    } else if ((match = /^GC Allocated Heap Size:\s+Size: 0x[0-9a-f]+ \((\d+)\) bytes/.exec(line)) !== null) {
      totalAllocated = Number(match[1]);
    } else if ((match = /^GC Committed Heap Size:\s+Size: 0x[0-9a-f]+ \((\d+)\) bytes/.exec(line)) !== null) {
      totalCommitted = Number(match[1]);
    } else if ((match = segmentRow.exec(line)) !== null) {
      if (kind === undefined || kind === 'soh') throw new SosParseError('eeheap -gc', `segment row outside a section: ${JSON.stringify(line)}`);
      const sizes = [...match[5].matchAll(/0x[0-9a-f]+ \((\d+)\)/g)].map((m) => Number(m[1]));
      // A zero allocated size prints as blank, so a single size is the committed one.
      const [allocatedSize, committedSize] = sizes.length === 2 ? sizes : [0, sizes[0] ?? 0];
      heap().segments.push({
        kind,
        segment: hex(match[1]),
        begin: hex(match[2]),
        allocated: hex(match[3]),
        committed: hex(match[4]),
        allocatedSize,
        committedSize,
      });
    }
  }
  if (heapCount === undefined) throw new SosParseError('eeheap -gc', 'no "Number of GC Heaps" line');
  if (totalAllocated === undefined || totalCommitted === undefined) throw new SosParseError('eeheap -gc', 'no GC heap size totals');
  return { datas, heapCount, heaps, totalAllocated, totalCommitted };
}
