/**
 * Everything the leak rules read, built once per loaded dump: the object graph, the strong roots, one shortest
 * retention path per object, the dominator tree with retained sizes, type and field facts, delegates, and which
 * modules are user code.
 *
 * Retention semantics (the same for paths, reachability and dominators):
 * - strong roots are strong/pinned/async-pinned/ref-counted/sized-ref handles, the finalizer queue's ready objects
 *   and stack roots (conservative until precise stack roots exist: a stale stack word can keep an object "alive"
 *   here that the GC would collect);
 * - weak handles are never roots, and a dependent handle is never a root either: its secondary is reached through an
 *   edge primary → secondary (the GC keeps the secondary alive exactly while the primary is alive), so the primary
 *   — and whatever dominates it — retains the secondary, and a secondary whose primary is unreachable is garbage.
 */
import { DumpsleuthError } from '../errors';
import { DEPENDENT_EDGE, NO_OBJECT, type ObjectGraph } from '../heap/object-graph';
import type { FieldValue, ObjectReader } from '../heap/object-reader';
import type { GcRoot } from '../heap/roots';
import type { CodeResolver } from '../runtime/code/code-resolver';
import type { StackWalk } from '../runtime/code/stack-walker';
import type { FinalizeQueue } from '../runtime/gc/finalize-queue';
import type { GcHeap } from '../runtime/gc/gc-heap';
import type { GcHandle } from '../runtime/gc/handle-table';
import { defaultNativeCode } from '../runtime/code/method-details';
import type { DelegateInfo, DelegateReader } from '../runtime/code/delegates';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import type { ModuleReader } from '../runtime/loader';
import type { MethodTableReader } from '../runtime/method-table';
import { staticSlotsOf } from '../runtime/static-slots';
import type { ClrThread } from '../runtime/thread-store';
import type { TypeNameResolver } from '../runtime/type-names';
import { computeDominators, computeRetainedSizes, type DominatorTree } from './dominators';
import type { ReferenceNamer } from './reference-names';

/** `parentOf` value of a root object. */
export const PATH_ROOT = -2;
/** `parentOf` value of an object no strong root reaches. */
export const PATH_UNREACHED = -1;

const POINTER = 8;
const MAX_PATH_LENGTH = 1_000_000;

/** What the analysis context is built from (the CLI session's parts, or a test's). */
export interface AnalysisParts {
  readonly runtime: DotNetRuntime;
  readonly heap: GcHeap;
  /** Every GC handle, weak ones included (rules that count handles read them; roots come from `roots`). */
  readonly handles: readonly GcHandle[];
  readonly finalizeQueues: readonly FinalizeQueue[];
  readonly methodTables: MethodTableReader;
  readonly modules: ModuleReader;
  readonly names: TypeNameResolver;
  readonly graph: ObjectGraph;
  /** Strong roots in SOS's order (handles, finalizer queue, stacks); weak handles must not be among them. */
  readonly roots: readonly GcRoot[];
  readonly threads: readonly ClrThread[];
  readonly objects: ObjectReader;
  readonly delegates: DelegateReader;
  readonly code: CodeResolver;
  readonly namer: ReferenceNamer;
  /** When set, only these assemblies (file names, `.dll` optional, case-insensitive) count as user code. */
  readonly userAssemblies?: readonly string[];
  /** Where facts that make an answer incomplete go (the session's warnings). */
  readonly warn?: (message: string) => void;
  /** Walks a live thread's managed stack (undefined when its OS thread is not in the dump). */
  readonly walkThread?: (thread: ClrThread) => StackWalk | undefined;
}

/** One instance field of a type, by name, with what is needed to read it from any object of that type. */
export interface FieldLayout {
  readonly name: string;
  /** From the object start (MethodTable pointer included). */
  readonly offset: number;
  readonly elementType: number;
  /** The field's declared type when the runtime has loaded it, else 0. */
  readonly typeMT: number;
  /** The declared type's name ('' when unknown). */
  readonly typeName: string;
}

