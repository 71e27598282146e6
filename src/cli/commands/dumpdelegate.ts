/**
 * `dumpdelegate <delegate>`: each invocation's target object and method, in SOS's text (strike.cpp DumpDelegate)
 * and as JSON {address, type, invocations: [{target, targetType, method, methodDesc, codeAddress, module}]}.
 */
import { DumpsleuthError, UsageError } from '../../errors';
import { codeResolverOf, type CodeResolver } from '../../runtime/code/code-resolver';
import { DelegateReader, type DelegateInvocation } from '../../runtime/code/delegates';
import { defaultNativeCode } from '../../runtime/code/method-details';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16 } from '../format';
import type { Session } from '../session';

const readers = new WeakMap<CodeResolver, DelegateReader>();

/** The DelegateReader of a session (one per runtime). */
export function delegateReaderOf(session: Session): DelegateReader {
  const code = codeResolverOf(session);
  let r = readers.get(code);
  if (!r) {
    r = new DelegateReader(code);
    readers.set(code, r);
  }
  return r;
}

/** The dumpdelegate command. */
export const dumpdelegateCommand: Command = {
  name: 'dumpdelegate',
  aliases: [],
  summary: 'Show the target object and method of a delegate (every element of a multicast delegate)',
  usage: 'dumpdelegate <delegate object address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpdelegate', args, [], []);
    const address = addressArg('dumpdelegate', opts.positional[0], 'delegate address');
    const m = session.runtime.memory;
    let mt: number;
    try {
      const word = m.readPointer(address);
      mt = word - (word % 8);
    } catch (e) {
      if (e instanceof DumpsleuthError) throw new UsageError(`${p16(address)}: Invalid object.`);
      throw e;
    }
    if (!session.methodTables.tryRead(mt)) throw new UsageError(`${p16(address)}: Invalid object.`);
    const reader = delegateReaderOf(session);
    if (!reader.isDelegateType(mt)) throw new UsageError(`Object of type '${session.names.dacName(mt)}' is not a delegate.`);
    const info = reader.read(address);
    const code = codeResolverOf(session);
    const lines = ['Target           Method           Name'];
    for (const inv of info.sosOrder) {
      lines.push(`${p16(inv.target)} ${inv.methodDesc !== 0 ? `${p16(inv.methodDesc)} ${code.methodDescs.name(inv.methodDesc)}` : '(unknown)'}`);
    }
    return {
      text: lines.join('\n') + '\n',
      json: {
        address: hexJson(address),
        type: session.names.dacName(mt),
        invocations: info.invocations.map((inv) => invocationJson(session, code, inv)),
      },
    };
  },
};

function invocationJson(session: Session, code: CodeResolver, inv: DelegateInvocation): Record<string, unknown> {
  const m = session.runtime.memory;
  let targetType: string | null = null;
  if (inv.target !== 0) {
    try {
      const word = m.readPointer(inv.target);
      targetType = session.names.dacName(word - (word % 8));
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
  }
  if (inv.methodDesc === 0) return { target: hexJson(inv.target), targetType, method: null, methodDesc: null, codeAddress: null, module: null };
  const r = inv.resolution;
  // The code the delegate runs: the method code it points at, or the compiled code behind its precode (0: not compiled yet).
  let codeAddress = r?.kind === 'code' ? r.block.startAddress : r?.kind === 'precode' && r.block ? r.block.startAddress : 0;
  if (codeAddress === 0) codeAddress = defaultNativeCode(code, inv.methodDesc);
  let module: string | null = null;
  try {
    const path = session.modules.read(code.methodDescs.module(inv.methodDesc)).path;
    module = path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  return {
    target: hexJson(inv.target),
    targetType,
    method: code.methodDescs.name(inv.methodDesc),
    methodDesc: hexJson(inv.methodDesc),
    codeAddress: codeAddress !== 0 ? hexJson(codeAddress) : null,
    module,
  };
}
