// Parsers for SOS's root and handle commands (gchandles, gcroot), as dotnet-dump 10.0.750501 prints them.
import { SosParseError } from './sos-parsers';

/** `gchandles [-stat]`: per-kind counts (SOS labels), the statistics rows, and the listed handles (without -stat). */
export interface GcHandlesOutput {
  readonly counts: ReadonlyMap<string, number>;
  readonly stats: readonly { mt: number; count: number; totalSize: number; name: string }[];
  readonly totalObjects: number;
  readonly handles: readonly { address: number; type: string; object: number; size: number; data: number | undefined; name: string }[];
}

/** One gcroot root: its kind as SOS prints it ('strong handle', 'finalizer root', 'stack'), the root address
 * (handle, queue slot, or stack slot; 0 for a register), the thread for stack roots, and the chain of addresses. */
export interface GcRootEntry {
  readonly kind: string;
  readonly address: number;
  readonly thread: number | undefined;
  readonly register: string | undefined;
  readonly chain: readonly number[];
}

/** `gcroot <addr>`: the roots in output order and the `Found N unique roots.` count. */
export interface GcRootOutput {
  readonly roots: readonly GcRootEntry[];
  readonly found: number;
}

function hex(text: string): number {
  const v = parseInt(text, 16);
  if (!Number.isSafeInteger(v)) throw new SosParseError('sos', `hex value ${text} does not fit a number`);
  return v;
}

/** Parses `gchandles` or `gchandles -stat`; throws SosParseError when there is no Statistics table. */
export function parseGcHandles(text: string): GcHandlesOutput {
  const lines = text.replace(/\r/g, '').split('\n');
  const handles: GcHandlesOutput['handles'][number][] = [];
  const stats: GcHandlesOutput['stats'][number][] = [];
  const counts = new Map<string, number>();
  let totalObjects = -1;
  let section: 'list' | 'stats' | 'handles' = 'list';
  const row = /^([0-9A-F]{16}) (\S+)\s+([0-9A-F]{16})\s+(\d+) ([0-9A-F]{16}| {16}) (.*)$/;
  for (const line of lines) {
    if (line.trim() === 'Statistics:') {
      section = 'stats';
      continue;
    }
    if (line.trim() === 'Handles:') {
      section = 'handles';
      continue;
    }
    if (section === 'list') {
      const m = row.exec(line);
      if (m) handles.push({ address: hex(m[1]!), type: m[2]!, object: hex(m[3]!), size: Number(m[4]), data: m[5]!.trim() ? hex(m[5]!) : undefined, name: m[6]!.trimEnd() });
    } else if (section === 'stats') {
      const t = /^Total (\d+) objects\s*$/.exec(line);
      if (t) {
        totalObjects = Number(t[1]);
        continue;
      }
      const m = /^([0-9a-f]{16})\s+(\d+)\s+(\d+) (.*)$/.exec(line);
      if (m) stats.push({ mt: hex(m[1]!), count: Number(m[2]), totalSize: Number(m[3]), name: m[4]!.trimEnd() });
    } else {
      const m = /^ {4}(.{21}) (\d+)\s*$/.exec(line);
      if (m) counts.set(m[1]!.trim(), Number(m[2]));
    }
  }
  if (totalObjects < 0) throw new SosParseError('gchandles', 'no "Total N objects" line');
  return { counts, stats, totalObjects, handles };
}

/** Parses `gcroot <addr>`; throws SosParseError when the `Found N unique roots.` line is missing. */
export function parseGcRoot(text: string): GcRootOutput {
  const lines = text.replace(/\r/g, '').split('\n');
  const roots: GcRootEntry[] = [];
  let thread: number | undefined;
  let current: { kind: string; address: number; thread: number | undefined; register: string | undefined; chain: number[] } | undefined;
  let found = -1;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^Found ([\d,]+) unique roots\.\s*$/.exec(line))) {
      found = Number(m[1]!.replace(/,/g, ''));
    } else if ((m = /^Thread ([0-9a-f]+):\s*$/.exec(line))) {
      thread = hex(m[1]!);
    } else if (/^(HandleTable|Finalizer Queue):\s*$/.exec(line)) {
      thread = undefined;
    } else if ((m = /^ {4}([0-9a-f]{16}) \(([^)]*)\)\s*$/.exec(line))) {
      const kind = m[2]!.replace(/ RefCount: .*$/, '');
      roots.push((current = { kind, address: hex(m[1]!), thread: undefined, register: undefined, chain: [] }));
    } else if ((m = /^ {8}(?:([a-z0-9]+)(?:[+-][0-9a-f]+)?:)?(?: ?([0-9a-f]{16}))?\s*$/.exec(line)) && (m[1] || m[2])) {
      roots.push((current = { kind: 'stack', address: m[2] ? hex(m[2]) : 0, thread, register: m[1], chain: [] }));
    } else if ((m = /^ {10}-> ([0-9a-f]+)\s/.exec(line))) {
      if (!current) throw new SosParseError('gcroot', `chain line before any root: ${JSON.stringify(line)}`);
      current.chain.push(hex(m[1]!));
    }
  }
  if (found < 0) throw new SosParseError('gcroot', 'no "Found N unique roots." line');
  return { roots, found };
}

/** SOS's root kind text (gcroot's "strong handle", ...) for dumpsleuth's JSON root kind. */
export const SOS_ROOT_KIND: Record<string, string> = {
  strong: 'strong handle',
  pinned: 'pinned handle',
  asyncPinned: 'async pinned handle',
  refCounted: 'ref counted handle',
  sizedRef: 'sized ref handle',
  finalizer: 'finalizer root',
  stack: 'stack',
};