/** The shortest strong path from a root to an object: `nodes[0]` is the root object, `edges[k]` the forward edge
 * that leads to `nodes[k]` (-1 for the root object). */
export interface RetentionPath {
  readonly root: GcRoot;
  readonly nodes: readonly number[];
  readonly edges: readonly number[];
}

/** A method a delegate calls, named, with its declaring type and module. */
export interface ResolvedMethod {
  readonly methodDesc: number;
  /** SOS's method name (`Namespace.Type.Method(Params)`). */
  readonly name: string;
  readonly type: string;
  readonly module: string;
  readonly isUser: boolean;
  /** The compiled code (0 when the method was never compiled). */
  readonly codeAddress: number;
}

/** The facts every rule shares, computed lazily and once. It also satisfies the rule authors' `RuleContext`
 * (rules/rule-context.ts): the same names for the same things. */
export class AnalysisContext {
  readonly graph: ObjectGraph;
  readonly roots: readonly GcRoot[];
  /** Pending operations a finding already explained (so a second rule does not report them again). */
  readonly claimed = new Set<number>();
  /** The heap-sized results, shared by contexts over the same graph and roots. */
  private readonly heavy: HeavyParts;
  private readonly layouts = new Map<number, FieldLayout[]>();
  private readonly hierarchies = new Map<number, readonly string[]>();
  private readonly userModules = new Map<number, boolean>();
  private readonly methods = new Map<number, ResolvedMethod | null>();
  private readonly userFilter?: ReadonlySet<string>;
  private frameworkDir?: string | null;

  constructor(
    readonly parts: AnalysisParts,
    heavy: HeavyParts = {},
  ) {
    this.heavy = heavy;
    this.graph = parts.graph;
    this.roots = parts.roots;
    if (parts.userAssemblies && parts.userAssemblies.length > 0) this.userFilter = new Set(parts.userAssemblies.map(assemblyKey));
  }

  /** A context over the same graph and roots with another user-assembly list; paths and dominators are shared. */
  withUserAssemblies(userAssemblies: readonly string[]): AnalysisContext {
    return new AnalysisContext({ ...this.parts, userAssemblies }, this.heavy);
  }

  // ---- The RuleContext view (rules/rule-context.ts) --------------------------------------------------------------

  get runtime(): DotNetRuntime {
    return this.parts.runtime;
  }
  get heap(): GcHeap {
    return this.parts.heap;
  }
  get handles(): readonly GcHandle[] {
    return this.parts.handles;
  }
  get finalizeQueues(): readonly FinalizeQueue[] {
    return this.parts.finalizeQueues;
  }
  get threads(): readonly ClrThread[] {
    return this.parts.threads;
  }
  get names(): TypeNameResolver {
    return this.parts.names;
  }
  get objects(): ObjectReader {
    return this.parts.objects;
  }
  get delegates(): DelegateReader {
    return this.parts.delegates;
  }
  get code(): CodeResolver {
    return this.parts.code;
  }
  get modules(): ModuleReader {
    return this.parts.modules;
  }
  get referenceNames(): ReferenceNamer {
    return this.parts.namer;
  }
  /** One byte per graph object: 1 when a strong root reaches it. */
  get live(): Uint8Array {
    if (!this.heavy.live) {
      const parent = this.parentOf;
      const live = new Uint8Array(parent.length);
      for (let i = 0; i < parent.length; i++) live[i] = parent[i] === PATH_UNREACHED ? 0 : 1;
      this.heavy.live = live;
    }
    return this.heavy.live;
  }
  /** Same as `dominatorTree`. */
  get dominators(): DominatorTree {
    return this.dominatorTree;
  }
  /** Same as `retainedSizes`. */
  get retained(): Float64Array {
    return this.retainedSizes;
  }
  /** The managed stack of a live thread, when a walker was supplied and the thread's OS thread is in the dump. */
  walkThread(thread: ClrThread): StackWalk | undefined {
    return this.parts.walkThread?.(thread);
  }
  /** True for a module path that is user code (see `isUserModuleAddress`). */
  isUserModule(path: string): boolean {
    const file = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    if (this.userFilter) return this.userFilter.has(assemblyKey(file));
    return this.classifyPath(path);
  }

