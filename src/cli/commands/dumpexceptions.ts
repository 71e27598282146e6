/**
 * `dumpexceptions`: every exception object on the GC heap with its message and the first frame of its stack trace,
 * in the layout of SOS's DumpExceptionsCommand (ClrMD type names and frame text).
 */
import { UsageError } from '../../errors';
import { forEachObject } from '../../heap/heap-walker';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, right, x12 } from '../format';
import type { Session } from '../session';
import { exceptionReader, frameMethodName } from './exception-text';

/** The dumpexceptions command. */
export const dumpexceptionsCommand: Command = {
  name: 'dumpexceptions',
  aliases: [],
  summary: 'Every exception object on the heap, with its message and where it was thrown',
  usage: 'dumpexceptions [-type <name part>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpexceptions', args, [], ['type']);
    if (opts.positional.length) throw new UsageError(`dumpexceptions: unexpected argument "${opts.positional[0]}"`);
    const typeFilter = opts.values.get('type')?.toLowerCase();
    const reader = exceptionReader(session);
    const heap = session.heap;
    const found: number[] = [];
    const problems = forEachObject(heap, session.methodTables, session.runtime.memory, (address, mt) => {
      if (mt !== heap.freeObjectMethodTable && reader.isExceptionType(mt)) found.push(address);
    });
    if (problems.length) session.warn(`the heap walk met ${problems.length} unreadable object(s); exceptions among them are not listed`);
    const lines = ['         Address      MethodTable Message Name'];
    const rows: unknown[] = [];
    for (const address of found) {
      const ex = reader.read(address);
      const name = session.names.clrmdName(ex.methodTable);
      if (typeFilter !== undefined && !name.toLowerCase().includes(typeFilter)) continue;
      lines.push(`${right(x12(address), 16)} ${right(x12(ex.methodTable), 16)} ${name}`);
      lines.push(`        Message: ${ex.message ?? '<null>'}`);
      const top = ex.stackTrace[0];
      const frame = top === undefined ? undefined : (frameMethodName(session, top) ?? 'Unknown');
      if (frame !== undefined) lines.push(`        StackFrame: ${frame}`);
      rows.push({ address: hexJson(address), methodTable: hexJson(ex.methodTable), type: name, message: ex.message ?? null, stackFrame: frame ?? null });
    }
    lines.push('', `    Total: ${rows.length} objects`);
    return { text: lines.join('\n'), json: { exceptions: rows, total: rows.length } };
  },
};
