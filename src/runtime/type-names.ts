/**
 * Type names for MethodTables, in the two styles SOS prints (research/names-and-sos-output.md §A3):
 * ClrMD style for the C# commands (`Dictionary<System.String, System.Int32>`) and DAC style for the native ones
 * (``Dictionary`2[[System.String, System.Private.CoreLib],[System.Int32, System.Private.CoreLib]]``).
 * Both render one name tree built from the MethodTable (instantiation, array rank) and the module's metadata.
 */
import { DumpsleuthError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';
import type { ClrModule, ModuleReader } from './loader';
import type { MethodTableReader } from './method-table';
import { openModuleMetadata, type ModuleMetadata } from './module-metadata';

/** A type's name as a tree, before it is rendered in one style or the other. */
export type TypeNameNode = (
  | { readonly kind: 'def'; readonly segments: readonly string[]; readonly args: readonly TypeNameNode[]; readonly assembly: string }
  | { readonly kind: 'array'; readonly element: TypeNameNode; readonly rank: number; readonly sz: boolean }
  | { readonly kind: 'pointer' | 'byref'; readonly element: TypeNameNode }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'free' }
  | { readonly kind: 'unknown'; readonly handle: number; readonly reason: string }
) &
  NameMemo;

/** What the renderers remember on a node (its name depends only on the node, which never changes): nested generic
 * arguments are rendered once per node, not once per type that mentions them (dumpheap -stat of a compiler's dump
 * names thousands of nested instantiations). Fields on the node, not WeakMaps: no ephemeron tables for the GC. A
 * node copied with a change must not carry them over. */
interface NameMemo {
  clrmdText?: string | undefined;
  dacText?: string | undefined;
  arrayOfGenericArg?: boolean | undefined;
}

const ELEMENT_TYPE_PTR = 0x0f;
const ELEMENT_TYPE_BYREF = 0x10;
const ELEMENT_TYPE_VAR = 0x13;
const ELEMENT_TYPE_MVAR = 0x1e;
const ELEMENT_TYPE_FNPTR = 0x1b;
const MAX_NAME_DEPTH = 64;

