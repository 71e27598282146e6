/**
 * Reads fields of framework objects by name (through the type's FieldDescs and metadata), for the commands that
 * read managed state the runtime keeps in C# (the thread pool, timers, tasks).
 */
import { LayoutCheckError } from '../errors';
import type { FieldValue, ObjectReader } from './object-reader';

/** Where a field path ended: its value, and the address of an embedded struct for a further step. */
export interface FieldAt {
  readonly value: FieldValue;
  readonly address: number;
}

/** Follows `path` (field names, through references and embedded structs) from the object at `address`.
 * @throws LayoutCheckError naming the field the type lacks; UsageError / UnmappedAddressError for a bad object. */
export function readFieldPath(objects: ObjectReader, address: number, path: readonly string[]): FieldAt {
  let mt = objects.readObject(address, false).mt;
  let data = address;
  let isValue = false;
  let result: FieldAt | undefined;
  for (let k = 0; k < path.length; k++) {
    const name = path[k]!;
    const row = objects.fieldRows(mt, data, isValue).find((r) => r.name === name && r.fd.isStatic === false);
    if (!row) throw new LayoutCheckError(`the object at 0x${address.toString(16)} has no field ${path.slice(0, k + 1).join('.')}`);
    result = { value: row.value, address: row.address };
    if (k === path.length - 1) break;
    if (row.value.kind === 'reference') {
      if (row.value.value === 0) throw new LayoutCheckError(`${path.slice(0, k + 1).join('.')} of 0x${address.toString(16)} is null`);
      data = row.value.value;
      mt = objects.readObject(data, false).mt;
      isValue = false;
    } else if (row.value.kind === 'valuetype') {
      data = row.value.address;
      const next = objects.tryReadMethodTable(row.value.mt);
      if (!next) throw new LayoutCheckError(`the struct type of ${path.slice(0, k + 1).join('.')} is not readable`);
      mt = next;
      isValue = true;
    } else {
      throw new LayoutCheckError(`${path.slice(0, k + 1).join('.')} is neither a reference nor a struct`);
    }
  }
  return result!;
}

/** The integer value of a field path (bigint values above 2^53 are returned as bigint). @throws as readFieldPath,
 * and LayoutCheckError when the field is not an integer. */
export function readIntPath(objects: ObjectReader, address: number, path: readonly string[]): number | bigint {
  const { value } = readFieldPath(objects, address, path);
  if (value.kind === 'int' || value.kind === 'bool') return value.value as number | bigint;
  throw new LayoutCheckError(`${path.join('.')} is not an integer field`);
}

/** The reference value of a field path (0 for null). @throws as readFieldPath, and LayoutCheckError when it is not a reference. */
export function readRefPath(objects: ObjectReader, address: number, path: readonly string[]): number {
  const { value } = readFieldPath(objects, address, path);
  if (value.kind === 'reference') return value.value;
  throw new LayoutCheckError(`${path.join('.')} is not a reference field`);
}
