/**
 * SOS name texts, checked against the forms research/names-and-sos-output.md §A3 read in SOS, the DAC's
 * typestring.cpp and ClrMD's DacNameParser tests (not against our own output).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FREE_TYPE_NAME,
  TypeNameNode,
  corElementTypeName,
  escapeDacName,
  formatClrMdTypeName,
  formatDacArrayName,
  formatDacGenericInstantiation,
  formatDacTypeName,
} from '../../src/runtime/metadata';

const CORELIB = 'System.Private.CoreLib';
const named = (full: string, assembly = CORELIB, typeArgs?: TypeNameNode[]): TypeNameNode =>
  typeArgs ? { kind: 'named', segments: full.split('+'), assembly, typeArgs } : { kind: 'named', segments: full.split('+'), assembly };
const sz = (element: TypeNameNode): TypeNameNode => ({ kind: 'array', element, rank: 1, isSzArray: true });

test('DAC style: plain, nested, arrays, pointers, Free', () => {
  assert.equal(formatDacTypeName(named('System.String')), 'System.String');
  assert.equal(formatDacTypeName(named('MyApp.Outer+Inner', 'MyApp')), 'MyApp.Outer+Inner');
  assert.equal(formatDacTypeName(named('MyApp.Program+<Main>d__0', 'MyApp')), 'MyApp.Program+<Main>d__0');
  assert.equal(formatDacTypeName(sz(named('System.Int32'))), 'System.Int32[]');
  assert.equal(formatDacTypeName({ kind: 'array', element: named('System.Int32'), rank: 2, isSzArray: false }), 'System.Int32[,]');
  assert.equal(formatDacTypeName({ kind: 'array', element: named('System.Int32'), rank: 1, isSzArray: false }), 'System.Int32[*]');
  assert.equal(formatDacTypeName(sz(sz(named('System.String')))), 'System.String[][]');
  assert.equal(formatDacTypeName({ kind: 'pointer', element: named('System.Int32') }), 'System.Int32*');
  assert.equal(formatDacTypeName({ kind: 'free' }), 'Free');
  assert.equal(FREE_TYPE_NAME, 'Free');
  assert.equal(formatDacArrayName('System.String', 3, false), 'System.String[,,]');
  assert.equal(
    formatDacTypeName({ kind: 'fnptr', returnType: named('System.Void'), params: [named('System.Int32')] }),
    'System.Void(System.Int32)',
  );
});

test('DAC style: generic instantiations with assembly names, type variables and definitions', () => {
  const dict = named('System.Collections.Generic.Dictionary`2', CORELIB, [named('System.String'), named('System.Int32')]);
  assert.equal(
    formatDacTypeName(dict),
    'System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],[System.Int32, System.Private.CoreLib]]',
  );
  assert.equal(
    formatDacGenericInstantiation('System.Collections.Generic.List`1', [{ name: 'System.__Canon', assembly: CORELIB }]),
    'System.Collections.Generic.List`1[[System.__Canon, System.Private.CoreLib]]',
  );
  assert.equal(formatDacTypeName(named('System.Collections.Generic.List`1', CORELIB, [{ kind: 'var', name: 'T' }])), 'System.Collections.Generic.List`1[T]');
  assert.equal(formatDacTypeName(named('System.Collections.Generic.List`1')), 'System.Collections.Generic.List`1');
  const entries = sz(named('System.Collections.Generic.Dictionary`2+Entry', CORELIB, [named('System.String'), named('MyApp.Item', 'MyApp')]));
  assert.equal(
    formatDacTypeName(entries),
    'System.Collections.Generic.Dictionary`2+Entry[[System.String, System.Private.CoreLib],[MyApp.Item, MyApp]][]',
  );
  // An array argument carries its element's assembly.
  assert.equal(
    formatDacTypeName(named('System.Collections.Generic.List`1', CORELIB, [sz(named('MyApp.Item', 'MyApp'))])),
    'System.Collections.Generic.List`1[[MyApp.Item[], MyApp]]',
  );
  assert.equal(escapeDacName('a,b[c]&d*e+f\\g'), 'a\\,b\\[c\\]\\&d\\*e\\+f\\\\g');
});

test('ClrMD style follows DacNameParser', () => {
  const dict = named('System.Collections.Generic.Dictionary`2', CORELIB, [named('System.String'), named('System.Int32')]);
  assert.equal(formatClrMdTypeName(dict), 'System.Collections.Generic.Dictionary<System.String, System.Int32>');
  const entries = sz(named('System.Collections.Generic.Dictionary`2+Entry', CORELIB, [named('System.String'), named('MyApp.Item', 'MyApp')]));
  assert.equal(formatClrMdTypeName(entries), 'System.Collections.Generic.Dictionary<System.String, MyApp.Item>+Entry[]');
  const nested = named('Outer`1+Inner`1', 'A', [named('X', 'A'), named('Y', 'A')]);
  assert.equal(formatClrMdTypeName(nested), 'Outer<X>+Inner<Y>');
  const cd = named('System.Collections.Concurrent.ConcurrentDictionary`2', CORELIB, [named('System.Int32'), sz(named('System.String'))]);
  assert.equal(formatClrMdTypeName(cd), 'System.Collections.Concurrent.ConcurrentDictionary<System.Int32, System.String[]>');
  assert.equal(formatClrMdTypeName(named('Test.Foo`2', 'Test')), 'Test.Foo<T1, T2>');
  const tuple = named('System.ValueTuple`3', CORELIB, [named('System.String'), { kind: 'var', name: 'T1' }, { kind: 'var', name: 'T2' }]);
  assert.equal(formatClrMdTypeName(tuple), 'System.ValueTuple<System.String, T1, T2>');
  assert.equal(formatClrMdTypeName(named('a37', 'x', [named('akx', 'x')])), 'a37<akx>');
  assert.equal(formatClrMdTypeName(named('MyApp.Program+<>c', 'MyApp')), 'MyApp.Program+<>c');
  assert.equal(formatClrMdTypeName({ kind: 'free' }), 'Free');
});

test('dumpobj Type column names for types without a MethodTable (cortypeinfo.h)', () => {
  assert.equal(corElementTypeName(0x08), 'System.Int32');
  assert.equal(corElementTypeName(0x12), 'CLASS');
  assert.equal(corElementTypeName(0x1d), 'SZARRAY');
  assert.equal(corElementTypeName(0x15), '');
});
