/**
 * `gcroot <addr>`: the roots that keep an object alive and the chain from each root to it, in SOS's text layout
 * (C# GCRootCommand: HandleTable / Finalizer Queue / Thread blocks, `->` chain lines) plus the field that holds
 * each next object. Stack roots are conservative until precise stack roots exist (marked in text and JSON).
 */
import { findRootPaths, findRootPathsSparse, type RootPath } from '../../analysis/gcroot';
import { ReferenceNamer } from '../../analysis/reference-names';
import { UsageError } from '../../errors';
import { DEPENDENT_EDGE, NO_OBJECT, type GraphAccess, type GraphProblems, type ObjectGraph } from '../../heap/object-graph';
import type { GcRoot } from '../../heap/roots';
import { staticSlotsOf, type StaticSlotMap } from '../../runtime/static-slots';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command, CommandResult } from '../command';
import { IndexFileError } from '../index/index-file';
import type { PagedGraph } from '../index/paged-graph';
import { sessionIndexOf } from '../index/session-index';
import { hexJson, left, n0, p16 } from '../format';
import type { Session } from '../session';
import { rootCache } from './root-cache';

const HANDLE_TEXT: Record<string, string> = {
  strong: 'strong handle',
  pinned: 'pinned handle',
  asyncPinned: 'async pinned handle',
  refCounted: 'ref counted handle',
  sizedRef: 'sized ref handle',
};

const POINTER = 8;

const namers = new WeakMap<Session, ReferenceNamer>();

/** The session's reference namer (field names for chain links). */
export function referenceNamer(session: Session): ReferenceNamer {
  let n = namers.get(session);
  if (!n) namers.set(session, (n = new ReferenceNamer(session.runtime, session.methodTables, (m) => session.names.moduleMetadata(m), session.modules)));
  return n;
}

/** The session's map of GC static slots. */
export function staticSlots(session: Session): StaticSlotMap {
  return staticSlotsOf(session.runtime, session.methodTables, session.modules, (m) => session.names.moduleMetadata(m));
}

/** `Type.field` of the static whose slot holds the reference of `edge` out of object `from`, when `from` is a
 * statics `System.Object[]` (the declaring type and field, as the runtime lays them out). */
export function staticFieldOfEdge(session: Session, graph: GraphAccess, from: number, edge: number): string | undefined {
  if (edge < 0 || graph.edgeOffsetOf(edge) === DEPENDENT_EDGE || session.names.clrmdName(graph.mtOf(from)) !== 'System.Object[]') return undefined;
  const slot = staticSlots(session).at(graph.addressOf(from) + graph.edgeOffsetOf(edge));
  return slot ? `${session.names.clrmdName(slot.declaringMT)}.${slot.field}` : undefined;
}

/** SOS's `(static variable: …)` note for the second link of a chain that starts at a `System.Object[]`: ClrMD
 * scans the array's references to the next object in order and names the first whose slot its statics map knows
 * (`{field type}.{field name}`, the type `Unknown` when the field's type is not loaded). */
function sosStaticNote(session: Session, graph: GraphAccess, path: RootPath): string | undefined {
  const [first, second] = path.chain;
  if (!first || !second) return undefined;
  if (second.edge >= 0 && graph.edgeOffsetOf(second.edge) === DEPENDENT_EDGE) return undefined;
  if (session.names.clrmdName(graph.mtOf(first.index)) !== 'System.Object[]') return undefined;
  const m = session.runtime.memory;
  const array = graph.addressOf(first.index);
  const target = graph.addressOf(second.index);
  const statics = staticSlots(session);
  const length = m.readU32(array + POINTER);
  for (let i = 0; i < length; i++) {
    const slot = array + 2 * POINTER + i * POINTER;
    if (m.readPointer(slot) !== target) continue;
    // SOS (through ClrMD) keys each static one slot too far and so names the previous slot's field; we name the
    // static that really holds the reference, in SOS's format (field type, then field name).
    const s = statics.at(slot);
    if (s) return `(static variable: ${s.fieldTypeMT !== 0 ? session.names.clrmdName(s.fieldTypeMT) : 'Unknown'}.${s.field})`;
  }
  return undefined;
}

