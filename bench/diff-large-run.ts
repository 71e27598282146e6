// `node dist/bench/diff-large-run.js [repeat]`: only the bench's diff case (bench/diff-large.ts), for a quick figure
// without the rest of `npm run bench`.
import * as path from 'node:path';
import { findRepoRoot } from '../src/capture';
import { benchDiffLarge, formatDiffLarge } from './diff-large';

const repeat = Number(process.argv[2] ?? '1');
benchDiffLarge(path.join(findRepoRoot(), 'bin', 'dumpsleuth.js'), Number.isSafeInteger(repeat) && repeat > 0 ? repeat : 1, 3600, (m) => process.stderr.write(`[bench] ${m}\n`)).then(
  (r) => process.stdout.write(`${formatDiffLarge(r)}\n`),
  (e: unknown) => {
    process.stderr.write(`bench diff: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
