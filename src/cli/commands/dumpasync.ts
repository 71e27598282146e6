/**
 * `dumpasync`: async "stacks" synthesized from the heap, in dotnet-dump's DumpAsyncCommand text: every chain from
 * the task nothing continues to (often the awaited TaskCompletionSource's task) through the state machine boxes
 * that continue from it, each box with its await state and state machine type; `--coalesce` groups identical
 * chains into one tree with counts, `--stats` counts frames. Filters: `--address`, `--methodtable`, `--type`;
 * `--tasks` also shows chains of plain tasks, `--completed` also completed tasks, `--fields` each frame's state
 * machine fields (async-fields.ts).
 */
import { AsyncObjectReader, collectAsyncObjects, TASK_STATE_COMPLETED_MASK, type AsyncObject } from '../../heap/async-objects';
import { forEachObject } from '../../heap/heap-walker';
import { DumpsleuthError, UsageError } from '../../errors';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { majorVersion } from '../../runtime/runtime-version';
import { parseArgs, addressArg } from '../args';
import type { Command } from '../command';
import { hexJson } from '../format';
import type { Session } from '../session';
import { renderAsyncFields } from './async-fields';
import { classFieldRows } from './dumpclass';
import { objectReaderOf } from './object-text';

interface Options {
  readonly address?: number;
  readonly methodTable?: number;
  readonly type?: string;
  readonly tasks: boolean;
  readonly completed: boolean;
}

/** The async objects of a session's heap and how to describe them (shared with the stuck-async rule). */
export interface AsyncHeap {
  readonly reader: AsyncObjectReader;
  readonly objects: Map<number, AsyncObject>;
  readonly describe: (address: number) => string;
  readonly typeName: (address: number) => string;
}

/** Walks the heap once and collects its tasks and chains. */
export function readAsyncHeap(session: Session, includeCompleted: boolean): AsyncHeap {
  const objects = objectReaderOf(session);
  const reader = new AsyncObjectReader(objects, (mt) => (mt === 0 ? '' : session.names.clrmdName(mt)));
  const heap = session.heap;
  const found = collectAsyncObjects(
    reader,
    (visit) => {
      forEachObject(heap, session.methodTables, session.runtime.memory, (address, mt, size) => {
        if (mt !== heap.freeObjectMethodTable) visit(address, mt, size);
      });
    },
    { includeCompleted },
  );
  const sentinel = completionSentinel(session, reader);
  const code = codeResolverOf(session);
  const typeName = (address: number) => {
    const mt = reader.mtOf(address);
    return mt === 0 ? '' : session.names.clrmdName(mt);
  };
  const describe = (address: number): string => {
    const mt = reader.mtOf(address);
    if (mt === 0) return '';
    let text = session.names.clrmdName(mt);
    const box = text.indexOf('StateMachineBox<');
    if (found.get(address)?.isStateMachine || (reader.isTask(mt) && box >= 0 && text.startsWith('System.Runtime.CompilerServices.AsyncTaskMethodBuilder<'))) {
      if (box >= 0) text = text.slice(box + 'StateMachineBox<'.length, -1);
      return text;
    }
    const action = reader.refField(address, 'm_action');
    if (action !== 0) {
      const md = delegateMethod(session, reader, action);
      if (md !== 0) text = `${text} {${code.methodDescs.name(md)}}`;
    } else if (address === sentinel) {
      text = 'TaskCompletionSentinel';
    }
    return text;
  };
  return { reader, objects: found, describe, typeName };
}

/** `Task.s_taskCompletionSentinel`, 0 when it cannot be read. */
function completionSentinel(session: Session, reader: AsyncObjectReader): number {
  if (reader.taskMethodTable === 0) return 0;
  try {
    const mt = objectReaderOf(session).tryReadMethodTable(reader.taskMethodTable);
    const row = mt ? classFieldRows(session, mt).find((r) => r.name === 's_taskCompletionSentinel' && r.fd.isStatic) : undefined;
    return row?.value.kind === 'reference' ? row.value.value : 0;
  } catch (e) {
    if (e instanceof DumpsleuthError) return 0;
    throw e;
  }
}

/** dotnet-dump's TryGetMethodFromDelegate: `_methodPtr`, else `_methodPtrAux`, each resolved as ClrMD resolves an
 * instruction pointer (method code, or a precode stub: a static method that never ran is reached through one). */
function delegateMethod(session: Session, reader: AsyncObjectReader, delegate: number): number {
  const mt = reader.mtOf(delegate);
  const ptr = reader.field(delegate, mt, false, '_methodPtr');
  const aux = reader.field(delegate, mt, false, '_methodPtrAux');
  if (!ptr || !aux) return 0;
  const m = session.runtime.memory;
  const code = codeResolverOf(session);
  const methodPtr = m.readPointer(ptr.address);
  if (methodPtr === 0) return 0;
  const direct = code.resolveEntryPoint(methodPtr);
  if (direct.kind !== 'none') return direct.methodDesc;
  const auxPtr = m.readPointer(aux.address);
  const viaAux = code.resolveEntryPoint(auxPtr);
  return viaAux.kind !== 'none' ? viaAux.methodDesc : 0;
}

