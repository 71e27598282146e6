#!/usr/bin/env node
// Builds what the npm package ships (run by `npm pack`/`npm publish` through `prepack`): one bundled CommonJS file
// with the library and the CLI (dist/package/dumpsleuth.js), the prompt's worker beside it, and the library's type
// declarations (dist/package/types). Bundling keeps the package small (no tests, bench or sourcemaps) and loads
// faster than hundreds of modules; iced-x86 (the disassembler) stays a runtime dependency.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'package');
fs.rmSync(out, { recursive: true, force: true });

const common = require('./esbuild-options');
esbuild.buildSync({ ...common, entryPoints: { dumpsleuth: 'src/package-main.ts' }, outdir: out });
esbuild.buildSync({ ...common, entryPoints: { 'terminal-input-worker': 'src/cli/terminal-input-worker.ts' }, outdir: out });

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.package.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status || 1);
