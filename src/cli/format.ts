/**
 * Text helpers that reproduce SOS's number and address formats (see research/names-and-sos-output.md §B0).
 */

/** An address as JSON carries it: "0x7f3a...". */
export function hexJson(n: number): string {
  return '0x' + n.toString(16);
}

/** C# `x12`: lower case, at least 12 digits. */
export function x12(n: number): string {
  // Below 2^48 (every user-space address) from two 24-bit halves: Number#toString(16) takes V8's slow path for
  // values past 2^31, and tables print thousands of addresses.
  if (!(n >= 0 && n < 0x1000000000000) || n !== Math.floor(n)) return n.toString(16).padStart(12, '0');
  const hi = Math.floor(n / 0x1000000);
  const lo = n - hi * 0x1000000;
  return HEX3[hi >>> 12]! + HEX3[hi & 0xfff]! + HEX3[lo >>> 12]! + HEX3[lo & 0xfff]!;
}

/** Three lower-case hex digits for every 12-bit value. */
const HEX3: readonly string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));

/** Native `%p` as SOS's DML helpers print it: 16 lower-case digits. */
export function p16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** Native bare `%p` (PAL safecrt): 16 upper-case digits. */
export function p16Upper(n: number): string {
  return n.toString(16).toUpperCase().padStart(16, '0');
}

/** C# `n0` with the invariant culture: thousands separated by ','. */
export function n0(n: number): string {
  const s = Math.trunc(Math.abs(n)).toString();
  // Plain slicing instead of a look-ahead regex: tables format tens of thousands of numbers. Past 1e21 toString
  // switches to exponent form, which the regex left alone too.
  let grouped = s;
  if (s.length > 3 && Math.abs(n) < 1e21) {
    const head = s.length % 3 || 3;
    grouped = s.slice(0, head);
    for (let i = head; i < s.length; i += 3) grouped += ',' + s.slice(i, i + 3);
  }
  return n < 0 ? '-' + grouped : grouped;
}

/** Right-aligns in `width` columns (never cuts). */
export function right(s: string, width: number): string {
  return s.length >= width ? s : ' '.repeat(width - s.length) + s;
}

/** Left-aligns in `width` columns (never cuts). */
export function left(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length);
}

/** Parses a user-typed address or number: hex with or without 0x (SOS treats bare numbers as hex). */
export function parseAddress(text: string): number | undefined {
  const t = text.trim().replace(/^0x/i, '').replace(/`/g, '');
  if (!/^[0-9a-f]+$/i.test(t) || t.length > 16) return undefined;
  const v = parseInt(t, 16);
  return Number.isSafeInteger(v) ? v : undefined;
}
