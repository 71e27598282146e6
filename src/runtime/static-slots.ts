/**
 * GC static slots: which static field a slot of a statics `System.Object[]` holds. On .NET 9+ a class's GC statics
 * live in slots of shared `object[]` buckets kept by strong handles (research/gc-net10.md §6.1); SOS's gcroot (C#
 * GCRootCommand with ClrMD's StaticVariableService) notes the link out of such an array as
 * `(static variable: {field type}.{field name})` (names-and-sos-output.md §B7).
 *
 * The map is built once per runtime, lazily: every type of every module's TypeDefToMethodTableMap, each of its
 * GC-kind statics (class or struct element type, not thread static) at `gcStaticsBase + FieldDesc offset`.
 */
import { DumpsleuthError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';
import { FieldDescReader, FieldTypeResolver, type FieldDescInfo } from './field-desc';
import type { ModuleReader } from './loader';
import { ElementType, TableId } from './metadata';
import type { MethodTableReader } from './method-table';
import type { ModuleMetadata } from './module-metadata';
import { readStaticsBases } from './statics';

const MAX_TYPEDEFS_PER_MODULE = 1_000_000;
const POINTER = 8;
const maps = new WeakMap<DotNetRuntime, StaticSlotMap>();

/** The runtime's static slot map (one per runtime, so per session; built on first lookup). */
export function staticSlotsOf(rt: DotNetRuntime, mts: MethodTableReader, modules: ModuleReader, metadataOf: (module: number) => ModuleMetadata | Error): StaticSlotMap {
  let m = maps.get(rt);
  if (!m) maps.set(rt, (m = new StaticSlotMap(rt, mts, modules, metadataOf)));
  return m;
}

/** The static field a GC statics slot holds. */
export interface StaticSlot {
  /** The declaring type's MethodTable. */
  readonly declaringMT: number;
  /** The field's type handle (0 when the runtime has not loaded it). */
  readonly fieldTypeMT: number;
  readonly field: string;
  readonly fieldDesc: FieldDescInfo;
}

/** Maps slot addresses (GC statics base + field offset) to the static field they hold. */
export class StaticSlotMap {
  private slots?: Map<number, StaticSlot>;

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly modules: ModuleReader,
    private readonly metadataOf: (module: number) => ModuleMetadata | Error,
  ) {}

  /** The static field held at `address`, if any. */
  at(address: number): StaticSlot | undefined {
    return (this.slots ??= this.build()).get(address);
  }

  /** The static SOS's gcroot notes for a reference held at `slot` of a statics array: ClrMD's StaticVariableService
   * keys each static one pointer past its slot (gcBase + offset + 8), so SOS names the static of the slot before. */
  sosAt(slot: number): StaticSlot | undefined {
    return this.at(slot - POINTER);
  }

  /** Number of known slots (builds the map). */
  get size(): number {
    return (this.slots ??= this.build()).size;
  }

  private build(): Map<number, StaticSlot> {
    const out = new Map<number, StaticSlot>();
    const fieldDescs = new FieldDescReader(this.rt, this.mts);
    const fieldTypes = new FieldTypeResolver(this.rt, this.mts, this.modules, this.metadataOf);
    for (const mod of this.modules.enumerate()) {
      const md = this.metadataOf(mod.address);
      if (md instanceof Error) continue;
      const rows = Math.min(md.metadata.rowCount(TableId.TypeDef), MAX_TYPEDEFS_PER_MODULE);
      for (let rid = 1; rid <= rows; rid++) {
        try {
          const mtAddr = this.modules.lookupMapElement(mod.address, 'TypeDefToMethodTableMap', 0x02000000 + rid);
          if (mtAddr === 0) continue;
          const mt = this.mts.read(mtAddr);
          const fields = fieldDescs.introduced(mt).filter((f) => f.isStatic && !f.isThreadStatic && (f.elementType === ElementType.Class || f.elementType === ElementType.ValueType));
          if (fields.length === 0) continue;
          const base = readStaticsBases(this.rt, mt).gcStatics;
          if (base === 0) continue;
          for (const fd of fields) {
            const address = base + fd.offset;
            if (out.has(address)) continue;
            let fieldTypeMT = 0;
            try {
              fieldTypeMT = fieldTypes.fieldType(fd).mt;
            } catch (e) {
              if (!(e instanceof DumpsleuthError)) throw e;
            }
            out.set(address, { declaringMT: mtAddr, fieldTypeMT, field: md.metadata.getFieldName(fd.token), fieldDesc: fd });
          }
        } catch (e) {
          // A type that cannot be read names no slot; the rest of the map stands.
          if (!(e instanceof DumpsleuthError)) throw e;
        }
      }
    }
    return out;
  }
}
