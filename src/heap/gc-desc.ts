/**
 * Object references from a MethodTable's GCDesc (dotnet/runtime src/coreclr/gc/gcdesc.h; research/gc-net10.md §7):
 * the series stored just below the MethodTable say which pointer-sized slots of an object hold references.
 * Decoded once per MethodTable; the per-object walk reads slots through a sliding window and allocates nothing.
 */
import { LayoutCheckError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import type { MethodTableInfo } from '../runtime/method-table';

const POINTER = 8;
const TWO32 = 4294967296;
/** Pointers at or above 2^53 cannot be user-space addresses; a slot holding one is not a reference we can follow. */
const MAX_HI = 0x200000;
/** A GCDesc with more series than this is corrupt (the largest real types have a few hundred). */
const MAX_SERIES = 1 << 16;
/** Bytes read at once when walking an object's slots. */
const WINDOW = 1 << 16;

/** A decoded GCDesc. `series` holds pairs (startOffset, signed stored size) for normal types; `valSeries` pairs
 * (nptrs, skip bytes) for arrays of structs, whose elements start at `valStart`. */
export interface GcDesc {
  readonly kind: 'none' | 'normal' | 'valueArray';
  readonly series: Float64Array;
  readonly valStart: number;
  readonly valSeries: Float64Array;
}

const NONE: GcDesc = { kind: 'none', series: new Float64Array(0), valStart: 0, valSeries: new Float64Array(0) };

/** Called once per non-null reference: `offset` is the slot's offset in the object, `target` the value. */
export type ReferenceVisitor = (offset: number, target: number) => void;

/** Decodes GCDescs (cached per MethodTable) and enumerates the references of objects. */
export class GcDescReader {
  private readonly cache = new Map<number, GcDesc>();
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private winEnd = 0;

  constructor(private readonly memory: MemoryReader) {}

  /** The GCDesc of `mt` (kind 'none' when the type holds no references).
   * @throws LayoutCheckError when the series count or offsets are implausible; UnmappedAddressError. */
  read(mt: MethodTableInfo): GcDesc {
    let d = this.cache.get(mt.address);
    if (d === undefined) {
      d = mt.containsGCPointers ? this.decode(mt) : NONE;
      this.cache.set(mt.address, d);
    }
    return d;
  }

  /** Calls `visit` for each non-null reference slot of the object at `address` of `size` bytes (SOS's size:
   * BaseSize + length × ComponentSize). Values that cannot be addresses (≥ 2^53) are skipped.
   * @throws UnmappedAddressError when the object's memory is not in the dump. */
  forEachReference(address: number, size: number, desc: GcDesc, visit: ReferenceVisitor): void {
    if (desc.kind === 'normal') {
      const s = desc.series;
      // gcdesc.h walks the series from the highest to the lowest; we keep the stored (ascending offset) order.
      for (let i = 0; i < s.length; i += 2) {
        const start = s[i]!;
        const end = start + s[i + 1]! + size;
        for (let off = start; off < end; off += POINTER) this.visitSlot(address, off, visit);
      }
    } else if (desc.kind === 'valueArray') {
      const items = desc.valSeries;
      // gcdesc.h: the element area ends one pointer before the object's end (the next object's header).
      const end = size - POINTER;
      let off = desc.valStart;
      while (off < end) {
        for (let i = 0; i < items.length && off < end; i += 2) {
          const stop = off + items[i]! * POINTER;
          for (; off < stop; off += POINTER) this.visitSlot(address, off, visit);
          off += items[i + 1]!;
        }
        if (items.length === 0) break;
      }
    }
  }

  private visitSlot(address: number, off: number, visit: ReferenceVisitor): void {
    const a = address + off;
    if (a < this.winStart || a + POINTER > this.winEnd) this.fill(a);
    const at = a - this.winStart;
    const w = this.win;
    const lo = (w[at]! | (w[at + 1]! << 8) | (w[at + 2]! << 16)) + w[at + 3]! * 0x1000000;
    const hi = (w[at + 4]! | (w[at + 5]! << 8) | (w[at + 6]! << 16)) + w[at + 7]! * 0x1000000;
    if ((lo === 0 && hi === 0) || hi >= MAX_HI) return;
    visit(off, hi * TWO32 + lo);
  }

  private fill(a: number): void {
    const bytes = this.memory.readUpTo(a, WINDOW);
    if (bytes.length < POINTER) this.memory.read(a, POINTER); // throws UnmappedAddressError naming the address
    this.win = bytes;
    this.winStart = a;
    this.winEnd = a + bytes.length;
  }

  private decode(mt: MethodTableInfo): GcDesc {
    const m = this.memory;
    const base = mt.address;
    // The count is a signed size_t; read it as two halves (a negative value is beyond 2^53 as unsigned).
    const lo = m.readU32(base - POINTER);
    const hi = m.readI32(base - POINTER + 4);
    const n = hi * TWO32 + lo;
    if (n === 0 || Math.abs(n) > MAX_SERIES) {
      throw new LayoutCheckError(`MethodTable 0x${base.toString(16)} has an implausible GCDesc series count ${n}`);
    }
    if (n > 0) {
      const series = new Float64Array(n * 2);
      // Series i (0 = lowest) sits at MT − ptr − (n − i)·2ptr: {size_t seriessize; size_t startoffset}.
      for (let i = 0; i < n; i++) {
        const at = base - POINTER - (n - i) * 2 * POINTER;
        const start = m.readU32(at + POINTER);
        const sizeLo = m.readU32(at);
        const sizeHi = m.readI32(at + 4);
        const stored = sizeHi * TWO32 + sizeLo;
        if (start < POINTER || start > mt.baseSize + 0x1000000) {
          throw new LayoutCheckError(`MethodTable 0x${base.toString(16)}: GCDesc series start ${start} is implausible`);
        }
        series[i * 2] = start;
        series[i * 2 + 1] = stored;
      }
      return { kind: 'normal', series, valStart: 0, valSeries: new Float64Array(0) };
    }
    // Arrays of structs: one series whose size word is replaced by −n val_serie items going downward.
    const count = -n;
    const highest = base - POINTER - 2 * POINTER;
    const valStart = m.readU32(highest + POINTER);
    // startoffset is the first reference of the first element: the element area starts at BaseSize − ptr (after the
    // length and any bounds), and the first reference may sit anywhere inside the element (Dictionary's Entry has
    // its key after the hash code and next index), so it lies in [BaseSize − ptr, BaseSize − ptr + ComponentSize).
    const dataStart = mt.baseSize - POINTER;
    if (!mt.isArray || mt.componentSize === 0 || valStart < dataStart || valStart >= dataStart + mt.componentSize) {
      throw new LayoutCheckError(`MethodTable 0x${base.toString(16)}: value-array GCDesc on a non-array or at offset ${valStart}`);
    }
    const valSeries = new Float64Array(count * 2);
    let stride = 0;
    for (let i = 0; i < count; i++) {
      const at = highest - i * POINTER;
      valSeries[i * 2] = m.readU32(at);
      valSeries[i * 2 + 1] = m.readU32(at + 4);
      stride += valSeries[i * 2]! * POINTER + valSeries[i * 2 + 1]!;
    }
    // The items describe exactly one element (gcdesc.h: the walk repeats them element after element).
    if (stride !== mt.componentSize) {
      throw new LayoutCheckError(`MethodTable 0x${base.toString(16)}: value-array GCDesc covers ${stride} bytes per element, the component size is ${mt.componentSize}`);
    }
    return { kind: 'valueArray', series: new Float64Array(0), valStart, valSeries };
  }
}
