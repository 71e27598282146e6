import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SOURCE_EXTENSIONS = new Set(['.cs', '.csproj', '.props', '.targets', '.json']);
const SKIPPED_DIRS = new Set(['bin', 'obj', 'node_modules', '.git']);

/** SHA-256 (hex) over the relative paths and contents of the C# project sources under `dir` (bin/ and obj/ skipped). */
export function hashSources(dir: string): string {
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(full);
      } else if (entry.isFile() && SOURCE_EXTENSIONS.has(path.extname(entry.name))) {
        files.push(full);
      }
    }
  };
  walk(dir);
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(path.relative(dir, file).split(path.sep).join('/'));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** SHA-256 (hex) of a JSON-serializable value, for cache keys. */
export function hashKey(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
