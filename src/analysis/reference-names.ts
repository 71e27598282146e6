/**
 * Names the slot through which one object refers to the next in a retention chain: an instance field's name
 * (from the FieldDescs of the referencing type and its parents, and the module's metadata), `[i]` for an array
 * element, `(dependent handle)` for a dependent-handle edge, and `+0x<offset>` when no name is known (fields of
 * structs embedded in other objects or arrays are not resolved yet).
 */
import { DumpsleuthError } from '../errors';
import { DEPENDENT_EDGE } from '../heap/object-graph';
import { FieldDescReader } from '../runtime/field-desc';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import type { MethodTableReader } from '../runtime/method-table';
import type { ModuleMetadata } from '../runtime/module-metadata';

const POINTER = 8;

/** Names reference slots; caches per (MethodTable, offset). */
export class ReferenceNamer {
  private readonly fields: FieldDescReader;
  private readonly cache = new Map<string, string>();

  constructor(
    rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly metadataOf: (module: number) => ModuleMetadata | Error,
  ) {
    this.fields = new FieldDescReader(rt, mts);
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
        return within === 0 ? `[${index}]` : `[${index}]+0x${within.toString(16)}`;
      }
      for (const cls of this.fields.hierarchy(info)) {
        for (const f of cls.fields) {
          if (f.isStatic || f.offset + POINTER !== offset) continue;
          const owner = this.mts.read(cls.mt);
          const md = this.metadataOf(owner.module);
          if (md instanceof Error) return fallback;
          return md.metadata.getFieldName(f.token);
        }
      }
      return fallback;
    } catch (e) {
      if (e instanceof DumpsleuthError) return fallback;
      throw e;
    }
  }
}
