// Bad input through the real command line: every file that is not a usable .NET core dump, and every malformed
// command, ends in exactly one `dumpsleuth: ...` line on stderr, a non-zero exit code and no stack trace, within a
// timeout (a hang fails). Truncated dumps are cut from a real heap dump; the non-.NET cores are a gcore of `sleep`
// and a synthetic core; the dump files are never written to.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoStackTrace, assertOneErrorLine, fileStamp, runCli, type CliRun } from '../support/cli-runner';
import { getDump } from '../support/dumps';
import { buildCore, fileNote, prpsinfo, prstatusX64 } from '../unit/elf-core-builder';

const TIMEOUT = 10 * 60_000;
/** Bad input is rejected from the headers; a few seconds is plenty, the rest is slack for a loaded CI machine. */
const RUN_TIMEOUT_MS = 30_000;

function bad(args: readonly string[]): Promise<CliRun> {
  return runCli(args, { timeoutMs: RUN_TIMEOUT_MS });
}

/** Reads the first PT_NOTE's file offset and size from an ELF64 little-endian core's program headers. */
function noteSegment(bytes: Buffer): { offset: number; size: number } {
  const phoff = Number(bytes.readBigUInt64LE(32));
  const phnum = bytes.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * 56;
    if (bytes.readUInt32LE(o) === 4) return { offset: Number(bytes.readBigUInt64LE(o + 8)), size: Number(bytes.readBigUInt64LE(o + 32)) };
  }
  throw new Error('no PT_NOTE in the dump');
}

