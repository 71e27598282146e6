#!/usr/bin/env node
// Entry point of the dumpsleuth command: in a checkout the CLI bundle or the tsc build, whichever is newer
// (bin/checkout-entry.js); installed from npm, the bundle the package ships (dist/package, made by `prepack`).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
const built = path.join(dist, 'src', 'cli', 'main.js');
const checkout = fs.existsSync(built) ? require('./checkout-entry.js') : undefined;
const { main, save } = checkout ? checkout.checkoutEntry(dist, checkout.statOf(built)) : { main: require(path.join(dist, 'package', 'dumpsleuth.js')).main, save: () => {} };
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; save(); },
  (err) => { process.stderr.write(`dumpsleuth: internal error: ${err && err.message ? err.message : err}\n`); process.exitCode = 70; },
);
