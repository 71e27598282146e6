/**
 * `parallelstacks` (`pstacks`): every managed thread's stack merged into a tree where threads share a node while
 * their frames agree, in dotnet-dump's text (ParallelStacksCommand): frames as `Type.Method(ParamType, ...)` with
 * parameter types without namespaces, at most 4 thread ids per group unless `-a`.
 */
import { mergeStacks, renderStackTree, type MergeFrame, type StackNode } from '../../analysis/parallel-stacks';
import { UsageError } from '../../errors';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { readThreads } from '../../runtime/thread-store';
import { parseArgs } from '../args';
import type { Command } from '../command';
import type { Session } from '../session';
import { walkManagedThread } from './clrstack';

const DEFAULT_THREAD_LIMIT = 4;

/** The parallelstacks command. */
export const parallelstacksCommand: Command = {
  name: 'parallelstacks',
  aliases: ['pstacks'],
  summary: 'Managed stacks of all threads merged into a tree (identical tails shown once, with thread counts)',
  usage: 'parallelstacks [-a]',
  help: {
    options: [['-a', 'list every thread id of a group (default: at most 4, then "...")']],
    examples: ['pstacks', 'parallelstacks -a'],
    sos: 'parallelstacks / pstacks (dotnet-dump)',
  },
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('parallelstacks', args, ['a', 'allthreads'], []);
    if (opts.positional.length) throw new UsageError(`parallelstacks: unexpected argument "${opts.positional[0]}"`);
    const all = opts.flags.has('a') || opts.flags.has('allthreads');
    const root = mergeStacks(managedStacks(session));
    const formatThreads = (threads: readonly number[]) => {
      const shown = all ? threads : threads.slice(0, DEFAULT_THREAD_LIMIT);
      return shown.map((t) => t.toString(16)).join(',') + (shown.length < threads.length ? '...' : '');
    };
    return { text: renderStackTree(root, formatThreads).join('\n') + '\n', json: { threads: root.threads.length, roots: root.children.map(nodeJson) } };
  },
};

function nodeJson(node: StackNode): unknown {
  return { frame: node.text, threads: node.threads.map((t) => `0x${t.toString(16)}`), children: node.children.map(nodeJson) };
}

/** Each managed thread's method frames (explicit Frames left out), outermost first, keyed by the full method name. */
export function managedStacks(session: Session): { thread: number; frames: MergeFrame[] }[] {
  const code = codeResolverOf(session);
  const texts = new Map<number, MergeFrame>();
  const frameOf = (md: number): MergeFrame => {
    let f = texts.get(md);
    if (!f) texts.set(md, (f = { key: code.methodDescs.name(md), text: pstacksName(session, md) }));
    return f;
  };
  const out: { thread: number; frames: MergeFrame[] }[] = [];
  for (const thread of readThreads(session.runtime)) {
    const walk = walkManagedThread(session, thread);
    if (!walk) continue;
    for (const p of walk.problems) session.warn(`thread 0x${thread.osId.toString(16)}: ${p}`);
    const frames: MergeFrame[] = [];
    for (let i = walk.frames.length - 1; i >= 0; i--) {
      const f = walk.frames[i]!;
      if (f.kind === 'managed') frames.push(frameOf(f.methodDesc));
    }
    out.push({ thread: thread.osId, frames });
  }
  return out;
}

/** `Type.Method(Param, ...)`: ClrMD's type name, the method's own name, each parameter's type with its namespaces
 * and generic arity dropped (`System.Span`1<Byte>` → `Span<Byte>`), ByRef kept. */
export function pstacksName(session: Session, md: number): string {
  const code = codeResolverOf(session);
  const full = code.methodDescs.name(md);
  const mt = code.methodDescs.read(md).methodTable;
  const typePrefix = `${session.names.dacName(mt)}.`;
  const open = full.lastIndexOf('(');
  if (!full.startsWith(typePrefix) || open < 0 || !full.endsWith(')')) return full;
  const rest = full.slice(typePrefix.length, open);
  const generic = rest.indexOf('[[');
  const method = generic >= 0 ? rest.slice(0, generic) : rest;
  const params = full.slice(open + 1, -1);
  const shortParams = params.length === 0 ? [] : params.split(', ').map(shortTypeName);
  return `${session.names.clrmdName(mt)}.${method}(${shortParams.join(', ')})`;
}

function shortTypeName(type: string): string {
  return type.replace(/`\d+/g, '').replace(/(?<![\w+])(?:[A-Za-z_][\w+]*\.)+(?=[A-Za-z_<])/g, '');
}
