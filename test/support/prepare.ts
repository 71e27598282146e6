import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDebuggees, dumpCacheDir, type CapturedDump } from '../../src/capture';
import { buildClrmdOracle } from './clrmd';
import { getDump, getDumpPair, STANDARD_DUMP_PAIRS, STANDARD_DUMPS } from './dumps';
import { extraDumpLabel, extraRuntimeDumps } from './extra-runtime-dumps';
import { restoreDotnetTools } from './sos';
import { prepareWindows } from './windows-dumps';

/** Builds the debuggees and the ClrMD oracle, restores dotnet-dump and captures the standard dump set (one log line per dump); throws CaptureError on the first failure. */
export async function prepareAll(log: (line: string) => void = (line) => console.log(line)): Promise<CapturedDump[]> {
  const debuggees = await buildDebuggees();
  log(`debuggees: ${debuggees.built ? `built in ${debuggees.elapsedMs} ms` : 'up to date'} (${debuggees.assemblyPath})`);
  const started = Date.now();
  await restoreDotnetTools();
  log(`dotnet tool restore: ${Date.now() - started} ms`);
  const oracle = await buildClrmdOracle();
  log(`clrmd oracle: ${oracle.built ? `built in ${oracle.elapsedMs} ms` : 'up to date'} (${oracle.assemblyPath})`);
  const dumps: CapturedDump[] = [];
  // One at a time: the machine may have two cores and the debuggees each start several threads.
  for (const entry of STANDARD_DUMPS) {
    const dump = await getDump(entry.scenario, entry);
    dumps.push(dump);
    const what = [entry.scenario, ...entry.args].join(' ');
    const timing = dump.cached ? 'cached' : `ready ${dump.readyMs} ms, createdump ${dump.createdumpMs} ms`;
    log(`${what} ${entry.dumpType} ${entry.serverGc ? 'server' : 'workstation'}: ${(dump.sizeBytes / 1048576).toFixed(1)} MiB, ${timing}: ${dump.dumpPath}`);
  }
  for (const scenario of STANDARD_DUMP_PAIRS) {
    const pair = await getDumpPair(scenario);
    dumps.push(pair.first, pair.second);
    const timing = pair.first.cached ? 'cached' : `ready ${pair.second.readyMs} ms, createdump ${pair.first.createdumpMs} + ${pair.second.createdumpMs} ms`;
    log(`${scenario} heap pair (one process, two dumps): ${((pair.first.sizeBytes + pair.second.sizeBytes) / 1048576).toFixed(1)} MiB, ${timing}: ${pair.first.dumpPath}`);
  }
  // Issue 11: the same debuggee published self-contained against other runtime packs (a subset of scenarios).
  const extra = extraRuntimeDumps();
  if (extra.length === 0) log('extra runtimes: skipped ($DUMPSLEUTH_EXTRA_RUNTIMES=0)');
  for (const entry of extra) {
    const dump = await getDump(entry.scenario, entry);
    dumps.push(dump);
    log(`${extraDumpLabel(entry)}: ${(dump.sizeBytes / 1048576).toFixed(1)} MiB, ${dump.cached ? 'cached' : `ready ${dump.readyMs} ms, createdump ${dump.createdumpMs} ms`}: ${dump.dumpPath}`);
  }
  await prepareWindows(log);
  const pruned = pruneStaleDumps(dumps);
  if (pruned > 0) log(`removed ${pruned} stale cached dump(s) of earlier debuggee sources`);
  return dumps;
}

/**
 * Deletes cached dumps (and their metadata and oracle outputs) of the standard scenarios made from earlier debuggee
 * sources: same scenario, arguments, type and GC mode, another source hash. Other dumps (the bench's) are kept.
 */
export function pruneStaleDumps(current: readonly CapturedDump[]): number {
  const dir = dumpCacheDir();
  const keep = new Set(current.map((d) => path.basename(d.dumpPath)));
  // The slug is scenario-args-type-gc-hash.dmp: everything before the hash identifies the dump's kind.
  const kinds = new Set([...keep].map((name) => name.replace(/-[0-9a-f]{16}\.dmp$/, '-')));
  let removed = 0;
  for (const name of fs.readdirSync(dir)) {
    const m = /^(.*-)[0-9a-f]{16}\.dmp/.exec(name);
    if (!m || !kinds.has(m[1]!)) continue;
    const dumpName = name.replace(/(\.dmp).*$/, '$1');
    if (keep.has(dumpName)) continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    if (name === dumpName) removed++;
  }
  return removed;
}

if (require.main === module) {
  prepareAll().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
