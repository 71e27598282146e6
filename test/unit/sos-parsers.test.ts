// Parsers of SOS text, on excerpts of real dotnet-dump 10.0.750501 output from the debuggee dumps
// (seed-apm, types and many scenarios; workstation and server GC) on .NET 10.0.12.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClrThreads, parseDumpHeapObjects, parseDumpHeapStat, parseEeHeapGc, SosParseError } from '../support/sos-parsers';

const CLRTHREADS = [
  '',
  'ThreadCount:      32',
  'UnstartedThread:  0',
  'BackgroundThread: 6',
  'PendingThread:    0',
  'DeadThread:       25',
  'Hosted Runtime:   no',
  `${' '.repeat(108)}Lock  `,
  ' DBG   ID     OSID ThreadOBJ           State GC Mode     GC Alloc Context                  Domain           Count Apt Exception',
  '   0    1     1ce7 000056255EA19E30  2020020 Preemptive  00007F6703C00B50:00007F6703C02030 000056255E9F4680 -00001 Ukn ',
  '   5    2     1cec 000056255EA1C710    21220 Preemptive  00007F6703C022B8:00007F6703C04050 000056255E9F4680 -00001 Ukn (Finalizer) ',
  'XXXX    5        0 000056255EA8B2B0    31820 Preemptive  0000000000000000:0000000000000000 000056255E9F4680 -00001 Ukn ',
  '  10    9     1cf3 00007F66D40038E0  3021220 Preemptive  0000000000000000:0000000000000000 000056255E9F4680 -00001 Ukn (Threadpool Worker) ',
  '',
].join('\n');

const EEHEAP_SERVER = [
  '',
  '',
  'DATAS = 0',
  '========================================',
  'Number of GC Heaps: 2',
  '----------------------------------------',
  'Heap 0 (00005593ddc52d70)',
  'Small object heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  'generation 0:',
  '    7fb877480b90     7fb901800028     7fb901804068     7fb901821000 0x4040 (16448)   0x21000 (135168)',
  'generation 1:',
  '    7fb87747fbc0     7fb8fc000028     7fb8fc000058     7fb8fc021000 0x30 (48)        0x21000 (135168)',
  'generation 2:',
  '    7fb87747fd30     7fb8fc800028     7fb8fc8415d8     7fb8fc851000 0x415b0 (267696) 0x51000 (331776)',
  'NonGC heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  '    5593ddc6ad20     7ff8fdc00008     7ff8fdc06a88     7ff8fdc10000 0x6a80 (27264)   0x10000 (65536) ',
  'Large object heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  '    7fb877480010     7fb8fd800028     7fb8fd800028     7fb8fd801000                  0x1000 (4096)   ',
  'Pinned object heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  '    7fb87747f040     7fb8f8000028     7fb8f8002020     7fb8f8011000 0x1ff8 (8184)    0x11000 (69632) ',
  '------------------------------',
  'Heap 1 (00005593ddc59710)',
  'Small object heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  'generation 0:',
  '    7fb877480c48     7fb901c00028     7fb901c00028     7fb901c11000                  0x11000 (69632) ',
  'generation 1:',
  '    7fb87747fde8     7fb8fcc00028     7fb8fcc00028     7fb8fcc11000                  0x11000 (69632) ',
  'generation 2:',
  '    7fb87747ff58     7fb8fd400028     7fb8fd411628     7fb8fd421000 0x11600 (71168)  0x21000 (135168)',
  'Large object heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  '    7fb8774805d0     7fb8ff800028     7fb8ff800028     7fb8ff801000                  0x1000 (4096)   ',
  'Pinned object heap',
  '         segment            begin        allocated        committed allocated size   committed size  ',
  '    7fb87747f600     7fb8fa000028     7fb8fa000028     7fb8fa001000                  0x1000 (4096)   ',
  '------------------------------',
  'GC Allocated Heap Size:    Size: 0x5f698 (390808) bytes.',
  'GC Committed Heap Size:    Size: 0xfa000 (1024000) bytes.',
  '',
].join('\n');

