/**
 * `dumpobj` (`do`): one object's type, size and every field with its value, in SOS's text (strike.cpp PrintObj).
 */
import { DumpsleuthError } from '../../errors';
import type { ObjectInfo, ObjectReader } from '../../heap/object-reader';
import type { MethodTableInfo } from '../../runtime/method-table';
import { ElementType } from '../../runtime/metadata';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16 } from '../format';
import type { Session } from '../session';
import { elementTypeName, FIELD_TABLE_HEADER, fieldRowsJson, fieldTableLines, objectReaderOf } from './object-text';
import { reportNameProblems } from './warnings';

const CONTENT_CHARS = 128;

/** The dumpobj command. */
export const dumpobjCommand: Command = {
  name: 'dumpobj',
  aliases: ['do'],
  summary: "Show an object's type, size and fields with their values",
  usage: 'dumpobj [-nofields] <object address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpobj', args, ['nofields'], []);
    const address = addressArg('dumpobj', opts.positional[0], 'object address');
    const reader = objectReaderOf(session);
    const obj = reader.readObject(address);
    const result = describeObject(session, obj, !opts.flags.has('nofields'));
    reportNameProblems(session);
    return result;
  },
};

/** The dumpobj text and JSON of a validated object. @throws DumpsleuthError when its fields cannot be read. */
export function describeObject(session: Session, obj: ObjectInfo, withFields: boolean): { text: string; json: Record<string, unknown> } {
  const reader = objectReaderOf(session);
  const names = session.names;
  const mt = obj.mt;
  const lines: string[] = [];
  const json: Record<string, unknown> = {
    address: hexJson(obj.address),
    mt: hexJson(mt.address),
    name: '',
    size: obj.size,
    generation: obj.generation ?? null,
  };
  if (mt.address === session.heap.freeObjectMethodTable) {
    lines.push('Free Object', `Size:        ${obj.size}(0x${obj.size.toString(16)}) bytes`);
    json.name = 'Free';
    json.fields = [];
    return { text: lines.join('\n'), json };
  }
  const name = names.dacName(mt.address);
  json.name = name;
  lines.push(`Name:        ${name}`, `MethodTable: ${p16(mt.address)}`, `Size:        ${obj.size}(0x${obj.size.toString(16)}) bytes`);
  if (mt.isArray) {
    const arr = reader.readArray(obj);
    lines.push(`Array:       Rank ${arr.rank}, Number of elements ${arr.length}, Type ${elementTypeName(arr.elementType)}`);
    json.array = { rank: arr.rank, length: arr.length, bounds: arr.bounds, lowerBounds: arr.lowerBounds, elementMT: hexJson(arr.elementHandle) };
    if (arr.elementType === ElementType.I1 || arr.elementType === ElementType.U1 || arr.elementType === ElementType.Char) {
      const n = Math.min(arr.length, CONTENT_CHARS);
      const wide = arr.elementType === ElementType.Char;
      const bytes = session.runtime.memory.read(arr.dataAddress, n * (wide ? 2 : 1));
      let text = '';
      for (let i = 0; i < n; i++) {
        const c = wide ? bytes[2 * i]! + bytes[2 * i + 1]! * 256 : bytes[i]!;
        text += c < 32 || c > 126 ? '.' : String.fromCharCode(c);
      }
      lines.push(`Content:     ${text}`);
    }
  } else {
    if (name === 'System.RuntimeType') lines.push(...runtimeTypeLines(session, reader, mt, obj.address, json));
    lines.push(`File:        ${moduleFile(session, mt.module)}`);
  }
  if (mt.isString) {
    const value = reader.readString(obj.address);
    lines.push(`String:      ${value}`);
    json.string = value;
  }
  if (withFields) {
    let rows = reader.fieldRows(mt, obj.address, false);
    // SOS prints "None" when the type has no instance fields (inherited included) and no statics of its own, even
    // when a parent declares statics (GenericEqualityComparer<T> under EqualityComparer<T>.Default); with any field
    // of its own it lists the parents' statics too.
    if (!rows.some((r) => !r.fd.isStatic || r.fd.enclosingMT === mt.canonicalMT)) rows = [];
    lines.push('Fields:');
    if (rows.length === 0) lines.push('None');
    else lines.push(FIELD_TABLE_HEADER, ...fieldTableLines(session, rows));
    json.fields = fieldRowsJson(session, rows);
  }
  return { text: lines.join('\n'), json };
}

/** The `File:` line's text: the module's path, or SOS's `Unknown Module`. */
export function moduleFile(session: Session, module: number): string {
  try {
    return session.modules.read(module).path || 'Unknown Module';
  } catch {
    return 'Unknown Module';
  }
}

/** SOS names the type a System.RuntimeType stands for (its `m_handle`) when that is a MethodTable. */
function runtimeTypeLines(session: Session, reader: ObjectReader, mt: MethodTableInfo, address: number, json: Record<string, unknown>): string[] {
  try {
    const row = reader.fieldRows(mt, address, false).find((r) => r.name === 'm_handle' && !r.fd.isStatic);
    if (!row || row.address === 0) return [];
    const handle = session.runtime.memory.readPointer(row.address);
    // A TypeDesc handle (pointer, function pointer, generic variable) has its low bits set and no MethodTable.
    if (handle === 0 || handle % 4 !== 0) return [];
    const typeName = session.names.dacName(handle);
    json.typeMT = hexJson(handle);
    json.typeName = typeName;
    return [`Type Name:   ${typeName}`, `Type MT:     ${p16(handle)}`];
  } catch (e) {
    if (e instanceof DumpsleuthError) return [];
    throw e;
  }
}
