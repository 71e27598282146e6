/**
 * PeImage over hand-built PE files (test/unit/metadata-builders.ts): PE32 and PE32+, flat and mapped layouts,
 * the CLI header, and truncated or hostile headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DumpFormatError, DumpsleuthError, UnmappedAddressError } from '../../src/errors';
import { EcmaMetadata, PeImage, byteArraySource } from '../../src/runtime/metadata';
import { buildPeImage } from './metadata-builders';
import { syntheticMetadata } from './metadata-synthetic';

for (const pe32 of [false, true]) {
  for (const mapped of [false, true]) {
    test(`${pe32 ? 'PE32' : 'PE32+'} ${mapped ? 'mapped' : 'flat'}: headers, CLI header and metadata`, () => {
      const metadata = syntheticMetadata();
      const image = new PeImage(byteArraySource(buildPeImage({ metadata, pe32, mapped })), { isMapped: mapped });
      assert.equal(image.isPe32Plus, !pe32);
      assert.equal(image.machine, 0x8664);
      assert.equal(image.imageBase, 0x400000);
      assert.equal(image.sections.length, 1);
      assert.equal(image.sections[0].name, '.text');
      const cli = image.cliHeader;
      assert.ok(cli);
      assert.equal(cli.majorRuntimeVersion, 2);
      assert.equal(cli.metadata.rva, 0x2048);
      assert.equal(cli.metadata.size, metadata.length);
      assert.equal(cli.flags, 1);
      assert.deepEqual(cli.managedNativeHeader, { rva: 0x1234, size: 0x48 });
      assert.deepEqual(image.metadataBytes(), metadata);
      assert.equal(EcmaMetadata.fromPeImage(image).getTypeDefFullName(0x02000003), 'MyNs.Outer`1+Inner');
    });
  }
}

test('flat layout: RVAs outside every section are format errors', () => {
  const image = new PeImage(byteArraySource(buildPeImage({ metadata: syntheticMetadata() })), { isMapped: false });
  assert.throws(() => image.readRva(0x9000, 4), /in no section/);
  assert.throws(() => image.readRva(0x2000 + image.sections[0].sizeOfRawData - 2, 4), /runs past the raw data/);
});

test('every truncation of the file throws a typed error', () => {
  const file = buildPeImage({ metadata: syntheticMetadata() });
  for (let n = 0; n < file.length; n += 7) {
    try {
      const image = new PeImage(byteArraySource(file.subarray(0, n)), { isMapped: false });
      EcmaMetadata.fromPeImage(image);
    } catch (e) {
      assert.ok(e instanceof DumpsleuthError, `length ${n}: ${(e as Error).stack}`);
    }
  }
});

test('bad signatures, magic and section counts are format errors', () => {
  const make = (): Uint8Array => buildPeImage({ metadata: syntheticMetadata() });
  const open = (b: Uint8Array): PeImage => new PeImage(byteArraySource(b), { isMapped: false });
  const noMz = make();
  noMz[0] = 0;
  assert.throws(() => open(noMz), /MZ/);
  const noPe = make();
  noPe[0x80] = 0;
  assert.throws(() => open(noPe), /PE\\0\\0/);
  const magic = make();
  magic[0x80 + 24] = 0x99;
  assert.throws(() => open(magic), /optional header magic/);
  const sections = make();
  new DataView(sections.buffer).setUint16(0x80 + 6, 0xffff, true);
  assert.throws(() => open(sections), DumpFormatError);
  const lfanew = make();
  new DataView(lfanew.buffer).setUint32(0x3c, 0xfffffff0, true);
  assert.throws(() => open(lfanew), /e_lfanew/);
});

test('a native image has no CLI header, and metadataBytes says so', () => {
  const file = buildPeImage({ metadata: syntheticMetadata() });
  new DataView(file.buffer).setUint32(0x80 + 24 + 112 + 14 * 8, 0, true);
  const image = new PeImage(byteArraySource(file), { isMapped: false });
  assert.equal(image.cliHeader, undefined);
  assert.throws(() => image.metadataBytes(), /no CLI header/);
});

test('the source\'s UnmappedAddressError passes through unchanged', () => {
  const file = buildPeImage({ metadata: syntheticMetadata(), mapped: true });
  const source = {
    read(offset: number, length: number): Uint8Array {
      if (offset >= 0x2000) throw new UnmappedAddressError(0x7f0000000000 + offset, length);
      return file.subarray(offset, offset + length);
    },
  };
  assert.throws(() => new PeImage(source, { isMapped: true }), UnmappedAddressError);
});
