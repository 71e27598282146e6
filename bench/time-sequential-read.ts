// The "how fast can the bytes come in" baseline: one sequential pass over a file with fs.readSync into a reused
// buffer, as a heap walk at disk speed would do. The page cache cannot be dropped without root, so on a dump that
// was just written or analysed this measures a warm read (memory bandwidth through the kernel), not the disk.
import * as fs from 'node:fs';

/** One timed sequential read of a whole file. */
export interface FileReadTiming {
  readonly bytes: number;
  readonly wallMs: number;
  readonly chunkBytes: number;
}

/** Reads the whole file at `filePath` sequentially in `chunkBytes` pieces with fs.readSync and times it; throws what fs throws. */
export function timeSequentialRead(filePath: string, chunkBytes = 8 << 20): FileReadTiming {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const started = process.hrtime.bigint();
  const fd = fs.openSync(filePath, 'r');
  let bytes = 0;
  // A running checksum keeps the reads observable (no dead-code elimination of the loop).
  let touch = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, chunkBytes, bytes);
      if (n === 0) break;
      touch ^= buffer[n - 1]!;
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (touch < 0) throw new Error('unreachable');
  return { bytes, wallMs, chunkBytes };
}
