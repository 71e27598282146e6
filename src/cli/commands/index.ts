/**
 * The command table: SOS names and aliases → command objects.
 */
import type { Command } from '../command';
import { dumpheapCommand } from './dumpheap';
import { eeheapCommand } from './eeheap';
import { infoCommand } from './info';
import { threadsCommand } from './threads';

/** Every command a dump session understands. */
export const COMMANDS: readonly Command[] = [infoCommand, threadsCommand, dumpheapCommand, eeheapCommand];

/** Finds a command by name or alias, case-insensitively, accepting WinDbg's leading `!`. */
export function findCommand(name: string): Command | undefined {
  const n = name.replace(/^!/, '').toLowerCase();
  return COMMANDS.find((c) => c.name === n || c.aliases.includes(n));
}
