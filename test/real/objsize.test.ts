// objsize on the SDK runtime's full dumps against SOS: the listing (in SOS's order: ClrMD enumerates an object's
// references series by series from its GCDesc's last series, which dumpsleuth follows) and -stat, text line for
// line, on the first object of chosen types (small and large graphs, generics, delegates, the socket objects whose
// types have several GCDesc series).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objsizeCommand } from '../../src/cli/commands/objsize';
import { Session } from '../../src/cli/session';
import { forEachObject } from '../../src/heap/heap-walker';
import { getDump } from '../support/dumps';
import { runSosMany, sosLines } from '../support/sos';
import { consoleFilter } from '../support/sos-object-parsers';

const TIMEOUT = 10 * 60_000;
const ROOTS: Record<'types' | 'seed-apm', readonly string[]> = {
  types: [
    'Debuggees.TypeZoo',
    'Debuggees.TypeZoo+NestedClass',
    'Debuggees.Outer<System.Int32>+Inner<System.String>',
    'System.Collections.Generic.Dictionary<System.String, System.Collections.Generic.List<System.Int32>>',
    'System.Func<System.Int32, System.Int32>',
    'System.Action',
    'System.String[,,]',
    'System.Threading.Thread',
  ],
  'seed-apm': ['Gateway.Server', 'Gateway.GatewayClientController', 'System.Net.Sockets.Socket', 'System.Net.Sockets.SocketAsyncContext', 'System.Threading.Thread'],
};

/** The first object of each wanted type (exact ClrMD name) in heap order. */
function firstOfEach(session: Session, wanted: readonly string[]): Map<string, number> {
  const want = new Set(wanted);
  const out = new Map<string, number>();
  forEachObject(session.heap, session.methodTables, session.runtime.memory, (address, mt) => {
    const n = session.names.clrmdName(mt);
    if (want.has(n) && !out.has(n)) out.set(n, address);
  });
  return out;
}

describe('objsize equals SOS on full dumps', { timeout: TIMEOUT }, () => {
  for (const [scenario, serverGc] of [['seed-apm', false], ['seed-apm', true], ['types', false]] as const) {
    it(`${scenario} full ${serverGc ? 'server' : 'workstation'}: objsize and objsize -stat text equal SOS's line for line`, async (t) => {
      const dump = await getDump(scenario, { dumpType: 'full', serverGc });
      const session = Session.open(dump.dumpPath);
      try {
        const roots = firstOfEach(session, ROOTS[scenario]);
        assert.equal(roots.size, ROOTS[scenario].length, `the dump holds objects of every type: ${[...roots.keys()].join(', ')}`);
        const commands = [...roots.values()].flatMap((a) => [`objsize ${a.toString(16)}`, `objsize -stat ${a.toString(16)}`]);
        const sos = await runSosMany(dump.dumpPath, commands);
        let objects = 0;
        commands.forEach((command, i) => {
          const expected = sosLines(consoleFilter(sos[i]!));
          const total = /^Total (\d+) objects, [\d,]+ bytes$/.exec(expected[expected.length - 1] ?? '');
          assert.ok(total, `SOS answered ${command}`);
          assert.deepEqual(sosLines(consoleFilter(objsizeCommand.run(session, command.split(' ').slice(1)).text)), expected, command);
          objects += Number(total[1]);
        });
        t.diagnostic(`compared ${commands.length} objsize answers over ${objects} objects`);
      } finally {
        session.close();
      }
    });
  }
});
