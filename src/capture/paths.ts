import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaptureError } from './capture-error';

/** Finds the dumpsleuth checkout (the folder with package.json and test/debuggees) above this file, or $DUMPSLEUTH_REPO; throws CaptureError when there is none. */
export function findRepoRoot(): string {
  const fromEnv = process.env.DUMPSLEUTH_REPO;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'test', 'debuggees', 'Debuggees.csproj'))) {
      return dir;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new CaptureError(`cannot find the dumpsleuth sources (test/debuggees) above ${__dirname}; set DUMPSLEUTH_REPO`);
}

/** The root of dumpsleuth's cache, `$DUMPSLEUTH_CACHE` or `~/.cache/dumpsleuth` (not created). */
export function cacheRoot(): string {
  const fromEnv = process.env.DUMPSLEUTH_CACHE;
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache'), 'dumpsleuth');
}

/** The folder where captured dumps are kept, `<cacheRoot>/dumps` (not created). */
export function dumpCacheDir(): string {
  return path.join(cacheRoot(), 'dumps');
}
