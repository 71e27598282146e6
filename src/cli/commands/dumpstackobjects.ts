/**
 * `dumpstackobjects` (`dso`): the objects each thread's stack words and registers point at (object starts only,
 * as SOS's dso), found by scanning from the saved stack pointer to the end of the stack mapping.
 */
import { UsageError } from '../../errors';
import { scanStackConservatively, stackMappingEnd } from '../../heap/conservative-stack-roots';
import { isLiveThread } from '../../heap/roots';
import { readThreads } from '../../runtime/thread-store';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, right, x12 } from '../format';
import type { Session } from '../session';
import { rootCache } from './root-cache';

/** The dumpstackobjects command. */
export const dumpstackobjectsCommand: Command = {
  name: 'dumpstackobjects',
  aliases: ['dso'],
  summary: 'Objects referenced from thread stacks and registers',
  usage: 'dumpstackobjects [<OS thread id (hex)>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpstackobjects', args, ['verify'], []);
    const only = opts.positional[0] !== undefined ? parseInt(opts.positional[0], 16) : undefined;
    if (only !== undefined && !Number.isSafeInteger(only)) throw new UsageError(`dumpstackobjects: "${opts.positional[0]}" is not a hex thread id`);
    const graph = rootCache(session).graph;
    const cores = new Map(session.dump.threads.map((c) => [c.tid, c]));
    const lines: string[] = [];
    const json: { thread: number; objects: { location: string; object: string; type: string }[] }[] = [];
    for (const t of readThreads(session.runtime)) {
      if (!isLiveThread(t) || (only !== undefined && t.osId !== only)) continue;
      const core = cores.get(t.osId);
      if (!core) continue;
      const roots = scanStackConservatively(session.runtime.memory, graph, core, stackMappingEnd(session.dump.segments, core.stackPointer), {
        freeMethodTable: session.heap.freeObjectMethodTable,
      });
      lines.push(`OS Thread Id: 0x${t.osId.toString(16)} (${t.managedId})`, `${right('SP/REG', 16)} ${right('Object', 16)} Name`);
      const entry = { thread: t.osId, objects: [] as { location: string; object: string; type: string }[] };
      for (const r of roots) {
        const i = graph.indexOf(r.object);
        const name = session.names.clrmdName(graph.mtOf(i));
        const location = r.register ?? x12(r.address);
        lines.push(`${right(location, 16)} ${right(x12(r.object), 16)} ${name}`);
        entry.objects.push({ location: r.register ?? hexJson(r.address), object: hexJson(r.object), type: name });
      }
      lines.push('');
      json.push(entry);
    }
    return { text: lines.join('\n').trimEnd(), json: { threads: json } };
  },
};
