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

/** Every command a dump session understands. */
export const COMMANDS: readonly Command[] = [
  infoCommand,
  threadsCommand,
  dumpheapCommand,
  eeheapCommand,
  ip2mdCommand,
  dumpmdCommand,
  dumpdelegateCommand,
  clrstackCommand,
];

/** Finds a command by name or alias, case-insensitively, accepting WinDbg's leading `!`. */
export function findCommand(name: string): Command | undefined {
  const n = name.replace(/^!/, '').toLowerCase();
  return COMMANDS.find((c) => c.name === n || c.aliases.includes(n));
}
