// The prepared dumps exist and are createdump ELF cores, and the two oracles (SOS via dotnet-dump, ClrMD)
// agree on the facts the seed scenarios were built to show. Needs dotnet; dumps come from getDump, so this
// file also works alone (the first run captures, later runs reuse the cache).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { runClrmd } from '../support/clrmd';
import { getDump, STANDARD_DUMPS } from '../support/dumps';
import { runSos, runSosMany } from '../support/sos';
import { parseClrThreads, parseDumpHeapStat, parseEeHeapGc } from '../support/sos-parsers';

const TIMEOUT = 10 * 60_000;
const CLIENTS = 25;

interface ClrmdThread {
  managedId: number;
  osId: number;
  address: string;
  isAlive: boolean;
  isDead: boolean;
}

interface ClrmdObject {
  address: string;
  mt: string;
  name: string;
  size: number;
}

interface ClrmdHeapStat {
  types: { mt: string; name: string; count: number; totalSize: number }[];
  totalCount: number;
  totalSize: number;
  freeTypeName: string;
}

interface ClrmdSegments {
  heapCount: number;
  isServer: boolean;
}

function readHeader(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(64);
    fs.readSync(fd, header, 0, 64, 0);
    return header;
  } finally {
    fs.closeSync(fd);
  }
}

describe('prepared dumps', { timeout: TIMEOUT }, () => {
  for (const entry of STANDARD_DUMPS) {
    const label = `${[entry.scenario, ...entry.args].join(' ')} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}`;
    it(`${label} is an x64 ELF core`, async () => {
      const dump = await getDump(entry.scenario, entry);
      assert.ok(fs.existsSync(dump.dumpPath), dump.dumpPath);
      const header = readHeader(dump.dumpPath);
      assert.equal(header.subarray(0, 4).toString('latin1'), '\x7fELF');
      assert.equal(header[4], 2, 'ELFCLASS64');
      assert.equal(header.readUInt16LE(16), 4, 'ET_CORE');
      assert.equal(header.readUInt16LE(18), 62, 'EM_X86_64');
      assert.equal(dump.sizeBytes, fs.statSync(dump.dumpPath).size);
    });
  }

  it('a full dump is larger than the heap dump of the same scenario', async () => {
    const heap = await getDump('seed-apm', { dumpType: 'heap' });
    const full = await getDump('seed-apm', { dumpType: 'full' });
    assert.ok(full.sizeBytes > heap.sizeBytes, `full ${full.sizeBytes} <= heap ${heap.sizeBytes}`);
  });
});

describe('seed scenarios keep 25 dead threads alive', { timeout: TIMEOUT }, () => {
  for (const scenario of ['seed-apm', 'seed-apm-overlapped']) {
    it(`${scenario}: SOS clrthreads and ClrMD agree on ${CLIENTS} dead threads`, async () => {
      const dump = await getDump(scenario, { dumpType: 'heap' });
      const sos = parseClrThreads(await runSos(dump.dumpPath, 'clrthreads'));
      assert.equal(sos.summary.dead, CLIENTS);
      const sosDead = sos.threads.filter((t) => t.isDead);
      assert.equal(sosDead.length, CLIENTS);
      assert.ok(sosDead.every((t) => t.osId === null && t.dbgIndex === null));
      assert.equal(sos.threads.length, sos.summary.threadCount);

      const clrmdThreads = (await runClrmd(dump.dumpPath, 'threads')) as ClrmdThread[];
      const clrmdDead = clrmdThreads.filter((t) => t.isDead);
      assert.equal(clrmdDead.length, CLIENTS);
      assert.deepEqual(
        clrmdThreads.map((t) => `${t.managedId}@${Number.parseInt(t.address, 16)}`).sort(),
        sos.threads.map((t) => `${t.managedId}@${t.address}`).sort(),
      );

      const threadObjects = ((await runClrmd(dump.dumpPath, 'objects', 'System.Threading.Thread')) as ClrmdObject[]).filter(
        (o) => o.name === 'System.Threading.Thread',
      );
      assert.ok(threadObjects.length >= CLIENTS, `only ${threadObjects.length} Thread objects`);
      const sosThreadStat = parseDumpHeapStat(await runSos(dump.dumpPath, 'dumpheap -stat -type System.Threading.Thread'));
      const sosThreadRow = sosThreadStat.types.find((t) => t.name === 'System.Threading.Thread');
      assert.equal(sosThreadRow?.count, threadObjects.length);
    });
  }

  it('seed-apm: the controllers and their state objects survive, one per client', async () => {
    const dump = await getDump('seed-apm', { dumpType: 'heap' });
    const stat = parseDumpHeapStat(await runSos(dump.dumpPath, 'dumpheap -stat -type Gateway.'));
    const count = (name: string): number | undefined => stat.types.find((t) => t.name === name)?.count;
    assert.equal(count('Gateway.GatewayClientController'), CLIENTS);
    assert.equal(count('Gateway.Server+ConnectSocketResult'), CLIENTS);
    assert.equal(count('Gateway.Server'), 1);
  });
});

describe('oracles agree on heaps', { timeout: TIMEOUT }, () => {
  for (const serverGc of [false, true]) {
    it(`types heap ${serverGc ? 'server' : 'workstation'}: dumpheap -stat totals and heap counts match ClrMD`, async () => {
      const dump = await getDump('types', { dumpType: 'heap', serverGc });
      const [statText, eeheapText] = await runSosMany(dump.dumpPath, ['dumpheap -stat', 'eeheap -gc']);
      const stat = parseDumpHeapStat(statText);
      const eeheap = parseEeHeapGc(eeheapText);
      const clrmdStat = (await runClrmd(dump.dumpPath, 'heapstat')) as ClrmdHeapStat;
      const segments = (await runClrmd(dump.dumpPath, 'segments')) as ClrmdSegments;
      assert.equal(stat.totalCount, clrmdStat.totalCount);
      assert.equal(stat.totalSize, clrmdStat.totalSize);
      assert.equal(clrmdStat.freeTypeName, 'Free');
      assert.equal(stat.types.find((t) => t.name === 'Free')?.count, clrmdStat.types.find((t) => t.name === 'Free')?.count);
      assert.equal(eeheap.heapCount, segments.heapCount);
      assert.equal(eeheap.heaps.length, eeheap.heapCount);
      assert.equal(segments.isServer, serverGc);
      if (!serverGc) assert.equal(eeheap.heapCount, 1);
    });
  }
});
