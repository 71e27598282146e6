#!/usr/bin/env node
// Entry point of the dumpsleuth command: the compiled CLI lives in dist/ (built by `npm ci` through `prepare`).
'use strict';
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`dumpsleuth: internal error: ${err && err.message ? err.message : err}\n`); process.exitCode = 70; },
);
