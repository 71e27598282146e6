/**
 * `pathto <source> <target>`: the shortest chain of references from one object to another (SOS PathToCommand),
 * in gcroot's chain layout, with the field that holds each next object.
 */
import { shortestPath } from '../../analysis/path-to';
import { UsageError } from '../../errors';
import { NO_OBJECT } from '../../heap/object-graph';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson } from '../format';
import type { Session } from '../session';
import { chainJson, chainLines } from './gcroot';
import { rootCache } from './root-cache';

/** The pathto command. */
export const pathtoCommand: Command = {
  name: 'pathto',
  aliases: [],
  summary: 'Shortest reference path from one object to another',
  usage: 'pathto <source> <target>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('pathto', args, [], []);
    if (opts.positional.length !== 2) throw new UsageError('pathto: expected a source and a target address');
    const source = addressArg('pathto', opts.positional[0], 'source address');
    const target = addressArg('pathto', opts.positional[1], 'target address');
    const graph = rootCache(session).graph;
    const s = graph.indexOf(source);
    const t = graph.indexOf(target);
    if (s === NO_OBJECT) throw new UsageError(`pathto: ${source.toString(16)} is not a valid object`);
    if (t === NO_OBJECT) throw new UsageError(`pathto: ${target.toString(16)} is not a valid object`);
    const found = shortestPath(graph, s, t);
    if (!found) return { text: 'No path found.', json: { source: hexJson(source), target: hexJson(target), chain: null } };
    const path = { root: { kind: 'strong' as const, address: 0, object: source, precise: true }, chain: found.nodes.map((index, k) => ({ index, edge: found.edges[k]! })) };
    return {
      text: chainLines(session, graph, path).join('\n'),
      json: { source: hexJson(source), target: hexJson(target), chain: chainJson(session, graph, path) },
    };
  },
};
