/**
 * `help <command>` and `<command> -h`: per-command help in SOS's manner (usage, each option explained, an example,
 * the SOS command it answers like). Kept apart from the commands so help text does not crowd their code; a new
 * command may instead carry its own `help` field. A test fails when a registered command has neither, so a new
 * command cannot ship without help.
 */
import type { Command } from '../command';

/** The help of one command. */
export interface CommandHelp {
  /** Each option or argument with one line saying what it does. */
  readonly options: readonly (readonly [string, string])[];
  /** Example command lines (without `dumpsleuth <dump>`), placeholders in <angle brackets>. */
  readonly examples: readonly string[];
  /** The SOS/dotnet-dump command that answers the same question, or why there is none. */
  readonly sos: string;
  /** Notes: how the answer differs from SOS, what it needs from the dump. */
  readonly notes?: string;
}

/** Help entries by command name (the name in the command table, not an alias). New commands append an entry. */
export const COMMAND_HELP: Record<string, CommandHelp> = {
  analyze: {
    options: [
      ['-rule <id>', 'run one rule only (ids: analyze -list)'],
      ['-list', 'list the rules with one line each and exit'],
      ['-limit <n>', 'show at most n findings'],
      ['--user-assembly <name>[,<name>...]', 'count these assemblies as user code when blaming a method (default: every assembly outside the shared framework)'],
    ],
    examples: ['analyze', 'analyze -rule finished-but-alive', 'analyze -list'],
    sos: 'none: SOS has the pieces (gcroot, dumpdelegate, dumpmd), analyze chains them',
    notes: 'Each finding lists the SOS commands that prove it by hand (its "Verify" lines).',
  },
  info: {
    options: [],
    examples: ['info'],
    sos: 'eeversion (runtime version); the rest (GC mode, contracts, missing pages) has no single SOS command',
  },
  threads: {
    options: [
      ['<index>', 'make thread <index> (the number before the OS id) the current thread'],
      ['-tid <os id>', 'make the thread with this OS thread id (decimal, or hex with 0x) the current thread'],
    ],
    examples: ['threads', 'setthread 3'],
    sos: 'threads / setthread (dotnet-dump): OS threads of the dump, the current one marked *',
    notes: 'The current thread is what clrstack shows without -t or -all. The managed thread list is clrthreads.',
  },
  clrthreads: {
    options: [['-live', 'only threads that are alive (have an OS thread in the dump)']],
    examples: ['clrthreads', 'clrthreads -live'],
    sos: 'clrthreads',
  },
  dumpheap: {
    options: [
      ['-stat', 'per-type statistics (MT, count, total size) instead of one line per object'],
      ['-type <substring>', 'only types whose name (as dumpheap prints it) contains the substring'],
      ['-mt <MethodTable>', 'only objects of this MethodTable'],
      ['-min <size>', 'only objects of at least this size in bytes'],
      ['-max <size>', 'only objects of at most this size in bytes'],
      ['-short', 'print object addresses only'],
      ['-strings', 'string statistics: count, total size and value of each distinct string'],
      ['-bycount', 'with -stat: sort by count instead of total size'],
      ['-live', 'only objects reachable from a root'],
      ['-dead', 'only objects no root reaches (garbage not yet collected)'],
    ],
    examples: ['dumpheap -stat', 'dumpheap -type System.Threading.Thread -min 70', 'dumpheap -mt <MethodTable> -short'],
    sos: 'dumpheap',
  },
  eeheap: {
    options: [
      ['-gc', 'the GC heaps: regions or segments per generation with begin, allocated, committed'],
      ['-loader', 'the loader heaps (not implemented yet: says so)'],
    ],
    examples: ['eeheap -gc'],
    sos: 'eeheap -gc',
  },
  dumpobj: {
    options: [
      ['<object address>', 'the object (hex, with or without 0x)'],
      ['-nofields', 'type, size and file only, no field table'],
    ],
    examples: ['dumpobj <address>', 'do <address>'],
    sos: 'dumpobj (do)',
  },
  dumparray: {
    options: [
      ['<array address>', 'the array object'],
      ['-start <index>', 'first element to show'],
      ['-length <count>', 'number of elements to show'],
      ['-details', 'show the fields of each element (value types) or object'],
      ['-nofields', 'with -details: the element header only'],
    ],
    examples: ['dumparray <array address>', 'dumparray -start 0 -length 10 <array address>'],
    sos: 'dumparray (SOS\'s da alias is left out: in dotnet-dump, da dumps memory as strings)',
  },
  dumpvc: {
    options: [
      ['<MethodTable>', 'the value type\'s MethodTable'],
      ['<address>', 'where the value is stored (e.g. a field\'s address)'],
    ],
    examples: ['dumpvc <MethodTable> <address>'],
    sos: 'dumpvc',
  },
  dumpmt: {
    options: [
      ['<MethodTable>', 'the MethodTable address'],
      ['-md', 'also list the methods (MethodDesc table)'],
    ],
    examples: ['dumpmt <MethodTable>', 'dumpmt -md <MethodTable>'],
    sos: 'dumpmt',
  },
  dumpclass: {
    options: [['<MethodTable or EEClass>', 'the class to show']],
    examples: ['dumpclass <MethodTable>'],
    sos: 'dumpclass',
  },
  name2ee: {
    options: [
      ['<module|*>', 'a module address or file name, or * for every module'],
      ['<Namespace.Type[+Nested][.Member]>', 'the type, or type.method, to find'],
    ],
    examples: ["name2ee '*' System.String", "name2ee '*' System.String.Concat"],
    sos: 'name2ee',
  },
  dumpmodule: {
    options: [
      ['<Module address>', 'the module (from clrmodules -v or dumpdomain)'],
      ['-mt', 'also list the MethodTables of the types it defines and references'],
    ],
    examples: ['dumpmodule <Module address>', 'dumpmodule -mt <Module address>'],
    sos: 'dumpmodule',
  },
  clrmodules: {
    options: [
      ['-v', 'verbose: module address, assembly, and layout of each module'],
      ['-n <regex>', 'only modules whose file name matches'],
    ],
    examples: ['clrmodules', 'clrmodules -v -n Debuggees'],
    sos: 'clrmodules (assemblies)',
  },
  dumpdomain: {
    options: [['<Domain address>', 'one domain (default: all)']],
    examples: ['dumpdomain'],
    sos: 'dumpdomain',
  },
  ip2md: {
    options: [['<code address>', 'an instruction address inside JIT\'d or ReadyToRun code']],
    examples: ['ip2md <code address>'],
    sos: 'ip2md',
  },
  dumpmd: {
    options: [['<MethodDesc address>', 'the MethodDesc to show']],
    examples: ['dumpmd <MethodDesc>'],
    sos: 'dumpmd',
  },
  dumpdelegate: {
    options: [['<delegate address>', 'a delegate object (single or multicast)']],
    examples: ['dumpdelegate <address>'],
    sos: 'dumpdelegate',
  },
  clrstack: {
    options: [
      ['-all', 'every managed thread'],
      ['-t <OS thread id>', 'the thread with this OS id (hex); default: the current thread (see threads/setthread)'],
      ['-p', 'each frame\'s arguments: name, location (stack address or <CLR reg>) and value, <no data> where the debug info has none'],
      ['-l', 'each frame\'s locals (by location; SOS has no local names)'],
      ['-a', 'arguments and locals (-p and -l)'],
      ['-n', 'no source lines (by default a frame whose module has its portable PDB next to it or under --image-path shows [file @ line])'],
    ],
    examples: ['clrstack', 'clrstack -all', 'clrstack -a -t 4e32'],
    sos: 'clrstack',
  },
  u: {
    options: [
      ['<code address or MethodDesc>', 'the method to disassemble'],
      ['-n', 'no annotations (call targets, names of referenced methods and fields)'],
    ],
    examples: ['u <MethodDesc>'],
    sos: 'clru (u in WinDbg)',
  },
  gcinfo: {
    options: [['<code address or MethodDesc>', 'the method whose GC info to decode']],
    examples: ['gcinfo <MethodDesc>'],
    sos: 'gcinfo',
  },
  gchandles: {
    options: [
      ['-stat', 'per-type statistics and per-kind counts only'],
      ['-type <kind>', 'only handles of this kind (strong, pinned, weakshort, weaklong, dependent, ...)'],
      ['-perdomain', 'group by AppDomain'],
    ],
    examples: ['gchandles -stat', 'gchandles -type pinned'],
    sos: 'gchandles',
  },
  gcroot: {
    options: [
      ['<address>', 'the object whose roots to find'],
      ['-all', 'every path, not only one per root'],
      ['-nostacks', 'skip stack roots'],
      ['-limit <n>', 'stop after n roots'],
    ],
    examples: ['gcroot <address>', 'gcroot -nostacks <address>'],
    sos: 'gcroot',
    notes: 'Stack roots are precise (GC info); a thread whose stack cannot be fully decoded is scanned conservatively and those roots are labelled so.',
  },
  finalizequeue: {
    options: [
      ['-stat', 'statistics only'],
      ['-short', 'addresses only'],
      ['-allReady', 'only the objects ready for finalization'],
      ['-detail', 'accepted as in SOS; no effect yet'],
      ['-summary', 'same as -stat'],
      ['-mt <MethodTable>', 'only objects of this MethodTable'],
    ],
    examples: ['finalizequeue -stat', 'fq -allReady'],
    sos: 'finalizequeue (fq)',
  },
  objsize: {
    options: [
      ['<address>', 'the object'],
      ['-stat', 'per-type statistics of what it keeps alive'],
      ['-short', 'addresses only'],
    ],
    examples: ['objsize <address>'],
    sos: 'objsize',
  },
  dumpstackobjects: {
    options: [
      ['<OS thread id>', 'the thread (hex); default: every thread'],
      ['-verify', 'accepted as in SOS; no effect (every listed object is a validated heap object)'],
    ],
    examples: ['dumpstackobjects', 'dso'],
    sos: 'dumpstackobjects (dso)',
  },
  verifyheap: {
    options: [],
    examples: ['verifyheap'],
    sos: 'verifyheap',
  },
  pathto: {
    options: [
      ['<source>', 'the object the path starts at'],
      ['<target>', 'the object it should reach'],
    ],
    examples: ['pathto <source address> <target address>'],
    sos: 'pathto',
  },
  dominators: {
    options: [
      ['-type <substring>', 'only types whose name contains the substring'],
      ['-limit <n>', 'show at most n objects and types'],
    ],
    examples: ['dominators', 'dominators -type Gateway -limit 5'],
    sos: 'none (ClrMD and PerfView compute dominators; SOS does not)',
  },
  retained: {
    options: [
      ['<address>', 'the object'],
      ['-limit <n>', 'show at most n dominated objects'],
    ],
    examples: ['retained <address>'],
    sos: 'none; objsize gives the reachable size, which over-counts shared objects',
  },
  syncblk: {
    options: [
      ['-all', 'also list sync blocks no thread holds (SOS lists only held ones by default)'],
      ['<index>', 'show one sync block by its index in the sync block table'],
    ],
    examples: ['syncblk', 'syncblk -all', 'syncblk 3'],
    sos: 'syncblk (same columns: Index, SyncBlock, MonitorHeld, Recursion, Owning Thread Info, SyncBlock Owner)',
    notes: 'MonitorHeld counts 1 for the owner plus 2 per waiting thread, as in SOS. System.Threading.Lock owners are in analyze\'s deadlock rule.',
  },
  printexception: {
    options: [
      ['<exception address>', "the exception object (default: the current thread's last thrown exception)"],
      ['-nested', "also the thread's nested exceptions (exceptions thrown while another was in flight)"],
      ['-lines', 'accepted for SOS compatibility; source lines need PDBs, which dumpsleuth does not read'],
    ],
    examples: ['printexception', 'pe <address>', 'pe -nested'],
    sos: 'printexception / pe (same fields: Address, Exception object, Exception type, Message, InnerException, StackTrace, HResult)',
  },
  dumpexceptions: {
    options: [['-type <name part>', 'only exception types whose name contains this text']],
    examples: ['dumpexceptions', 'dumpexceptions -type InvalidOperation'],
    sos: 'dumpexceptions (dotnet-dump)',
  },
  threadpool: {
    options: [['-wi', "also list the queued work items: the global queues' and each worker's local queue's (SOS labels them all [Global]; --json says which queue and the method each will run)"]],
    examples: ['threadpool', 'tp -wi'],
    sos: 'threadpool (portable thread pool: worker counts and limits; -wi lists the global and local queues)',
  },
};

