/**
 * The minimum of MethodDescs the code commands need (RuntimeTypeSystem contract: MethodDesc, MethodDescChunk,
 * InstantiatedMethodDesc) and SOS's method name (`GetMethodDescName`: DAC type name + `.` + name + method
 * instantiation + SigFormat parameter list; research/names-and-sos-output.md §A3.1).
 * Names come from `runtime/method-desc.ts` (MethodDescReader.name); this file keeps what the code commands read
 * beyond it (native-code and non-vtable slot addresses, tiering flags) and SOS's `!Unknown` fallback.
 */
import { MethodDescSizes } from '../method-desc-sizes';
import { DumpsleuthError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { MethodTableReader } from '../method-table';
import type { ModuleReader } from '../loader';
import type { TypeNameResolver } from '../type-names';
import { MethodDescReader } from '../method-desc';

/** MethodDesc classifications (method.hpp MethodClassification). */
export const MethodClassification = { IL: 0, FCall: 1, PInvoke: 2, EEImpl: 3, Array: 4, Instantiated: 5, ComInterop: 6, Dynamic: 7 } as const;

const FLAGS_NON_VTABLE_SLOT = 0x8;
const FLAGS_HAS_NATIVE_CODE_SLOT = 0x20;
const FLAGS_STATIC = 0x80;
const FLAGS3_HAS_STABLE_ENTRY_POINT = 0x1000;
const FLAGS3_HAS_PRECODE = 0x2000;
const FLAGS3_ELIGIBLE_FOR_TIERING = 0x8000;

/** The decoded fields of one MethodDesc. */
export interface MethodDescInfo {
  readonly address: number;
  readonly chunk: number;
  readonly methodTable: number;
  readonly token: number;
  readonly slot: number;
  readonly flags: number;
  readonly flags3: number;
  readonly classification: number;
  readonly isStatic: boolean;
  readonly isEligibleForTiering: boolean;
  readonly hasStableEntryPoint: boolean;
  readonly hasPrecode: boolean;
  /** Address of the native-code slot, 0 when the MethodDesc has none. */
  readonly nativeCodeSlot: number;
  /** Address of the non-vtable entry-point slot, 0 when the entry point is in the MethodTable's slots. */
  readonly nonVtableSlot: number;
  /** Type handles of a generic method's instantiation (empty for a non-generic method). */
  readonly methodInstantiation: readonly number[];
}

/** Reads MethodDescs and renders their SOS names; cached per address. */
export class MethodDescNames {
  private readonly infos = new Map<number, MethodDescInfo>();
  private readonly names = new Map<number, string>();
  private readonly sizes: MethodDescSizes;

  constructor(
    rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly modules: ModuleReader,
    types: TypeNameResolver,
  ) {
    this.sizes = MethodDescSizes.of(rt);
    this.reader = new MethodDescReader(rt, mts, types, modules);
  }

  /** The one implementation of SOS method names (shared with dumpmt). */
  private readonly reader: MethodDescReader;

  /** The MethodDesc at `md`, validated through its chunk's MethodTable.
   * @throws LayoutCheckError when it is not a MethodDesc; UnmappedAddressError when it is not in the dump. */
  read(md: number): MethodDescInfo {
    let info = this.infos.get(md);
    if (!info) {
      info = this.decode(md);
      this.infos.set(md, info);
    }
    return info;
  }

  /** Like `read`, but undefined for an address that is not a readable MethodDesc. */
  tryRead(md: number): MethodDescInfo | undefined {
    try {
      return this.read(md);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** SOS's method name, e.g. `System.Collections.Generic.List`1[[System.__Canon, System.Private.CoreLib]].Add(System.__Canon)`;
   * `<module file>!Unknown` (as SOS prints) when the metadata is not readable. */
  name(md: number): string {
    let s = this.names.get(md);
    if (s === undefined) {
      s = this.render(md);
      this.names.set(md, s);
    }
    return s;
  }

  /** The module of the MethodDesc's MethodTable. */
  module(md: number): number {
    return this.mts.read(this.read(md).methodTable).module;
  }

  /** The code-side view of a MethodDesc, derived from the one MethodDesc decoder (runtime/method-desc.ts), which
   * validates it against its whole chunk. */
  private decode(md: number): MethodDescInfo {
    const base = this.reader.read(md);
    const { flags, flags3 } = base;
    return {
      address: md,
      chunk: base.chunk,
      methodTable: base.methodTable,
      token: base.token,
      slot: base.slot,
      flags,
      flags3,
      classification: base.classification,
      isStatic: (flags & FLAGS_STATIC) !== 0,
      isEligibleForTiering: (flags3 & FLAGS3_ELIGIBLE_FOR_TIERING) !== 0,
      hasStableEntryPoint: (flags3 & FLAGS3_HAS_STABLE_ENTRY_POINT) !== 0,
      hasPrecode: (flags3 & FLAGS3_HAS_PRECODE) !== 0,
      nativeCodeSlot: (flags & FLAGS_HAS_NATIVE_CODE_SLOT) !== 0 ? md + this.sizes.nativeCodeSlotOffset(flags) : 0,
      nonVtableSlot: (flags & FLAGS_NON_VTABLE_SLOT) !== 0 ? md + this.sizes.nonVtableSlotOffset(flags) : 0,
      methodInstantiation: base.methodInstantiation,
    };
  }

  private render(md: number): string {
    try {
      return this.reader.name(md);
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      // SOS's GetMethodDescName falls back to `<module file>!Unknown`.
      try {
        return `${this.moduleFileName(this.mts.read(this.read(md).methodTable).module)}!Unknown`;
      } catch (e2) {
        if (e2 instanceof DumpsleuthError) return 'UNKNOWN!Unknown';
        throw e2;
      }
    }
  }

  private moduleFileName(module: number): string {
    try {
      const path = this.modules.read(module).path;
      return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1) || 'UNKNOWN';
    } catch (e) {
      if (e instanceof DumpsleuthError) return 'UNKNOWN';
      throw e;
    }
  }
}

export { readUtf8 } from '../method-desc';
