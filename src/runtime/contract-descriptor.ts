/**
 * The runtime's own description of its data structures (`DotNetRuntimeContractDescriptor`), parsed from the dump.
 * See dotnet/runtime docs/design/datacontracts/contract-descriptor.md and data_descriptor.md.
 */
import { DumpFormatError, LayoutCheckError, MissingRuntimeDataError, UnmappedAddressError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';

/** "DNCCDAC\0" read as a little-endian u64. */
const DESCRIPTOR_MAGIC_LO = 0x43434e44; // "DNCC"
const DESCRIPTOR_MAGIC_HI = 0x00434144; // "DAC\0"
/** The JSON of .NET 10 is about 10 KB; refuse anything absurd before reading it. */
const MAX_DESCRIPTOR_JSON = 4 * 1024 * 1024;
const MAX_POINTER_DATA = 65536;

/** A field of a described type: its offset, and the type name when the descriptor gives one. */
export interface DescriptorField {
  readonly offset: number;
  readonly type?: string;
}

/** A described type: its fields and, when determinate, its size. */
export interface DescriptorType {
  readonly name: string;
  readonly size?: number;
  readonly fields: ReadonlyMap<string, DescriptorField>;
}

/** A global: a number, or a string (e.g. `Architecture`). For indirect globals the number is already the
 * resolved `pointer_data` slot: the address of the runtime variable. */
export type DescriptorGlobal = { readonly kind: 'number'; readonly value: number; readonly type?: string }
  | { readonly kind: 'string'; readonly value: string };

/** A parsed contract descriptor. Accessors throw `MissingRuntimeDataError` naming what the runtime lacks. */
export class ContractDescriptor {
  constructor(
    readonly address: number,
    readonly version: number,
    readonly baseline: string,
    readonly types: ReadonlyMap<string, DescriptorType>,
    readonly globals: ReadonlyMap<string, DescriptorGlobal>,
    /** Contract name → version exactly as the descriptor states it: `"1"` for .NET 10's numbers, `"c1"` on .NET 11.
     * Each version is its own algorithm (docs/design/datacontracts/), so versions are compared as strings, never ordered. */
    readonly contracts: ReadonlyMap<string, string>,
    readonly pointerData: readonly number[],
    /** Sub-descriptor name (e.g. "GC") → address of the runtime variable that points at its contract descriptor. */
    readonly subDescriptors: ReadonlyMap<string, number> = new Map(),
  ) {}

  /** True when the struct or its pointer table came from libcoreclr.so on disk (heap dumps leave them out). */
  rebuiltFromImageFile = false;

  /** True when the type and (if given) the field are described. */
  has(typeName: string, fieldName?: string): boolean {
    const t = this.types.get(typeName);
    if (!t) return false;
    return fieldName === undefined || t.fields.has(fieldName);
  }

  /** The offset of `typeName.fieldName`; throws when the descriptor lacks it. */
  offset(typeName: string, fieldName: string): number {
    const t = this.types.get(typeName);
    const f = t?.fields.get(fieldName);
    if (!f) throw new MissingRuntimeDataError(`the runtime's contract descriptor has no field ${typeName}.${fieldName}`);
    return f.offset;
  }

  /** The determinate size of a type; throws when absent. */
  size(typeName: string): number {
    const t = this.types.get(typeName);
    if (t?.size === undefined) throw new MissingRuntimeDataError(`the runtime's contract descriptor has no size for ${typeName}`);
    return t.size;
  }

  /** A numeric global (for indirect globals, the address of the variable); throws when absent. */
  global(name: string): number {
    const g = this.globals.get(name);
    if (!g || g.kind !== 'number') throw new MissingRuntimeDataError(`the runtime's contract descriptor has no global ${name}`);
    return g.value;
  }

  /** A numeric global or undefined. */
  tryGlobal(name: string): number | undefined {
    const g = this.globals.get(name);
    return g && g.kind === 'number' ? g.value : undefined;
  }

  /** A string global (`Architecture`, `OperatingSystem`, `RID`) or undefined. */
  stringGlobal(name: string): string | undefined {
    const g = this.globals.get(name);
    return g && g.kind === 'string' ? g.value : undefined;
  }
}

/** Reads bytes the loader relocated and nothing changes afterwards, from outside the dump (the image file). */
export type ConstantBytesReader = (address: number, length: number) => Uint8Array;

/** Reads the descriptor struct at `address` (the exported symbol) and parses its JSON. The struct and its pointer
 * table live in libcoreclr's writable data, which heap dumps leave out; `constantBytes` rebuilds them from the file.
 * @throws DumpFormatError / LayoutCheckError when the struct or its JSON is not what the format says. */
export function readContractDescriptor(memory: MemoryReader, address: number, constantBytes?: ConstantBytesReader): ContractDescriptor {
  let fromImageFile = false;
  const read = (a: number, length: number): DataView => {
    let bytes: Uint8Array;
    try {
      bytes = memory.read(a, length);
    } catch (e) {
      if (!(e instanceof UnmappedAddressError) || !constantBytes) throw e;
      bytes = constantBytes(a, length);
      fromImageFile = true;
    }
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
  const head = read(address, 40);
  const u64 = (v: DataView, at: number) => v.getUint32(at, true) + v.getUint32(at + 4, true) * 4294967296;
  if (head.getUint32(0, true) !== DESCRIPTOR_MAGIC_LO || head.getUint32(4, true) !== DESCRIPTOR_MAGIC_HI) {
    throw new LayoutCheckError(`no contract descriptor magic at 0x${address.toString(16)}`);
  }
  const flags = head.getUint32(8, true);
  if ((flags & 1) !== 1) throw new LayoutCheckError(`contract descriptor flags 0x${flags.toString(16)} lack bit 0`);
  if ((flags & 2) !== 0) throw new DumpFormatError('the runtime uses 32-bit pointers; only 64-bit targets are supported');
  const jsonSize = head.getUint32(12, true);
  const jsonAddress = u64(head, 16);
  const pointerCount = head.getUint32(24, true);
  const pointerDataAddress = u64(head, 32);
  if (jsonSize === 0 || jsonSize > MAX_DESCRIPTOR_JSON) throw new LayoutCheckError(`contract descriptor JSON size ${jsonSize} is implausible`);
  if (pointerCount > MAX_POINTER_DATA) throw new LayoutCheckError(`contract descriptor pointer_data count ${pointerCount} is implausible`);
  const pointerData: number[] = [];
  if (pointerCount > 0) {
    const table = read(pointerDataAddress, pointerCount * 8);
    for (let i = 0; i < pointerCount; i++) pointerData.push(u64(table, i * 8));
  }
  const text = Buffer.from(memory.read(jsonAddress, jsonSize)).toString('utf8');
  const descriptor = parseContractDescriptorJson(text, pointerData, address);
  descriptor.rebuiltFromImageFile = fromImageFile;
  return descriptor;
}

/** Parses the descriptor's compact JSON; `pointerData` resolves indirect globals.
 * @throws DumpFormatError when the JSON is malformed. */
export function parseContractDescriptorJson(text: string, pointerData: readonly number[], address = 0): ContractDescriptor {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new DumpFormatError(`contract descriptor JSON does not parse: ${(e as Error).message}`);
  }
  if (!isObject(root)) throw new DumpFormatError('contract descriptor JSON is not an object');
  const version = typeof root.version === 'number' ? root.version : Number(root.version ?? 0);
  const baseline = typeof root.baseline === 'string' ? root.baseline : '';
  if (baseline !== '' && baseline !== 'empty') {
    // A non-empty baseline would mean inheriting layouts we do not ship.
    throw new DumpFormatError(`contract descriptor uses baseline "${baseline}", which dumpsleuth does not know`);
  }

  const types = new Map<string, DescriptorType>();
  for (const [name, body] of Object.entries(isObject(root.types) ? root.types : {})) {
    if (!isObject(body)) continue;
    const fields = new Map<string, DescriptorField>();
    let size: number | undefined;
    for (const [fname, fval] of Object.entries(body)) {
      if (fname === '!') {
        size = toNumber(fval, `${name}.!`);
        continue;
      }
      if (Array.isArray(fval)) {
        const type = typeof fval[1] === 'string' ? fval[1] : undefined;
        fields.set(fname, type ? { offset: toNumber(fval[0], `${name}.${fname}`), type } : { offset: toNumber(fval[0], `${name}.${fname}`) });
      } else {
        fields.set(fname, { offset: toNumber(fval, `${name}.${fname}`) });
      }
    }
    types.set(name, size === undefined ? { name, fields } : { name, size, fields });
  }

  const globals = new Map<string, DescriptorGlobal>();
  for (const [name, val] of Object.entries(isObject(root.globals) ? root.globals : {})) {
    globals.set(name, parseGlobal(name, val, pointerData));
  }

  const contracts = new Map<string, string>();
  for (const [name, val] of Object.entries(isObject(root.contracts) ? root.contracts : {})) {
    if (typeof val !== 'number' && typeof val !== 'string') throw new DumpFormatError(`contract descriptor contract ${name} has version ${JSON.stringify(val)}`);
    contracts.set(name, String(val));
  }
  const subDescriptors = new Map<string, number>();
  for (const [name, val] of Object.entries(isObject(root.subDescriptors) ? root.subDescriptors : {})) {
    const g = parseGlobal(`subDescriptors.${name}`, val, pointerData);
    if (g.kind !== 'number') throw new DumpFormatError(`contract descriptor sub-descriptor ${name} is not an address`);
    subDescriptors.set(name, g.value);
  }
  return new ContractDescriptor(address, version, baseline, types, globals, contracts, pointerData, subDescriptors);
}

function parseGlobal(name: string, val: unknown, pointerData: readonly number[]): DescriptorGlobal {
  // Shapes: value | [value] (indirect) | [value, type] | [[index], type] (indirect, typed).
  let raw: unknown = val;
  let type: string | undefined;
  let indirect = false;
  if (Array.isArray(val)) {
    if (val.length >= 2 && typeof val[1] === 'string') type = val[1];
    if (Array.isArray(val[0])) {
      indirect = true;
      raw = val[0][0];
    } else if (val.length === 1) {
      indirect = true;
      raw = val[0];
    } else {
      raw = val[0];
    }
  }
  if (indirect) {
    const index = toNumber(raw, name);
    if (index < 0 || index >= pointerData.length) {
      throw new DumpFormatError(`contract descriptor global ${name} names pointer_data[${index}], beyond ${pointerData.length} slots`);
    }
    return type ? { kind: 'number', value: pointerData[index]!, type } : { kind: 'number', value: pointerData[index]! };
  }
  if (type === 'string' || (typeof raw === 'string' && !/^-?(0x[0-9a-f]+|\d+)$/i.test(raw))) {
    return { kind: 'string', value: String(raw) };
  }
  const value = toNumber(raw, name, true);
  return type ? { kind: 'number', value, type } : { kind: 'number', value };
}

function toNumber(v: unknown, what: string, allowWide = false): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const neg = v.startsWith('-');
    const s = neg ? v.slice(1) : v;
    const big = /^0x/i.test(s) ? BigInt(s) : /^\d+$/.test(s) ? BigInt(s) : undefined;
    if (big !== undefined) {
      // Masks such as 0xfffffffffffffffe do not fit in a double exactly; keep them as the nearest double only when
      // the caller accepts it (globals); offsets and sizes must be exact.
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        if (!allowWide) throw new DumpFormatError(`contract descriptor value ${what}=${v} is too large`);
        return Number(big);
      }
      return neg ? -Number(big) : Number(big);
    }
  }
  throw new DumpFormatError(`contract descriptor value ${what} is not a number: ${JSON.stringify(v)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
