#!/usr/bin/env node
// Entry point of the dumpsleuth command: the tsc build in a checkout (dist/src, made by `npm run build` or `npm test`),
// else the bundle an installed package ships (dist/package, made by `npm pack` through `prepack`).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const built = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
const entry = fs.existsSync(built) ? built : path.join(__dirname, '..', 'dist', 'package', 'dumpsleuth.js');
require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`dumpsleuth: internal error: ${err && err.message ? err.message : err}\n`); process.exitCode = 70; },
);
