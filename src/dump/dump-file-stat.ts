/**
 * The first check of any dump reader: the path names a file. One wording for every format, so the CLI's one-line
 * errors read the same whichever reader ran.
 */
import * as fs from 'node:fs';
import { DumpsleuthError } from '../errors';

/** fs.statSync of a dump path. @throws DumpsleuthError for a missing path, an unreadable one, or a directory. */
export function statDumpFile(path: string, what: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new DumpsleuthError(`no such file: ${path}`);
    throw new DumpsleuthError(`cannot open ${path}: ${code ?? String(e)}`);
  }
  if (stat.isDirectory()) throw new DumpsleuthError(`${path} is a directory, not ${what}`);
  return stat;
}
