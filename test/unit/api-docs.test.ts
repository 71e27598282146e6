// The library's API reference builds from the doc comments with no warning: every exported symbol's types are
// exported too, and no {@link} is broken (typedoc.json: treatWarningsAsErrors, validation.invalidLink/notExported).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('API reference (typedoc)', () => {
  it('builds from src/index.ts without warnings or broken links', () => {
    const typedoc = path.join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--emit', 'none'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    assert.equal(r.status, 0, `typedoc failed:\n${r.stdout}${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /warning|error/i);
  });
});
