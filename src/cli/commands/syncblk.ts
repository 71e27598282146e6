/**
 * `syncblk`: the sync block table's Monitor state (owner, recursion, waiters, the object), in SOS's layout
 * (strike.cpp SyncBlk). Without `-all` only held entries are listed; with an index only that entry.
 */
import { UsageError } from '../../errors';
import { managedLockReader } from '../../heap/managed-lock';
import { readSyncBlocks, type SyncBlockEntry } from '../../runtime/sync-block-table';
import { readThreads } from '../../runtime/thread-store';
import { numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper, right } from '../format';
import type { Session } from '../session';
import { objectReaderOf } from './object-text';

/** The syncblk command. */
export const syncblkCommand: Command = {
  name: 'syncblk',
  aliases: [],
  summary: 'Sync blocks: which thread holds each Monitor, its recursion and how many threads wait',
  usage: 'syncblk [-all] [<index>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('syncblk', args, ['all'], []);
    if (opts.positional.length > 1) throw new UsageError(`syncblk: unexpected argument "${opts.positional[1]}"`);
    const asked = opts.positional.length === 1 ? numberArg('syncblk', opts.positional[0]!, 'index') : 0;
    const all = opts.flags.has('all');
    const rt = session.runtime;
    const entries = readSyncBlocks(rt, managedLockReader(objectReaderOf(session), session.names));
    const threads = readThreads(rt);
    const byManagedId = new Map(threads.filter((t) => !t.isDead).map((t) => [t.managedId, t]));
    const dbgIndex = new Map(session.dump.threads.map((t, i) => [t.tid, i]));
    const lines = ['Index         SyncBlock MonitorHeld Recursion Owning Thread Info          SyncBlock Owner'];
    const listed: SyncBlockEntry[] = [];
    for (const e of entries) {
      if (asked !== 0 && e.index !== asked) continue;
      if (!(all || e.index === asked || (e.monitorHeld > 0 && !e.isFree))) continue;
      listed.push(e);
      const owner = e.holdingThreadId !== 0 ? byManagedId.get(e.holdingThreadId) : undefined;
      let row = `${right(String(e.index), 5)} ${p16Upper(e.isFree ? 0 : e.syncBlock)}  ${right(String(e.monitorHeld), 11)} ${right(String(e.recursion), 9)} ${p16Upper(owner?.address ?? 0)} `;
      if (owner !== undefined) {
        const dbg = dbgIndex.get(owner.osId);
        // SOS prints the OS id unpadded (%x) and the debugger index in 4 columns.
        row += `${owner.osId.toString(16)}${dbg === undefined ? ' XXX' : right(String(dbg), 4)} `;
      } else if (e.holdingThreadId !== 0) {
        session.warnings.push(`sync block ${e.index} is held by managed thread id ${e.holdingThreadId}, which is not in the ThreadStore`);
        row += ' orphaned ';
      } else {
        row += '    none  ';
      }
      row += e.isFree ? `  ${right('0', 8)} Free` : `  ${p16(e.object)} ${objectName(session, e.object)}`;
      lines.push(row);
    }
    lines.push('-----------------------------');
    lines.push(`Total           ${entries.length}`);
    lines.push(`Free            ${entries.filter((e) => e.isFree).length}`);
    const json = {
      total: entries.length,
      free: entries.filter((e) => e.isFree).length,
      syncBlocks: listed.map((e) => {
        const owner = e.holdingThreadId !== 0 ? byManagedId.get(e.holdingThreadId) : undefined;
        return {
          index: e.index,
          syncBlock: hexJson(e.syncBlock),
          free: e.isFree,
          monitorHeld: e.monitorHeld,
          recursion: e.recursion,
          waiters: e.waiterCount,
          owningThread: owner ? { address: hexJson(owner.address), managedId: owner.managedId, osId: owner.osId } : null,
          object: e.isFree ? null : hexJson(e.object),
          type: e.isFree ? null : objectName(session, e.object),
        };
      }),
    };
    return { text: lines.join('\n'), json };
  },
};

function objectName(session: Session, object: number): string {
  try {
    const raw = session.runtime.memory.readPointer(object);
    return session.names.dacName(raw - (raw % 8));
  } catch {
    return '<unknown type>';
  }
}
