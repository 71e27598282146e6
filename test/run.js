#!/usr/bin/env node
// The test command's last step (after tsc and eslint): prepares the real dumps and oracles once
// (debuggee build, createdump, dotnet-dump, ClrMD; all cached outside git), then runs every compiled test file
// with Node's test runner. Usage: node test/run.js [--unit] (--unit skips the real-dump tiers).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist', 'test');
const unitOnly = process.argv.includes('--unit');

function collect(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...collect(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

if (!unitOnly) {
  const prep = spawnSync(process.execPath, [path.join(dist, 'support', 'prepare.js')], { stdio: 'inherit', cwd: root });
  if (prep.status !== 0) {
    console.error('test setup (debuggees, dumps, oracles) failed');
    process.exit(prep.status || 1);
  }
}
// The CLI's per-dump index goes to a folder of this run, never the user's cache (removed at the end).
const os = require('node:os');
const indexDir = process.env.DUMPSLEUTH_INDEX_DIR ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-test-index-'));
if (indexDir) process.env.DUMPSLEUTH_INDEX_DIR = indexDir;
const files = [...collect(path.join(dist, 'unit')), ...(unitOnly ? [] : collect(path.join(dist, 'real')))];
if (files.length === 0) {
  console.error('no test files found under dist/test');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root });
if (indexDir) fs.rmSync(indexDir, { recursive: true, force: true });
process.exit(r.status === null ? 1 : r.status);
