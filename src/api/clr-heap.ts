/**
 * The GC heap of a dump (ClrMD's ClrHeap): objects as an iterator or as typed-array batches, types, fields by name,
 * arrays, roots, and the analyses (gcroot paths, dominators, retained sizes, `analyze`). The heavy answers return the
 * same JSON documents `dumpsleuth --json` prints, so a script can move between the CLI and the library freely.
 */
import type { Session } from '../cli/session';
import { objectReaderOf, valueJson } from '../cli/commands/object-text';
import { rootCache } from '../cli/commands/root-cache';
import { reportWalkProblems } from '../cli/commands/warnings';
import { findCommand } from '../cli/commands';
import { UsageError } from '../errors';
import { forEachObject } from '../heap/heap-walker';
import { countObjectsByType } from '../heap/type-count-walk';
import type { FieldRow, FieldValue, ObjectInfo } from '../heap/object-reader';
import type { GcRoot } from '../heap/roots';
import type { MethodTableInfo } from '../runtime/method-table';
import { ElementType } from '../runtime/metadata';
import type { CommandDocument } from './clr-dump';

/** Objects of one batch of {@link ClrHeap.objectBatches}: parallel typed arrays, `count` entries used. */
export interface ObjectBatch {
  readonly count: number;
  readonly addresses: Float64Array;
  readonly methodTables: Float64Array;
  /** Sizes as SOS reports them (BaseSize + length × ComponentSize, at least 24). */
  readonly sizes: Float64Array;
}

/** One row of {@link ClrHeap.statistics} (SOS `dumpheap -stat`). */
export interface TypeStatistics {
  readonly type: ClrType;
  readonly count: number;
  readonly totalSize: number;
}

/** A field's value: numbers (bigint beyond 2^53), booleans, one-char strings, objects, nested values, or null. */
export type ClrFieldValue = number | bigint | boolean | string | ClrObject | ClrValue | null | undefined;

/** One field of an object, with its value. */
export interface ClrField {
  readonly name: string;
  /** Offset from the object's start (as SOS's `Offset` column). */
  readonly offset: number;
  readonly isStatic: boolean;
  /** The field's type name as SOS prints it (`System.String`, `System.Int32`, ...). */
  readonly typeName: string;
  readonly value: ClrFieldValue;
}

/** A value type embedded in an object (a struct field): its address and type; read its fields with `readField`. */
export class ClrValue {
  readonly #heap: ClrHeap;

  /** @internal */
  constructor(
    heap: ClrHeap,
    readonly address: number,
    readonly type: ClrType,
  ) {
    this.#heap = heap;
  }

  /** The field's value. @throws UsageError when there is no such field. */
  readField(name: string): ClrFieldValue {
    const rows = this.#heap.reader.fieldRows(this.type.info, this.address, true);
    const row = rows.find((r) => r.name === name && !r.fd.isStatic);
    if (!row) throw new UsageError(`${this.type.name} has no instance field "${name}"`);
    return this.#heap.decode(row.value, row.type.mt);
  }

  toString(): string {
    return `${this.type.name} value at 0x${this.address.toString(16)}`;
  }
}

/** A .NET type, by its MethodTable. */
export class ClrType {
  readonly #heap: ClrHeap;
  readonly #info: MethodTableInfo;

  /** @internal */
  constructor(heap: ClrHeap, info: MethodTableInfo) {
    this.#heap = heap;
    this.#info = info;
  }

  /** @internal */
  get info(): MethodTableInfo {
    return this.#info;
  }

  /** The MethodTable address. */
  get methodTable(): number {
    return this.#info.address;
  }

  /** The name as `dumpheap` prints it (ClrMD's names: `System.Collections.Generic.List<System.String>`). */
  get name(): string {
    return this.#heap.session.names.clrmdName(this.#info.address);
  }

  get baseSize(): number {
    return this.#info.baseSize;
  }

