/**
 * Finds a command by loading only its own module: the full table (./commands) loads every command and what they use
 * (the graph, roots, analysis rules...), about half of a single-object command's start-up (issue 16). A name that is
 * not in `MODULE_OF` (a command added without an entry here) falls back to the full table, so a missing entry costs
 * time, never an answer; a unit test checks the entries against the table.
 */
import type { Command } from './command';

/* eslint-disable @typescript-eslint/no-require-imports -- loading on demand is the point of this file */
type CommandModule = Record<string, unknown>;

/** Command name or alias (lower case) → its module. Explicit requires, so bundlers see every module. */
export const MODULE_OF: Readonly<Record<string, () => CommandModule>> = {
  dumpheap: () => require('./commands/dumpheap'),
  eeheap: () => require('./commands/eeheap'),
  info: () => require('./commands/info'),
  eeversion: () => require('./commands/info'),
  clrthreads: () => require('./commands/threads'),
  ip2md: () => require('./commands/ip2md'),
  dumpmd: () => require('./commands/dumpmd'),
  dumpdelegate: () => require('./commands/dumpdelegate'),
  clrstack: () => require('./commands/clrstack'),
  gchandles: () => require('./commands/gchandles'),
  finalizequeue: () => require('./commands/finalizequeue'),
  fq: () => require('./commands/finalizequeue'),
  objsize: () => require('./commands/objsize'),
  dumpstackobjects: () => require('./commands/dumpstackobjects'),
  dso: () => require('./commands/dumpstackobjects'),
  dumpobj: () => require('./commands/dumpobj'),
  do: () => require('./commands/dumpobj'),
  dumparray: () => require('./commands/dumparray'),
  dumpvc: () => require('./commands/dumpvc'),
  dumpmt: () => require('./commands/dumpmt'),
  u: () => require('./commands/u'),
  clru: () => require('./commands/u'),
  clrmodules: () => require('./commands/clrmodules'),
  assemblies: () => require('./commands/clrmodules'),
  dumpdomain: () => require('./commands/dumpdomain'),
  dumpmodule: () => require('./commands/dumpmodule'),
  dumpclass: () => require('./commands/dumpclass'),
  name2ee: () => require('./commands/name2ee'),
  gcinfo: () => require('./commands/gcinfo'),
  threads: () => require('./commands/os-threads'),
  setthread: () => require('./commands/os-threads'),
  syncblk: () => require('./commands/syncblk'),
  printexception: () => require('./commands/printexception'),
  pe: () => require('./commands/printexception'),
  dumpexceptions: () => require('./commands/dumpexceptions'),
  threadpool: () => require('./commands/threadpool'),
  tp: () => require('./commands/threadpool'),
  gcroot: () => require('./commands/gcroot'),
  verifyheap: () => require('./commands/verifyheap'),
  pathto: () => require('./commands/pathto'),
  analyze: () => require('./commands/analyze'),
  leaks: () => require('./commands/analyze'),
  dominators: () => require('./commands/dominators'),
  retainers: () => require('./commands/dominators'),
  retained: () => require('./commands/retained'),
  gcwhere: () => require('./commands/gcwhere'),
};

function isCommand(v: unknown): v is Command {
  return typeof v === 'object' && v !== null && typeof (v as Command).name === 'string' && Array.isArray((v as Command).aliases) && typeof (v as Command).run === 'function';
}

/** The command table with every command (help lists, unknown names). */
export function allCommands(): readonly Command[] {
  return (require('./commands') as typeof import('./commands')).COMMANDS;
}

/** Finds a command by name or alias, case-insensitively, accepting WinDbg's leading `!`, loading as little as it can. */
export function findCommandLazily(name: string): Command | undefined {
  const n = name.replace(/^!/, '').toLowerCase();
  const load = Object.prototype.hasOwnProperty.call(MODULE_OF, n) ? MODULE_OF[n] : undefined;
  if (load !== undefined) {
    for (const v of Object.values(load())) if (isCommand(v) && (v.name === n || v.aliases.includes(n))) return v;
  }
  return (require('./commands') as typeof import('./commands')).findCommand(name);
}
