/**
 * Finding an app's portable PDB on disk: next to the module's path as the dump records it (where the build put it),
 * or in the `--image-path` folder by file name. The caller checks the PDB's id against the image before using it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** PDBs larger than this are not read (a portable PDB of even a large app is a few MB). */
const MAX_PDB_BYTES = 256 * 1024 * 1024;

/** The candidate PDB files for a module, in search order, that exist: `--image-path`/<name>.pdb, then the module's
 * own folder. Each with its bytes. Never throws for missing or unreadable files. */
export function findPdbFiles(modulePath: string, imagePath?: string): { path: string; bytes: Uint8Array }[] {
  const base = path.basename(modulePath.replace(/\\/g, '/')).replace(/\.(dll|exe)$/i, '');
  const candidates = [...(imagePath !== undefined ? [path.join(imagePath, `${base}.pdb`)] : []), path.join(path.dirname(modulePath), `${base}.pdb`)];
  const out: { path: string; bytes: Uint8Array }[] = [];
  for (const file of candidates) {
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile() || stat.size > MAX_PDB_BYTES) continue;
      out.push({ path: file, bytes: fs.readFileSync(file) });
    } catch {
      // Not there or not readable: the next candidate.
    }
  }
  return out;
}
