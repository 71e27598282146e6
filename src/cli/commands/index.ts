/**
 * The command table: SOS names and aliases → command objects.
 */
import type { Command } from '../command';
import { dumpheapCommand } from './dumpheap';
import { eeheapCommand } from './eeheap';
import { infoCommand } from './info';
import { threadsCommand } from './threads';
import { ip2mdCommand } from './ip2md';
import { dumpmdCommand } from './dumpmd';
import { dumpdelegateCommand } from './dumpdelegate';
import { clrstackCommand } from './clrstack';
import { gchandlesCommand } from './gchandles';
import { gcrootCommand } from './gcroot';
import { finalizequeueCommand } from './finalizequeue';
import { objsizeCommand } from './objsize';
import { dumpstackobjectsCommand } from './dumpstackobjects';
import { verifyheapCommand } from './verifyheap';
import { pathtoCommand } from './pathto';
import { dumpobjCommand } from './dumpobj';
import { dumparrayCommand } from './dumparray';
import { dumpvcCommand } from './dumpvc';
import { dumpmtCommand } from './dumpmt';
import { uCommand } from './u';
import { clrmodulesCommand } from './clrmodules';
import { dumpdomainCommand } from './dumpdomain';
import { dumpmoduleCommand } from './dumpmodule';
import { dumpclassCommand } from './dumpclass';
import { name2eeCommand } from './name2ee';
import { analyzeCommand } from './analyze';
import { dominatorsCommand } from './dominators';
import { retainedCommand } from './retained';
import { gcinfoCommand } from './gcinfo';
import { osThreadsCommand } from './os-threads';
import { syncblkCommand } from './syncblk';
import { printexceptionCommand } from './printexception';
import { dumpexceptionsCommand } from './dumpexceptions';
import { threadpoolCommand } from './threadpool';
import { timerinfoCommand } from './timerinfo';
import { parallelstacksCommand } from './parallelstacks';
import { dumpasyncCommand } from './dumpasync';
import { gcwhereCommand } from './gcwhere';

/** Every command a dump session understands. */
export const COMMANDS: readonly Command[] = [
  analyzeCommand,
  infoCommand,
  threadsCommand,
  dumpheapCommand,
  eeheapCommand,
  dumpobjCommand,
  dumparrayCommand,
  dumpvcCommand,
  dumpmtCommand,
  dumpclassCommand,
  name2eeCommand,
  dumpmoduleCommand,
  clrmodulesCommand,
  dumpdomainCommand,
  ip2mdCommand,
  dumpmdCommand,
  dumpdelegateCommand,
  clrstackCommand,
  uCommand,
  gcinfoCommand,
  gchandlesCommand,
  gcrootCommand,
  finalizequeueCommand,
  objsizeCommand,
  dumpstackobjectsCommand,
  verifyheapCommand,
  pathtoCommand,
  dominatorsCommand,
  retainedCommand,
  osThreadsCommand,
  syncblkCommand,
  printexceptionCommand,
  dumpexceptionsCommand,
  threadpoolCommand,
  timerinfoCommand,
  parallelstacksCommand,
  dumpasyncCommand,
  gcwhereCommand,
];

/** Finds a command by name or alias, case-insensitively, accepting WinDbg's leading `!`. */
export function findCommand(name: string): Command | undefined {
  const n = name.replace(/^!/, '').toLowerCase();
  return COMMANDS.find((c) => c.name === n || c.aliases.includes(n));
}
