// Node 20 reads and parses every certificate named by NODE_EXTRA_CA_CERTS when the process starts, before any script
// runs: on this project's machine (which sets it to the system bundle for its proxy) that is ~55 ms of a ~85 ms
// `node -e 0`. dumpsleuth opens no network connection, and .NET does not read the variable, so a machine that sets
// it only slows down one of the two tools being compared. The benches clear it for every process they time (both
// tools, the floor) and say so, with what it cost, in the same run; `--keep-node-extra-ca-certs` keeps it.
import { spawnSync } from 'node:child_process';
import { median } from './median';

const VARIABLE = 'NODE_EXTRA_CA_CERTS';
/** The option that keeps the variable for the timed processes. */
export const KEEP_NODE_EXTRA_CA_CERTS = '--keep-node-extra-ca-certs';

/** What the bench did about NODE_EXTRA_CA_CERTS, as one sentence for the report (undefined when it was not set). */
export function clearNodeExtraCaCerts(keep: boolean): string | undefined {
  const value = process.env[VARIABLE];
  if (value === undefined || value === '') return undefined;
  const startMs = (env: NodeJS.ProcessEnv): number => {
    const runs: number[] = [];
    for (let i = 0; i < 7; i++) {
      const started = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
      runs.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return median(runs);
  };
  const without = { ...process.env };
  delete without[VARIABLE];
  const withMs = startMs(process.env);
  const withoutMs = startMs(without);
  const cost = `\`node -e 0\` takes ${withMs.toFixed(0)} ms with ${VARIABLE}=${value} and ${withoutMs.toFixed(0)} ms without (medians of 7)`;
  if (keep) return `${VARIABLE} kept for every timed process (${KEEP_NODE_EXTRA_CA_CERTS}): ${cost}`;
  delete process.env[VARIABLE];
  return `${VARIABLE} cleared for every timed process (dumpsleuth opens no network connection; .NET does not read it; ${KEEP_NODE_EXTRA_CA_CERTS} keeps it): ${cost}`;
}
