/**
 * `retained <addr>`: an object's retained size (the bytes that become garbage when it does), how many objects that
 * is, its chain of immediate dominators up to the roots, and the objects it dominates directly, largest first.
 */
import { UNREACHABLE } from '../../analysis/dominators';
import { UsageError } from '../../errors';
import { NO_OBJECT, type GraphAccess } from '../../heap/object-graph';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command, CommandResult } from '../command';
import { IndexFileError } from '../index/index-file';
import type { PagedGraph } from '../index/paged-graph';
import { sessionIndexOf } from '../index/session-index';
import { hexJson, n0, right, x12 } from '../format';
import type { Session } from '../session';
import { analysisContextOf } from './analyze';
import { rootCache } from './root-cache';

const DEFAULT_LIMIT = 10;
const MAX_CHAIN = 10_000;

/** The retained command. */
export const retainedCommand: Command = {
  name: 'retained',
  aliases: [],
  summary: "An object's retained size, its dominator chain and the objects it dominates",
  usage: 'retained [-limit <n>] <address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('retained', args, [], ['limit']);
    if (opts.positional.length !== 1) throw new UsageError('retained: expected one object address');
    const address = addressArg('retained', opts.positional[0]);
    const limit = opts.values.has('limit') ? numberArg('retained', opts.values.get('limit')!, 'limit') : DEFAULT_LIMIT;
    // Before the session holds the whole graph, one object's answer comes from the per-dump index read page by page.
    const cache = rootCache(session);
    const index = cache.graphLoaded ? undefined : sessionIndexOf(session);
    const paged = index?.pagedGraph('dominators');
    if (index !== undefined && paged !== undefined) {
      try {
        const answer = pagedAnswer(session, paged, address, limit);
        if (answer !== undefined) {
          index.answeredFromPages('retained', paged);
          return answer;
        }
      } catch (e) {
        if (!(e instanceof IndexFileError)) throw e;
        index.pagedReadFailed(paged, 'dominators', e);
      }
    }
    const ctx = analysisContextOf(session);
    const g = ctx.graph;
    const at = g.indexOf(address);
    if (at === NO_OBJECT) throw new UsageError(`retained: ${address.toString(16)} is not a valid object`);
    const tree = ctx.dominatorTree;
    const retained = ctx.retainedSizes;
    const idom = tree.idom;
    if (idom[at] === UNREACHABLE) return garbageAnswer(session, g, at);
    // Objects retained: the node's subtree in the dominator tree, found from idom links (one pass in preorder).
    const inside = new Uint8Array(g.count);
    inside[at] = 1;
    let objects = 0;
    const children: number[] = [];
    for (let k = 0; k < tree.preorder.length; k++) {
      const v = tree.preorder[k]!;
      const d = idom[v]!;
      if (v !== at && (d < 0 || !inside[d])) continue;
      inside[v] = 1;
      objects++;
      if (d === at) children.push(v);
    }
    const chain: number[] = [];
    for (let d = idom[at]!; d >= 0 && chain.length < MAX_CHAIN; d = idom[d]!) chain.push(d);
    return answerOf(session, g, at, objects, chain, children, (i) => retained[i]!, limit);
  },
};

/** The answer from index pages: the object's stored subtree size, dominator chain and children (undefined when the
 * index lacks the roots, whose warnings the answer carries). */
function pagedAnswer(session: Session, g: PagedGraph, address: number, limit: number): CommandResult | undefined {
  const cache = rootCache(session);
  // The warnings analysisContextOf gives: the handles', the graph's, then the stack roots' note.
  void cache.handles;
  cache.reportProblemsOf(g.problems);
  if (!cache.loadStoredRoots()) return undefined;
  if (cache.stackRoots.some((r) => !r.precise)) {
    session.warn('stack roots come from a conservative scan of each thread stack (possible roots, not GC-info exact)');
  }
  const at = g.indexOf(address);
  if (at === NO_OBJECT) throw new UsageError(`retained: ${address.toString(16)} is not a valid object`);
  const t = g.tree();
  if (t.idom.at(at) === UNREACHABLE) return garbageAnswer(session, g, at);
  const children: number[] = [];
  for (let k = t.childStart.at(at), end = t.childStart.at(at + 1); k < end; k++) children.push(t.children.at(k));
  const chain: number[] = [];
  for (let d = t.idom.at(at); d >= 0 && chain.length < MAX_CHAIN; d = t.idom.at(d)) chain.push(d);
  return answerOf(session, g, at, t.subtree.at(at), chain, children, (i) => t.retained.at(i), limit);
}

function garbageAnswer(session: Session, g: GraphAccess, at: number): CommandResult {
  const address = g.addressOf(at);
  const type = session.names.clrmdName(g.mtOf(at));
  return {
    text: `${x12(address)} ${type} is not reachable from a strong root: it retains nothing (it is garbage).`,
    json: { address: hexJson(address), type, size: g.sizeOf(at), reachable: false, retained: 0, retainedObjects: 0, dominators: [], children: [] },
  };
}

/** The text and JSON of a reachable object's answer; `children` in preorder (sorted here, largest first). */
function answerOf(session: Session, g: GraphAccess, at: number, objects: number, chain: readonly number[], children: number[], retainedOf: (i: number) => number, limit: number): CommandResult {
  const address = g.addressOf(at);
  const name = (i: number) => session.names.clrmdName(g.mtOf(i));
  const sizes = new Map(children.map((c) => [c, retainedOf(c)]));
  children.sort((a, b) => sizes.get(b)! - sizes.get(a)!);
  const lines = [
    `${x12(address)} ${name(at)}`,
    `Size:            ${n0(g.sizeOf(at))} bytes`,
    `Retained size:   ${n0(retainedOf(at))} bytes in ${n0(objects)} objects`,
    '',
    'Immediate dominators (nearest first, up to the roots):',
    ...chain.map((d) => `  ${right(x12(g.addressOf(d)), 16)} ${right(n0(retainedOf(d)), 14)} ${name(d)}`),
    ...(chain.length === 0 ? ['  (none: only roots reach it first)'] : []),
    '',
    `Dominates directly (${n0(children.length)}; largest ${Math.min(limit, children.length)}):`,
    ...children.slice(0, limit).map((c) => `  ${right(x12(g.addressOf(c)), 16)} ${right(n0(sizes.get(c)!), 14)} ${name(c)}`),
  ];
  return {
    text: lines.join('\n'),
    json: {
      address: hexJson(address),
      type: name(at),
      size: g.sizeOf(at),
      reachable: true,
      retained: retainedOf(at),
      retainedObjects: objects,
      dominators: chain.map((d) => ({ address: hexJson(g.addressOf(d)), type: name(d), retained: retainedOf(d) })),
      children: children.slice(0, limit).map((c) => ({ address: hexJson(g.addressOf(c)), type: name(c), retained: sizes.get(c)! })),
    },
  };
}
