/**
 * `verifyheap`: walks the whole heap and every object's references; reports objects the walk could not pass,
 * objects whose references could not be read, and references that do not point at an object start.
 */
import { UsageError } from '../../errors';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson } from '../format';
import type { Session } from '../session';
import { rootCache } from './root-cache';

/** The verifyheap command. */
export const verifyheapCommand: Command = {
  name: 'verifyheap',
  aliases: [],
  summary: 'Check the heap walk and object references for corruption',
  usage: 'verifyheap',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('verifyheap', args, [], []);
    if (opts.positional.length) throw new UsageError(`verifyheap: unexpected argument "${opts.positional[0]}"`);
    const g = rootCache(session).graph;
    const p = g.problems;
    const lines: string[] = [];
    for (const w of p.walk) {
      const after = w.resumedAt !== undefined ? `; skipped to the next valid object at ${w.resumedAt.toString(16)}` : '; the rest of the segment is not walked';
      lines.push(`object ${w.address.toString(16)}: ${w.reason} (segment ${w.segment.address.toString(16)})${after}`);
    }
    for (const u of p.unreadable) lines.push(`object ${u.address.toString(16)}: references not readable: ${u.reason}`);
    if (p.unreadableCount > p.unreadable.length) lines.push(`${p.unreadableCount - p.unreadable.length} more objects whose references are not readable`);
    if (p.unresolvedReferences > 0) lines.push(`${p.unresolvedReferences} references do not point at the start of a heap object`);
    const ok = lines.length === 0;
    if (ok) lines.push(`No heap corruption detected (${g.count} objects, ${g.edgeCount} references).`);
    return {
      text: lines.join('\n'),
      json: {
        ok,
        objects: g.count,
        references: g.edgeCount,
        walkProblems: p.walk.map((w) => ({ address: hexJson(w.address), segment: hexJson(w.segment.address), reason: w.reason, resumedAt: w.resumedAt !== undefined ? hexJson(w.resumedAt) : null })),
        unreadable: p.unreadable.map((u) => ({ address: hexJson(u.address), reason: u.reason })),
        unreadableCount: p.unreadableCount,
        unresolvedReferences: p.unresolvedReferences,
      },
    };
  },
};
