#!/usr/bin/env node
// Entry point of the dumpsleuth command: in a checkout the CLI bundle or the tsc build, whichever is newer
// (bin/checkout-entry.js); installed from npm, the bundle the package ships (dist/package, made by `prepack`).
'use strict';
// Light V8 settings before anything loads (src/cli/light-command.ts: TurboFan off, a small young generation, for the
// peak RSS of short commands); `main` gives every other command V8's defaults back. A user's own node flag wins.
const lightV8 = !/--(no-)?(turbofan|opt\b|semi-space|max-opt)/.test([...process.execArgv, process.env.NODE_OPTIONS || ''].join(' '));
const setLightV8 = () => {
  if (lightV8) for (const f of ['--no-turbofan', '--semi-space-growth-factor=1']) require('node:v8').setFlagsFromString(f);
};
setLightV8();
const fs = require('node:fs');
const path = require('node:path');
const dist = path.join(__dirname, '..', 'dist');
const built = path.join(dist, 'src', 'cli', 'main.js');
const checkout = fs.existsSync(built) ? require('./checkout-entry.js') : undefined;
const { main, save } = checkout ? checkout.checkoutEntry(dist, checkout.statOf(built)) : { main: require(path.join(dist, 'package', 'dumpsleuth.js')).main, save: () => {} };
main(process.argv.slice(2)).then(
  // V8 keys a code cache by the flags in force: save it under the flags it is loaded with.
  (code) => { process.exitCode = code; setLightV8(); save(); },
  (err) => { process.stderr.write(`dumpsleuth: internal error: ${err && err.message ? err.message : err}\n`); process.exitCode = 70; },
);
