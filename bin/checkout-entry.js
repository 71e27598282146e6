// What bin/dumpsleuth.js runs in a checkout (not shipped in the npm package, whose bin runs dist/package): the
// one-file bundle of the CLI (dist/cli, made by `npm run build`/`npm test` after tsc; it starts faster) when it is at
// least as new as the tsc build (dist/src), else the tsc build, so a later `tsc` alone is never shadowed by an older
// bundle.
//
// The bundle is compiled with V8's code cache (Node 20 has no module.enableCompileCache): the first run of a build
// saves the code V8 compiled for it beside the bundle, later runs start from it. The cache file is named by the
// bundle's size and mtime, because V8 checks only the source's length before trusting a cache.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const statOf = (p) => {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
};

/** Runs the bundle through vm.Script with the code cache; returns its exports and a function that saves a new cache
 * when there was none or V8 rejected it. */
function loadBundle(file, stat) {
  const vm = require('node:vm');
  const Module = require('node:module');
  const cacheFile = path.join(path.dirname(file), `dumpsleuth-${stat.size}-${Math.trunc(stat.mtimeMs)}.v8cache`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  const save = () => {
    if (cachedData !== undefined && !script.cachedDataRejected) return;
    try {
      const temp = `${cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(temp, script.createCachedData());
      fs.renameSync(temp, cacheFile);
    } catch {
      // A read-only checkout runs without the cache.
    }
  };
  return { main: mod.exports.main, save };
}

/** The CLI's `main` from the newer of the bundle and the tsc build (`built`: dist/src/cli/main.js), and what to do
 * after it finished. */
function checkoutEntry(dist, builtStat) {
  const bundle = path.join(dist, 'cli', 'dumpsleuth.js');
  const bundleStat = statOf(bundle);
  if (bundleStat !== undefined && bundleStat.mtimeMs >= builtStat.mtimeMs) return loadBundle(bundle, bundleStat);
  return { main: require(path.join(dist, 'src', 'cli', 'main.js')).main, save: () => {} };
}

module.exports = { checkoutEntry, statOf };