/** Names MethodTables; caches per MethodTable and per module. Unknown names carry a reason, never a guess. */
export class TypeNameResolver {
  private readonly nodes = new Map<number, TypeNameNode>();
  private readonly clrmd = new Map<number, string>();
  private readonly dac = new Map<number, string>();
  // The handles whose cached name holds an unknown part: asking again must still raise the warning, without
  // scanning the name each time (dumpheap names thousands of types).
  private readonly unknownClrmd = new Set<number>();
  private readonly unknownDac = new Set<number>();
  private readonly metadata = new Map<number, ModuleMetadata | Error>();
  /** Reasons names could not be read (one per module), for the command's warnings. */
  readonly problems = new Map<string, string>();
  /** The `problems` keys of modules whose metadata was asked for since the last takeUsedProblems, and whether an
   * unknown name was handed out (names are cached, so a later command may show one without asking again). */
  private readonly used = new Set<string>();
  private unknownShown = false;
  private readonly problemKeys = new Map<number, string>();

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly modules: ModuleReader,
    private readonly freeMethodTable: number,
  ) {}

  /** The name `dumpheap` prints (ClrMD style). */
  clrmdName(mt: number): string {
    let s = this.clrmd.get(mt);
    if (s === undefined) {
      s = renderClrmd(this.node(mt, 0));
      this.clrmd.set(mt, s);
      if (s.includes('<unknown')) this.unknownClrmd.add(mt);
    }
    if (this.unknownClrmd.size > 0 && this.unknownClrmd.has(mt)) this.unknownShown = true;
    return s;
  }

  /** The name `dumpobj`/`dumpmt`/`gchandles` print (DAC style). */
  dacName(mt: number): string {
    let s = this.dac.get(mt);
    if (s === undefined) {
      // The DAC names a generic type definition without its formal parameters (TypeString: no instantiation for
      // the typical instantiation): `Outer`1`, not `Outer`1[T]`.
      const node = this.node(mt, 0);
      const definition = node.kind === 'def' && node.args.length > 0 && (mt & 3) === 0 && this.mts.tryRead(mt)?.isGenericTypeDefinition === true;
      s = renderDac(definition ? { kind: 'def', segments: node.segments, args: [], assembly: node.assembly } : node);
      this.dac.set(mt, s);
      if (s.includes('<unknown')) this.unknownDac.add(mt);
    }
    if (this.unknownDac.size > 0 && this.unknownDac.has(mt)) this.unknownShown = true;
    return s;
  }

  /** The metadata of a runtime Module, or an Error saying why it is not readable. */
  moduleMetadata(moduleAddress: number): ModuleMetadata | Error {
    let md = this.metadata.get(moduleAddress);
    if (md === undefined) {
      let mod: ClrModule | undefined;
      try {
        mod = this.modules.read(moduleAddress);
        md = openModuleMetadata(this.rt.memory, mod);
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
        md = e;
        this.recordProblem(moduleAddress, e.message, mod);
      }
      this.metadata.set(moduleAddress, md);
    }
    if (md instanceof Error) this.used.add(this.problemKeys.get(moduleAddress) ?? '');
    return md;
  }

  /** Notes that names from a module are unknown (the first reason per module), as a problem of this command too. */
  recordProblem(moduleAddress: number, reason: string, mod?: ClrModule): void {
    let where = this.problemKeys.get(moduleAddress);
    if (where === undefined) {
      let path = mod?.path;
      if (path === undefined) {
        try {
          path = this.modules.read(moduleAddress).path;
        } catch (e) {
          if (!(e instanceof DumpsleuthError)) throw e;
        }
      }
      where = path || `module 0x${moduleAddress.toString(16)}`;
      this.problemKeys.set(moduleAddress, where);
      // A refused file is named in the reason: pointing at --image-path again would not help.
      const hint = /was refused/.test(reason) ? '' : ' (use --image-path DIR to supply the file)';
      if (!this.problems.has(where)) this.problems.set(where, `type names from ${where} are unknown: ${reason}${hint}`);
    }
    this.used.add(where);
  }

  /** The problems that touched what was asked since the last call (the modules whose metadata was needed and is
   * missing; all of them when only cached unknown names were handed out), then forgets them: one command's warnings. */
  takeUsedProblems(): string[] {
    const keys = this.used.size > 0 ? [...this.used] : this.unknownShown ? [...this.problems.keys()] : [];
    this.used.clear();
    this.unknownShown = false;
    return keys.map((k) => this.problems.get(k)).filter((m): m is string => m !== undefined);
  }

  /** The name tree of a type handle (a MethodTable, or a TypeDesc tagged with bit 1). */
  node(handle: number, depth: number): TypeNameNode {
    const cached = this.nodes.get(handle);
    if (cached) return cached;
    const n = this.build(handle, depth);
    this.nodes.set(handle, n);
    return n;
  }

  private build(handle: number, depth: number): TypeNameNode {
    if (depth > MAX_NAME_DEPTH) return { kind: 'unknown', handle, reason: 'type name nests too deeply' };
    if (handle === this.freeMethodTable) return { kind: 'free' };
    if ((handle & 2) !== 0) return this.buildTypeDesc(handle - (handle % 4), depth);
    const info = this.mts.tryRead(handle);
    if (!info) return { kind: 'unknown', handle, reason: 'not a readable MethodTable' };
    if (info.isArray) {
      const element = this.node(this.mts.arrayElementType(info), depth + 1);
      return { kind: 'array', element, rank: this.mts.arrayRank(info), sz: info.isSzArray, clrmdText: undefined, dacText: undefined };
    }
    const md = this.moduleMetadata(info.module);
    if (md instanceof Error) return { kind: 'unknown', handle, reason: md.message };
    let segments: readonly string[];
    try {
      segments = md.typeDefSegments(info.typeDefToken);
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      this.recordProblem(info.module, e.message);
      return { kind: 'unknown', handle, reason: e.message };
    }
    const args = this.mts.instantiation(info).map((a) => this.node(a, depth + 1));
    return { kind: 'def', segments, args, assembly: md.assemblyName, clrmdText: undefined, dacText: undefined, arrayOfGenericArg: undefined };
  }

  private buildTypeDesc(td: number, depth: number): TypeNameNode {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    try {
      const elementType = m.readU32(td + d.offset('TypeDesc', 'TypeAndFlags')) & 0xff;
      if (elementType === ELEMENT_TYPE_PTR || elementType === ELEMENT_TYPE_BYREF) {
        const arg = m.readPointer(td + d.offset('ParamTypeDesc', 'TypeArg'));
        return { kind: elementType === ELEMENT_TYPE_PTR ? 'pointer' : 'byref', element: this.node(arg, depth + 1) };
      }
      if (elementType === ELEMENT_TYPE_VAR || elementType === ELEMENT_TYPE_MVAR) {
        const module = m.readPointer(td + d.offset('TypeVarTypeDesc', 'Module'));
        const token = m.readU32(td + d.offset('TypeVarTypeDesc', 'Token'));
        const md = this.moduleMetadata(module);
        if (md instanceof Error) return { kind: 'unknown', handle: td | 2, reason: md.message };
        return { kind: 'var', name: md.genericParamName(token) };
      }
      if (elementType === ELEMENT_TYPE_FNPTR) return { kind: 'unknown', handle: td | 2, reason: 'function pointer type' };
      return { kind: 'unknown', handle: td | 2, reason: `TypeDesc of element type 0x${elementType.toString(16)}` };
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      return { kind: 'unknown', handle: td | 2, reason: e.message };
    }
  }
}

