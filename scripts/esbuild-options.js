// The esbuild options both bundles share (the checkout's CLI bundle, scripts/build-cli.js, and the npm package's,
// scripts/build-package.js): one CommonJS file for Node 20 with the disassembler (iced-x86, WebAssembly) left a runtime
// dependency, loaded on first use.
'use strict';
const path = require('node:path');

module.exports = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['iced-x86'],
  minify: true,
  // Error classes keep their names (errors.ts sets `name` from the class), and stack traces stay readable.
  keepNames: true,
  logLevel: 'warning',
  absWorkingDir: path.resolve(__dirname, '..'),
};