/** Renders a chain's links in SOS's layout: `          -> {addr:x12, left in 16} {type} {extra}`. */
export function chainLines(session: Session, graph: GraphAccess, path: RootPath): string[] {
  const note = sosStaticNote(session, graph, path);
  return path.chain.map((link, k) => {
    const dependent = link.edge >= 0 && graph.edgeOffsetOf(link.edge) === DEPENDENT_EDGE;
    const extra = dependent ? '(dependent handle)' : k === 1 && note ? note : '';
    return `          -> ${left(graph.addressOf(link.index).toString(16).padStart(12, '0'), 16)} ${session.names.clrmdName(graph.mtOf(link.index))} ${extra}`;
  });
}

/** The JSON form of a chain: address, type, and the field of the previous object that holds this one (a static's
 * `Type.field` when the previous object is a statics array). */
export function chainJson(session: Session, graph: GraphAccess, path: RootPath): { address: string; type: string; field: string | null }[] {
  const namer = referenceNamer(session);
  return path.chain.map((link, k) => {
    const prev = k > 0 ? path.chain[k - 1]!.index : -1;
    return {
      address: hexJson(graph.addressOf(link.index)),
      type: session.names.clrmdName(graph.mtOf(link.index)),
      field: prev < 0 ? null : (staticFieldOfEdge(session, graph, prev, link.edge) ?? namer.name(graph.mtOf(prev), graph.edgeOffsetOf(link.edge))),
    };
  });
}

/** JSON of a root. */
export function rootJson(root: GcRoot): Record<string, unknown> {
  const frame = root.stack?.frame;
  return {
    kind: root.kind,
    address: hexJson(root.address),
    thread: root.thread ?? null,
    frame: frame ? { stackPointer: hexJson(frame.stackPointer), instructionPointer: hexJson(frame.instructionPointer), method: frame.method ?? null } : null,
    register: root.stack?.register ?? null,
    precise: root.precise,
    interior: root.stack?.interior ?? false,
    object: hexJson(root.object),
  };
}

/** The gcroot command. */
export const gcrootCommand: Command = {
  name: 'gcroot',
  aliases: [],
  summary: 'Show the roots (handles, finalizer queue, stacks) that keep an object alive, with the reference chains',
  usage: 'gcroot [-nostacks] [-all] [-limit <n>] <address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('gcroot', args, ['nostacks', 'all'], ['limit']);
    if (opts.positional.length !== 1) throw new UsageError('gcroot: expected one object address');
    const target = addressArg('gcroot', opts.positional[0]);
    const limit = opts.values.has('limit') ? numberArg('gcroot', opts.values.get('limit')!, 'limit') : undefined;
    const cache = rootCache(session);
    const lines: string[] = [];
    if (!cache.hasRoots) lines.push('Caching GC roots, this may take a while.', 'Subsequent runs of this command will be faster.', '');
    const includeStacks = !opts.flags.has('nostacks');
    // Before the session holds the whole graph, one object's roots come from the per-dump index read page by page.
    const index = opts.flags.has('all') || cache.graphLoaded ? undefined : sessionIndexOf(session);
    const paged = index?.pagedGraph('reverse');
    if (index !== undefined && paged !== undefined) {
      try {
        const answer = gcrootAnswer(session, paged, paged.problems, target, lines, includeStacks, limit, true);
        if (answer !== undefined) {
          index.answeredFromPages('gcroot', paged);
          return answer;
        }
      } catch (e) {
        if (!(e instanceof IndexFileError)) throw e;
        index.pagedReadFailed(paged, 'reverse', e);
      }
    }
    const graph = cache.graph;
    return gcrootAnswer(session, graph, graph.problems, target, lines, includeStacks, limit, false, opts.flags.has('all'))!;
  },
};