const x16 = (n: number) => n.toString(16).padStart(16, '0');
const tabs = (depth: number) => ' '.repeat(2 * depth);

/** dotnet-dump's DescribeTaskFlags: the flags worth showing, `|`-joined; ' ' when none. */
export function describeTaskFlags(flags: number): string {
  const names: [number, string][] = [
    [0x10000, 'Started'],
    [0x20000, 'DelegateInvoked'],
    [0x40000, 'Disposed'],
    [0x80000, 'ExceptionObservedByParent'],
    [0x100000, 'CancellationAcknowledged'],
    [0x200000, 'Faulted'],
    [0x400000, 'Canceled'],
    [0x800000, 'WaitingOnChildren'],
    [0x1000000, 'RanToCompletion'],
    [0x4000000, 'CompletionReserved'],
  ];
  const set = names.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n);
  return set.length > 0 ? set.join('|') : ' ';
}

/** The dumpasync command. */
export const dumpasyncCommand: Command = {
  name: 'dumpasync',
  aliases: [],
  summary: 'Async "stacks" on the heap: each pending chain of tasks and async state machines, from what it awaits to the root',
  usage: 'dumpasync [--coalesce | --stats] [--address <addr>] [--methodtable <mt>] [--type <name part>] [--tasks] [--completed] [--fields]',
  help: {
    options: [
      ['--coalesce', 'group chains (and parts of chains) that are the same, with counts'],
      ['--stats', 'count each kind of async frame instead of showing chains'],
      ['-addr, --address <addr>', 'only chains that include this object'],
      ['-mt, --methodtable <mt>', 'only chains that include objects of this MethodTable'],
      ['--type <text>', 'only chains that include an object whose type name contains the text'],
      ['-t, --tasks', 'also chains made only of plain tasks (no async state machine)'],
      ['-c, --completed', 'also completed tasks'],
      ['-f, --fields', "each frame's fields: the state machine's (or the task's), with address, type and value"],
    ],
    examples: ['dumpasync', 'dumpasync --coalesce', 'dumpasync --type LoadAsync', 'dumpasync --stats', 'dumpasync --type LoadAsync --fields'],
    sos: 'dumpasync (dotnet-dump)',
  },
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpasync', args, ['tasks', 't', 'completed', 'c', 'stats', 'coalesce', 'fields', 'f'], ['address', 'addr', 'methodtable', 'mt', 'type']);
    if (opts.positional.length) throw new UsageError(`dumpasync: unexpected argument "${opts.positional[0]}"`);
    const addressText = opts.values.get('address') ?? opts.values.get('addr');
    const mtText = opts.values.get('methodtable') ?? opts.values.get('mt');
    const type = opts.values.get('type');
    const options: Options = {
      ...(addressText !== undefined ? { address: addressArg('dumpasync', addressText, 'object address') } : {}),
      ...(mtText !== undefined ? { methodTable: addressArg('dumpasync', mtText, 'method table') } : {}),
      ...(type !== undefined ? { type } : {}),
      tasks: opts.flags.has('tasks') || opts.flags.has('t'),
      completed: opts.flags.has('completed') || opts.flags.has('c'),
    };
    const heap = readAsyncHeap(session, options.completed);
    const include = (a: AsyncObject) => includeInOutput(heap, a, options);
    const tops = () => [...heap.objects.values()].filter((o) => o.topLevel && shouldIncludeStack(heap, o, options, include));
    const result = opts.flags.has('stats')
      ? renderStats(heap, options, include)
      : opts.flags.has('coalesce')
        ? renderCoalesced(heap, tops())
        : renderStacks(session, heap, tops(), opts.flags.has('fields') || opts.flags.has('f'));
    if ((majorVersion(session.runtime.version) ?? 0) < 11) return result;
    // .NET 11 compiles some async methods as runtime-async (continuations, no state machine box), which neither
    // this walk nor dotnet-dump's follows: say so as dotnet-dump does, ahead of the answer.
    session.warn('.NET 11 runtime-async methods keep no async state machine on the heap: their async stacks may be incomplete or missing');
    return { ...result, text: RUNTIME_ASYNC_NOTE.map((l) => `${l}\n`).join('') + result.text };
  },
};

/** dotnet-dump's DumpAsyncCommand prints these two lines first on a runtime of major version 11 or later. */
const RUNTIME_ASYNC_NOTE = [
  'Warning: .NET 11+ uses runtime-async which changes how async state machines work.',
  "The dump async command doesn't fully support .NET 11+ async stacks. They may be incomplete or missing.",
];

