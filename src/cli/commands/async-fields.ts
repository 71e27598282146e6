/**
 * `dumpasync --fields`: the instance fields of each frame's state machine (or of the task itself), in the layout of
 * dotnet-dump's DumpAsyncCommand.RenderFields: Address (the referenced object for a reference field, else where the
 * field lives), the declared type's MethodTable and name (cut to its last 32 characters), the value, the name.
 */
import type { FieldRow, FieldValue } from '../../heap/object-reader';
import { ElementType } from '../../runtime/metadata/signature-decoder';
import { corElementTypeName } from '../../runtime/metadata/type-name-format';
import { hexJson } from '../format';
import type { Session } from '../session';
import { objectReaderOf } from './object-text';

const POINTER = 8;
const x16 = (n: number) => n.toString(16).padStart(16, '0');

/** What --fields lists: an object, or a struct embedded in one (a release build's state machine in its box). */
export interface FieldsTarget {
  readonly address: number;
  readonly mt: number;
  readonly isValueType: boolean;
}

/** One rendered field (the JSON of `dumpasync --fields`). */
export interface AsyncFieldJson {
  readonly name: string;
  readonly type: string;
  readonly methodTable: string;
  readonly address: string;
  readonly value: string;
}

/** dotnet-dump's Truncate: a longer text keeps its last `max - 3` characters after "...". */
function truncate(text: string, max: number): string {
  return text.length > max ? `...${text.slice(text.length - max + 3)}` : text;
}

/** The header and one line per instance field of `target`, indented as dotnet-dump indents a frame at `depth`. */
export function renderAsyncFields(session: Session, target: FieldsTarget, depth: number): { lines: string[]; json: AsyncFieldJson[] } {
  const objects = objectReaderOf(session);
  const info = objects.tryReadMethodTable(target.mt);
  if (!info) return { lines: [], json: [] };
  const tab = ' '.repeat((depth + 4) * 2);
  const lines = [`${tab}${'Address'.padStart(16)} ${'MT'.padStart(16)} ${'Type'.padEnd(32)} ${'Value'.padStart(16)} Name`];
  const json: AsyncFieldJson[] = [];
  // Each class of the parent chain, exact (Task<String>, then Task), to resolve fields typed by its type parameters.
  const exactOf = new Map(objects.fieldDescs.hierarchy(info).flatMap((c) => c.fields.map((fd) => [fd.address, c.mt] as const)));
  for (const row of objects.fieldRows(info, target.address, target.isValueType)) {
    if (row.fd.isStatic) continue;
    const exact = exactOf.get(row.fd.address);
    const mt = fieldTypeMT(session, row, exact);
    const isRef = row.value.kind === 'reference';
    // ClrMD names a reference field's type it cannot load "Object" (MethodTable 0); a struct it cannot load has no type
    // and its row is left out.
    if (mt === 0 && !isRef && row.value.kind === 'valuetype') continue;
    const typeName = mt !== 0 ? typeNameOf(session, mt) : isRef ? 'Object' : primitiveName(row.fd.elementType);
    const address = isRef ? (row.value as { value: number }).value : row.address;
    const value = display(session, row, target.isValueType);
    lines.push(`${tab}${x16(address)} ${x16(mt)} ${truncate(typeName, 32).padEnd(32)} ${truncate(value, 16).padStart(16)} ${row.name}`);
    json.push({ name: row.name, type: typeName, methodTable: hexJson(mt), address: hexJson(address), value });
  }
  return { lines, json };
}

/**
 * The field's type as ClrMD reports it (fitted to dotnet-dump on the hang and external dumps): a field of a generic
 * class declared as a generic instantiation is the open generic type (`IHttpApplication<T1>`, `Nullable<T1>`); a
 * field the runtime's lookup types as System.__Canon takes the exact class's argument (`Task<String>.m_result` is a
 * String); any other field has the type the runtime's field lookup gives (as `dumpobj`).
 */
