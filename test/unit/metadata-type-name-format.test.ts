/**
 * The dumpobj Type column for element types without a MethodTable, as SOS prints it (cortypeinfo.h names).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corElementTypeName } from '../../src/runtime/metadata';

test('dumpobj Type column names for types without a MethodTable (cortypeinfo.h)', () => {
  assert.equal(corElementTypeName(0x08), 'System.Int32');
  assert.equal(corElementTypeName(0x12), 'CLASS');
  assert.equal(corElementTypeName(0x1d), 'SZARRAY');
  assert.equal(corElementTypeName(0x15), '');
});