/** The help of a command (its own `help` field, else its entry here), or undefined when it has none (the help test
 * fails then). */
export function helpOf(command: Command): CommandHelp | undefined {
  if (command.help !== undefined) return command.help;
  return Object.prototype.hasOwnProperty.call(COMMAND_HELP, command.name) ? COMMAND_HELP[command.name] : undefined;
}

/** The text `help <command>` prints: name and aliases, summary, usage, options, examples, SOS equivalent. */
export function commandHelpText(command: Command): string {
  const help = helpOf(command);
  const lines = [`${[command.name, ...command.aliases].join(', ')}: ${command.summary}`, '', 'Usage:', `  ${command.usage}`];
  if (help !== undefined) {
    if (help.options.length > 0) {
      lines.push('', 'Options:');
      const width = Math.min(36, Math.max(...help.options.map(([o]) => o.length)));
      for (const [option, text] of help.options) {
        lines.push(option.length > width ? `  ${option}\n  ${' '.repeat(width)}  ${text}` : `  ${option.padEnd(width)}  ${text}`);
      }
    }
    lines.push('', 'Examples:', ...help.examples.map((e) => `  ${e}`));
    lines.push('', `SOS: ${help.sos}`);
    if (help.notes !== undefined) lines.push('', help.notes);
  }
  lines.push('', 'Any command takes --json (one JSON document) and -h/--help (this text).');
  return lines.join('\n');
}