function fieldTypeMT(session: Session, row: FieldRow, exact: number | undefined): number {
  if (exact === undefined) return row.type.mt;
  const objects = objectReaderOf(session);
  if (row.type.sigElementType === ElementType.GenericInst && objects.tryReadMethodTable(exact)?.hasInstantiation === true) {
    const open = objects.fieldTypes.openGenericFieldType(row.fd);
    if (open !== 0) return open;
  }
  // The shared code's System.__Canon is the one type ClrMD does not take from the runtime's field lookup.
  return row.type.mt !== 0 && session.names.clrmdName(row.type.mt) === 'System.__Canon' ? objects.fieldTypes.fieldTypeIn(row.fd, exact) : row.type.mt;
}

/** ClrMD's name of a type: an open generic type definition as its metadata name with the innermost type's
 * parameters numbered (`IHttpApplication<T1>`; `Dispatcher`1+<>c__DisplayClass10_0` keeps the outer arity). */
function typeNameOf(session: Session, mt: number): string {
  const objects = objectReaderOf(session);
  if (objects.tryReadMethodTable(mt)?.isGenericTypeDefinition !== true) return session.names.clrmdName(mt);
  const name = objects.fieldTypes.typeDefName(mt);
  const m = /`(\d+)$/.exec(name);
  if (!m) return name;
  const arity = Number(m[1]);
  return `${name.slice(0, m.index)}<${Array.from({ length: arity }, (_, i) => `T${i + 1}`).join(', ')}>`;
}

/** dotnet-dump's GetDisplay: the value by the field's element type. */
function display(session: Session, row: FieldRow, inValueType: boolean): string {
  const v: FieldValue = row.value;
  switch (v.kind) {
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'char':
      return v.value >= 32 && v.value < 127 ? `'${String.fromCharCode(v.value)}'` : `'\\u${v.value.toString(16).toUpperCase().padStart(4, '0')}'`;
    case 'int':
      return v.value.toString();
    case 'float':
      return dotnetFloat(v.value, v.elementType === ElementType.R4);
    case 'pointer':
      return v.value.toString(16).padStart(16, '0');
    case 'valuetype':
      // ClrMD's field.GetAddress(obj) without `interior`: an object's data address, so a field of a struct is shown
      // one pointer past where it lives.
      return x16(row.address + (inValueType ? POINTER : 0));
    case 'reference': {
      // ClrMD refines a reference field's element type from the type the runtime's lookup gives: a string shows its
      // text quoted (a null one as ""), an array its element type and length.
      const declared = row.type.mt !== 0 ? objectReaderOf(session).tryReadMethodTable(row.type.mt) : undefined;
      if (declared?.isString === true) return `"${v.value === 0 ? '' : objectReaderOf(session).readString(v.value)}"`;
      if (v.value === 0) return 'null';
      if (declared?.isSzArray === true) {
        const objects = objectReaderOf(session);
        const array = objects.readArray(objects.readObject(v.value, false));
        const component = array.elementHandle !== 0 && array.elementHandle % 4 === 0 ? session.names.clrmdName(array.elementHandle) : 'unknown';
        return `${component}[${array.length}]`;
      }
      return x16(v.value);
    }
    default:
      return '(unknown)';
  }
}

const PRIMITIVE_ELEMENT_TYPES = new Set<number>([
  ElementType.Boolean, ElementType.Char, ElementType.I1, ElementType.U1, ElementType.I2, ElementType.U2, ElementType.I4,
  ElementType.U4, ElementType.I8, ElementType.U8, ElementType.R4, ElementType.R8, ElementType.I, ElementType.U,
]);

/** A primitive field's type name (`System.Int32`) as cortypeinfo.h names it; anything else without a MethodTable is `Object`. */
function primitiveName(et: number): string {
  return PRIMITIVE_ELEMENT_TYPES.has(et) ? corElementTypeName(et) : 'Object';
}

/** .NET's default (shortest round-trip) text of a float or double: scientific notation from 1E+15 up and below 1E-05. */
export function dotnetFloat(value: number, single: boolean): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '-∞';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  let digits = '';
  if (single) {
    for (let p = 1; p <= 9; p++) {
      const s = value.toPrecision(p);
      if (Math.fround(Number(s)) === value) {
        digits = s;
        break;
      }
    }
  } else {
    digits = String(value);
  }
  const n = Number(digits);
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp >= 15 || exp < -5) {
    const [mantissa, e] = n.toExponential().split('e');
    const power = Number(e);
    return `${mantissa!.toUpperCase()}E${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`;
  }
  return String(n);
}
