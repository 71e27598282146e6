#!/usr/bin/env node
// Bundles the CLI into one file, dist/cli/dumpsleuth.js (run by `npm run build`, `npm test` and `npm run bench` after
// tsc): one file loads faster than the ~150 modules of the tsc build, whose path resolution and package-scope lookups
// were a fifth of a single-object command's time (issue 16). bin/dumpsleuth.js runs the bundle when it is at least as
// new as the tsc build, else the tsc build (so `npx tsc` alone never leaves a stale bundle in use).
//
// Code that finds files beside itself (worker scripts, the code digest of the index) keeps seeing its tsc-built
// folder: each source's `__dirname`/`__filename` is rewritten to its file under dist/src, so a worker started from
// the bundle runs dist/src/.../<worker>.js as it does without the bundle.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const bundleOptions = require('./esbuild-options');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'src');
const outFile = path.join(root, 'dist', 'cli', 'dumpsleuth.js');

/** Rewrites `__dirname`/`__filename` of every source under src/ to its tsc output (dist/src/...), relative to the bundle. */
const tscPaths = {
  name: 'tsc-paths',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const text = fs.readFileSync(args.path, 'utf8');
      if (!args.path.startsWith(src + path.sep) || !/\b__(dirname|filename)\b/.test(text)) return { contents: text, loader: 'ts' };
      const relDir = path.relative(path.dirname(outFile), path.join(root, 'dist', 'src', path.relative(src, path.dirname(args.path)))).split(path.sep).join('/');
      const jsName = path.basename(args.path).replace(/\.ts$/, '.js');
      const dir = `require("node:path").join(__dirname, ${JSON.stringify(relDir)})`;
      const file = `require("node:path").join(__dirname, ${JSON.stringify(`${relDir}/${jsName}`)})`;
      return { contents: text.replace(/\b__(dirname|filename)\b/g, (m) => (m === '__dirname' ? dir : file)), loader: 'ts' };
    });
  },
};

// Code caches of earlier bundles (bin/dumpsleuth.js writes one per build) are stale now.
if (fs.existsSync(path.dirname(outFile))) {
  for (const f of fs.readdirSync(path.dirname(outFile))) if (f.endsWith('.v8cache')) fs.rmSync(path.join(path.dirname(outFile), f), { force: true });
}
esbuild
  .build({
    ...bundleOptions,
    entryPoints: ['src/cli/main.ts'],
    outfile: outFile,
    plugins: [tscPaths],
  })
  .catch(() => process.exit(1));
