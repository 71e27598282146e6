/**
 * The tools `dumpsleuth mcp` offers: opening and closing dumps, `analyze` with named options, and every command of
 * the command table as a tool of its own (generated, so a command added to the table is a tool at once). A tool
 * needing more than "dump + arguments" appends an entry to MCP_EXTRA_TOOLS.
 */
import { COMMANDS, findCommand } from '../commands';
import type { Command } from '../command';
import { UsageError } from '../../errors';
import { Session } from '../session';

/** A JSON schema object (the subset tools use). */
export type JsonSchema = Record<string, unknown>;

/** What the tools share: the open dumps, by path. */
export class McpDumps {
  private readonly sessions = new Map<string, Session>();

  /** The session of `path`, opened on first use. @throws DumpsleuthError for a file that is not a readable dump. */
  get(path: string, imagePath?: string): Session {
    if (typeof path !== 'string' || path === '') throw new UsageError('"dump" (the dump file path) is required');
    let s = this.sessions.get(path);
    if (!s) {
      s = Session.open(path, imagePath !== undefined ? { imagePath } : {});
      this.sessions.set(path, s);
    }
    return s;
  }

  /** Closes one dump; false when it was not open. */
  close(path: string): boolean {
    const s = this.sessions.get(path);
    if (!s) return false;
    s.close();
    this.sessions.delete(path);
    return true;
  }

  /** The paths of the open dumps. */
  get open(): string[] {
    return [...this.sessions.keys()];
  }

  closeAll(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}

/** One MCP tool: its name, description, input schema, and what it does (returns a JSON-able document). */
export interface McpTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: JsonSchema;
  call(dumps: McpDumps, args: Record<string, unknown>): Record<string, unknown>;
}

const DUMP_PROPERTY = { type: 'string', description: 'Path of the dump file (a Linux core dump of a .NET process)' };

/** Runs a command on a session and returns its JSON document with the command's warnings. */
export function runCommandJson(session: Session, cmd: Command, args: readonly string[]): Record<string, unknown> {
  session.takeWarnings();
  const result = cmd.run(session, args);
  const warnings = session.takeWarnings();
  const truncation = session.dump.truncation;
  if (truncation !== undefined && !warnings.includes(truncation)) warnings.unshift(truncation);
  const json = result.json;
  return typeof json === 'object' && json !== null && !Array.isArray(json) ? { ...(json as Record<string, unknown>), warnings } : { result: json, warnings };
}

function stringArgs(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.trim() === '' ? [] : value.trim().split(/\s+/);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new UsageError('"args" must be a string or an array of strings');
}

/** Tools beyond one-per-command. Append entries here; a command tool of the same name is then not generated. */
export const MCP_EXTRA_TOOLS: McpTool[] = [
  {
    name: 'open_dump',
    description: 'Open a dump and describe it (runtime version, architecture, GC mode, what is missing). Other tools open the dump on first use too; this one checks it is readable.',
    inputSchema: { type: 'object', properties: { dump: DUMP_PROPERTY, imagePath: { type: 'string', description: 'Folder searched first for image files (libcoreclr.so, assemblies) missing from the dump' } }, required: ['dump'] },
    call(dumps, args) {
      const session = dumps.get(args.dump as string, typeof args.imagePath === 'string' ? args.imagePath : undefined);
      return runCommandJson(session, findCommand('info')!, []);
    },
  },
  {
    name: 'close_dump',
    description: 'Close a dump opened by an earlier call and free its memory.',
    inputSchema: { type: 'object', properties: { dump: DUMP_PROPERTY }, required: ['dump'] },
    call(dumps, args) {
      return { closed: dumps.close(args.dump as string), open: dumps.open };
    },
  },
  {
    name: 'analyze',
    description:
      'Find memory leaks: runs the leak rules and returns findings ordered by impact, each with a verdict, the retention chain root → symptom with field names, the culprit method in user code, the retained bytes, and SOS commands that verify it (callable as tools).',
    inputSchema: {
      type: 'object',
      properties: {
        dump: DUMP_PROPERTY,
        rule: { type: 'string', description: 'Run one rule only (see the analyze tool with list: true)' },
        limit: { type: 'integer', minimum: 1, description: 'At most this many findings' },
        userAssemblies: { type: 'array', items: { type: 'string' }, description: 'Assemblies to count as user code when blaming a method' },
        list: { type: 'boolean', description: 'List the rules instead of running them' },
      },
      required: ['dump'],
    },
    call(dumps, args) {
      const words: string[] = [];
      if (args.list === true) words.push('-list');
      if (typeof args.rule === 'string') words.push('-rule', args.rule);
      if (typeof args.limit === 'number') words.push('-limit', String(args.limit));
      if (Array.isArray(args.userAssemblies) && args.userAssemblies.length > 0) words.push('--user-assembly', args.userAssemblies.join(','));
      return runCommandJson(dumps.get(args.dump as string), findCommand('analyze')!, words);
    },
  },
];

/** The tool of one command: `{dump, args}` → the command's JSON document. */
function commandTool(cmd: Command): McpTool {
  const aliases = cmd.aliases.length > 0 ? ` (aliases: ${cmd.aliases.join(', ')})` : '';
  return {
    name: cmd.name,
    description: `${cmd.summary}${aliases}. SOS-style arguments as on the command line: ${cmd.usage}. Returns the JSON document of \`dumpsleuth --json <dump> ${cmd.name}\`.`,
    inputSchema: {
      type: 'object',
      properties: {
        dump: DUMP_PROPERTY,
        args: {
          oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
          description: `Arguments, e.g. "${cmd.usage.split(' ').slice(1).join(' ')}"`,
        },
      },
      required: ['dump'],
    },
    call(dumps, args) {
      return runCommandJson(dumps.get(args.dump as string), cmd, stringArgs(args.args));
    },
  };
}

/** Every tool: the extra tools, then one per command not already covered. */
export function mcpTools(): McpTool[] {
  const taken = new Set(MCP_EXTRA_TOOLS.map((t) => t.name));
  return [...MCP_EXTRA_TOOLS, ...COMMANDS.filter((c) => !taken.has(c.name)).map(commandTool)];
}