  /** Bytes per element for arrays and strings, else 0. */
  get componentSize(): number {
    return this.#info.componentSize;
  }

  get isArray(): boolean {
    return this.#info.isArray;
  }

  get isString(): boolean {
    return this.#info.isString;
  }

  get isValueType(): boolean {
    return this.#info.isValueType;
  }

  /** True for the GC's free-space pseudo type (`Free` in dumpheap). */
  get isFree(): boolean {
    return this.#info.address === this.#heap.session.heap.freeObjectMethodTable;
  }

  toString(): string {
    return this.name;
  }
}

/** One object on the GC heap. */
export class ClrObject {
  readonly #heap: ClrHeap;
  #info: ObjectInfo | undefined;

  /** @internal */
  constructor(
    heap: ClrHeap,
    readonly address: number,
    info?: ObjectInfo,
  ) {
    this.#heap = heap;
    this.#info = info;
  }

  get #header(): ObjectInfo {
    return (this.#info ??= this.#heap.reader.readObject(this.address, false));
  }

  get type(): ClrType {
    return this.#heap.typeOf(this.#header.mt);
  }

  /** Size as SOS reports it. */
  get size(): number {
    return this.#header.size;
  }

  /** 0, 1, 2; 3 for the large and 4 for the pinned object heap; undefined when not known. */
  get generation(): number | undefined {
    return this.#header.generation;
  }