/** The gcroot answer for `target` over `graph` (the session's whole graph, or the index read page by page:
 * `paged`, then undefined when the index lacks the roots or too many objects reach the target). */
function gcrootAnswer(
  session: Session,
  graph: GraphAccess,
  problems: GraphProblems,
  target: number,
  head: readonly string[],
  includeStacks: boolean,
  limit: number | undefined,
  paged: boolean,
  all = false,
): CommandResult | undefined {
  const cache = rootCache(session);
  const lines = [...head];
  // As the whole graph's load: the handles' warnings, then the graph's.
  void cache.handles;
  cache.reportProblemsOf(problems);
  const index = graph.indexOf(target);
  if (index === NO_OBJECT) {
    lines.push(`Warning: ${target.toString(16)} is not a valid object`);
    lines.push('Found 0 unique roots.');
    return { text: lines.join('\n'), json: { target: hexJson(target), paths: [] } };
  }
  if (paged && !cache.loadStoredRoots()) return undefined;
  const roots = cache.roots(includeStacks);
  const paths = paged
    ? findRootPathsSparse(graph as PagedGraph, roots, index, limit)
    : findRootPaths(graph as ObjectGraph, roots, index, { all, ...(limit !== undefined ? { limit } : {}) });
  if (paths === undefined) return undefined;
  let last: GcRoot | undefined;
  for (const p of paths) {
    lines.push(...rootHeader(p.root, last));
    lines.push(...chainLines(session, graph, p));
    lines.push('');
    last = p.root;
  }
  const unique = new Set(paths.map((p) => p.root)).size;
  lines.push(`Found ${n0(unique)} unique roots.`);
  if (cache.stackRoots.some((r) => !r.precise) && includeStacks) {
    session.warn('stack roots come from a conservative scan of each thread stack (possible roots, not GC-info exact)');
  }
  const json = () => ({ target: hexJson(target), paths: paths.map((p) => ({ root: rootJson(p.root), chain: chainJson(session, graph, p) })) });
  // Index pages are read now, where a corrupt one can still send the answer to the whole graph.
  if (paged) return { text: lines.join('\n'), json: json() };
  return {
    text: lines.join('\n'),
    // Field names cost a slot search per link: build the JSON only when it is asked for.
    get json() {
      return json();
    },
  };
}

/** SOS prints a block header only when the root's kind, thread or frame changes. */
function rootHeader(root: GcRoot, last: GcRoot | undefined): string[] {
  const out: string[] = [];
  if (root.kind === 'stack') {
    if (last?.kind !== 'stack' || last.thread !== root.thread) out.push(`Thread ${(root.thread ?? 0).toString(16)}:`);
    const f = root.stack?.frame;
    const lf = last?.stack?.frame;
    if (f && (!lf || lf.stackPointer !== f.stackPointer || last?.thread !== root.thread)) {
      out.push(`    ${f.stackPointer.toString(16)} ${f.instructionPointer.toString(16)} ${f.method ?? ''}`.trimEnd());
    } else if (!f && (last?.kind !== 'stack' || last.thread !== root.thread || last.stack?.frame)) {
      out.push('    (conservative stack scan)');
    }
    const st = root.stack;
    let where = '';
    if (st?.register !== undefined) {
      const off = st.registerOffset ?? 0;
      where = `${st.register}${off > 0 ? '+' + off.toString(16) : off < 0 ? '-' + (-off).toString(16) : ''}:`;
    }
    out.push(`        ${where}${root.address !== 0 ? (where ? ' ' : '') + p16(root.address) : ''}${root.precise ? '' : ' (conservative)'}`);
  } else if (root.kind === 'finalizer') {
    if (last?.kind !== 'finalizer') out.push('Finalizer Queue:');
    out.push(`    ${p16(root.address)} (finalizer root)`);
  } else {
    if (!last || last.kind === 'stack' || last.kind === 'finalizer') out.push('HandleTable:');
    out.push(`    ${p16(root.address)} (${HANDLE_TEXT[root.kind] ?? root.kind})`);
  }
  return out;
}
