#!/usr/bin/env node
// Entry point of the dumpsleuth command. In a checkout: the one-file bundle of the CLI (dist/cli, made by
// `npm run build`/`npm test` after tsc; it starts faster) when it is at least as new as the tsc build (dist/src),
// else the tsc build, so a later `tsc` alone is never shadowed by an older bundle. Installed from npm: the package's
// bundle (dist/package, made by `npm pack` through `prepack`).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
const mtime = (p) => {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};
const built = path.join(dist, 'src', 'cli', 'main.js');
const bundle = path.join(dist, 'cli', 'dumpsleuth.js');
const builtAt = mtime(built);
const bundleAt = builtAt < 0 ? -1 : mtime(bundle);
const entry = builtAt < 0 ? path.join(dist, 'package', 'dumpsleuth.js') : bundleAt >= builtAt ? bundle : built;
require(entry).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`dumpsleuth: internal error: ${err && err.message ? err.message : err}\n`); process.exitCode = 70; },
);
