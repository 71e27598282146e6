// objsize on the SDK runtime's full dumps against SOS: the listing (in SOS's order: ClrMD enumerates an object's
// references series by series from its GCDesc's last series, which dumpsleuth follows) and -stat, text line for
// line, on the first object of chosen types (small and large graphs, generics, delegates, the socket objects whose
// types have several GCDesc series).
import { describe, it } from 'node:test';
import { Session } from '../../src/cli/session';
import { getDump } from '../support/dumps';
import { compareObjsizeWithSos, OBJSIZE_TYPES } from '../support/object-checks';

const TIMEOUT = 10 * 60_000;

describe('objsize equals SOS on full dumps', { timeout: TIMEOUT }, () => {
  for (const [scenario, serverGc] of [['seed-apm', false], ['seed-apm', true], ['types', false]] as const) {
    it(`${scenario} full ${serverGc ? 'server' : 'workstation'}: objsize and objsize -stat text equal SOS's line for line`, async (t) => {
      const dump = await getDump(scenario, { dumpType: 'full', serverGc });
      const session = Session.open(dump.dumpPath);
      try {
        const r = await compareObjsizeWithSos(session, dump.dumpPath, OBJSIZE_TYPES[scenario]);
        t.diagnostic(`compared ${r.answers} objsize answers over ${r.objects} objects`);
      } finally {
        session.close();
      }
    });
  }
});
