/**
 * The identity the per-dump index is keyed by: the dump file (real path, size, mtime, ctime — which no one can set
 * back —, inode, and a digest of 64 KiB samples spread over it, so an edited file of the same size and mtime is caught
 * too), the build ids of its modules,
 * the image files overlaid on it, the options that change what is read, and the code that computes the index
 * (format version plus a digest of dumpsleuth's own compiled files). Any change gives another key: the index is
 * rebuilt, never read stale.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Session } from '../session';

/** Bumped whenever the meaning or layout of a stored part changes. */
export const INDEX_FORMAT = 2;

const SAMPLES = 16;
const SAMPLE_BYTES = 64 * 1024;

/** The key of a session's dump, and the folder name its index lives in. */
export interface DumpIdentity {
  readonly key: string;
  /** A file-system-safe folder name: the dump's base name and a digest of its real path. */
  readonly folder: string;
  readonly realPath: string;
}

/** Computes the identity of the session's dump. @throws the fs error when the dump cannot be read. */
export function dumpIdentity(session: Session, options: Record<string, unknown>): DumpIdentity {
  const dump = session.dump;
  const realPath = fs.realpathSync(dump.path);
  const st = fs.statSync(realPath);
  const facts = {
    format: INDEX_FORMAT,
    code: codeDigest(),
    dump: { path: realPath, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, samples: sampleDigest(realPath, st.size) },
    modules: dump.modules.map((m) => [m.path, m.buildId ?? '']),
    overlays: dump.imageOverlays.filter((o) => o.filePath !== undefined).map((o) => [o.filePath, ...fileFacts(o.filePath!)]),
    options,
  };
  const key = createHash('sha256').update(JSON.stringify(facts)).digest('hex');
  const base = path.basename(realPath).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  const folder = `${base}-${createHash('sha256').update(realPath).digest('hex').slice(0, 16)}`;
  return { key, folder, realPath };
}

let codeDigestValue: string | undefined;

/** A digest of the compiled code (every .js file under dist/src in a checkout, or the bundle an npm install runs). */
export function codeDigest(): string {
  if (codeDigestValue !== undefined) return codeDigestValue;
  const hash = createHash('sha256');
  // This file is dist/src/cli/index/dump-identity.js in a checkout, or inside dist/package/dumpsleuth.js.
  const srcRoot = path.resolve(__dirname, '..', '..');
  const files = path.basename(__filename) === 'dump-identity.js' && path.basename(srcRoot) === 'src' ? listJs(srcRoot) : [__filename];
  for (const f of files) {
    hash.update(path.relative(srcRoot, f));
    hash.update(fs.readFileSync(f));
  }
  return (codeDigestValue = hash.digest('hex'));
}

function listJs(dir: string): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listJs(p));
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out;
}

function sampleDigest(file: string, size: number): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(SAMPLE_BYTES);
  const fd = fs.openSync(file, 'r');
  try {
    for (let k = 0; k <= SAMPLES; k++) {
      const at = Math.max(0, Math.min(size - SAMPLE_BYTES, Math.floor((size / SAMPLES) * k)));
      const n = fs.readSync(fd, buffer, 0, SAMPLE_BYTES, at);
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function fileFacts(file: string): (number | string)[] {
  try {
    const st = fs.statSync(file);
    return [st.size, st.mtimeMs];
  } catch (e) {
    return [String((e as NodeJS.ErrnoException).code)];
  }
}
