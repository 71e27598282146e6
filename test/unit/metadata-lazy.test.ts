/**
 * Metadata read page by page (EcmaMetadata.fromLazyBytes, issue 16) against the same metadata read whole, on real
 * framework assemblies from disk: every TypeDef's full name, flags and fields, every field signature, every
 * TypeRef and user string agree; reads fill only the pages they touch; `findTypeDef` finds every TypeDef by its
 * namespace, name and enclosing type (and `findTopLevelTypeDefs` the same), and nothing for a name no row has. Skips when the framework is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EcmaMetadata, PeImage, TableId, byteArraySource } from '../../src/runtime/metadata';

function frameworkDir(): string | undefined {
  const root = path.join(process.env.DOTNET_ROOT || '/usr/share/dotnet', 'shared', 'Microsoft.NETCore.App');
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => v.startsWith('10.')).sort();
  return versions.length ? path.join(root, versions[versions.length - 1]!) : undefined;
}

const dir = frameworkDir();

for (const file of ['System.Private.CoreLib.dll', 'System.Collections.Immutable.dll']) {
  test(`lazy metadata equals whole metadata: ${file}`, { skip: dir === undefined ? 'no .NET 10 shared framework' : false }, () => {
    const image = new PeImage(byteArraySource(fs.readFileSync(path.join(dir!, file))), { isMapped: false });
    const whole = image.metadataBytes();
    const eager = EcmaMetadata.fromBytes(whole);
    const at = image.metadataLocation();
    assert.equal(at.size, whole.length);
    let filled = 0;
    const lazy = EcmaMetadata.fromLazyBytes(at.size, (offset, target, length) => {
      filled += length;
      target.set(whole.subarray(offset, offset + length), offset);
    });
    // Opening reads the root and the table header, not the heaps.
    assert.ok(filled < whole.length / 4, `opening read ${filled} of ${whole.length} bytes`);
    const typeDefs = eager.rowCount(TableId.TypeDef);
    assert.equal(lazy.rowCount(TableId.TypeDef), typeDefs);
    assert.ok(typeDefs > 100);
    // One name first: a single lookup fills a few pages only.
    assert.equal(lazy.getTypeDefFullName(0x02000002), eager.getTypeDefFullName(0x02000002));
    assert.ok(filled < whole.length / 2, `one name read ${filled} of ${whole.length} bytes`);
    for (let rid = 1; rid <= typeDefs; rid++) {
      const token = 0x02000000 + rid;
      assert.equal(lazy.getTypeDefFullName(token), eager.getTypeDefFullName(token));
      assert.equal(lazy.getTypeDefFlags(token), eager.getTypeDefFlags(token));
      assert.deepEqual(lazy.getFieldsOfType(token), eager.getFieldsOfType(token));
    }
    for (let rid = 1; rid <= eager.rowCount(TableId.Field); rid++) {
      assert.deepEqual(lazy.getFieldSignature(0x04000000 + rid), eager.getFieldSignature(0x04000000 + rid));
    }
    for (let rid = 1; rid <= eager.rowCount(TableId.TypeRef); rid++) assert.deepEqual(lazy.getTypeRef(0x01000000 + rid), eager.getTypeRef(0x01000000 + rid));
    assert.equal(lazy.getAssemblySimpleName(), eager.getAssemblySimpleName());
  });

  test(`findTypeDef finds every TypeDef by name: ${file}`, { skip: dir === undefined ? 'no .NET 10 shared framework' : false }, () => {
    const md = EcmaMetadata.fromPeImage(new PeImage(byteArraySource(fs.readFileSync(path.join(dir!, file))), { isMapped: false }));
    const seen = new Map<string, number>();
    for (let rid = 1; rid <= md.rowCount(TableId.TypeDef); rid++) {
      const token = 0x02000000 + rid;
      const n = md.getTypeDefName(token);
      // The last row of a (namespace, name, enclosing) wins, as the name index it replaces kept it.
      seen.set(JSON.stringify([n.namespace, n.name, md.getEnclosingType(token)]), token);
    }
    for (const [key, token] of seen) {
      const [namespace, name, enclosing] = JSON.parse(key) as [string, string, number];
      assert.equal(md.findTypeDef(namespace, name, enclosing), token, key);
    }
    assert.equal(md.findTypeDef('System', 'NoSuchTypeAnywhere', 0), 0);
    if (file === 'System.Private.CoreLib.dll') {
      assert.equal(md.getTypeDefFullName(md.findTypeDef('System', 'Int32', 0)), 'System.Int32');
      // A nested type is found only under its enclosing type.
      assert.equal(md.findTypeDef('', 'Enumerator', 0), 0);
      const primitives = md.findTopLevelTypeDefs('System', ['Int32', 'Void', 'IntPtr', 'NoSuchType']);
      assert.deepEqual([...primitives].sort(), ['Int32', 'Void', 'IntPtr'].map((n) => [n, md.findTypeDef('System', n, 0)] as [string, number]).sort());
    }
  });
}
