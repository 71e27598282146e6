// dumpheap -strings' pieces without a dump: grouping by (prefix, size) in first-seen order with a stable sort by
// total size, SOS's Sanitize (letters/digits whole, others cut and masked per UTF-16 unit), and ClrMD's invented
// parameter names for bare generic definitions that name2ee matches against.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readStringPrefix, StringGrouper } from '../../src/analysis/string-stats';
import { sanitizeForSos } from '../../src/cli/commands/dumpheap';
import { clrmdDefinitionName } from '../../src/cli/commands/name2ee';
import type { MemoryReader } from '../../src/dump/memory-reader';

describe('StringGrouper', () => {
  it('groups by value and size, sorts by count × size ascending, keeps first-seen order on ties', () => {
    const g = new StringGrouper();
    for (const [v, s] of [['b', 24], ['a', 24], ['b', 24], ['long', 30], ['a', 26], ['c', 48]] as const) g.add(v, s);
    assert.deepEqual(
      g.sorted().map((x) => [x.value, x.size, x.count, x.totalSize]),
      [['a', 24, 1, 24], ['a', 26, 1, 26], ['long', 30, 1, 30], ['b', 24, 2, 48], ['c', 48, 1, 48]],
    );
    assert.equal(g.totalCount, 6);
    assert.equal(g.totalSize, 176);
  });

  it('does not confuse a value containing the key separator with another size', () => {
    const g = new StringGrouper();
    g.add('4:x', 2);
    g.add('x', 24);
    assert.equal(g.sorted().length, 2);
  });
});

describe('readStringPrefix', () => {
  const memoryOf = (text: string): MemoryReader => {
    const bytes = Buffer.alloc(12 + text.length * 2);
    bytes.writeUInt32LE(text.length, 8);
    bytes.write(text, 12, 'utf16le');
    const read = (a: number, l: number) => {
      if (a < 0x1000 || a - 0x1000 + l > bytes.length) throw new Error(`read outside the string at 0x${a.toString(16)}`);
      return bytes.subarray(a - 0x1000, a - 0x1000 + l);
    };
    return { pointerSize: 8, read, readUpTo: read, isMapped: () => true, readU8: (a) => read(a, 1)[0]!, readU16: (a) => Buffer.from(read(a, 2)).readUInt16LE(0), readU32: (a) => Buffer.from(read(a, 4)).readUInt32LE(0), readI32: (a) => Buffer.from(read(a, 4)).readInt32LE(0), readU64: () => 0, readPointer: () => 0 };
  };

  it('reads at most maxChars UTF-16 characters', () => {
    assert.equal(readStringPrefix(memoryOf('héllo 🚀'), 0x1000), 'héllo 🚀');
    assert.equal(readStringPrefix(memoryOf('abcdef'), 0x1000, 4), 'abcd');
    assert.equal(readStringPrefix(memoryOf(''), 0x1000), '');
  });
});

describe('sanitizeForSos', () => {
  it('keeps letters and digits whole, however long', () => {
    const long = 'x'.repeat(1024);
    assert.equal(sanitizeForSos(long, 64), long);
    assert.equal(sanitizeForSos('日本語123', 2), '日本語123');
  });

  it('cuts other strings and masks what is neither letter, digit, punctuation nor space', () => {
    assert.equal(sanitizeForSos('a|b+c\nd', 64), 'a.b.c.d');
    assert.equal(sanitizeForSos('usage: x [y]', 5), 'usage');
    assert.equal(sanitizeForSos('\\"', 64), '\\"');
    // An astral character is two UTF-16 units, each masked (SOS works on C# chars).
    assert.equal(sanitizeForSos('ok 🚀', 64), 'ok ..');
    assert.equal(sanitizeForSos('', 64), '');
  });
});

describe('clrmdDefinitionName', () => {
  it('invents T1..Tn per arity suffix when the last segment is generic', () => {
    assert.equal(clrmdDefinitionName('System.Collections.Generic.List`1'), 'System.Collections.Generic.List<T1>');
    assert.equal(clrmdDefinitionName('System.Collections.Generic.Dictionary`2'), 'System.Collections.Generic.Dictionary<T1, T2>');
    assert.equal(clrmdDefinitionName('Debuggees.Outer`1+Inner`1'), 'Debuggees.Outer<T1>+Inner<T1>');
  });

  it('keeps the DAC text when the last segment has no arity, or there is none', () => {
    assert.equal(clrmdDefinitionName('System.Collections.Generic.List`1+Enumerator'), 'System.Collections.Generic.List`1+Enumerator');
    assert.equal(clrmdDefinitionName('Debuggees.TypeZoo+NestedClass'), 'Debuggees.TypeZoo+NestedClass');
  });
});
