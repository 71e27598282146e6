/**
 * `threads` / `setthread`: the dump's OS threads, as dotnet-dump prints them (`*0 0x085B (2139)`), and the current
 * thread. dotnet-dump's meaning wins over the old dumpsleuth spelling (`threads` was the managed list, now
 * `clrthreads`), so commands pasted from a dotnet-dump session mean the same here.
 */
import { UsageError } from '../../errors';
import { numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import type { Session } from '../session';

/** The threads/setthread command. */
export const osThreadsCommand: Command = {
  name: 'threads',
  aliases: ['setthread'],
  summary: 'List the OS threads of the dump (current one marked *), or set the current thread',
  usage: 'threads [<index> | -tid <os thread id>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('threads', args, [], ['tid']);
    const threads = session.dump.threads;
    const tid = opts.values.get('tid');
    const index = opts.positional[0];
    if (opts.positional.length > 1) throw new UsageError('threads: one thread index at most');
    if (tid !== undefined || index !== undefined) {
      let chosen: number;
      if (tid !== undefined) {
        const id = numberArg('threads', tid, 'OS thread id');
        chosen = threads.findIndex((t) => t.tid === id);
        if (chosen < 0) throw new UsageError(`threads: no thread with OS id ${id} (0x${id.toString(16)}) in the dump`);
      } else {
        chosen = numberArg('threads', index!, 'thread index');
        if (chosen >= threads.length) throw new UsageError(`threads: no thread ${chosen} (the dump has ${threads.length})`);
      }
      session.currentThread = chosen;
      // dotnet-dump prints nothing when it sets the thread.
      return { text: '', json: { current: chosen, osId: threads[chosen]!.tid } };
    }
    const current = session.currentThread;
    const lines = threads.map((t, i) => `${i === current ? '*' : ' '}${i} 0x${t.tid.toString(16).toUpperCase().padStart(4, '0')} (${t.tid})`);
    return {
      text: lines.join('\n'),
      json: { current, threads: threads.map((t, i) => ({ index: i, osId: t.tid, current: i === current })) },
    };
  },
};
