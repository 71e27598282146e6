/**
 * A small dense numbering of the MethodTables met in a heap walk, keyed by the address's two 32-bit halves.
 * A `Map` keyed by addresses above 2^31 boxes every key as a heap number; this table keeps the walk's per-object
 * lookup in typed arrays (open addressing, linear probing).
 */

const EMPTY = -1;
/** @internal Slots of the heap walker's direct-mapped MethodTable cache (a power of two). */
export const WALK_CACHE_SLOTS = 256;

/** MethodTable address → dense index, with the sizes the walker needs per index. */
export class MethodTableIndex {
  private keysLo: Uint32Array;
  private keysHi: Uint32Array;
  private slots: Int32Array;
  private mask: number;
  /** MethodTable address per index, in first-seen order. */
  addresses: Float64Array;
  baseSizes: Uint32Array;
  componentSizes: Uint32Array;
  count = 0;
  /** The heap walker's direct-mapped cache over this numbering, per slot the key (address bits 3..31: the low half
   * shifted right by 3), the high half and the number, -1 when empty (kept with the index: a cached number is only
   * valid for the index that gave it). */
  readonly walkCache: Int32Array = new Int32Array(3 * WALK_CACHE_SLOTS).fill(-1);

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keysLo = new Uint32Array(cap);
    this.keysHi = new Uint32Array(cap);
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.addresses = new Float64Array(capacity);
    this.baseSizes = new Uint32Array(capacity);
    this.componentSizes = new Uint32Array(capacity);
  }

  /** The index of the MethodTable whose address is hi·2^32 + lo, or -1 when not yet added. */
  find(lo: number, hi: number): number {
    let h = (Math.imul(lo >>> 3, 0x9e3779b1) ^ hi) & this.mask;
    for (;;) {
      const v = this.slots[h]!;
      if (v === EMPTY) return EMPTY;
      if (this.keysLo[h] === lo && this.keysHi[h] === hi) return v;
      h = (h + 1) & this.mask;
    }
  }

  /** Adds a MethodTable with its sizes and returns its index (the caller checked it was absent). */
  add(lo: number, hi: number, address: number, baseSize: number, componentSize: number): number {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const index = this.count++;
    if (index >= this.addresses.length) {
      const n = this.addresses.length * 2;
      this.addresses = copyInto(new Float64Array(n), this.addresses);
      this.baseSizes = copyInto(new Uint32Array(n), this.baseSizes);
      this.componentSizes = copyInto(new Uint32Array(n), this.componentSizes);
    }
    this.addresses[index] = address;
    this.baseSizes[index] = baseSize;
    this.componentSizes[index] = componentSize;
    this.insert(lo, hi, index);
    return index;
  }

  private insert(lo: number, hi: number, index: number): void {
    let h = (Math.imul(lo >>> 3, 0x9e3779b1) ^ hi) & this.mask;
    while (this.slots[h] !== EMPTY) h = (h + 1) & this.mask;
    this.keysLo[h] = lo;
    this.keysHi[h] = hi;
    this.slots[h] = index;
  }

  private grow(): void {
    const oldLo = this.keysLo;
    const oldHi = this.keysHi;
    const oldSlots = this.slots;
    const cap = oldSlots.length * 2;
    this.keysLo = new Uint32Array(cap);
    this.keysHi = new Uint32Array(cap);
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    for (let i = 0; i < oldSlots.length; i++) if (oldSlots[i] !== EMPTY) this.insert(oldLo[i]!, oldHi[i]!, oldSlots[i]!);
  }
}

function copyInto<T extends Float64Array | Uint32Array>(target: T, source: T): T {
  target.set(source);
  return target;
}
