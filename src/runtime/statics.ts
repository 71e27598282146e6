/**
 * Static field storage of a type (.NET 9+ statics): the GC and non-GC statics bases kept in the
 * `DynamicStaticsInfo` that sits just before the type's `MethodTableAuxiliaryData` (research/gc-net10.md §6.1).
 * The .NET 10 descriptor does not describe `DynamicStaticsInfo`; its layout is pinned here
 * ({m_pGCStatics, m_pNonGCStatics, m_pMethodTable}, 3 pointers) and checked: m_pMethodTable must be the type.
 */
import { LayoutCheckError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';
import type { MethodTableInfo } from './method-table';

const MT_FLAGS2_DYNAMIC_STATICS = 0x2;
const DYNAMIC_STATICS_INFO_SIZE = 24;
// Bit 0 of each statics pointer is ISCLASSNOTINITED until the class constructor has run (StaticsPointerMask).
const STATICS_NOT_INITED_BIT = 1;

/** The two statics bases of a type; 0 where the type has no storage of that kind (yet). */
export interface StaticsBases {
  /** Base of the slots of reference-typed and struct-typed statics (each slot holds a reference). */
  readonly gcStatics: number;
  /** Base of the primitive statics (values inline). */
  readonly nonGcStatics: number;
}

/** Reads the statics bases of a MethodTable. @throws UnmappedAddressError; LayoutCheckError when the
 * `DynamicStaticsInfo` does not point back at the type. */
export function readStaticsBases(rt: DotNetRuntime, mt: MethodTableInfo): StaticsBases {
  if ((mt.flags2 & MT_FLAGS2_DYNAMIC_STATICS) === 0) return { gcStatics: 0, nonGcStatics: 0 };
  const m = rt.memory;
  const aux = m.readPointer(mt.address + rt.descriptor.offset('MethodTable', 'AuxiliaryData'));
  const info = aux - DYNAMIC_STATICS_INFO_SIZE;
  const owner = m.readPointer(info + 16);
  if (owner !== mt.address) {
    throw new LayoutCheckError(`the statics of MethodTable 0x${mt.address.toString(16)} do not point back at it (found 0x${owner.toString(16)})`);
  }
  const gc = m.readPointer(info);
  const nonGc = m.readPointer(info + 8);
  return { gcStatics: gc - (gc % (STATICS_NOT_INITED_BIT + 1)), nonGcStatics: nonGc - (nonGc % (STATICS_NOT_INITED_BIT + 1)) };
}
