/**
 * Type names in SOS's two styles, checked against the forms research/names-and-sos-output.md §A3 read in the DAC's
 * typestring.cpp and ClrMD's DacNameParser tests (not against our own output).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeDacName, renderClrmd, renderDac, type TypeNameNode } from '../../src/runtime/type-names';

const CORELIB = 'System.Private.CoreLib';
const def = (full: string, assembly = CORELIB, args: TypeNameNode[] = []): TypeNameNode => ({ kind: 'def', segments: full.split('+'), args, assembly });
const sz = (element: TypeNameNode): TypeNameNode => ({ kind: 'array', element, rank: 1, sz: true });
const v = (name: string): TypeNameNode => ({ kind: 'var', name });

test('DAC style: plain, nested, arrays, pointers, Free', () => {
  assert.equal(renderDac(def('System.String')), 'System.String');
  assert.equal(renderDac(def('MyApp.Outer+Inner', 'MyApp')), 'MyApp.Outer+Inner');
  assert.equal(renderDac(def('MyApp.Program+<Main>d__0', 'MyApp')), 'MyApp.Program+<Main>d__0');
  assert.equal(renderDac(sz(def('System.Int32'))), 'System.Int32[]');
  assert.equal(renderDac({ kind: 'array', element: def('System.Int32'), rank: 2, sz: false }), 'System.Int32[,]');
  assert.equal(renderDac({ kind: 'array', element: def('System.Int32'), rank: 1, sz: false }), 'System.Int32[*]');
  assert.equal(renderDac({ kind: 'array', element: def('System.String'), rank: 3, sz: false }), 'System.String[,,]');
  assert.equal(renderDac(sz(sz(def('System.String')))), 'System.String[][]');
  assert.equal(renderDac({ kind: 'pointer', element: def('System.Int32') }), 'System.Int32*');
  assert.equal(renderDac({ kind: 'free' }), 'Free');
});

test('DAC style: generic instantiations with assembly names, type variables and definitions', () => {
  const dict = def('System.Collections.Generic.Dictionary`2', CORELIB, [def('System.String'), def('System.Int32')]);
  assert.equal(renderDac(dict), 'System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],[System.Int32, System.Private.CoreLib]]');
  assert.equal(renderDac(def('System.Collections.Generic.List`1', CORELIB, [def('System.__Canon')])), 'System.Collections.Generic.List`1[[System.__Canon, System.Private.CoreLib]]');
  assert.equal(renderDac(def('System.Collections.Generic.List`1', CORELIB, [v('T')])), 'System.Collections.Generic.List`1[T]');
  assert.equal(renderDac(def('System.Collections.Generic.List`1')), 'System.Collections.Generic.List`1');
  const entries = sz(def('System.Collections.Generic.Dictionary`2+Entry', CORELIB, [def('System.String'), def('MyApp.Item', 'MyApp')]));
  assert.equal(renderDac(entries), 'System.Collections.Generic.Dictionary`2+Entry[[System.String, System.Private.CoreLib],[MyApp.Item, MyApp]][]');
  // An array argument carries its element's assembly.
  assert.equal(renderDac(def('System.Collections.Generic.List`1', CORELIB, [sz(def('MyApp.Item', 'MyApp'))])), 'System.Collections.Generic.List`1[[MyApp.Item[], MyApp]]');
  assert.equal(escapeDacName('a,b[c]&d*e+f\\g'), 'a\\,b\\[c\\]\\&d\\*e\\+f\\\\g');
});

test('ClrMD style follows DacNameParser', () => {
  const dict = def('System.Collections.Generic.Dictionary`2', CORELIB, [def('System.String'), def('System.Int32')]);
  assert.equal(renderClrmd(dict), 'System.Collections.Generic.Dictionary<System.String, System.Int32>');
  const entries = sz(def('System.Collections.Generic.Dictionary`2+Entry', CORELIB, [def('System.String'), def('MyApp.Item', 'MyApp')]));
  assert.equal(renderClrmd(entries), 'System.Collections.Generic.Dictionary<System.String, MyApp.Item>+Entry[]');
  assert.equal(renderClrmd(def('Outer`1+Inner`1', 'A', [def('X', 'A'), def('Y', 'A')])), 'Outer<X>+Inner<Y>');
  const cd = def('System.Collections.Concurrent.ConcurrentDictionary`2', CORELIB, [def('System.Int32'), sz(def('System.String'))]);
  assert.equal(renderClrmd(cd), 'System.Collections.Concurrent.ConcurrentDictionary<System.Int32, System.String[]>');
  assert.equal(renderClrmd(def('Test.Foo`2', 'Test')), 'Test.Foo<T1, T2>');
  assert.equal(renderClrmd(def('System.ValueTuple`3', CORELIB, [def('System.String'), v('T1'), v('T2')])), 'System.ValueTuple<System.String, T1, T2>');
  assert.equal(renderClrmd(def('a37', 'x', [def('akx', 'x')])), 'a37<akx>');
  assert.equal(renderClrmd(def('MyApp.Program+<>c', 'MyApp')), 'MyApp.Program+<>c');
  assert.equal(renderClrmd({ kind: 'free' }), 'Free');
});