function includeInOutput(heap: AsyncHeap, obj: AsyncObject, options: Options): boolean {
  if (options.address !== undefined && obj.address !== options.address) return false;
  if (options.methodTable !== undefined && obj.mt !== options.methodTable) return false;
  if (options.type !== undefined && !heap.typeName(obj.address).includes(options.type)) return false;
  return true;
}

/** A chain is shown once it holds an object the filters select and (unless --tasks) a state machine. */
function shouldIncludeStack(heap: AsyncHeap, top: AsyncObject, options: Options, include: (a: AsyncObject) => boolean): boolean {
  let sawInclude = false;
  let sawStateMachine = options.tasks;
  const stack = [top];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const obj = stack.pop()!;
    if (seen.has(obj.address)) continue;
    seen.add(obj.address);
    sawInclude ||= include(obj);
    sawStateMachine ||= obj.isStateMachine;
    if (sawInclude && sawStateMachine) return true;
    for (const c of obj.continuations) {
      const next = heap.objects.get(c);
      if (next) stack.push(next);
    }
  }
  return false;
}

function renderStats(heap: AsyncHeap, options: Options, include: (a: AsyncObject) => boolean) {
  const counts = new Map<string, { mt: number; count: number }>();
  for (const obj of heap.objects.values()) {
    if (!include(obj) || (!options.tasks && !obj.isStateMachine)) continue;
    const key = heap.describe(obj.address);
    const entry = counts.get(key) ?? { mt: obj.mt, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  const rows = [...counts].map(([key, v], i) => ({ key, ...v, i })).sort((a, b) => b.count - a.count || a.i - b.i);
  const lines = [`${'MT'.padEnd(16)} ${'Count'.padEnd(8)} Type`];
  for (const r of rows) lines.push(`${x16(r.mt)} ${r.count.toLocaleString('en-US').padEnd(8)} ${r.key}`);
  return { text: lines.join('\n') + '\n', json: { frames: rows.map((r) => ({ methodTable: hexJson(r.mt), count: r.count, type: r.key })) } };
}

function frameText(heap: AsyncHeap, obj: AsyncObject): string {
  return `${obj.isStateMachine ? `(${obj.awaitState})` : `(${describeTaskFlags(obj.stateFlags)})`} ${heap.describe(obj.address)}`;
}

function renderStacks(session: Session, heap: AsyncHeap, tops: readonly AsyncObject[], withFields: boolean) {
  const lines: string[] = [];
  const json: unknown[] = [];
  let stackId = 1;
  const m = session.runtime.memory;
  for (const top of tops) {
    lines.push(`STACK ${stackId++}`);
    const frames: unknown[] = [];
    let depth = 0;
    if (top.isStateMachine && top.awaitState >= 0 && (top.stateFlags & TASK_STATE_COMPLETED_MASK) === 0 && top.stateMachine) {
      const awaiter = awaiterLine(session, heap, top);
      if (awaiter) {
        lines.push(awaiter.text);
        frames.push({ awaiting: awaiter.json });
        depth++;
      }
    }
    const stack: { obj: AsyncObject; depth: number }[] = [{ obj: top, depth }];
    const printed = new Set<number>();
    while (stack.length > 0) {
      const { obj, depth: d } = stack.pop()!;
      // A cycle of continuations would never end; dotnet-dump has none on real heaps, so stop where one closes.
      if (printed.has(obj.address)) continue;
      printed.add(obj.address);
      lines.push(`${tabs(d)}${x16(obj.address)} ${x16(obj.mt)} ${frameText(heap, obj)}`);
      const fields = withFields ? renderAsyncFields(session, obj.stateMachine ?? { address: obj.address, mt: obj.mt, isValueType: false }, d) : undefined;
      if (fields) lines.push(...fields.lines);
      frames.push({
        depth: d,
        address: hexJson(obj.address),
        methodTable: hexJson(obj.mt),
        stateMachine: obj.isStateMachine,
        awaitState: obj.isStateMachine ? obj.awaitState : null,
        stateFlags: obj.stateFlags,
        type: heap.describe(obj.address),
        ...(fields ? { fields: fields.json } : {}),
      });
      for (const c of obj.continuations) {
        const next = heap.objects.get(c);
        if (next) stack.push({ obj: next, depth: d + 1 });
        else {
          const mt = heap.reader.mtOf(c);
          const flagsField = mt !== 0 ? heap.reader.field(c, mt, false, 'm_stateFlags') : undefined;
          const state = flagsField ? describeTaskFlags(m.readI32(flagsField.address)) : '';
          lines.push(`${tabs(d + 1)}${x16(c)} ${x16(mt)} (${state}) ${heap.describe(c)}`);
          frames.push({ depth: d + 1, address: hexJson(c), methodTable: hexJson(mt), type: heap.describe(c) });
        }
      }
    }
    lines.push('');
    json.push({ frames });
  }
  return { text: lines.join('\n') + '\n', json: { stacks: json } };
}

/** dotnet-dump's synthesized `<< Awaiting: ... >>` frame for a top-level state machine suspended at an await: the
 * awaiter field `<>u__1` when the state is 0 or there is one awaiter field, else the first awaiter field that is
 * set (non-null, or a struct with a non-zero byte). */
function awaiterLine(session: Session, heap: AsyncHeap, top: AsyncObject): { text: string; json: unknown } | undefined {
  const sm = top.stateMachine!;
  const objects = objectReaderOf(session);
  const info = objects.tryReadMethodTable(sm.mt);
  if (!info) return undefined;
  const rows = objects.fieldRows(info, sm.address, sm.isValueType).filter((r) => !r.fd.isStatic);
  const awaiters = rows.filter((r) => r.name.startsWith('<>u__'));
  const m = session.runtime.memory;
  const render = (row: (typeof rows)[number]) => {
    if (row.value.kind === 'reference') {
      if (row.value.value === 0) return undefined;
      const mt = heap.reader.mtOf(row.value.value);
      if (mt === 0) return undefined;
      return { text: `<< Awaiting: ${x16(row.value.value)} ${x16(mt)}${session.names.clrmdName(mt)} >>`, json: { address: hexJson(row.value.value), type: session.names.clrmdName(mt) } };
    }
    if (row.value.kind === 'valuetype' && row.value.mt !== 0) {
      return { text: `<< Awaiting: ${x16(row.value.address)} ${x16(row.value.mt)} ${session.names.clrmdName(row.value.mt)} >>`, json: { address: hexJson(row.value.address), type: session.names.clrmdName(row.value.mt) } };
    }
    return undefined;
  };
  if (top.awaitState === 0 || awaiters.length === 1) {
    const first = rows.find((r) => r.name === '<>u__1');
    return first ? render(first) : undefined;
  }
  for (const row of awaiters) {
    if (row.value.kind === 'reference') {
      if (row.value.value !== 0) return render(row);
    } else if (row.value.kind === 'valuetype' && row.value.mt !== 0) {
      const vt = objects.tryReadMethodTable(row.value.mt);
      if (!vt) continue;
      const bytes = m.read(row.value.address, Math.max(0, vt.baseSize - 16));
      if (bytes.some((b) => b !== 0)) return render(row);
    }
  }
  return undefined;
}

function renderCoalesced(heap: AsyncHeap, tops: readonly AsyncObject[]) {
  const lines: string[] = [];
  const groupKey = (address: number) => {
    const obj = heap.objects.get(address);
    const d = heap.describe(address);
    return obj?.isStateMachine ? `(${obj.awaitState}) ${d}` : d;
  };
  const json: unknown[] = [];
  // Iterative depth-first rendering of levels: each level groups its frames by how they render, larger groups first.
  type Level = { frames: number[]; depth: number; out: unknown[] };
  const work: (Level | { line: string })[] = [{ frames: tops.map((t) => t.address), depth: 0, out: json }];
  let stackId = 1;
  let budget = 10_000_000;
  while (work.length > 0) {
    const item = work.pop()!;
    if ('line' in item) {
      lines.push(item.line);
      continue;
    }
    const groups = new Map<string, number[]>();
    for (const f of item.frames) {
      const k = groupKey(f);
      const g = groups.get(k);
      if (g) g.push(f);
      else groups.set(k, [f]);
    }
    const sorted = [...groups].map(([key, members], i) => ({ key, members, i })).sort((a, b) => b.members.length - a.members.length || a.i - b.i);
    const pending: (Level | { line: string })[] = [];
    for (const g of sorted) {
      if (--budget < 0) throw new UsageError('dumpasync --coalesce: the chains do not end (a continuation cycle)');
      const head: string[] = [];
      if (item.depth === 0) head.push(`STACKS ${stackId++}`);
      const mt = heap.reader.mtOf(g.members[0]!);
      head.push(`${tabs(item.depth)}[${g.members.length}] ${x16(mt)} ${g.key}`);
      const children: unknown[] = [];
      item.out.push({ count: g.members.length, methodTable: hexJson(mt), frame: g.key, next: children });
      const next: number[] = [];
      for (const member of g.members) next.push(...(heap.objects.get(member)?.continuations ?? []));
      for (const h of head) pending.push({ line: h });
      if (next.length > 0) pending.push({ frames: next, depth: item.depth + 1, out: children });
      if (item.depth === 0) pending.push({ line: '' });
    }
    for (let k = pending.length - 1; k >= 0; k--) work.push(pending[k]!);
  }
  return { text: lines.join('\n') + '\n', json: { stacks: json } };
}