const DUMPHEAP_STAT_MANY = [
  '',
  'Statistics:',
  '          MT  Count  TotalSize Class Name',
  '7fb120193a48      1        448 System.Globalization.CultureData',
  '7fb11ff4fc78      2    400,056 Debuggees.ManyNode[]',
  '7fb120190340 50,000  1,600,000 Debuggees.ManyPair',
  '55735c96eba0 50,624  1,826,720 Free',
  '7fb11fe7dd58 50,274  2,186,872 System.String',
  'Total 150,901 objects, 6,014,096 bytes',
  '',
].join('\n');

const DUMPHEAP_TYPES = [
  '',
  '         Address               MT           Size',
  '    7fe465800028     7ff03f26b158             96 ',
  '    7fe465800480     7ff03f26b158          3,120 ',
  '    7fe465815488     7ff03f585c00             48 ',
  '',
  'Statistics:',
  '          MT Count TotalSize Class Name',
  '7ff03f585c00     1        48 System.Int32[][]',
  '7ff03f586f08     1        80 System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Int32>>',
  '7ff03f26b158     2     3,216 System.Int32[]',
  'Total 4 objects, 3,344 bytes',
  '',
].join('\n');

describe('parseClrThreads', () => {
  const parsed = parseClrThreads(CLRTHREADS);

  it('reads the summary counts', () => {
    assert.deepEqual(parsed.summary, { threadCount: 32, unstarted: 0, background: 6, pending: 0, dead: 25 });
  });

  it('reads live rows with the overflowing lock count and the tags', () => {
    assert.equal(parsed.threads.length, 4);
    const finalizer = parsed.threads[1];
    assert.equal(finalizer.dbgIndex, 5);
    assert.equal(finalizer.managedId, 2);
    assert.equal(finalizer.osId, 0x1cec);
    assert.equal(finalizer.address, 0x56255ea1c710);
    assert.equal(finalizer.state, 0x21220);
    assert.equal(finalizer.isBackground, true);
    assert.equal(finalizer.lockCount, -1);
    assert.equal(finalizer.apartment, 'Ukn');
    assert.deepEqual(finalizer.allocContext, { pointer: 0x7f6703c022b8, limit: 0x7f6703c04050 });
    assert.deepEqual(finalizer.tags, ['Finalizer']);
    assert.equal(finalizer.exception, null);
    assert.deepEqual(parsed.threads[3].tags, ['Threadpool Worker']);
  });

  it('reads XXXX rows as dead threads without an OS id', () => {
    const dead = parsed.threads[2];
    assert.equal(dead.dbgIndex, null);
    assert.equal(dead.osId, null);
    assert.equal(dead.managedId, 5);
    assert.equal(dead.isDead, true);
    assert.equal(parsed.threads[0].isDead, false);
  });

  it('reads an exception in the last column', () => {
    const row = '   9    4     1a40 00007F4B5C004A10  1021220 Cooperative 00007F4B8C3C0010:00007F4B8C3C1FD0 000055D0A2F1C9B0 -00001 Ukn (Threadpool Worker) System.InvalidOperationException 00007f4b8c3b7e20';
    const [thread] = parseClrThreads(`${CLRTHREADS.split('\n').slice(0, 9).join('\n')}\n${row}\n`).threads;
    assert.equal(thread.gcMode, 'Cooperative');
    assert.deepEqual(thread.tags, ['Threadpool Worker']);
    assert.deepEqual(thread.exception, { type: 'System.InvalidOperationException', address: 0x7f4b8c3b7e20 });
  });

  it('rejects output without a summary', () => {
    assert.throws(() => parseClrThreads('Loading core dump failed\n'), SosParseError);
  });
});