  /** Warns once through the session (no-op without a sink). */
  warn(message: string): void {
    this.parts.warn?.(message);
  }

  // ---- Reachability and paths ------------------------------------------------------------------------------

  /** For each object, the object before it on one shortest strong path from a root (breadth-first from all roots
   * at once, roots in SOS's order), PATH_ROOT for root objects, PATH_UNREACHED for objects no root reaches. */
  get parentOf(): Int32Array {
    if (this.heavy.parent) return this.heavy.parent;
    const g = this.graph;
    const parent = new Int32Array(g.count).fill(PATH_UNREACHED);
    const queue = new Int32Array(g.count);
    const byObject = new Map<number, GcRoot>();
    let tail = 0;
    for (const r of this.roots) {
      const i = g.indexOf(r.object);
      if (i === NO_OBJECT) continue;
      if (!byObject.has(i)) byObject.set(i, r);
      if (parent[i] !== PATH_UNREACHED) continue;
      parent[i] = PATH_ROOT;
      queue[tail++] = i;
    }
    const start = g.edgeStart;
    const target = g.edgeTarget;
    for (let head = 0; head < tail; head++) {
      const i = queue[head]!;
      for (let e = start[i]!; e < start[i + 1]!; e++) {
        const t = target[e]!;
        if (parent[t] !== PATH_UNREACHED) continue;
        parent[t] = i;
        queue[tail++] = t;
      }
    }
    this.heavy.rootByObject = byObject;
    return (this.heavy.parent = parent);
  }

  /** True when a strong root reaches object `index`. */
  isReachable(index: number): boolean {
    return this.parentOf[index] !== PATH_UNREACHED;
  }

  /** The shortest strong path to object `index`, or undefined when no strong root reaches it. */
  pathTo(index: number): RetentionPath | undefined {
    const parent = this.parentOf;
    if (parent[index] === PATH_UNREACHED) return undefined;
    const nodes: number[] = [];
    for (let v = index; v !== PATH_ROOT; v = parent[v]!) {
      if (nodes.length > MAX_PATH_LENGTH) return undefined;
      nodes.push(v);
    }
    nodes.reverse();
    const edges = nodes.map((v, k) => (k === 0 ? -1 : this.edgeBetween(nodes[k - 1]!, v)));
    return { root: this.heavy.rootByObject!.get(nodes[0]!)!, nodes, edges };
  }

  /** The first forward edge from `from` to `to` (-1 when there is none). */
  edgeBetween(from: number, to: number): number {
    const g = this.graph;
    for (let e = g.edgeStart[from]!; e < g.edgeStart[from + 1]!; e++) if (g.edgeTarget[e] === to) return e;
    return -1;
  }

  /** The name of the slot that edge `edge` of object `from` comes from (field, `[i]`, `(dependent handle)`). */
  slotName(from: number, edge: number): string {
    if (edge < 0) return '';
    const off = this.graph.edgeOffset[edge]!;
    if (off === DEPENDENT_EDGE) return '(dependent handle)';
    return this.staticSlotName(from, off) ?? this.parts.namer.name(this.graph.mtOf(from), off);
  }

  /** `Type.field` when edge `edge` of object `from` is a static field's slot in a statics `System.Object[]`. */
  staticFieldName(from: number, edge: number): string | undefined {
    if (edge < 0) return undefined;
    const off = this.graph.edgeOffset[edge]!;
    return off === DEPENDENT_EDGE ? undefined : this.staticSlotName(from, off);
  }

  /** `Type.field` of the static whose slot of a statics `System.Object[]` is at `offset` of `from`, else undefined. */
  private staticSlotName(from: number, offset: number): string | undefined {
    const p = this.parts;
    if (p.names.clrmdName(this.graph.mtOf(from)) !== 'System.Object[]') return undefined;
    const slot = staticSlotsOf(p.runtime, p.methodTables, p.modules, (m) => p.names.moduleMetadata(m)).at(this.graph.addresses[from]! + offset);
    return slot ? `${p.names.clrmdName(slot.declaringMT)}.${slot.field}` : undefined;
  }

