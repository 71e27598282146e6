// An answer too long for one V8 string (dumparray -details of an 807,403-element array did this on the large bench
// dump) is a clear one-line error with exit code 1, not "internal error" (exit 70).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANSWER_TOO_LARGE, fail } from '../../src/cli/main';

test('a string-length RangeError becomes a one-line error about the answer size', () => {
  let tooLong: unknown;
  try {
    'x'.repeat(2 ** 30);
  } catch (e) {
    tooLong = e;
  }
  assert.ok(tooLong instanceof RangeError, 'V8 refused a 2^30-character string');
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    written.push(chunk);
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = fail(tooLong);
  } finally {
    process.stderr.write = original;
  }
  assert.equal(code, 1);
  assert.deepEqual(written, [`dumpsleuth: ${ANSWER_TOO_LARGE}\n`]);
  // Any other RangeError stays an internal error.
  const other: string[] = [];
  process.stderr.write = ((chunk: string) => {
    other.push(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    code = fail(new RangeError('offset is out of bounds'));
  } finally {
    process.stderr.write = original;
  }
  assert.equal(code, 70);
  assert.match(other[0]!, /internal error/);
});
