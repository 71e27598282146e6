/**
 * Names the slot through which one object refers to the next in a retention chain: an instance field's name
 * (from the FieldDescs of the referencing type and its parents, and the module's metadata), `[i]` for an array
 * element, `(dependent handle)` for a dependent-handle edge, and `+0x<offset>` when no name is known. A slot inside a struct embedded in an object or an array element is
 * named by its field path through the struct's fields (`_sae._buffer`, `[3].value`), resolving each struct field's
 * type as the DAC does (without loading types).
 */
import { DumpsleuthError } from '../errors';
import { DEPENDENT_EDGE } from '../heap/object-graph';
import { ElementType } from '../runtime/metadata/signature-decoder';
import { FieldDescReader, FieldTypeResolver, type FieldDescInfo } from '../runtime/field-desc';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import type { ModuleReader } from '../runtime/loader';
import type { MethodTableInfo, MethodTableReader } from '../runtime/method-table';
import type { ModuleMetadata } from '../runtime/module-metadata';

const POINTER = 8;
/** Structs nest at most this deep in a name (a cap against a cyclic or corrupt layout). */
const MAX_STRUCT_DEPTH = 16;

/** Names reference slots; caches per (MethodTable, offset). */
export class ReferenceNamer {
  private readonly fields: FieldDescReader;
  private readonly cache = new Map<string, string>();
  private readonly fieldTypes?: FieldTypeResolver;

  /** `modules` lets names go through embedded structs (without it such slots stay `+0x<offset>` inside the field). */
  constructor(
    rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly metadataOf: (module: number) => ModuleMetadata | Error,
    modules?: ModuleReader,
  ) {
    this.fields = new FieldDescReader(rt, mts);
    if (modules) this.fieldTypes = new FieldTypeResolver(rt, mts, modules, metadataOf);
  }

  /** The name of the slot at `offset` of an object of type `mt` (edge offset as the object graph stores it). */
  name(mt: number, offset: number): string {
    if (offset === DEPENDENT_EDGE) return '(dependent handle)';
    const key = `${mt}:${offset}`;
    let s = this.cache.get(key);
    if (s === undefined) {
      s = this.resolve(mt, offset);
      this.cache.set(key, s);
    }
    return s;
  }

  private resolve(mt: number, offset: number): string {
    const fallback = `+0x${offset.toString(16)}`;
    try {
      const info = this.mts.read(mt);
      if (info.isArray) {
        const elementSize = info.componentSize || POINTER;
        // Element 0 starts after the array header (MethodTable, length; multi-dimensional bounds).
        const dataStart = info.isSzArray ? 2 * POINTER : info.baseSize - POINTER;
        const index = Math.floor((offset - dataStart) / elementSize);
        const within = (offset - dataStart) % elementSize;
        const element = this.structMT(this.mts.arrayElementType(info));
        if (element) return `[${index}]${this.inStruct(element, within, 0)}`;
        return within === 0 ? `[${index}]` : `[${index}]+0x${within.toString(16)}`;
      }
      // Instance field offsets count from the end of the MethodTable pointer.
      return this.inFields(info, offset - POINTER, 0) ?? fallback;
    } catch (e) {
      if (e instanceof DumpsleuthError) return fallback;
      throw e;
    }
  }

  /** The field path (without a leading dot) to the reference at `offset` of the instance data of `info`, or
   * undefined when no field covers it. */
  private inFields(info: MethodTableInfo, offset: number, depth: number): string | undefined {
    let covering: { fd: FieldDescInfo; owner: number } | undefined;
    for (const cls of this.fields.hierarchy(info)) {
      for (const f of cls.fields) {
        if (f.isStatic) continue;
        if (f.offset === offset && f.elementType !== ElementType.ValueType) return this.fieldName(cls.mt, f);
        // The struct field that starts last at or before the offset is the one that contains it.
        if (f.elementType === ElementType.ValueType && f.offset <= offset && (!covering || f.offset > covering.fd.offset)) covering = { fd: f, owner: cls.mt };
      }
    }
    if (!covering) return undefined;
    const name = this.fieldName(covering.owner, covering.fd);
    if (name === undefined) return undefined;
    const struct = this.fieldTypes && depth < MAX_STRUCT_DEPTH ? this.structMT(this.fieldTypes.fieldType(covering.fd).mt) : undefined;
    const within = offset - covering.fd.offset;
    if (!struct) return `${name}+0x${within.toString(16)}`;
    return `${name}${this.inStruct(struct, within, depth + 1)}`;
  }

  /** `.field.inner` for the reference at `offset` of a struct value of type `struct`, `+0x<offset>` when unnamed. */
  private inStruct(struct: MethodTableInfo, offset: number, depth: number): string {
    const path = depth < MAX_STRUCT_DEPTH ? this.inFields(struct, offset, depth) : undefined;
    return path !== undefined ? `.${path}` : offset === 0 ? '' : `+0x${offset.toString(16)}`;
  }

  /** The MethodTable of a value type (undefined for 0, a TypeDesc, a reference type or an unreadable MT). */
  private structMT(handle: number): MethodTableInfo | undefined {
    if (handle === 0 || handle % 4 !== 0) return undefined;
    try {
      const info = this.mts.read(handle);
      return info.isValueType ? info : undefined;
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  private fieldName(owner: number, f: FieldDescInfo): string | undefined {
    const md = this.metadataOf(this.mts.read(owner).module);
    return md instanceof Error ? undefined : md.metadata.getFieldName(f.token);
  }
}
