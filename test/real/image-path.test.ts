// Issue 3: "in a heap dump whose assembly metadata pages are missing and whose files are not on disk, names come
// back as <unknown type @mt> with a warning, never a wrong name; with --image-path pointing at the files they
// resolve". Heap dumps of .NET 10 keep the managed images' pages, so the dump layer's test options make them
// missing: `ignoreImagePagesInDump` hides every managed (PE) image page but the header page, and
// `managedImagesFromImagePathOnly` stops the fallback to the files at their NT_FILE paths. Then
//   (a) --image-path at an empty folder: every name is the right one or <unknown type @...>, with warnings;
//   (b) --image-path at a folder with the images: every name equals the name read from the dump itself;
//   (c) a rebuilt file of the same name is rejected (its header page differs), never read as the right one.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { getDump } from '../support/dumps';

const TIMEOUT = 10 * 60_000;
const UNKNOWN = /<unknown type @[0-9a-f]+>/;

/** Every MethodTable on the heap with its ClrMD and DAC names. */
function heapNames(session: Session): Map<number, [string, string]> {
  const out = new Map<number, [string, string]>();
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (_a, mt) => {
    if (!out.has(mt)) out.set(mt, [session.names.clrmdName(mt), session.names.dacName(mt)]);
  });
  return out;
}

/** A name with unknown parts matches the real name when each unknown part stands where the real one has text. */
function fitsWithUnknowns(shown: string, real: string): boolean {
  const pattern = shown.split(UNKNOWN).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+');
  return new RegExp(`^${pattern}$`).test(real);
}

describe('names when the managed image pages are missing (types heap workstation)', { timeout: TIMEOUT }, () => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-image-path-'));
  after(() => fs.rmSync(temp, { recursive: true, force: true }));

  it('are unknown with a warning without the files, and right with --image-path', async () => {
    const dump = await getDump('types', { dumpType: 'heap', serverGc: false });
    const reference = Session.open(dump.dumpPath);
    const expected = heapNames(reference);
    const modules = reference.modules.enumerate();

    // The folder of image files: flat-layout images are the very bytes the dump holds (so a debuggee rebuilt since
    // the capture does not matter); section-mapped (ReadyToRun) framework images are copied from the runtime.
    const images = path.join(temp, 'images');
    const empty = path.join(temp, 'empty');
    fs.mkdirSync(images);
    fs.mkdirSync(empty);
    for (const m of modules) {
      const target = path.join(images, path.basename(m.path));
      if (!m.isMappedLayout) fs.writeFileSync(target, reference.runtime.memory.read(m.imageBase, m.imageSize));
      else fs.copyFileSync(m.path, target);
    }

    // (a) no image files: names are right or unknown, never wrong, and each unreadable module is named in a warning.
    const bare = Session.open(dump.dumpPath, { ignoreImagePagesInDump: true, managedImagesFromImagePathOnly: true, imagePath: empty });
    let unknown = 0;
    for (const [mt, [clrmd, dac]] of heapNames(bare)) {
      const [realClrmd, realDac] = expected.get(mt)!;
      for (const [shown, real] of [[clrmd, realClrmd], [dac, realDac]] as const) {
        if (UNKNOWN.test(shown)) {
          assert.ok(fitsWithUnknowns(shown, real), `${shown} stands for ${real}`);
          unknown++;
        } else {
          assert.equal(shown, real, 'a name that resolves is the right one');
        }
      }
    }
    assert.ok(unknown > 20, `${unknown} names are unknown without the image files`);
    assert.ok(bare.names.problems.size >= 2, 'one warning per module whose metadata is missing');
    for (const msg of bare.names.problems.values()) assert.match(msg, /--image-path/);
    assert.ok(bare.dump.warnings.some((w) => /Debuggees\.dll not found on disk/.test(w)), 'the dump says which images it lacks');
    bare.close();

    // (b) with --image-path: every name resolves and equals the one read from the dump's own pages.
    const filled = Session.open(dump.dumpPath, { ignoreImagePagesInDump: true, managedImagesFromImagePathOnly: true, imagePath: images });
    assert.deepEqual([...heapNames(filled)].sort(), [...expected].sort());
    assert.equal(filled.names.problems.size, 0);
    const records = filled.dump.imageOverlays.filter((r) => modules.some((m) => m.path === r.modulePath));
    assert.equal(records.length, modules.length, 'every managed image had pages to fill');
    for (const r of records) {
      assert.equal(path.dirname(r.filePath ?? ''), images, `${r.modulePath} came from the --image-path folder`);
      assert.equal(r.matchedBy, 'first-page');
      assert.ok(r.filledBytes > 0);
    }
    filled.close();
    reference.close();
  });

  it('rejects a different file of the same name instead of reading wrong names from it', async () => {
    const dump = await getDump('types', { dumpType: 'heap', serverGc: false });
    const reference = Session.open(dump.dumpPath);
    const debuggee = reference.modules.enumerate().find((m) => m.path.endsWith('/Debuggees.dll'))!;
    const expected = heapNames(reference);
    const impostor = path.join(temp, 'impostor');
    fs.mkdirSync(impostor);
    // Same size, one byte of the header changed (the COFF time stamp): as a rebuild would leave it.
    const bytes = Buffer.from(reference.runtime.memory.read(debuggee.imageBase, debuggee.imageSize));
    const peHeader = bytes.readUInt32LE(0x3c);
    bytes[peHeader + 8] = bytes[peHeader + 8]! ^ 0xff;
    fs.writeFileSync(path.join(impostor, 'Debuggees.dll'), bytes);
    const session = Session.open(dump.dumpPath, { ignoreImagePagesInDump: true, managedImagesFromImagePathOnly: true, imagePath: impostor });
    const record = session.dump.imageOverlays.find((r) => r.modulePath === debuggee.path)!;
    assert.equal(record.filePath, undefined);
    assert.match(record.rejected.join(' '), /differ from the dump's header page/);
    for (const [mt, [clrmd]] of heapNames(session)) {
      if (!UNKNOWN.test(clrmd)) assert.equal(clrmd, expected.get(mt)![0]);
    }
    assert.ok([...heapNames(session).values()].some(([n]) => UNKNOWN.test(n)), 'the debuggee types are unknown');
    session.close();
    reference.close();
  });

  it('the CLI accepts the options', async () => {
    const dump = await getDump('types', { dumpType: 'heap', serverGc: false });
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['--ignore-image-pages-in-dump', '--managed-images-from-image-path-only', '--image-path', path.join(temp, 'empty'), dump.dumpPath, 'dumpheap', '-stat']);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    const out = written.join('');
    assert.match(out, /<unknown type @[0-9a-f]+>/);
    assert.match(out, /^Warning: type names from .* are unknown: .*--image-path/m);
  });
});
