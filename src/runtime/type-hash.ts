/**
 * Finds one constructed type (a generic instantiation or an array) in the Modules' `AvailableTypeParams` tables by
 * its hash, the way the runtime's EETypeHashTable::FindItem does, instead of decoding every constructed type of
 * every module (issue 16: a `dumpobj` on a dump with thousands of types spent half a second building that index).
 *
 * The hash (typehash.cpp, .NET 10): djb2 over the TypeDef token and the type arguments' type-handle addresses, or
 * over the element kind and the element's type-handle address for arrays. The runtime computes in INT_PTR and keeps
 * the low 32 bits; shifts, additions and XORs carry only upwards, so 32-bit arithmetic gives the same bits.
 * The hash's place in a table entry is not in the contract descriptor: it is the word after the entry's value and
 * next pointer, and it is checked on the dump's own entries before any lookup trusts it (see `layoutHolds`).
 */
import { DumpsleuthError } from '../errors';
import type { ModuleReader } from './loader';
import type { MethodTableReader } from './method-table';

export const ELEMENT_TYPE_ARRAY = 0x14;
export const ELEMENT_TYPE_SZARRAY = 0x1d;
const SEED = 5381;
/** Entries whose stored hash is compared with the hash computed from their own type before lookups are trusted. */
const LAYOUT_SAMPLES = 32;

function step(hash: number, value: number): number {
  // The low 32 bits of an address: `value % 2^32` without 32-bit bitwise overflow of a 48-bit number.
  return (Math.imul(hash, 33) ^ (value % 4294967296)) >>> 0;
}

/** HashPossiblyInstantiatedType: a TypeDef token and its type arguments' type handles. */
export function hashInstantiatedType(token: number, args: readonly number[]): number {
  let h = step(SEED, token);
  for (const a of args) h = step(h, a);
  return h;
}

/** HashParamType: an array (or pointer, byref) by its element kind and element type handle. */
export function hashParamType(kind: number, element: number): number {
  return step(step(SEED, kind), element);
}

/** Looks constructed types up by hash across every module's table; `undefined` means "cannot tell here" (the hash
 * layout did not check out, or memory was unreadable) and the caller must fall back to enumerating. */
export class ConstructedTypeLookup {
  private layout?: boolean;

  constructor(
    private readonly modules: ModuleReader,
    private readonly mts: MethodTableReader,
  ) {}

  /** The loaded instantiation `token<args>` of the generic type defined in `module`, 0 when not loaded. */
  generic(module: number, token: number, args: readonly number[]): number | undefined {
    return this.find(hashInstantiatedType(token, args), [module, ...args.map((a) => this.moduleOf(a))], (h) => {
      if (h % 4 !== 0) return false;
      const info = this.mts.tryRead(h);
      if (!info || info.isArray || !info.hasInstantiation || info.typeDefToken !== token || info.module !== module) return false;
      const inst = this.mts.instantiation(info);
      return inst.length === args.length && inst.every((a, k) => a === args[k]);
    });
  }

  /** The loaded array type of `element` (SZ when `sz`, else multi-dimensional of `rank`), 0 when not loaded. */
  array(element: number, rank: number, sz: boolean): number | undefined {
    return this.find(hashParamType(sz ? ELEMENT_TYPE_SZARRAY : ELEMENT_TYPE_ARRAY, element), [this.moduleOf(element)], (h) => {
      if (h % 4 !== 0) return false;
      const info = this.mts.tryRead(h);
      return info !== undefined && info.isArray && info.isSzArray === sz && this.mts.arrayElementType(info) === element && this.mts.arrayRank(info) === rank;
    });
  }

  /** The module of a type handle's MethodTable, 0 for a TypeDesc or an unreadable one. */
  private moduleOf(handle: number): number {
    return handle % 4 === 0 ? (this.mts.tryRead(handle)?.module ?? 0) : 0;
  }

  /** Looks in `likely` modules first — the runtime keeps a constructed type in its loader module, which is the
   * generic definition's or an argument's module (ClassLoader::ComputeLoaderModuleWorker) — then in every other. */
  private find(hash: number, likely: readonly number[], matches: (handle: number) => boolean): number | undefined {
    try {
      if (!this.layoutHolds()) return undefined;
      const tried = new Set<number>();
      for (const m of likely) {
        if (m === 0 || tried.has(m)) continue;
        tried.add(m);
        for (const h of this.modules.typeParamsWithHash(m, hash)) if (matches(h)) return h;
      }
      for (const mod of this.modules.enumerate()) {
        if (tried.has(mod.address)) continue;
        for (const h of this.modules.typeParamsWithHash(mod.address, hash)) if (matches(h)) return h;
      }
      return 0;
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  /** True when the first entries of the tables carry, where we read it, the hash their own type hashes to. */
  private layoutHolds(): boolean {
    if (this.layout !== undefined) return this.layout;
    let checked = 0;
    let ok = true;
    for (const mod of this.modules.enumerate()) {
      for (const { handle, hash } of this.modules.typeParamEntries(mod.address, LAYOUT_SAMPLES - checked)) {
        if (handle % 4 !== 0) continue;
        const info = this.mts.tryRead(handle);
        if (!info) continue;
        const expected = info.isArray
          ? hashParamType(info.isSzArray ? ELEMENT_TYPE_SZARRAY : ELEMENT_TYPE_ARRAY, this.mts.arrayElementType(info))
          : hashInstantiatedType(info.typeDefToken, this.mts.instantiation(info));
        if (expected !== hash) ok = false;
        checked++;
      }
      if (!ok || checked >= LAYOUT_SAMPLES) break;
    }
    this.layout = ok && checked > 0;
    return this.layout;
  }
}
