import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDebuggees, dumpCacheDir, type CapturedDump } from '../../src/capture';
import { buildClrmdOracle } from './clrmd';
import { getDump, STANDARD_DUMPS } from './dumps';
import { getExternalDumps } from './external-dumps';
import { restoreDotnetTools } from './sos';

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
  // Issue 10's external tier: programs we did not write (ASP.NET Core app, VBCSCompiler, MSBuild node).
  const externalStarted = Date.now();
  const external = await getExternalDumps(log);
  log(`external tier: ${external.length} dumps, ${Date.now() - externalStarted} ms`);
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