  // ---- Dominators ------------------------------------------------------------------------------------------

  /** The dominator tree over the strong roots (the virtual root's successors are the root objects, in order). */
  get dominatorTree(): DominatorTree {
    if (this.heavy.tree) return this.heavy.tree;
    const g = this.graph;
    const seen = new Uint8Array(g.count);
    const rootIndexes: number[] = [];
    for (const r of this.roots) {
      const i = g.indexOf(r.object);
      if (i === NO_OBJECT || seen[i]) continue;
      seen[i] = 1;
      rootIndexes.push(i);
    }
    return (this.heavy.tree = computeDominators({ nodeCount: g.count, offsets: g.edgeStart, edges: g.edgeTarget }, rootIndexes));
  }

  /** Each object's retained size: its own size plus the sizes of the objects it dominates (0 when unreachable). */
  get retainedSizes(): Float64Array {
    return (this.heavy.retained ??= computeRetainedSizes(this.dominatorTree, this.graph.sizes));
  }

  /** The total retained size of a set of objects, each byte counted once: members dominated by another member
   * add nothing of their own. */
  retainedOfSet(indexes: readonly number[]): number {
    const idom = this.dominatorTree.idom;
    const retained = this.retainedSizes;
    if (indexes.length > SMALL_SET) return retainedOfLargeSet(idom, retained, indexes);
    const member = new Set(indexes);
    let total = 0;
    for (const i of indexes) {
      let covered = false;
      for (let d = idom[i]!, steps = 0; d >= 0 && steps < MAX_PATH_LENGTH; d = idom[d]!, steps++) {
        if (member.has(d)) {
          covered = true;
          break;
        }
      }
      if (!covered) total += retained[i]!;
    }
    return total;
  }

  // ---- Types and fields -------------------------------------------------------------------------------------

  /** The type name of object `index` as dumpheap prints it. */
  typeName(index: number): string {
    return this.parts.names.clrmdName(this.graph.mtOf(index));
  }

  /** Names of `mt` and its parents (DAC style, most derived first); empty when the MethodTable is unreadable. */
  typeHierarchy(mt: number): readonly string[] {
    let names = this.hierarchies.get(mt);
    if (!names) {
      const out: string[] = [];
      try {
        for (let cur = this.parts.methodTables.tryRead(mt); cur && out.length < 64; cur = cur.parent !== 0 ? this.parts.methodTables.tryRead(cur.parent) : undefined) {
          out.push(this.parts.names.dacName(cur.address));
        }
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
      }
      names = out;
      this.hierarchies.set(mt, names);
    }
    return names;
  }

  /** True when `mt` is `typeName` or derives from it; a generic name matches its instantiations (`Foo` matches
   * `Foo`1[[...]]`). */
  derivesFrom(mt: number, typeName: string): boolean {
    return this.typeHierarchy(mt).some((n) => n === typeName || n.startsWith(typeName + '`') || n.startsWith(typeName + '<'));
  }

  /** True when `mt` is a delegate type. */
  isDelegate(mt: number): boolean {
    try {
      return this.parts.delegates.isDelegateType(mt);
    } catch (e) {
      if (e instanceof DumpsleuthError) return false;
      throw e;
    }
  }

