// Issue 11, single-file apps: the executable's build id covers the host and runtime, not the bundle of assemblies
// appended to it, so a republished app keeps the build id while every bundled assembly moves. Such a file must be
// refused for the bundle (a warning naming it; the bundled assemblies' pages stay missing, their type names unknown
// with a warning that names the refused file), never read as the assemblies the process ran. The republish is made
// by rewriting a copy of the real executable: its ELF part byte for byte, then a page, then the original bundle.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { dumpheapCommand } from '../../src/cli/commands/dumpheap';
import { Session } from '../../src/cli/session';
import { elfContentEnd } from '../../src/dump/bundle-check';
import { ElfImageFile } from '../../src/dump/elf-image-file';
import { getDump } from '../support/dumps';
import { extraDumpLabel, extraRuntimeDumps } from '../support/extra-runtime-dumps';

const TIMEOUT = 10 * 60_000;

interface StatJson {
  types: { mt: string; count: number; totalSize: number; name: string }[];
  totalCount: number;
  totalSize: number;
}

function stat(session: Session): { json: StatJson; warnings: string[] } {
  const r = dumpheapCommand.run(session, ['-stat']);
  return { json: r.json as StatJson, warnings: session.takeWarnings() };
}

describe('single-file app: an executable with the same build id but another bundle', { timeout: TIMEOUT }, () => {
  const entry = extraRuntimeDumps().find((d) => d.publishKind === 'single-file' && d.dumpType === 'heap');
  it(`${entry ? extraDumpLabel(entry) : 'single-file'}: refused for the bundle with a warning naming it; names are the real ones or unknown, never others`, { skip: entry === undefined ? 'no single-file dump in this run' : false }, async () => {
    const dump = await getDump(entry!.scenario, entry!);
    const plain = Session.open(dump.dumpPath);
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-bundle-'));
    try {
      const exe = plain.dump.modules.find((m) => m.format === 'elf' && path.basename(m.path) === 'Debuggees');
      assert.ok(exe && fs.existsSync(exe.path), 'the single-file executable the dump names is on disk');
      const original = plain.dump.imageOverlays.find((r) => r.modulePath === exe.path);
      assert.equal(original?.matchedBy, 'build-id');
      assert.deepEqual(plain.dump.warnings.filter((w) => /another bundle/.test(w)), [], 'the real executable is not refused');
      // The republish: ELF part unchanged (same build id), every bundled byte one page later.
      const elf = ElfImageFile.open(exe.path);
      const end = elfContentEnd(elf);
      elf.close();
      const bytes = fs.readFileSync(exe.path);
      assert.ok(end < bytes.length, 'the executable has a bundle after its ELF content');
      const copy = path.join(temp, 'Debuggees');
      fs.writeFileSync(copy, Buffer.concat([bytes.subarray(0, end), Buffer.alloc(4096), bytes.subarray(end)]));
      const copied = ElfImageFile.open(copy);
      assert.equal(copied.buildId, exe.buildId, 'the copy has the dump\'s build id');
      copied.close();

      const session = Session.open(dump.dumpPath, { imagePath: temp });
      try {
        const refusal = session.dump.warnings.filter((w) => w.includes(copy) && /another bundle/.test(w));
        assert.equal(refusal.length, 1, session.dump.warnings.join('\n'));
        const record = session.dump.imageOverlays.find((r) => r.modulePath === exe.path)!;
        assert.equal(record.filePath, copy, 'the host and runtime part is still read from the copy (same build id)');
        assert.ok(record.filledBytes < original!.filledBytes, `bundle pages not filled: ${record.filledBytes} < ${original!.filledBytes}`);

        const good = stat(plain);
        const ours = stat(session);
        assert.deepEqual(good.warnings, []);
        assert.equal(ours.json.totalCount, good.json.totalCount);
        assert.equal(ours.json.totalSize, good.json.totalSize);
        const realName = new Map(good.json.types.map((t) => [t.mt, t.name]));
        let unknown = 0;
        for (const t of ours.json.types) {
          if (t.name.includes('<unknown type @')) unknown++;
          else assert.equal(t.name, realName.get(t.mt), `MT ${t.mt}: a name, and the real one`);
        }
        assert.ok(unknown > 0, 'the bundled assemblies\' types are unknown');
        assert.ok(ours.warnings.length > 0 && ours.warnings.every((w) => w.includes(copy) && /was refused/.test(w) && !/--image-path/.test(w)), ours.warnings.join('\n'));
      } finally {
        session.close();
      }
    } finally {
      plain.close();
      fs.rmSync(temp, { recursive: true, force: true });
    }
  });
});
