// `dumpheap -stat` with 1 and 2 walk threads (issue 16's scaling table), against dotnet-dump and the floor (Node's
// start-up plus reading the heap's bytes at the warm sequential read rate of the dump file), round-robin in one run.
// Each dumpsleuth run is checked to print the same answer as the 1-thread run and the same totals as dotnet-dump.
// CPU seconds (user + system, from GNU time) are reported beside wall times: on a shared machine they are the
// steadier figure.
// Usage: node dist/bench/walk-scaling.js [--repeat R] [--workers 1,2] [--keep-node-extra-ca-certs] (--scenario many|large|linked | <dump>)...
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { captureDump, findDotnet, findRepoRoot } from '../src/capture';
import { heapAnswerFromSosText } from './check-answers';
import { findDotnetDump } from './find-dotnet-dump';
import { median } from './median';
import { clearNodeExtraCaCerts, KEEP_NODE_EXTRA_CA_CERTS } from './node-start-env';
import { timeSequentialRead } from './time-sequential-read';

const SCENARIO_OBJECTS: Record<string, number> = { many: 5_000_000, large: 22_000_000, linked: 6_000_000 };

interface Run {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly rssBytes: number;
  readonly stdout: string;
}

/** Runs a process under GNU time; throws when it fails. */
function timed(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  const timeFile = path.join(os.tmpdir(), `dumpsleuth-walk-scaling-${process.pid}.time`);
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, ...argv], { env, maxBuffer: 1 << 30, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').slice(-2000)}`);
  const [user, sys, rss] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
  fs.rmSync(timeFile, { force: true });
  return { wallMs, cpuMs: (user! + sys!) * 1000, rssBytes: rss! * 1024, stdout: r.stdout };
}

async function main(argv: readonly string[]): Promise<number> {
  let repeat = 3;
  let workerCounts = [1, 2];
  const dumps: { label: string; path: string }[] = [];
  let keepCaCerts = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === KEEP_NODE_EXTRA_CA_CERTS) keepCaCerts = true;
    else if (a === '--repeat') repeat = Number(argv[++i]);
    else if (a === '--workers') workerCounts = argv[++i]!.split(',').map(Number);
    else if (a === '--scenario') {
      const scenario = argv[++i]!;
      const objects = SCENARIO_OBJECTS[scenario];
      if (objects === undefined) throw new Error(`--scenario must be many, large or linked, not ${scenario}`);
      const captured = await captureDump({ scenario, args: [String(objects)], dumpType: 'heap', readyTimeoutMs: 20 * 60_000 });
      dumps.push({ label: `${scenario} ${objects}`, path: captured.dumpPath });
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else dumps.push({ label: path.basename(a), path: path.resolve(a) });
  }
  if (dumps.length === 0 || !(repeat >= 1) || workerCounts.some((w) => !(w >= 1))) {
    process.stderr.write('usage: node dist/bench/walk-scaling.js [--repeat R] [--workers 1,2] [--keep-node-extra-ca-certs] (--scenario many|large|linked | <dump>)...\n');
    return 2;
  }
  const caCertsNote = clearNodeExtraCaCerts(keepCaCerts);
  const cli = path.join(findRepoRoot(), 'bin', 'dumpsleuth.js');
  const dotnet = await findDotnet();
  const dotnetDump = await findDotnetDump();
  const dotnetEnv = { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' };
  // Every multi-thread run splits the heap, however small (the CLI's default keeps small heaps on one thread).
  const splitEnv = { ...process.env, DUMPSLEUTH_INDEX: 'off', DUMPSLEUTH_PARALLEL_WALK_MIN_BYTES: '0' };
  const rows: string[] = [];
  const loadBefore = os.loadavg()[0]!;
  for (const dump of dumps) {
    const runs = new Map<string, Run[]>();
    const add = (key: string, run: Run): void => {
      runs.set(key, [...(runs.get(key) ?? []), run]);
    };
    let reference: string | undefined;
    let totals: { count: number; size: number } | undefined;
    const readMs: number[] = [];
    let fileBytes = 0;
    for (let round = 0; round < repeat; round++) {
      add('node', timed([process.execPath, '-e', '0']));
      for (const w of workerCounts) {
        const run = timed([process.execPath, cli, '--workers', String(w), dump.path, 'dumpheap', '-stat'], splitEnv);
        if (reference === undefined) reference = run.stdout;
        else if (run.stdout !== reference) throw new Error(`${dump.label}: dumpheap -stat with ${w} threads printed another answer`);
        add(`w${w}`, run);
      }
      const sos = timed([dotnet, dotnetDump.assemblyPath, 'analyze', dump.path, '-c', 'setsymbolserver --disable', '-c', 'dumpheap -stat', '-c', 'exit'], dotnetEnv);
      const mine = heapAnswerFromSosText(reference!);
      const theirs = heapAnswerFromSosText(sos.stdout);
      if (mine.totalCount !== theirs.totalCount || mine.totalSize !== theirs.totalSize) {
        throw new Error(`${dump.label}: dumpsleuth counts ${mine.totalCount} objects, ${mine.totalSize} bytes; dotnet-dump ${theirs.totalCount}, ${theirs.totalSize}`);
      }
      totals = { count: mine.totalCount, size: mine.totalSize };
      add('sos', sos);
      const read = timeSequentialRead(dump.path);
      readMs.push(read.wallMs);
      fileBytes = read.bytes;
      process.stderr.write(`${dump.label}: round ${round + 1}/${repeat} done\n`);
    }
    const med = (key: string, f: (r: Run) => number): number => median(runs.get(key)!.map(f));
    const floorMs = med('node', (r) => r.wallMs) + (totals!.size / fileBytes) * median(readMs);
    const sosWall = med('sos', (r) => r.wallMs);
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
    const mib = (key: string): string => `${(Math.max(...runs.get(key)!.map((r) => r.rssBytes)) / 2 ** 20).toFixed(0)} MiB`;
    const cells = workerCounts.map((w) => {
      const wall = med(`w${w}`, (r) => r.wallMs);
      return `${s(wall)} (${s(med(`w${w}`, (r) => r.cpuMs))} CPU, ${mib(`w${w}`)}; ${(sosWall / wall).toFixed(1)}× dotnet-dump, ${(wall / floorMs).toFixed(2)}× floor)`;
    });
    rows.push(
      `| ${dump.label} (${(fs.statSync(dump.path).size / 2 ** 20).toFixed(0)} MiB, ${(totals!.count / 1e6).toFixed(2)} M objects, ${(totals!.size / 2 ** 20).toFixed(0)} MiB of objects) | ${cells.join(' | ')} | ${s(sosWall)} (${s(med('sos', (r) => r.cpuMs))} CPU, ${mib('sos')}) | ${s(floorMs)} |`,
    );
  }
  const header = `| dump | ${workerCounts.map((w) => `${w} thread${w > 1 ? 's' : ''}`).join(' | ')} | dotnet-dump | floor |`;
  process.stdout.write(
    [
      `dumpheap -stat, medians of ${repeat} round-robin runs; ${os.cpus().length} CPUs, 1-minute load ${loadBefore.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)}`,
      '',
      header,
      `|---|${workerCounts.map(() => '---:').join('|')}|---:|---:|`,
      ...rows,
      '',
      ...(caCertsNote !== undefined ? [caCertsNote, ''] : []),
    ].join('\n'),
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`walk-scaling: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
