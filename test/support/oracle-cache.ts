import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder next to a dump where oracle outputs for it are cached (`<dump>.oracle/`). */
export function oracleCacheDir(dumpPath: string): string {
  return `${dumpPath}.oracle`;
}

/** Reads a cached oracle output, or undefined when there is none. */
export function readOracleCache(dumpPath: string, name: string): string | undefined {
  try {
    return fs.readFileSync(path.join(oracleCacheDir(dumpPath), name), 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes an oracle output into the cache atomically (temp name, then rename). */
export function writeOracleCache(dumpPath: string, name: string, text: string): void {
  const dir = oracleCacheDir(dumpPath);
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, `${name}.tmp-${process.pid}`);
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, path.join(dir, name));
}
