// Issue 10, SOS parity: dumpobj lists each thread's value of a thread-static field under its TLstatic row, as SOS
// does ("<OS thread id>:<value>", one line per thread that has storage for it). System.Threading.Thread's
// t_currentThread is such a field on every process: each thread's value is its own Thread object.
import { describe, it } from 'node:test';
import { getDump } from '../support/dumps';
import { compareThreadStaticsWithSos } from '../support/object-checks';

describe('thread-static values in dumpobj (issue 10)', { timeout: 10 * 60_000 }, () => {
  for (const serverGc of [false, true]) {
    it(`seed-apm full ${serverGc ? 'server' : 'workstation'}: every Thread object's t_currentThread values equal SOS`, async () => {
      const dump = await getDump('seed-apm', { dumpType: 'full', serverGc });
      await compareThreadStaticsWithSos(dump.dumpPath);
    });
  }
});