  /** The instance fields of `mt` (inherited ones first), by name; empty when they cannot be read. */
  fieldsOf(mt: number): readonly FieldLayout[] {
    let list = this.layouts.get(mt);
    if (list) return list;
    list = [];
    try {
      const info = this.parts.methodTables.read(mt);
      if (!info.isArray) {
        const objects = this.parts.objects;
        for (const cls of objects.fieldDescs.hierarchy(info)) {
          const owner = this.parts.methodTables.read(cls.mt);
          const md = this.parts.names.moduleMetadata(owner.module);
          if (md instanceof Error) continue;
          for (const fd of cls.fields) {
            if (fd.isStatic) continue;
            let typeMT = 0;
            let typeName = '';
            try {
              const t = objects.fieldTypes.fieldType(fd);
              typeMT = t.mt;
              typeName = t.mt !== 0 ? this.parts.names.dacName(t.mt) : t.tokenName;
            } catch (e) {
              if (!(e instanceof DumpsleuthError)) throw e;
            }
            list.push({ name: md.metadata.getFieldName(fd.token), offset: fd.offset + POINTER, elementType: fd.elementType, typeMT, typeName });
          }
        }
      }
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
    this.layouts.set(mt, list);
    return list;
  }

  /** The field named one of `names` (first match in that order) of type `mt`, or undefined. */
  findField(mt: number, names: readonly string[]): FieldLayout | undefined {
    const fields = this.fieldsOf(mt);
    for (const n of names) {
      const f = fields.find((x) => x.name === n);
      if (f) return f;
    }
    return undefined;
  }

  /** Reads field `field` of the object at `address`; undefined when the memory is not in the dump. */
  readField(address: number, field: FieldLayout): FieldValue | undefined {
    try {
      return this.parts.objects.readValue(field.elementType, address + field.offset, field.typeMT);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** The value of the first of `names` that object `index` has, or undefined. */
  fieldValue(index: number, names: readonly string[]): { field: FieldLayout; value: FieldValue } | undefined {
    const f = this.findField(this.graph.mtOf(index), names);
    if (!f) return undefined;
    const value = this.readField(this.graph.addresses[index]!, f);
    return value ? { field: f, value } : undefined;
  }

  /** A numeric view of a field value (bool → 0/1, ints, pointers; a reference or unmanaged pointer field → its
   * address); undefined for structs and missing values. */
  static numeric(value: FieldValue | undefined): number | undefined {
    if (!value) return undefined;
    switch (value.kind) {
      case 'bool':
        return value.raw;
      case 'int':
      case 'pointer':
      case 'reference':
        return Number(value.value);
      default:
        return undefined;
    }
  }

  /** The enum member name of an enum-typed field's value, when the field's type is a known enum. */
  enumName(field: FieldLayout, value: FieldValue): string | undefined {
    if (value.kind !== 'int' || field.typeMT === 0) return undefined;
    try {
      return this.parts.objects.enumMemberName(field.typeMT, value.value);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** The graph index of the object a reference field of object `index` points to (NO_OBJECT when null or not a
   * heap object). */
  referenceOf(index: number, field: FieldLayout): number {
    const v = this.readField(this.graph.addresses[index]!, field);
    if (!v || v.kind !== 'reference' || v.value === 0) return NO_OBJECT;
    return this.graph.indexOf(v.value);
  }

  // ---- Modules and user code ----------------------------------------------------------------------------------

  /** The file name of a runtime Module ('' when unreadable or dynamic). */
  moduleFileName(module: number): string {
    try {
      const path = this.parts.modules.read(module).path;
      return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    } catch (e) {
      if (e instanceof DumpsleuthError) return '';
      throw e;
    }
  }

  /** True when a Module is user code: not part of a shared framework (…/shared/<Framework>/<version>/), not a
   * framework assembly next to System.Private.CoreLib in a self-contained app; or, with `--user-assembly`, exactly
   * the named assemblies. */
  isUserModuleAddress(module: number): boolean {
    let known = this.userModules.get(module);
    if (known === undefined) {
      known = this.classifyModule(module);
      this.userModules.set(module, known);
    }
    return known;
  }

  /** True when the type `mt` is defined in user code (arrays and unreadable types are not). */
  isUserType(mt: number): boolean {
    const info = this.parts.methodTables.tryRead(mt);
    if (!info || info.isArray) return false;
    return this.isUserModuleAddress(info.module);
  }

  private classifyModule(module: number): boolean {
    let path: string;
    try {
      path = this.parts.modules.read(module).path;
    } catch (e) {
      if (e instanceof DumpsleuthError) return false;
      throw e;
    }
    return this.isUserModule(path);
  }

  private classifyPath(path: string): boolean {
    const file = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    // Dynamic (in-memory) modules are generated by user code (Reflection.Emit, scripting).
    if (path === '') return true;
    if (/[\\/]shared[\\/][^\\/]+[\\/]\d+\.\d+[^\\/]*[\\/][^\\/]+$/.test(path)) return false;
    const dir = path.slice(0, path.length - file.length);
    if (dir === this.coreLibDirectory() && /^(System\.|Microsoft\.|netstandard\.|mscorlib\.|WindowsBase\.)/i.test(file)) return false;
    return true;
  }

  /** The folder of System.Private.CoreLib (self-contained apps keep the framework there), null when unknown. */
  private coreLibDirectory(): string | null {
    if (this.frameworkDir !== undefined) return this.frameworkDir;
    this.frameworkDir = null;
    try {
      for (const m of this.parts.modules.enumerate()) {
        if (/[\\/]System\.Private\.CoreLib\.dll$/i.test(m.path)) {
          this.frameworkDir = m.path.slice(0, m.path.length - 'System.Private.CoreLib.dll'.length);
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
    return this.frameworkDir;
  }

  // ---- Delegates and methods ----------------------------------------------------------------------------------

  /** The decoded delegate at object `index`, or undefined when it cannot be decoded. */
  readDelegate(index: number): DelegateInfo | undefined {
    try {
      return this.parts.delegates.read(this.graph.addresses[index]!);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** A MethodDesc named, with its type, module and whether it is user code; undefined when unreadable. */
  method(methodDesc: number): ResolvedMethod | undefined {
    if (methodDesc === 0) return undefined;
    let m = this.methods.get(methodDesc);
    if (m === undefined) {
      m = null;
      try {
        const code = this.parts.code;
        const info = code.methodDescs.read(methodDesc);
        const module = code.methodDescs.module(methodDesc);
        let codeAddress = 0;
        try {
          codeAddress = defaultNativeCode(code, methodDesc);
        } catch (e) {
          if (!(e instanceof DumpsleuthError)) throw e;
        }
        m = {
          methodDesc,
          name: code.methodDescs.name(methodDesc),
          type: this.parts.names.dacName(info.methodTable),
          module: this.moduleFileName(module),
          isUser: this.isUserModuleAddress(module),
          codeAddress,
        };
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
      }
      this.methods.set(methodDesc, m);
    }
    return m ?? undefined;
  }
}

/** Sets larger than this get the linear walk (one graph-sized byte array; each dominator-tree node visited once). */
const SMALL_SET = 256;

/** `retainedOfSet` for large sets: a member counts unless a member is among its dominators; whether a node has a
 * member at or above it is memoised per node, so deep trees (linked lists) cost their size once, not per member. */
function retainedOfLargeSet(idom: Int32Array, retained: Float64Array, indexes: readonly number[]): number {
  // 0: unknown, 1: this node or one of its dominators is a member, 2: neither.
  const above = new Uint8Array(idom.length);
  for (const i of indexes) above[i] = 1;
  const walk: number[] = [];
  let total = 0;
  for (const i of indexes) {
    walk.length = 0;
    let d = idom[i]!;
    while (d >= 0 && above[d] === 0) {
      walk.push(d);
      d = idom[d]!;
    }
    const covered = d >= 0 && above[d] === 1;
    for (const w of walk) above[w] = covered ? 1 : 2;
    if (!covered) total += retained[i]!;
  }
  return total;
}

/** Paths and dominators, computed once per graph and root set. */
export interface HeavyParts {
  parent?: Int32Array;
  live?: Uint8Array;
  rootByObject?: Map<number, GcRoot>;
  tree?: DominatorTree;
  retained?: Float64Array;
}

/** The comparison key of an assembly name: lower case, without `.dll`/`.exe`. */
function assemblyKey(name: string): string {
  return name.toLowerCase().replace(/\.(dll|exe)$/, '');
}
