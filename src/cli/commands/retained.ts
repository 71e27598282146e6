/**
 * `retained <addr>`: an object's retained size (the bytes that become garbage when it does), how many objects that
 * is, its chain of immediate dominators up to the roots, and the objects it dominates directly, largest first.
 */
import { UNREACHABLE } from '../../analysis/dominators';
import { UsageError } from '../../errors';
import { NO_OBJECT } from '../../heap/object-graph';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, n0, right, x12 } from '../format';
import type { Session } from '../session';
import { analysisContextOf } from './analyze';

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
    const ctx = analysisContextOf(session);
    const g = ctx.graph;
    const index = g.indexOf(address);
    if (index === NO_OBJECT) throw new UsageError(`retained: ${address.toString(16)} is not a valid object`);
    const tree = ctx.dominatorTree;
    const retained = ctx.retainedSizes;
    const name = (i: number) => session.names.clrmdName(g.mtOf(i));
    const idom = tree.idom;
    if (idom[index] === UNREACHABLE) {
      return {
        text: `${x12(address)} ${name(index)} is not reachable from a strong root: it retains nothing (it is garbage).`,
        json: { address: hexJson(address), type: name(index), size: g.sizes[index]!, reachable: false, retained: 0, retainedObjects: 0, dominators: [], children: [] },
      };
    }
    // Objects retained: the node's subtree in the dominator tree, found from idom links (one pass in preorder).
    const inside = new Uint8Array(g.count);
    inside[index] = 1;
    let objects = 0;
    const children: number[] = [];
    for (let k = 0; k < tree.preorder.length; k++) {
      const v = tree.preorder[k]!;
      const d = idom[v]!;
      if (v !== index && (d < 0 || !inside[d])) continue;
      inside[v] = 1;
      objects++;
      if (d === index) children.push(v);
    }
    children.sort((a, b) => retained[b]! - retained[a]!);
    const chain: number[] = [];
    for (let d = idom[index]!; d >= 0 && chain.length < MAX_CHAIN; d = idom[d]!) chain.push(d);
    const lines = [
      `${x12(address)} ${name(index)}`,
      `Size:            ${n0(g.sizes[index]!)} bytes`,
      `Retained size:   ${n0(retained[index]!)} bytes in ${n0(objects)} objects`,
      '',
      'Immediate dominators (nearest first, up to the roots):',
      ...chain.map((d) => `  ${right(x12(g.addresses[d]!), 16)} ${right(n0(retained[d]!), 14)} ${name(d)}`),
      ...(chain.length === 0 ? ['  (none: only roots reach it first)'] : []),
      '',
      `Dominates directly (${n0(children.length)}; largest ${Math.min(limit, children.length)}):`,
      ...children.slice(0, limit).map((c) => `  ${right(x12(g.addresses[c]!), 16)} ${right(n0(retained[c]!), 14)} ${name(c)}`),
    ];
    return {
      text: lines.join('\n'),
      json: {
        address: hexJson(address),
        type: name(index),
        size: g.sizes[index]!,
        reachable: true,
        retained: retained[index]!,
        retainedObjects: objects,
        dominators: chain.map((d) => ({ address: hexJson(g.addresses[d]!), type: name(d), retained: retained[d]! })),
        children: children.slice(0, limit).map((c) => ({ address: hexJson(g.addresses[c]!), type: name(c), retained: retained[c]! })),
      },
    };
  },
};
