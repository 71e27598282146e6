// The single-object rows of the bench (issue 16): one object, its MethodTable, an array, a delegate, a method, a
// code address and where the object is (gcwhere), answered by dumpsleuth and by dotnet-dump in the same run. The targets are picked from the dump by
// dumpsleuth itself before anything is timed, and each timed answer is checked against the other tool's on the lines
// that identify it (type name, MethodTable, method name...).
import { AnswerMismatchError } from './check-answers';
import { measureProcess, type MeasuredRun } from './measure-process';

/** The addresses the single-object commands ask about. */
export interface SingleObjectTargets {
  readonly object: string;
  readonly methodTable: string;
  readonly array?: string;
  readonly delegate?: string;
  readonly ip?: string;
  readonly methodDesc?: string;
}

/** One command of the single-object set, with the `Key:` lines both tools must agree on. */
export interface SingleObjectCommand {
  readonly command: string;
  readonly keys: readonly string[];
}

/** The `keys` entry that asks for gcwhere's whole table to be compared. */
const GCWHERE = '(gcwhere table)';

/** Types every .NET process has objects of, tried in order for `dumpdelegate`. */
const DELEGATE_TYPES = ['System.Action', 'System.EventHandler', 'System.Threading.TimerCallback', 'System.Threading.ContextCallback', 'System.Func'];

/** Picks one target of each kind with dumpsleuth (`commonType`: the type whose objects `dumpobj` reads). */
export async function pickSingleObjectTargets(cli: string, dumpPath: string, commonType: string): Promise<SingleObjectTargets> {
  const run = async (...args: string[]): Promise<string> => {
    const r = await measureProcess(process.execPath, [cli, dumpPath, ...args]);
    if (r.code !== 0) throw new Error(`dumpsleuth ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const addresses = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => /^[0-9a-f]+$/i.test(l)).map((a) => `0x${a}`);
  const objects = addresses(await run('dumpheap', '-short', '-type', commonType));
  if (objects.length === 0) throw new Error(`no ${commonType} objects on the heap (pick another type with --common-type)`);
  const object = objects[Math.floor(objects.length / 2)]!;
  const methodTable = /^MethodTable:\s+([0-9a-f]+)/im.exec(await run('dumpobj', object))?.[1];
  if (methodTable === undefined) throw new Error(`dumpsleuth dumpobj ${object} printed no MethodTable`);
  const array = addresses(await run('dumpheap', '-short', '-type', 'System.Object[]'))[0];
  let delegate: string | undefined;
  for (const type of DELEGATE_TYPES) {
    delegate = addresses(await run('dumpheap', '-short', '-type', type))[0];
    if (delegate !== undefined) break;
  }
  // A code address: the first managed frame (one with a method name) of any thread's stack.
  const stacks = await run('clrstack', '-all');
  const frame = /^[0-9A-F]{16} ([0-9A-F]{16}) [A-Za-z_]/m.exec(stacks);
  const ip = frame === null ? undefined : `0x${frame[1]!.toLowerCase()}`;
  const methodDesc = ip === undefined ? undefined : /^MethodDesc:\s+([0-9a-f]+)/im.exec(await run('ip2md', ip))?.[1];
  return {
    object,
    methodTable: `0x${methodTable.toLowerCase()}`,
    ...(array !== undefined ? { array } : {}),
    ...(delegate !== undefined ? { delegate } : {}),
    ...(ip !== undefined ? { ip } : {}),
    ...(methodDesc !== undefined ? { methodDesc: `0x${methodDesc.toLowerCase()}` } : {}),
  };
}

/** The single-object commands for `targets`, each with the lines that identify its answer. */
export function singleObjectCommands(t: SingleObjectTargets): SingleObjectCommand[] {
  const out: SingleObjectCommand[] = [
    { command: `dumpobj ${t.object}`, keys: ['Name', 'MethodTable', 'Size'] },
    { command: `dumpmt ${t.methodTable}`, keys: ['Name', 'BaseSize', 'Number of Methods'] },
  ];
  if (t.array !== undefined) out.push({ command: `dumparray ${t.array}`, keys: ['Name', 'MethodTable', 'Size', 'Array', 'Element Methodtable'] });
  if (t.delegate !== undefined) out.push({ command: `dumpdelegate ${t.delegate}`, keys: [] });
  if (t.ip !== undefined) out.push({ command: `ip2md ${t.ip}`, keys: ['MethodDesc', 'Method Name', 'Class'] });
  if (t.methodDesc !== undefined) out.push({ command: `dumpmd ${t.methodDesc}`, keys: ['Method Name', 'Class', 'MethodTable', 'mdToken'] });
  // gcwhere's table has no `Key:` lines: its whole text is compared (the GCWHERE marker below).
  out.push({ command: `gcwhere ${t.object}`, keys: [GCWHERE] });
  return out;
}

/** Throws AnswerMismatchError when the two outputs differ on `keys` (or, with no keys, on the method names a
 * `dumpdelegate` table ends its rows with). */
export function checkSingleObjectAnswers(command: SingleObjectCommand, dumpsleuth: MeasuredRun, sos: MeasuredRun): void {
  const differences: string[] = [];
  if (command.keys[0] === GCWHERE) {
    // From the table's header on (dotnet-dump prints "Loading core dump" first), trailing blanks aside.
    const table = (text: string): string => {
      const lines = text.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
      return lines.slice(Math.max(0, lines.findIndex((l) => l.startsWith('Address')))).join('\n');
    };
    if (table(dumpsleuth.stdout) !== table(sos.stdout)) differences.push(`table: ${JSON.stringify(table(dumpsleuth.stdout))} ≠ ${JSON.stringify(table(sos.stdout))}`);
    if (differences.length > 0) throw new AnswerMismatchError(`dumpsleuth ${command.command} and dotnet-dump ${command.command}`, differences);
    return;
  }
  if (command.keys.length === 0) {
    const names = (text: string): string[] => [...text.matchAll(/^[0-9a-f]{16}\s+[0-9a-f]{16}\s+(.+)$/gim)].map((m) => m[1]!.trim());
    const a = names(dumpsleuth.stdout);
    const b = names(sos.stdout);
    if (a.length === 0 || a.join('\n') !== b.join('\n')) differences.push(`methods: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  }
  for (const key of command.keys) {
    const a = keyValue(dumpsleuth.stdout, key);
    const b = keyValue(sos.stdout, key);
    if (a === undefined || a !== b) differences.push(`${key}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
  }
  if (differences.length > 0) throw new AnswerMismatchError(`dumpsleuth ${command.command} and dotnet-dump ${command.command}`, differences);
}

/** The value of a `Key: value` line, hex numbers without leading zeros, lower case. */
function keyValue(text: string, key: string): string | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${escaped}:\\s*(.*)$`, 'im').exec(text);
  if (m === null) return undefined;
  const v = m[1]!.trim().toLowerCase();
  return /^(0x)?[0-9a-f]+$/.test(v) && /[0-9]/.test(v) ? v.replace(/^(0x)?0*(?=[0-9a-f])/, '') : v;
}
