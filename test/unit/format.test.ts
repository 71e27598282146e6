import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { n0, right, x12 } from '../../src/cli/format';

// C# `n0` (invariant culture) as SOS prints counts and sizes, values checked against .NET's own formatting rules:
// groups of three from the right, the sign outside, fractions truncated by the callers' integer inputs.
test('n0 groups thousands like C# n0 (invariant culture)', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [12345, '12,345'],
    [123456, '123,456'],
    [1234567, '1,234,567'],
    [29447273, '29,447,273'],
    [-1234, '-1,234'],
    [-999, '-999'],
    [2 ** 53, '9,007,199,254,740,992'],
  ];
  for (const [value, text] of cases) assert.equal(n0(value), text, String(value));
});

test('n0 agrees with a look-ahead regex grouping over many magnitudes', () => {
  const byRegex = (n: number): string => {
    const s = Math.trunc(Math.abs(n)).toString();
    const g = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return n < 0 ? '-' + g : g;
  };
  let v = 1;
  for (let digits = 1; digits <= 16; digits++, v = v * 10 + (digits % 10)) {
    assert.equal(n0(v), byRegex(v));
    assert.equal(n0(-v), byRegex(-v));
  }
});

test('x12 pads to 12 hex digits and right aligns without cutting', () => {
  assert.equal(x12(0x7fdd6248dd58), '7fdd6248dd58');
  assert.equal(x12(0x1234), '000000001234');
  assert.equal(x12(0), '000000000000');
  assert.equal(x12(0xffffffffffff), 'ffffffffffff');
  assert.equal(x12(0x1000000000000), '1000000000000');
  assert.equal(x12(0x1fffffffffffff), '1fffffffffffff');
  for (let v = 1; v < 2 ** 53; v = v * 3 + 7) assert.equal(x12(v), v.toString(16).padStart(12, '0'), String(v));
  assert.equal(right('abc', 5), '  abc');
  assert.equal(right('abcdef', 3), 'abcdef');
});
