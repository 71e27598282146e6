import * as fs from 'node:fs';
import * as path from 'node:path';
import { CaptureError } from './capture-error';

const POLL_MS = 200;

/** Runs `work` while holding an exclusive lock directory `lockPath` shared by all processes (stale locks of dead processes are broken); throws CaptureError after `timeoutMs`. */
export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lockPath);
      fs.writeFileSync(path.join(lockPath, 'owner'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (isStale(lockPath)) {
        fs.rmSync(lockPath, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new CaptureError(`timed out waiting for lock ${lockPath}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(lockPath, { recursive: true, force: true });
  }
}

function isStale(lockPath: string): boolean {
  let owner: number;
  try {
    owner = Number(fs.readFileSync(path.join(lockPath, 'owner'), 'utf8'));
  } catch {
    // The owner file is written right after mkdir; give a young lock time to get it.
    try {
      return Date.now() - fs.statSync(lockPath).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(owner) || owner <= 0) return true;
  try {
    process.kill(owner, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