describe('parseEeHeapGc', () => {
  const parsed = parseEeHeapGc(EEHEAP_SERVER);

  it('reads DATAS, the heap count and the totals', () => {
    assert.equal(parsed.datas, '0');
    assert.equal(parsed.heapCount, 2);
    assert.equal(parsed.heaps.length, 2);
    assert.equal(parsed.totalAllocated, 390808);
    assert.equal(parsed.totalCommitted, 1024000);
  });

  it('groups segments by heap and kind', () => {
    const [heap0, heap1] = parsed.heaps;
    assert.equal(heap0.address, 0x5593ddc52d70);
    assert.deepEqual(
      heap0.segments.map((s) => s.kind),
      ['gen0', 'gen1', 'gen2', 'nonGC', 'loh', 'poh'],
    );
    assert.deepEqual(
      heap1.segments.map((s) => s.kind),
      ['gen0', 'gen1', 'gen2', 'loh', 'poh'],
    );
    assert.deepEqual(heap0.segments[2], {
      kind: 'gen2',
      segment: 0x7fb87747fd30,
      begin: 0x7fb8fc800028,
      allocated: 0x7fb8fc8415d8,
      committed: 0x7fb8fc851000,
      allocatedSize: 267696,
      committedSize: 331776,
    });
  });

  it('reads a blank allocated size as zero', () => {
    const loh = parsed.heaps[0].segments[4];
    assert.equal(loh.allocatedSize, 0);
    assert.equal(loh.committedSize, 4096);
  });

  it('reads workstation output (no Heap lines, empty DATAS) as one heap', () => {
    const workstation = EEHEAP_SERVER.replace('DATAS = 0', 'DATAS = ')
      .replace('Number of GC Heaps: 2', 'Number of GC Heaps: 1')
      .replace('Heap 0 (00005593ddc52d70)\n', '')
      .replace(/------------------------------\nHeap 1[\s\S]*?(?=------------------------------\nGC Allocated)/, '');
    const parsedWks = parseEeHeapGc(workstation);
    assert.equal(parsedWks.datas, null);
    assert.equal(parsedWks.heaps.length, 1);
    assert.equal(parsedWks.heaps[0].address, null);
    assert.equal(parsedWks.heaps[0].segments.length, 6);
  });
});

describe('parseDumpHeapStat', () => {
  it('reads rows with thousands separators, Free, and the totals', () => {
    const parsed = parseDumpHeapStat(DUMPHEAP_STAT_MANY);
    assert.equal(parsed.types.length, 5);
    assert.deepEqual(parsed.types[3], { mt: 0x55735c96eba0, count: 50624, totalSize: 1826720, name: 'Free' });
    assert.deepEqual(parsed.types[1], { mt: 0x7fb11ff4fc78, count: 2, totalSize: 400056, name: 'Debuggees.ManyNode[]' });
    assert.equal(parsed.totalCount, 150901);
    assert.equal(parsed.totalSize, 6014096);
  });

  it('keeps type names with spaces whole and skips the object listing', () => {
    const parsed = parseDumpHeapStat(DUMPHEAP_TYPES);
    assert.deepEqual(
      parsed.types.map((t) => t.name),
      ['System.Int32[][]', 'System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Int32>>', 'System.Int32[]'],
    );
    assert.equal(parsed.totalCount, 4);
  });

  it('reads empty output (no match) as an empty table', () => {
    assert.deepEqual(parseDumpHeapStat('\n'), { types: [], totalCount: 0, totalSize: 0 });
  });

  it('rejects a table without its Total line', () => {
    assert.throws(() => parseDumpHeapStat('Statistics:\n          MT Count TotalSize Class Name\n'), SosParseError);
  });
});

describe('parseDumpHeapObjects', () => {
  it('reads the listing rows above Statistics', () => {
    assert.deepEqual(parseDumpHeapObjects(DUMPHEAP_TYPES), [
      { address: 0x7fe465800028, mt: 0x7ff03f26b158, size: 96, isFree: false },
      { address: 0x7fe465800480, mt: 0x7ff03f26b158, size: 3120, isFree: false },
      { address: 0x7fe465815488, mt: 0x7ff03f585c00, size: 48, isFree: false },
    ]);
  });
});