/** ClrMD style (DacNameParser): arity suffixes become `<A, B>` on the segment that declared them; no assembly names;
 * a bare generic definition gets invented names `<T1, T2>`; arguments without any arity go to the last segment. */
export function renderClrmd(n: TypeNameNode): string {
  let s = n.clrmdText;
  if (s === undefined) n.clrmdText = s = renderWrapped(n, renderClrmd, renderClrmdDef);
  return s;
}

function renderClrmdDef(n: DefNode): string {
  // The parser cannot read an argument that is an array of a generic instantiation with an array argument
  // (`Func`1[[KeyValuePair`2[[…],[NuGetFramework[], …]][], …]]`, seen on an MSBuild node's dump: SOS prints the DAC
  // text); `KeyValuePair<String, String>[]` as an argument it reads.
  if (n.args.length > 0 && hasArrayOfGenericArg(n)) return renderDac(n);
  const segments = n.segments;
  // Plain loops and a cheap arity scan: dumpheap -stat of a compiler's dump renders ten thousand such names cold.
  let declared = 0;
  for (let i = 0; i < segments.length; i++) declared += arityOf(segments[i]!);
  if (n.args.length === 0) {
    if (declared === 0) return joinEscaped(segments);
    // An open definition: the parser invents T1..Tn per segment.
    let k = 0;
    let out = '';
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const arity = arityOf(seg);
      if (i > 0) out += '+';
      if (arity === 0) out += escapeDacName(seg);
      else {
        out += escapeDacName(stripArity(seg)) + '<';
        for (let a = 0; a < arity; a++) out += (a > 0 ? ', T' : 'T') + ++k;
        out += '>';
      }
    }
    return out;
  }
  if (declared === 0) {
    let args = '';
    for (let a = 0; a < n.args.length; a++) args += (a > 0 ? ', ' : '') + renderClrmd(n.args[a]!);
    return joinEscaped(segments) + '<' + args + '>';
  }
  // The parser gives up on a mismatch and keeps the DAC text.
  if (declared !== n.args.length) return renderDac(n);
  let next = 0;
  let out = '';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const arity = arityOf(seg);
    if (i > 0) out += '+';
    // The parser keeps the DAC's escapes (`System-String\,T` in a compiler-generated iterator's name).
    if (arity === 0) {
      out += escapeDacName(seg);
      continue;
    }
    out += escapeDacName(stripArity(seg)) + '<';
    for (let a = 0; a < arity; a++) out += (a > 0 ? ', ' : '') + renderClrmd(n.args[next + a]!);
    out += '>';
    next += arity;
  }
  return out;
}

