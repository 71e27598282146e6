/**
 * `dominators [-type <substring>] [-limit N]`: the objects and the types that retain the most memory, from the
 * dominator tree over the strong roots (see analysis-context.ts for what counts as retention). A type's retained size
 * counts each object of the type once: objects dominated by another object of the same type add nothing of their own.
 */
import type { AnalysisContext } from '../../analysis/analysis-context';
import { retainedByTypeId } from '../../analysis/retained-by-type';
import { UsageError } from '../../errors';
import { numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, n0, right, x12 } from '../format';
import type { Session } from '../session';
import { analysisContextOf } from './analyze';

const DEFAULT_LIMIT = 20;

/** Per type: objects, their own bytes, and the bytes they retain (nested objects of the same type counted once). */
export interface TypeRetention {
  readonly mt: number;
  readonly count: number;
  readonly size: number;
  readonly retained: number;
}

/** Retained bytes per type over the dominator tree (one iterative pass over the tree; see retained-by-type.ts). */
export function retainedByType(ctx: AnalysisContext, accept: (mt: number) => boolean): TypeRetention[] {
  const g = ctx.graph;
  const tree = ctx.dominatorTree;
  const retained = ctx.retainedSizes;
  const typeId = new Map<number, number>();
  const ids = new Int32Array(g.count);
  for (let i = 0; i < g.count; i++) {
    const mt = g.mtOf(i);
    let id = typeId.get(mt);
    if (id === undefined) typeId.set(mt, (id = typeId.size));
    ids[i] = id;
  }
  const { count, size, retained: kept } = retainedByTypeId(tree, retained, g.sizes, ids, typeId.size);
  const out: TypeRetention[] = [];
  for (const [mt, id] of typeId) if (count[id]! > 0 && accept(mt)) out.push({ mt, count: count[id]!, size: size[id]!, retained: kept[id]! });
  return out.sort((a, b) => b.retained - a.retained);
}

/** The dominators command. */
export const dominatorsCommand: Command = {
  name: 'dominators',
  aliases: ['retainers'],
  summary: 'Top objects and types by retained size (dominator tree over the strong roots)',
  usage: 'dominators [-type <substring>] [-limit <n>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dominators', args, [], ['type', 'limit']);
    if (opts.positional.length > 0) throw new UsageError(`dominators: unexpected argument "${opts.positional[0]}"`);
    const limit = opts.values.has('limit') ? numberArg('dominators', opts.values.get('limit')!, 'limit') : DEFAULT_LIMIT;
    const filter = opts.values.get('type');
    const ctx = analysisContextOf(session);
    const g = ctx.graph;
    const retained = ctx.retainedSizes;
    const name = (mt: number) => session.names.clrmdName(mt);
    const accept = (mt: number) => filter === undefined || name(mt).includes(filter);
    // Top objects: a bounded selection (limit is small next to the heap).
    const top: number[] = [];
    for (let i = 0; i < g.count; i++) {
      if (retained[i] === 0 || !accept(g.mtOf(i))) continue;
      if (top.length < limit) {
        top.push(i);
        if (top.length === limit) top.sort((a, b) => retained[b]! - retained[a]!);
      } else if (retained[i]! > retained[top[limit - 1]!]!) {
        let at = limit - 1;
        while (at > 0 && retained[top[at - 1]!]! < retained[i]!) at--;
        top.splice(at, 0, i);
        top.pop();
      }
    }
    if (top.length < limit) top.sort((a, b) => retained[b]! - retained[a]!);
    const types = retainedByType(ctx, accept).slice(0, limit);
    const liveBytes = ctx.retainedSizes.length > 0 ? sumLive(ctx) : 0;
    const lines: string[] = [`Live: ${n0(ctx.dominatorTree.reachableCount)} objects, ${n0(liveBytes)} bytes (reachable from ${n0(ctx.roots.length)} strong roots)`, ''];
    lines.push('Top objects by retained size:');
    lines.push(`${right('Address', 16)} ${right('MT', 16)} ${right('Size', 12)} ${right('Retained', 14)} ${right('%', 6)} Type`);
    for (const i of top) {
      lines.push(`${right(x12(g.addresses[i]!), 16)} ${right(x12(g.mtOf(i)), 16)} ${right(n0(g.sizes[i]!), 12)} ${right(n0(retained[i]!), 14)} ${right(pct(retained[i]!, liveBytes), 6)} ${name(g.mtOf(i))}`);
    }
    lines.push('', 'Top types by retained size:');
    lines.push(`${right('MT', 16)} ${right('Count', 10)} ${right('Size', 14)} ${right('Retained', 14)} ${right('%', 6)} Type`);
    for (const t of types) lines.push(`${right(x12(t.mt), 16)} ${right(n0(t.count), 10)} ${right(n0(t.size), 14)} ${right(n0(t.retained), 14)} ${right(pct(t.retained, liveBytes), 6)} ${name(t.mt)}`);
    return {
      text: lines.join('\n'),
      json: {
        liveObjects: ctx.dominatorTree.reachableCount,
        liveBytes,
        objects: top.map((i) => ({ address: hexJson(g.addresses[i]!), mt: hexJson(g.mtOf(i)), type: name(g.mtOf(i)), size: g.sizes[i]!, retained: retained[i]! })),
        types: types.map((t) => ({ mt: hexJson(t.mt), type: name(t.mt), count: t.count, size: t.size, retained: t.retained })),
      },
    };
  },
};

/** Bytes of all live objects (the sum of the root objects' retained sizes). */
function sumLive(ctx: AnalysisContext): number {
  const tree = ctx.dominatorTree;
  let total = 0;
  for (let k = 0; k < tree.preorder.length; k++) total += ctx.graph.sizes[tree.preorder[k]!]!;
  return total;
}

function pct(part: number, whole: number): string {
  return whole > 0 ? ((100 * part) / whole).toFixed(1) : '0.0';
}
