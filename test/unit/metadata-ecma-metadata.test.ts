/**
 * EcmaMetadata over hand-built metadata (test/unit/metadata-synthetic.ts): names, nesting, member lists,
 * signatures; and truncated, hostile and randomly corrupted input, which must end in a typed error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DumpFormatError, DumpsleuthError, LimitExceededError } from '../../src/errors';
import { EcmaMetadata, TableId, formatSigParams, formatSigType } from '../../src/runtime/metadata';
import { SYNTHETIC_MVID, syntheticMetadata, syntheticSpec } from './metadata-synthetic';
import { buildMetadata } from './metadata-builders';

const OUTER = 0x02000002;
const INNER = 0x02000003;

test('names, nesting and assembly identity', () => {
  const md = EcmaMetadata.fromBytes(syntheticMetadata());
  assert.equal(md.versionString, 'v4.0.30319');
  assert.equal(md.getModuleName(), 'test.dll');
  assert.equal(md.getMvid(), SYNTHETIC_MVID);
  assert.deepEqual(md.getAssembly(), { name: 'TestAsm', version: '1.2.3.4', culture: '', flags: 0 });
  assert.equal(md.getAssemblyRef(0x23000001).name, 'System.Runtime');
  assert.deepEqual(md.getTypeDefName(OUTER), { namespace: 'MyNs', name: 'Outer`1' });
  assert.equal(md.getTypeDefFullName(OUTER), 'MyNs.Outer`1');
  assert.equal(md.getTypeDefFullName(INNER), 'MyNs.Outer`1+Inner');
  assert.equal(md.getTypeDefFullNameWithoutArity(INNER), 'MyNs.Outer+Inner');
  assert.equal(md.getEnclosingType(INNER), OUTER);
  assert.equal(md.getEnclosingType(OUTER), 0);
  assert.equal(md.getTypeDefExtends(OUTER), 0x01000001);
  assert.deepEqual(md.getTypeRef(0x01000001), { namespace: 'System', name: 'Object', resolutionScope: 0x23000001 });
  assert.equal(md.getTypeDefFlags(INNER), 0x00100002);
  assert.deepEqual(md.getGenericParams(OUTER).map((p) => p.name), ['T']);
  assert.deepEqual(md.getGenericParams(0x06000003).map((p) => p.name), ['M']);
  assert.equal(md.getGenericParamName(0x2a000002), 'M');
  assert.equal(md.getUserString(0x70000001), 'hi');
});

test('member lists, owners, params and signatures', () => {
  const md = EcmaMetadata.fromBytes(syntheticMetadata());
  assert.deepEqual(md.getFieldsOfType(0x02000001), []);
  assert.deepEqual(md.getFieldsOfType(OUTER), [0x04000001, 0x04000002]);
  assert.deepEqual(md.getFieldsOfType(INNER), [0x04000003]);
  assert.deepEqual(md.getMethodsOfType(OUTER), [0x06000001, 0x06000002]);
  assert.deepEqual(md.getMethodsOfType(INNER), [0x06000003]);
  assert.equal(md.getDeclaringTypeOfField(0x04000003), INNER);
  assert.equal(md.getDeclaringTypeOfMethod(0x06000001), OUTER);
  assert.equal(md.getFieldName(0x04000002), '_items');
  assert.equal(md.getFieldFlags(0x04000003), 0x11);
  assert.equal(formatSigType(md, md.getFieldSignature(0x04000001)), 'Int32');
  assert.equal(formatSigType(md, md.getFieldSignature(0x04000002)), '!0[]');
  assert.equal(formatSigType(md, md.getFieldSignature(0x04000002), { typeArgs: ['System.String'] }), 'System.String[]');
  assert.equal(md.getMethodName(0x06000002), 'Main');
  assert.equal(md.getMethodRva(0x06000001), 0x2050);
  const run = md.getMethodSignature(0x06000001);
  assert.equal(run.header, 0x20);
  assert.equal(formatSigParams(md, run), '(Int32, System.String ByRef)');
  assert.equal(formatSigParams(md, md.getMethodSignature(0x06000002)), '(System.String[])');
  const get = md.getMethodSignature(0x06000003);
  assert.equal(get.genericParamCount, 1);
  assert.equal(formatSigType(md, get.returnType), '!!0');
  assert.equal(formatSigParams(md, get), '(MyNs.Outer`1<!0>)');
  assert.deepEqual(md.getParamsOfMethod(0x06000001).map((p) => [p.sequence, p.name]), [[1, 'count'], [2, 'name']]);
  assert.deepEqual(md.getParamsOfMethod(0x06000002).map((p) => p.name), ['args']);
  assert.deepEqual(md.getParamsOfMethod(0x06000003), []);
  assert.equal(formatSigType(md, md.getTypeSpecSignature(0x1b000001)), 'MyNs.Outer`1<Int32>');
});

test('4-byte #Strings indexes and unsorted lookup tables read the same', () => {
  const md = EcmaMetadata.fromBytes(syntheticMetadata({ largeStrings: true, sorted: [] }));
  assert.equal(md.tables.columnWidth(TableId.TypeDef, 1), 4);
  assert.equal(md.getTypeDefFullName(INNER), 'MyNs.Outer`1+Inner');
  assert.deepEqual(md.getGenericParams(0x06000003).map((p) => p.name), ['M']);
});

test('tokens of the wrong table or out of range throw DumpFormatError', () => {
  const md = EcmaMetadata.fromBytes(syntheticMetadata());
  assert.throws(() => md.getTypeDefName(0x06000001), DumpFormatError);
  assert.throws(() => md.getTypeDefName(0x02000004), DumpFormatError);
  assert.throws(() => md.getFieldName(0x04000000), DumpFormatError);
});

test('every truncation of the metadata throws a typed error or reads consistently', () => {
  const full = syntheticMetadata();
  for (let n = 0; n < full.length; n++) {
    const cut = full.slice(0, n);
    try {
      const md = EcmaMetadata.fromBytes(cut);
      exerciseAll(md);
    } catch (e) {
      assert.ok(e instanceof DumpsleuthError, `length ${n}: ${(e as Error).stack}`);
    }
  }
});

test('hostile row counts are rejected before any table is read', () => {
  const over = syntheticMetadata({ overrideRowCounts: { 0x02: 0xffffffff } });
  assert.throws(() => EcmaMetadata.fromBytes(over), LimitExceededError);
  const past = syntheticMetadata({ overrideRowCounts: { 0x04: 0x00ffffff } });
  assert.throws(() => EcmaMetadata.fromBytes(past), /runs past the table stream/);
  const capped = syntheticMetadata();
  assert.throws(() => EcmaMetadata.fromBytes(capped, { maxRowsPerTable: 2 }), LimitExceededError);
});

test('a missing table stream, a bad signature and unknown tables are format errors', () => {
  const bad = syntheticMetadata();
  bad[0] = 0;
  assert.throws(() => EcmaMetadata.fromBytes(bad), /BSJB/);
  assert.throws(() => EcmaMetadata.fromBytes(syntheticMetadata({ tableStreamName: '#X' })), /no #~ or #- table stream/);
  const spec = syntheticSpec();
  const unknown = buildMetadata(spec);
  // Set Valid bit 0x30 (a Portable PDB table): its rows cannot be sized.
  const tableStream = new DataView(unknown.buffer).getUint32(32, true);
  unknown[tableStream + 14] |= 1;
  assert.throws(() => EcmaMetadata.fromBytes(unknown), /unknown tables/);
});

test('the uncompressed #- stream reads the same', () => {
  const md = EcmaMetadata.fromBytes(syntheticMetadata({ tableStreamName: '#-' }));
  assert.equal(md.isUncompressed, true);
  assert.equal(md.getTypeDefFullName(INNER), 'MyNs.Outer`1+Inner');
});

test('#- with a FieldPtr table: member lists go through the indirection', () => {
  const spec = syntheticSpec();
  // FieldPtr (II.24.2.6) reverses the field order: Outer's list [1,2] means fields 3,2; Inner's [3] means field 1.
  spec.tables[0x03] = [[3], [2], [1]];
  const md = EcmaMetadata.fromBytes(buildMetadata({ ...spec, tableStreamName: '#-' }));
  assert.deepEqual(md.getFieldsOfType(OUTER), [0x04000003, 0x04000002]);
  assert.deepEqual(md.getFieldsOfType(INNER), [0x04000001]);
  assert.equal(md.getDeclaringTypeOfField(0x04000001), INNER);
  assert.equal(md.getDeclaringTypeOfField(0x04000003), OUTER);
});

test('deeply nested signature blobs hit the depth cap instead of the stack', () => {
  const spec = syntheticSpec();
  const deep = new Uint8Array(20001);
  deep[0] = 0x06;
  deep.fill(0x1d, 1, 20000);
  deep[20000] = 0x08;
  spec.tables[0x04][0][2] = deep;
  const md = EcmaMetadata.fromBytes(buildMetadata(spec));
  assert.throws(() => md.getFieldSignature(0x04000001), LimitExceededError);
});

test('random corruption never escapes as an untyped error', () => {
  const full = syntheticMetadata();
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let iter = 0; iter < 3000; iter++) {
    const bytes = full.slice();
    const flips = 1 + rnd(4);
    for (let k = 0; k < flips; k++) bytes[rnd(bytes.length)] = rnd(256);
    try {
      exerciseAll(EcmaMetadata.fromBytes(bytes));
    } catch (e) {
      assert.ok(e instanceof DumpsleuthError, `iteration ${iter}: ${(e as Error).stack}`);
    }
  }
});

/** Calls every reader over every row, so a read past the bytes would surface. */
function exerciseAll(md: EcmaMetadata): void {
  md.getModuleName();
  md.getMvid();
  md.getAssembly();
  for (let r = 1; r <= md.rowCount(TableId.TypeDef); r++) {
    const t = 0x02000000 | r;
    md.getTypeDefFullName(t);
    md.getTypeDefExtends(t);
    md.getGenericParams(t);
    for (const f of md.getFieldsOfType(t)) formatSigType(md, md.getFieldSignature(f));
    for (const m of md.getMethodsOfType(t)) {
      formatSigParams(md, md.getMethodSignature(m));
      md.getParamsOfMethod(m);
      md.getDeclaringTypeOfMethod(m);
    }
  }
  for (let r = 1; r <= md.rowCount(TableId.TypeSpec); r++) formatSigType(md, md.getTypeSpecSignature(0x1b000000 | r));
  for (let r = 1; r <= md.rowCount(TableId.TypeRef); r++) md.getTypeRef(0x01000000 | r);
  for (let r = 1; r <= md.rowCount(TableId.AssemblyRef); r++) md.getAssemblyRef(0x23000000 | r);
  md.getUserString(0x70000001);
}
