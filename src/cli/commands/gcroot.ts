/**
 * `gcroot <addr>`: the roots that keep an object alive and the chain from each root to it, in SOS's text layout
 * (C# GCRootCommand: HandleTable / Finalizer Queue / Thread blocks, `->` chain lines) plus the field that holds
 * each next object. Stack roots are conservative until precise stack roots exist (marked in text and JSON).
 */
import { findRootPaths, type RootPath } from '../../analysis/gcroot';
import { ReferenceNamer } from '../../analysis/reference-names';
import { UsageError } from '../../errors';
import { NO_OBJECT, type ObjectGraph } from '../../heap/object-graph';
import type { GcRoot } from '../../heap/roots';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command } from '../command';
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

const namers = new WeakMap<Session, ReferenceNamer>();

/** The session's reference namer (field names for chain links). */
export function referenceNamer(session: Session): ReferenceNamer {
  let n = namers.get(session);
  if (!n) namers.set(session, (n = new ReferenceNamer(session.runtime, session.methodTables, (m) => session.names.moduleMetadata(m))));
  return n;
}

/** Renders a chain's links in SOS's layout: `          -> {addr:x12, left in 16} {type} {extra}`. */
export function chainLines(session: Session, graph: ObjectGraph, path: RootPath): string[] {
  return path.chain.map((link) => {
    const dependent = link.edge >= 0 && graph.edgeOffset[link.edge] === 0xffffffff;
    return `          -> ${left(graph.addresses[link.index]!.toString(16).padStart(12, '0'), 16)} ${session.names.clrmdName(graph.mtOf(link.index))} ${dependent ? '(dependent handle)' : ''}`;
  });
}

/** The JSON form of a chain: address, type, and the field of the previous object that holds this one. */
export function chainJson(session: Session, graph: ObjectGraph, path: RootPath): { address: string; type: string; field: string | null }[] {
  const namer = referenceNamer(session);
  return path.chain.map((link, k) => {
    const prev = k > 0 ? path.chain[k - 1]!.index : -1;
    return {
      address: hexJson(graph.addresses[link.index]!),
      type: session.names.clrmdName(graph.mtOf(link.index)),
      field: prev < 0 ? null : namer.name(graph.mtOf(prev), graph.edgeOffset[link.edge]!),
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
    const graph = cache.graph;
    const index = graph.indexOf(target);
    if (index === NO_OBJECT) {
      lines.push(`Warning: ${target.toString(16)} is not a valid object`);
      lines.push('Found 0 unique roots.');
      return { text: lines.join('\n'), json: { target: hexJson(target), paths: [] } };
    }
    const roots = cache.roots(!opts.flags.has('nostacks'));
    const paths = findRootPaths(graph, roots, index, { all: opts.flags.has('all'), ...(limit !== undefined ? { limit } : {}) });
    let last: GcRoot | undefined;
    for (const p of paths) {
      lines.push(...rootHeader(p.root, last));
      lines.push(...chainLines(session, graph, p));
      lines.push('');
      last = p.root;
    }
    const unique = new Set(paths.map((p) => p.root)).size;
    lines.push(`Found ${n0(unique)} unique roots.`);
    if (cache.stackRoots.some((r) => !r.precise) && !opts.flags.has('nostacks')) {
      session.warn('stack roots come from a conservative scan of each thread stack (possible roots, not GC-info exact)');
    }
    return {
      text: lines.join('\n'),
      // Field names cost a slot search per link: build the JSON only when it is asked for.
      get json() {
        return { target: hexJson(target), paths: paths.map((p) => ({ root: rootJson(p.root), chain: chainJson(session, graph, p) })) };
      },
    };
  },
};

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
