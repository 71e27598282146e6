/**
 * `gcinfo <code address or MethodDesc>`: a method's decoded GC info in SOS's `gcinfo` text (header, untracked slots,
 * live-slot changes per offset, safe points); JSON adds the raw decoded tables.
 */
import { UsageError } from '../../errors';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { GcStackSlotBase, type GcSlot } from '../../runtime/code/gcinfo-decoder';
import { formatGcInfoLikeSos } from '../../runtime/code/gcinfo-dump';
import { resolveMethodCode } from '../../runtime/code/method-extent';
import { gcInfoOf } from '../../runtime/code/stack-roots';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';

/** The gcinfo command. */
export const gcinfoCommand: Command = {
  name: 'gcinfo',
  aliases: [],
  summary: 'Show the GC info (live GC slots per code offset) of a method',
  usage: 'gcinfo <code address or MethodDesc>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('gcinfo', args, [], []);
    const address = addressArg('gcinfo', opts.positional[0], 'code address or MethodDesc');
    const code = codeResolverOf(session);
    const target = resolveMethodCode(code, address);
    if (target.kind === 'none') throw new UsageError(`gcinfo: ${p16(address)} is neither managed code nor a MethodDesc`);
    if (target.kind === 'notJitted') throw new UsageError(`gcinfo: MethodDesc ${p16(address)} has no native code (not jitted yet)`);
    const block = target.block;
    const info = gcInfoOf(session.runtime, block);
    const text = [
      `entry point ${p16Upper(block.startAddress)}`,
      block.kind === 'jit' ? 'Normal JIT generated code' : 'preJIT generated code',
      `GC info ${p16Upper(block.gcInfo)}`,
      'Pointer table:',
    ].join('\n') + '\n' + formatGcInfoLikeSos(info);
    return {
      text,
      json: {
        methodDesc: hexJson(block.methodDesc),
        method: code.methodDescs.name(block.methodDesc),
        start: hexJson(block.startAddress),
        gcInfo: hexJson(block.gcInfo),
        version: info.version,
        codeLength: info.codeLength,
        prologSize: info.prologSize ?? null,
        stackBaseRegister: info.stackBaseRegister === undefined ? null : info.encoding.registerNames[info.stackBaseRegister],
        genericsInstContext: info.genericsInstContext ?? null,
        gsCookieStackSlot: info.gsCookieStackSlot ?? null,
        reversePInvokeFrameStackSlot: info.reversePInvokeFrameStackSlot ?? null,
        sizeOfStackOutgoingAndScratchArea: info.sizeOfStackOutgoingAndScratchArea,
        isVarArg: info.isVarArg,
        safePoints: info.safePoints,
        interruptibleRanges: info.interruptibleRanges,
        slots: info.slots.map((s, i) => ({ ...slotJson(s, info.encoding.registerNames), tracked: i < info.numTracked })),
      },
    };
  },
};

function slotJson(s: GcSlot, names: readonly string[]): Record<string, unknown> {
  const flags = { interior: (s.flags & 1) !== 0, pinned: (s.flags & 2) !== 0 };
  if (s.kind === 'register') return { kind: 'register', register: names[s.register] ?? `r${s.register}`, ...flags };
  const base = s.base === GcStackSlotBase.CallerSp ? 'callerSp' : s.base === GcStackSlotBase.Sp ? 'sp' : 'frameRegister';
  return { kind: 'stack', base, offset: s.offset, ...flags };
}