  /** The string's characters. @throws UsageError when the object is not a string. */
  asString(): string {
    if (!this.#header.mt.isString) throw new UsageError(`0x${this.address.toString(16)} is not a string`);
    return this.#heap.reader.readString(this.address);
  }

  /** Every field (instance and static) with its value, base class fields first. */
  get fields(): ClrField[] {
    if (this.type.isFree) return [];
    return this.#heap.reader.fieldRows(this.#header.mt, this.address, false).map((r) => this.#heap.field(r));
  }

  /** The value of the instance field `name` (declared here or in a base class). @throws UsageError when absent. */
  readField(name: string): ClrFieldValue {
    const row = this.#heap.reader.fieldRows(this.#header.mt, this.address, false).find((r) => r.name === name && !r.fd.isStatic);
    if (!row) throw new UsageError(`${this.type.name} has no instance field "${name}"`);
    return this.#heap.decode(row.value, row.type.mt);
  }

  /** The object the reference field `name` points to, or null. @throws UsageError when it is not a reference field. */
  readObjectField(name: string): ClrObject | null {
    const v = this.readField(name);
    if (v === null || v instanceof ClrObject) return v;
    throw new UsageError(`${this.type.name}.${name} is not a reference field`);
  }

  /** The number of elements of an array. @throws UsageError when the object is not an array. */
  get arrayLength(): number {
    return this.array().length;
  }

  /** Element `index` of an array: an object (or null) for reference arrays, a number/boolean/value otherwise. */
  arrayElement(index: number): ClrFieldValue {
    const arr = this.array();
    if (!Number.isInteger(index) || index < 0 || index >= arr.length) throw new UsageError(`index ${index} is outside the array (length ${arr.length})`);
    const address = arr.dataAddress + index * arr.componentSize;
    if (arr.elementIsValueType && arr.elementType === ElementType.ValueType) {
      return new ClrValue(this.#heap, address, this.#heap.typeOf(this.#heap.session.methodTables.read(arr.elementHandle)));
    }
    return this.#heap.decode(this.#heap.reader.readValue(arr.elementType, address, arr.elementHandle), arr.elementHandle);
  }

  private array() {
    if (!this.#header.mt.isArray) throw new UsageError(`0x${this.address.toString(16)} is not an array`);
    return this.#heap.reader.readArray(this.#header);
  }

  toString(): string {
    return `${this.type.name} 0x${this.address.toString(16)}`;
  }
}

/** Options of {@link ClrHeap.analyze}. */
export interface AnalyzeOptions {
  /** Run one rule only (ids: `analyze -list`). */
  readonly rule?: string;
  /** Assemblies to count as user code when blaming a method (default: every assembly outside the shared framework). */
  readonly userAssemblies?: readonly string[];
}

/** One finding of `analyze` (the README documents each field). */
export interface AnalyzeFinding {
  readonly rule: string;
  readonly title: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly verdict: string;
  readonly objectCount: number;
  readonly retainedBytes: number;
  readonly culprit?: { readonly method: string; readonly type: string; readonly module: string; readonly evidence: string };
  readonly chain: readonly { readonly type: string; readonly field?: string }[];
  /** Symptom object addresses as `0x…` strings. */
  readonly examples: readonly string[];
  /** Commands that prove the finding by hand (`gcroot 0x…`, `dumpdelegate 0x…`). */
  readonly verify: readonly string[];
  readonly confidence: 'high' | 'medium' | 'low';
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The GC heap of one runtime. */
export class ClrHeap {
  private readonly types = new Map<number, ClrType>();
  private stats?: TypeStatistics[];

  /** @internal Use {@link ClrRuntime.heap}. */
  constructor(
    /** @internal */
    readonly session: Session,
  ) {}

  /** @internal */
  get reader() {
    return objectReaderOf(this.session);
  }

  /** True for server GC (one heap per core), false for workstation GC. */
  get isServer(): boolean {
    return this.session.heap.isServer;
  }

  /** True when the GC uses regions (.NET 7+ default), false for segments. */
  get usesRegions(): boolean {
    return this.session.heap.usesRegions;
  }

  /** The number of GC heaps. */
  get heapCount(): number {
    return this.session.heap.heaps.length;
  }

  /**
   * Every object in heap order (free space included, as type `Free`), in batches of parallel typed arrays: the fast
   * way through a big heap (no object per object).
   */
  *objectBatches(batchSize = 65536): Generator<ObjectBatch> {
    const batches: ObjectBatch[] = [];
    let cur = newBatch(batchSize);
    let n = 0;
    const problems = forEachObject(this.session.heap, this.session.methodTables, this.session.runtime.memory, (address, mt, size) => {
      if (n === batchSize) {
        batches.push({ ...cur, count: n });
        cur = newBatch(batchSize);
        n = 0;
      }
      cur.addresses[n] = address;
      cur.methodTables[n] = mt;
      cur.sizes[n] = size;
      n++;
    });
    if (n > 0) batches.push({ ...cur, count: n });
    // What the walk could not read is said (ClrDump.takeWarnings), as the CLI says it.
    reportWalkProblems(this.session, problems);
    yield* batches;
  }

  /** Every object in heap order, free space left out. */
  *enumerateObjects(): Generator<ClrObject> {
    const free = this.session.heap.freeObjectMethodTable;
    for (const b of this.objectBatches()) {
      for (let i = 0; i < b.count; i++) if (b.methodTables[i] !== free) yield new ClrObject(this, b.addresses[i]!);
    }
  }

  /** The object at `address`. @throws UsageError when no object starts there. */
  getObject(address: number): ClrObject {
    return new ClrObject(this, address, this.reader.readObject(address));
  }

  /** The type of a MethodTable. @throws UsageError when it is not a valid MethodTable. */
  getType(methodTable: number): ClrType {
    const info = this.reader.tryReadMethodTable(methodTable);
    if (!info) throw new UsageError(`0x${methodTable.toString(16)} is not a MethodTable`);
    return this.typeOf(info);
  }

  /** The type with this exact name among the types of the heap's objects (dumpheap's names), or undefined. */
  getTypeByName(name: string): ClrType | undefined {
    return this.statistics().find((s) => s.type.name === name)?.type;
  }

  /** Objects per type, as `dumpheap -stat` (sorted by total size ascending). */
  statistics(): TypeStatistics[] {
    if (!this.stats) {
      // The counting walk (as `dumpheap -stat`): per-type counts without holding every object; ties keep the order
      // of each type's first object.
      const c = countObjectsByType(this.session.heap, this.session.methodTables, this.session.runtime.memory);
      reportWalkProblems(this.session, c.problems);
      this.stats = c.order.map((i) => ({ type: this.getType(c.index.addresses[i]!), count: c.counts[i]!, totalSize: c.sizes[i]! })).sort((a, b) => a.totalSize - b.totalSize);
    }
    return this.stats;
  }

  /** The roots SOS's gcroot starts from: strong and pinned handles, the finalizer queue, then thread stacks. */
  roots(): GcRoot[] {
    return rootCache(this.session).roots(true);
  }

  /** Reference chains from roots to the object (the `gcroot --json` document: `{target, paths: [{root, chain}]}`). */
  gcroot(address: number, options: { all?: boolean; noStacks?: boolean } = {}): CommandDocument {
    return this.run('gcroot', ...(options.all ? ['-all'] : []), ...(options.noStacks ? ['-nostacks'] : []), hex(address));
  }

  /** Top objects and types by retained size (the `dominators --json` document). */
  dominators(options: { type?: string; limit?: number } = {}): CommandDocument {
    return this.run('dominators', ...(options.type !== undefined ? ['-type', options.type] : []), ...(options.limit !== undefined ? ['-limit', String(options.limit)] : []));
  }

  /** One object's retained size and dominator chain (the `retained --json` document). */
  retained(address: number): CommandDocument {
    return this.run('retained', hex(address));
  }

  /** Runs the leak rules: findings ordered by impact, each with its chain, culprit and verify commands. */
  analyze(options: AnalyzeOptions = {}): { findings: AnalyzeFinding[]; warnings: readonly string[] } {
    const args = [...(options.rule !== undefined ? ['-rule', options.rule] : []), ...(options.userAssemblies?.length ? ['--user-assembly', options.userAssemblies.join(',')] : [])];
    const doc = this.run('analyze', ...args);
    return { findings: doc.findings as AnalyzeFinding[], warnings: doc.warnings };
  }

  /** @internal */
  typeOf(info: MethodTableInfo): ClrType {
    let t = this.types.get(info.address);
    if (!t) this.types.set(info.address, (t = new ClrType(this, info)));
    return t;
  }

  /** @internal */
  decode(value: FieldValue, mt: number): ClrFieldValue {
    switch (value.kind) {
      case 'reference':
        return value.value === 0 ? null : new ClrObject(this, value.value);
      case 'valuetype':
        return new ClrValue(this, value.address, this.typeOf(this.session.methodTables.read(value.mt || mt)));
      case 'none':
        return undefined;
      case 'pointer':
        return value.value;
      default:
        return valueJson(value) as ClrFieldValue;
    }
  }

  /** @internal */
  field(r: FieldRow): ClrField {
    return { name: r.name, offset: r.offset, isStatic: r.fd.isStatic, typeName: fieldTypeName(this, r), value: this.decode(r.value, r.type.mt) };
  }

  private run(name: string, ...args: string[]): CommandDocument {
    const cmd = findCommand(name)!;
    this.session.takeWarnings();
    const json = cmd.run(this.session, args).json as Record<string, unknown>;
    return { ...json, warnings: this.session.takeWarnings() };
  }
}

function fieldTypeName(heap: ClrHeap, r: FieldRow): string {
  if (r.type.mt !== 0) {
    try {
      return heap.session.names.clrmdName(r.type.mt);
    } catch {
      // fall through to the element type
    }
  }
  return `ElementType 0x${r.fd.elementType.toString(16)}`;
}

function newBatch(n: number): { addresses: Float64Array; methodTables: Float64Array; sizes: Float64Array } {
  return { addresses: new Float64Array(n), methodTables: new Float64Array(n), sizes: new Float64Array(n) };
}

function hex(address: number): string {
  return '0x' + address.toString(16);
}
