/**
 * What dumpobj, dumpvc and dumparray share: the session's ObjectReader, and SOS's `Fields:` table and value texts
 * (strike.cpp PrintObj/PrintVC, util.cpp DisplayFields/DisplayDataMember).
 */
import { ObjectReader, type FieldRow, type FieldValue } from '../../heap/object-reader';
import { isValueElementType } from '../../runtime/field-desc';
import { corElementTypeName, ElementType } from '../../runtime/metadata';
import { hexJson, p16, p16Upper, right } from '../format';
import type { Session } from '../session';
import { DumpsleuthError } from '../../errors';
import { threadStaticSlots } from '../../runtime/thread-statics';
import { readThreads } from '../../runtime/thread-store';

const readers = new WeakMap<Session, ObjectReader>();

/** The session's ObjectReader, created on first use. */
export function objectReaderOf(session: Session): ObjectReader {
  let r = readers.get(session);
  if (!r) {
    r = new ObjectReader(session.runtime, session.methodTables, session.modules, session.heap, (m) => session.names.moduleMetadata(m));
    readers.set(session, r);
  }
  return r;
}

/** SOS's `FormatTypeName`: names longer than `max` keep their last `max - 3` characters after `...`. */
export function cutTypeName(name: string, max = 20): string {
  return name.length > max ? '...' + name.slice(name.length - (max - 3)) : name;
}

/** The full text of the Type column before it is cut to 20 characters (DisplayFields' three cases). */
export function fieldTypeText(session: Session, row: FieldRow): string {
  const et = row.fd.elementType;
  if ((et === ElementType.ValueType || et === ElementType.Class) && row.type.mt !== 0) return session.names.dacName(row.type.mt);
  if (et === ElementType.Class && row.type.token !== 0 && row.type.token !== 0x02000000) return row.type.tokenName;
  // With neither a MethodTable nor a token, the signature's element type is the more telling one.
  const shown = row.type.mt === 0 && row.type.token === 0 ? row.type.sigElementType : et;
  return corElementTypeName(shown);
}

/** `printf("%f")` of a double, as SOS prints R4/R8 values. */
export function formatDoubleF(v: number): string {
  if (Number.isNaN(v)) return v < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(v)) return v < 0 ? '-inf' : 'inf';
  if (Math.abs(v) < 1e21) return v.toFixed(6);
  return BigInt(Math.trunc(v)).toString() + '.000000';
}

/** The Value column of one field (DisplayDataMember with alignment). */
export function valueText(value: FieldValue, hasStorage: boolean): string {
  if (!hasStorage) return ' '.repeat(16);
  switch (value.kind) {
    case 'bool':
      return right(String(value.raw), 16);
    case 'char':
      return right(value.value.toString(16), 16);
    case 'int':
      return right(String(value.value), 16);
    case 'float':
      return formatDoubleF(value.value);
    case 'pointer':
      return p16Upper(Number(value.value)).padStart(16, '0');
    case 'reference':
      return p16(value.value);
    case 'valuetype':
      return p16(value.address);
    case 'none':
      return ' '.repeat(16);
  }
}

/** The same value as JSON: numbers/bools/strings for primitives (64-bit beyond 2^53 as decimal strings), hex
 * strings for references, pointers and value-type addresses, null for a null reference or no storage. */
export function valueJson(value: FieldValue): unknown {
  switch (value.kind) {
    case 'bool':
      return value.value;
    case 'char':
      return String.fromCharCode(value.value);
    case 'int':
      return typeof value.value === 'bigint' ? value.value.toString() : value.value;
    case 'float':
      return Number.isFinite(value.value) ? value.value : String(value.value);
    case 'pointer':
      return '0x' + value.value.toString(16);
    case 'reference':
      return value.value === 0 ? null : hexJson(value.value);
    case 'valuetype':
      return value.decimal ?? hexJson(value.address);
    case 'none':
      return null;
  }
}

/** The `Fields:` table header line. */
export const FIELD_TABLE_HEADER = `${right('MT', 16)} ${right('Field', 8)} ${right('Offset', 8)} ${right('Type', 20)} ${right('VT', 4)} ${right('Attr', 8)} ${right('Value', 16)} Name`;

/** The lines of SOS's `Fields:` table (without the header) for `rows`; TLstatic rows with each thread's value. */
export function fieldTableLines(session: Session, rows: readonly FieldRow[]): string[] {
  const lines: string[] = [];
  for (const r of rows) {
    const lead = `${p16(r.type.mt)} ${r.fd.token.toString(16).padStart(8, '0')} ${right(r.offset.toString(16), 8)} ${right(cutTypeName(fieldTypeText(session, r)), 20)} ${right(isValueElementType(r.fd.elementType) ? 'Yes' : 'No', 4)} `;
    if (r.fd.isStatic && r.fd.isThreadStatic) {
      lines.push(`${lead}${right('TLstatic', 8)}  ${r.name}`);
      lines.push('    Thread static values (Thread:Value)');
      lines.push(...threadStaticValueLines(session, r));
      lines.push('');
    } else if (r.fd.isStatic) {
      lines.push(`${lead}${right('static', 8)} ${valueText(r.value, r.address !== 0)} ${r.name}`);
    } else {
      lines.push(`${lead}${right('instance', 8)} ${valueText(r.value, r.address !== 0)} ${r.name}`);
    }
  }
  return lines;
}

/** SOS's `<thread>:<value>` lines of a thread-static reference field, one per thread that has storage for it; a field
 * whose values are not read (non-reference thread statics, generic types) is a warning instead. */
function threadStaticValueLines(session: Session, r: FieldRow): string[] {
  const what = `thread-static ${r.name}`;
  try {
    const rt = session.runtime;
    const mt = session.methodTables.read(r.fd.enclosingMT);
    const slots = threadStaticSlots(rt, mt, r.fd, readThreads(rt), r.fd.elementType === ElementType.Class);
    if (slots === undefined) {
      session.warn(`the per-thread values of ${what} are not shown (only reference-typed thread statics of non-generic types are read)`);
      return [];
    }
    return slots.map((s) => `        ${s.osId.toString(16)}:${p16(rt.memory.readPointer(s.address))}`);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    session.warn(`the per-thread values of ${what} could not be read: ${e.message}`);
    return [];
  }
}

/** The JSON of field rows (issue 3's dumpobj shape plus the token, the field type's MethodTable and enum names). */
export function fieldRowsJson(session: Session, rows: readonly FieldRow[]): unknown[] {
  return rows.map((r) => {
    const o: Record<string, unknown> = {
      name: r.name,
      type: fieldTypeText(session, r),
      offset: r.offset,
      isStatic: r.fd.isStatic,
      isThreadStatic: r.fd.isThreadStatic,
      isValueType: isValueElementType(r.fd.elementType),
      value: valueJson(r.value),
      token: hexJson(r.fd.token),
      fieldMT: r.type.mt === 0 ? null : hexJson(r.type.mt),
    };
    if (r.enumName !== undefined) o.enumName = r.enumName;
    return o;
  });
}

/** The CorElementType name `Array: ... Type X` prints (ElementTypeName: no namespace). */
export function elementTypeName(et: number): string {
  const full = corElementTypeName(et);
  return full.startsWith('System.') ? full.slice('System.'.length) : full;
}