/** The segments escaped and joined with `+` (a nested type's path). */
function joinEscaped(segments: readonly string[]): string {
  let out = escapeDacName(segments[0]!);
  for (let i = 1; i < segments.length; i++) out += '+' + escapeDacName(segments[i]!);
  return out;
}

/** The arity suffix of a metadata name (`List`1` → 1), 0 without one. */
function arityOf(segment: string): number {
  const tick = segment.lastIndexOf('`');
  if (tick < 0 || tick === segment.length - 1) return 0;
  let value = 0;
  for (let i = tick + 1; i < segment.length; i++) {
    const c = segment.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return 0;
    value = value * 10 + c;
  }
  return value;
}

/** DAC style (TypeString with FormatNamespace|FormatFullInst): reserved characters escaped, arguments as
 * `[[Name, Assembly],...]` after the last segment (a type variable bare), array arguments with their element's
 * assembly. */
export function renderDac(n: TypeNameNode): string {
  let s = n.dacText;
  if (s === undefined) n.dacText = s = renderDacUncached(n);
  return s;
}

function renderDacUncached(n: TypeNameNode): string {
  return renderWrapped(n, renderDac, (d) => {
    const base = d.segments.map(escapeDacName).join('+');
    if (!d.args.length) return base;
    return base + '[' + d.args.map((a) => (a.kind === 'var' ? a.name : `[${renderDac(a)}, ${assemblyOf(a)}]`)).join(',') + ']';
  });
}

type DefNode = Extract<TypeNameNode, { kind: 'def' }>;

function hasArrayOfGenericArg(n: DefNode): boolean {
  let v = n.arrayOfGenericArg;
  if (v === undefined) n.arrayOfGenericArg = v = hasArrayOfGenericArgUncached(n);
  return v;
}

function hasArrayOfGenericArgUncached(n: DefNode): boolean {
  return n.args.some((a) => {
    let e = a;
    while (e.kind === 'array' || e.kind === 'pointer' || e.kind === 'byref') {
      if (e.kind === 'array' && e.element.kind === 'def' && e.element.args.some((x) => x.kind === 'array')) return true;
      e = e.element;
    }
    return e.kind === 'def' && hasArrayOfGenericArg(e);
  });
}

/** What both styles share: Free, unknown types, type variables, and the array/pointer/byref wrappers. */
function renderWrapped(n: TypeNameNode, render: (n: TypeNameNode) => string, renderDef: (n: DefNode) => string): string {
  switch (n.kind) {
    case 'free':
      return 'Free';
    case 'unknown':
      return `<unknown type @${n.handle.toString(16)}>`;
    case 'var':
      return n.name;
    case 'pointer':
      return render(n.element) + '*';
    case 'byref':
      return render(n.element) + '&';
    case 'array':
      return render(n.element) + arraySuffix(n);
    case 'def':
      return renderDef(n);
  }
}

/** TypeString escapes the characters its own grammar uses (`, [ ] & * + \`) inside a name. */
export function escapeDacName(segment: string): string {
  if (!NEEDS_ESCAPE.test(segment)) return segment;
  return segment.replace(/[,[\]&*+\\]/g, (c) => '\\' + c);
}

const NEEDS_ESCAPE = /[,[\]&*+\\]/;

function stripArity(segment: string): string {
  const tick = segment.lastIndexOf('`');
  return tick < 0 || arityOf(segment) === 0 ? segment : segment.slice(0, tick);
}

function arraySuffix(n: { rank: number; sz: boolean }): string {
  if (n.sz) return '[]';
  if (n.rank === 1) return '[*]';
  return '[' + ','.repeat(n.rank - 1) + ']';
}

function assemblyOf(n: TypeNameNode): string {
  switch (n.kind) {
    case 'def':
      return n.assembly;
    case 'array':
    case 'pointer':
    case 'byref':
      return assemblyOf(n.element);
    default:
      return '';
  }
}
