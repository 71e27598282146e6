/**
 * `ip2md <code address>`: the method whose JIT'd or ReadyToRun code contains the address, as SOS prints it.
 * Like SOS (GetMethodDescPtrFromIP), only method code resolves: a precode or a random address gives one line.
 */
import { DumpsleuthError, MissingRuntimeDataError } from '../../errors';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { readMethodDetails } from '../../runtime/code/method-details';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16 } from '../format';
import type { Session } from '../session';
import { methodDetailsJson, methodDetailsText } from './dumpmd';

/** The line SOS prints when the address is not inside managed method code. */
export const NOT_IN_JIT_CODE = 'Failed to request MethodData, not in JIT code range';

/** The ip2md command. */
export const ip2mdCommand: Command = {
  name: 'ip2md',
  aliases: [],
  summary: 'Find the method whose code contains an address (JIT\'d or ReadyToRun)',
  usage: 'ip2md <code address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('ip2md', args, [], []);
    const ip = addressArg('ip2md', opts.positional[0], 'code address');
    const code = codeResolverOf(session);
    // A code map the dump lacks (ReadyToRun pages of a heap dump without the image files) cannot tell whether the
    // address is managed code: an error, not "not in JIT code".
    let block;
    try {
      block = code.findMethodOfIP(ip);
    } catch (e) {
      if (e instanceof DumpsleuthError) throw new MissingRuntimeDataError(`ip2md: cannot tell whether ${p16(ip)} is managed code: ${e.message}`);
      throw e;
    }
    const details = block ? tryDetails(code, block.methodDesc) : undefined;
    if (!block || !details) {
      return { text: NOT_IN_JIT_CODE + '\n', json: { address: hexJson(ip), found: false, message: NOT_IN_JIT_CODE } };
    }
    const text = [`MethodDesc:   ${p16(block.methodDesc)}`, ...methodDetailsText(details)].join('\n') + '\n';
    return {
      text,
      json: {
        address: hexJson(ip),
        found: true,
        kind: block.kind,
        methodStart: hexJson(block.startAddress),
        offset: block.relativeOffset,
        ...methodDetailsJson(details),
      },
    };
  },
};

function tryDetails(code: ReturnType<typeof codeResolverOf>, md: number) {
  try {
    return readMethodDetails(code, md);
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}