describe('bad input on the command line', { timeout: TIMEOUT }, () => {
  let tmp: string;
  let dumpPath: string;
  let dumpStamp: { size: number; mtimeMs: number };
  const copies = new Map<string, { size: number; mtimeMs: number }>();

  /** A copy of the real dump cut to `length` bytes (a copy: the cached dump itself is never touched). */
  function cutCopy(name: string, length: number): string {
    const file = path.join(tmp, name);
    const fd = fs.openSync(file, 'w');
    const src = fs.openSync(dumpPath, 'r');
    try {
      const chunk = Buffer.alloc(1 << 20);
      for (let done = 0; done < length; ) {
        const n = fs.readSync(src, chunk, 0, Math.min(chunk.length, length - done), done);
        assert.ok(n > 0, 'the dump is at least as long as the cut');
        fs.writeSync(fd, chunk, 0, n);
        done += n;
      }
    } finally {
      fs.closeSync(src);
      fs.closeSync(fd);
    }
    copies.set(file, fileStamp(file));
    return file;
  }

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dumpsleuth-bad-input-'));
    dumpPath = (await getDump('types', { dumpType: 'heap' })).dumpPath;
    dumpStamp = fileStamp(dumpPath);
  });

  after(() => {
    // Every run left the real dump and the cut copies as they were.
    assert.deepEqual(fileStamp(dumpPath), dumpStamp, 'the cached dump is unchanged (size, mtime)');
    for (const [file, stamp] of copies) assert.deepEqual(fileStamp(file), stamp, `${file} is unchanged`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a missing file', async () => {
    const line = assertOneErrorLine(await bad([path.join(tmp, 'no-such.dmp'), 'clrthreads']), 'missing file');
    assert.match(line, /no such file/);
  });

  it('a directory', async () => {
    const line = assertOneErrorLine(await bad([tmp, 'clrthreads']), 'directory');
    assert.match(line, /is a directory/);
  });

  it('an empty file', async () => {
    const file = path.join(tmp, 'empty.dmp');
    fs.writeFileSync(file, '');
    const line = assertOneErrorLine(await bad([file, 'clrthreads']), 'empty file');
    assert.match(line, /not an ELF core dump.*empty/);
  });

  it('a text file', async () => {
    const file = path.join(tmp, 'notes.txt');
    fs.writeFileSync(file, 'this is not a core dump\nsecond line\n');
    const line = assertOneErrorLine(await bad([file, 'dumpheap', '-stat']), 'text file');
    assert.match(line, /not an ELF core dump/);
  });

  it('an ELF file that is not a core (/bin/ls)', async () => {
    const line = assertOneErrorLine(await bad(['/bin/ls', 'clrthreads']), '/bin/ls');
    assert.match(line, /not a core dump/);
    assert.match(line, /\/bin\/ls/);
  });

  it('a dump cut inside its ELF header', async () => {
    const line = assertOneErrorLine(await bad([cutCopy('cut-ehdr.dmp', 40), 'clrthreads']), 'cut in the ELF header');
    assert.match(line, /truncated/);
  });

  it('a dump cut inside its program headers', async () => {
    // 64-byte ELF header, then 56-byte program headers: stop in the middle of the fourth one.
    const line = assertOneErrorLine(await bad([cutCopy('cut-phdrs.dmp', 64 + 3 * 56 + 20), 'clrthreads']), 'cut in the program headers');
    assert.match(line, /truncated.*program headers/);
  });

  it('a dump cut inside its PT_NOTE segment', async () => {
    const head = Buffer.alloc(64 * 1024);
    const fd = fs.openSync(dumpPath, 'r');
    try {
      fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    const note = noteSegment(head);
    assert.ok(note.size > 100, 'the dump has notes to cut');
    const line = assertOneErrorLine(await bad([cutCopy('cut-notes.dmp', note.offset + Math.floor(note.size / 2)), 'clrthreads']), 'cut in the notes');
    assert.match(line, /truncated.*notes/);
  });

  for (const [name, fraction] of [['the middle of', 0.5], ['the last page of', -4096]] as const) {
    for (const command of [['clrthreads'], ['dumpheap', '-stat'], ['--json', 'dumpheap', '-stat']]) {
      it(`a dump cut in ${name} its memory segments: ${command.join(' ')}`, async () => {
        const size = fileStamp(dumpPath).size;
        const length = fraction > 0 ? Math.floor(size * fraction) : size + fraction;
        const file = path.join(tmp, `cut-memory-${length}.dmp`);
        if (!copies.has(file)) cutCopy(path.basename(file), length);
        const run = await bad([file, ...command]);
        const label = `cut at ${length} of ${size} bytes, ${command.join(' ')}`;
        assert.equal(run.timedOut, false, `${label}: finished`);
        assertNoStackTrace(run, label);
        if (run.code !== 0) {
          // An error: one line that says the dump is truncated, so the reader knows why memory is missing.
          const line = assertOneErrorLine(run, label);
          assert.match(line, /truncated/, `${label}: the error names the truncation`);
        } else if (command[0] === '--json') {
          // An answer: it must carry the warning, so totals are never silently short.
          const doc = JSON.parse(run.stdout) as { warnings: string[] };
          assert.ok(doc.warnings.some((w) => /truncated/.test(w)), `${label}: the JSON warnings name the truncation`);
        } else {
          assert.match(run.stdout, /^Warning: .*truncated/m, `${label}: a Warning line names the truncation`);
        }
      });
    }
  }

  it('an ELF core of a non-.NET process (synthetic)', async () => {
    const core = buildCore(
      [
        { name: 'CORE', type: 1, desc: prstatusX64(4321, { rip: 0x401000n, rsp: 0x7ffc0000f000n, rbp: 0x7ffc0000f100n }) },
        { name: 'CORE', type: 3, desc: prpsinfo(4321, 'sleep') },
        { name: 'CORE', type: 0x46494c45, desc: fileNote([{ start: 0x400000, end: 0x401000, pageOffset: 0, path: '/usr/bin/not-dotnet' }]) },
      ],
      [{ vaddr: 0x400000, bytes: Buffer.alloc(4096, 0xcc) }, { vaddr: 0x7ffc0000e000, bytes: Buffer.alloc(8192) }],
    );
    const file = path.join(tmp, 'native.core');
    fs.writeFileSync(file, core);
    copies.set(file, fileStamp(file));
    for (const command of [['clrthreads'], ['dumpheap', '-stat'], ['info']]) {
      const line = assertOneErrorLine(await bad([file, ...command]), `synthetic native core, ${command.join(' ')}`);
      assert.match(line, /not a \.NET process/);
    }
  });

  it('an ELF core of a non-.NET process (gcore of sleep)', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v gcore']).status !== 0) {
      t.skip('gcore (gdb) is not installed');
      return;
    }
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid;
      assert.ok(pid !== undefined, 'sleep started');
      const prefix = path.join(tmp, 'sleep-core');
      const g = spawnSync('gcore', ['-o', prefix, String(pid)], { encoding: 'utf8', timeout: 120_000 });
      const file = `${prefix}.${pid}`;
      if (!fs.existsSync(file)) {
        // ptrace may be forbidden (containers, yama): that is the machine, not dumpsleuth.
        t.skip(`gcore could not dump the process: ${(g.stderr || g.stdout || String(g.error)).trim().split('\n').pop()}`);
        return;
      }
      copies.set(file, fileStamp(file));
      for (const command of [['clrthreads'], ['dumpheap', '-stat']]) {
        const line = assertOneErrorLine(await bad([file, ...command]), `gcore of sleep, ${command.join(' ')}`);
        assert.match(line, /not a \.NET process/);
      }
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a 32-bit ELF core', async () => {
    const file = path.join(tmp, 'elf32.core');
    fs.writeFileSync(file, buildCore([], [], { elfClass: 1 }));
    const line = assertOneErrorLine(await bad([file, 'clrthreads']), '32-bit core');
    assert.match(line, /32-bit/);
    assert.match(line, /64-bit little-endian/);
  });

  it('a big-endian ELF core', async () => {
    const file = path.join(tmp, 'elf-be.core');
    fs.writeFileSync(file, buildCore([], [], { data: 2 }));
    const line = assertOneErrorLine(await bad([file, 'clrthreads']), 'big-endian core');
    assert.match(line, /big-endian/);
    assert.match(line, /64-bit little-endian/);
  });

  it('an ELF core of an unsupported architecture', async () => {
    const file = path.join(tmp, 'ppc64.core');
    fs.writeFileSync(file, buildCore([], [], { machine: 21 }));
    const line = assertOneErrorLine(await bad([file, 'clrthreads']), 'ppc64 core');
    assert.match(line, /unsupported architecture/);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const run = await bad([dumpPath, 'frobnicate']);
    const line = assertOneErrorLine(run, 'unknown command');
    assert.equal(run.code, 2);
    assert.match(line, /unknown command "frobnicate"/);
    assert.equal(run.stdout, '', 'nothing on stdout');
  });

  it('an unknown option of a command is a usage error (exit 2)', async () => {
    const run = await bad([dumpPath, 'dumpheap', '-frob']);
    const line = assertOneErrorLine(run, 'unknown option');
    assert.equal(run.code, 2);
    assert.match(line, /-frob/);
  });

  it('a bad address argument (dumpheap -mt zzz)', async () => {
    const run = await bad([dumpPath, 'dumpheap', '-mt', 'zzz']);
    const line = assertOneErrorLine(run, 'bad address');
    assert.equal(run.code, 2);
    assert.match(line, /"zzz" is not a hex/);
    assert.equal(run.stdout, '', 'nothing on stdout');
  });

  it('a missing option value (dumpheap -type)', async () => {
    const run = await bad([dumpPath, 'dumpheap', '-type']);
    const line = assertOneErrorLine(run, 'missing value');
    assert.equal(run.code, 2);
    assert.match(line, /-type needs a value/);
  });
});
