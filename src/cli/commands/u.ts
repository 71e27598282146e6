/**
 * `u [-n] <code address or MethodDesc>`: the whole method disassembled, SOS-style (B12 in
 * research/names-and-sos-output.md): a header (JIT kind, method name, `Begin …, size …`), one line per instruction
 * (address, bytes, Intel syntax), `>>> ` at the requested address, and each call/jump target annotated with the
 * method, precode or stub it reaches (`-n`: no annotations). The size comes from the GC info header.
 */
import { DumpsleuthError, UsageError } from '../../errors';
import { codeResolverOf, type CodeResolver } from '../../runtime/code/code-resolver';
import { disassemblerFor, type DecodedInstruction } from '../../runtime/code/disassembler';
import { readMethodExtent, resolveMethodCode, type CodeRegion } from '../../runtime/code/method-extent';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';

/** What a branch target or constant names. */
interface TargetName {
  /** Where the call or jump goes (through the pointer for an indirect one). */
  readonly destination: number;
  readonly text: string;
  readonly methodDesc?: number;
  readonly kind: 'method' | 'precode' | 'stub';
}

const BYTES_WIDTH = 21;

/** The u command. */
export const uCommand: Command = {
  name: 'u',
  aliases: ['clru'],
  summary: 'Disassemble a managed method, annotating call targets',
  usage: 'u [-n] <code address or MethodDesc>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('u', args, ['n'], []);
    const address = addressArg('u', opts.positional[0], 'code address or MethodDesc');
    const annotate = !opts.flags.has('n');
    const code = codeResolverOf(session);
    const target = resolveMethodCode(code, address);
    if (target.kind === 'none') throw new UsageError(`u: ${p16(address)} is not managed code (Unmanaged code) nor a MethodDesc`);
    if (target.kind === 'notJitted') throw new UsageError(`u: MethodDesc ${p16(address)} is not jitted yet`);
    const rt = session.runtime;
    const block = target.block;
    const extent = readMethodExtent(rt, block);
    const regions: { name: 'hot' | 'cold'; region: CodeRegion }[] = [{ name: 'hot', region: extent.hot }];
    if (extent.cold) regions.push({ name: 'cold', region: extent.cold });
    const disassembler = disassemblerFor('x64');
    const inMethod = (a: number) => regions.some(({ region }) => a >= region.start && a < region.start + region.size);
    const lines: string[] = [block.kind === 'jit' ? 'Normal JIT generated code' : 'preJIT generated code', code.methodDescs.name(block.methodDesc)];
    const hot = `Begin ${p16Upper(extent.hot.start)}, size ${extent.hot.size.toString(16)}`;
    lines.push(extent.cold ? `${hot}. Cold region begin ${p16Upper(extent.cold.start)}, size ${extent.cold.size.toString(16)}` : hot);
    const json: Record<string, unknown>[] = [];
    let last: DecodedInstruction | undefined;
    for (const { name, region } of regions) {
      if (extent.cold) lines.push(name === 'hot' ? 'Hot region:' : 'Cold region:');
      const bytes = rt.memory.readUpTo(region.start, region.size);
      if (bytes.length < region.size) {
        session.warn(`u: the code at ${p16(region.start + bytes.length)} is not in the dump (a heap dump without code pages?)`);
      }
      for (const ins of disassembler.decode(bytes, region.start)) {
        const note = annotate ? annotation(code, ins, inMethod) : undefined;
        const marker = target.kind === 'code' && ins.address <= address && address < ins.address + ins.bytes.length ? '>>> ' : '';
        const hex = Buffer.from(ins.bytes).toString('hex');
        lines.push(`${marker}${p16(ins.address)} ${hex.padEnd(BYTES_WIDTH - 1)} ${ins.text}${note ? ` (${note.text})` : ''}`);
        json.push({
          address: hexJson(ins.address),
          bytes: hex,
          text: ins.text,
          ...(ins.target !== undefined ? { target: hexJson(ins.target) } : {}),
          ...(ins.indirectSlot !== undefined ? { indirectSlot: hexJson(ins.indirectSlot) } : {}),
          ...(note ? { destination: hexJson(note.destination), targetMethod: note.text, targetKind: note.kind, ...(note.methodDesc !== undefined ? { targetMethodDesc: hexJson(note.methodDesc) } : {}) } : {}),
        });
        last = ins;
      }
    }
    return {
      text: lines.join('\n') + '\n',
      json: {
        start: hexJson(extent.hot.start),
        end: hexJson(extent.hot.start + extent.hot.size),
        ...(extent.cold ? { coldStart: hexJson(extent.cold.start), coldEnd: hexJson(extent.cold.start + extent.cold.size) } : {}),
        codeLength: extent.codeLength,
        methodDesc: hexJson(block.methodDesc),
        method: code.methodDescs.name(block.methodDesc),
        kind: block.kind,
        lastInstructionEnd: last ? hexJson(last.address + last.bytes.length) : null,
        instructions: json,
      },
    };
  },
};

/** Names what a call or a jump out of the method reaches: a method (entry point or code inside), a precode, or a stub. */
function annotation(code: CodeResolver, ins: DecodedInstruction, inMethod: (a: number) => boolean): TargetName | undefined {
  let destination: number | undefined;
  if (ins.flow === 'call' || ((ins.flow === 'branch' || ins.flow === 'conditionalBranch') && ins.target !== undefined && !inMethod(ins.target))) destination = ins.target;
  else if ((ins.flow === 'indirectCall' || ins.flow === 'indirectBranch') && ins.indirectSlot !== undefined) {
    try {
      destination = code.parts.runtime.memory.readPointer(ins.indirectSlot);
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
  }
  if (destination === undefined || destination === 0) return undefined;
  const to = destination;
  const resolved = code.resolveEntryPoint(to);
  if (resolved.kind === 'none') {
    // Stub ranges (RangeList sections: call counting stubs, virtual stub dispatch) have no MethodDesc to name.
    const rs = safe(() => code.em.findRangeSection(to));
    return rs && rs.r2rModule === 0 && (rs.flags & 0x4) !== 0 ? { destination: to, text: 'stub', kind: 'stub' } : undefined;
  }
  const md = resolved.methodDesc;
  const name = code.methodDescs.name(md);
  const token = safe(() => code.methodDescs.read(md).token);
  return { destination: to, text: `${name}${token !== undefined ? `, mdToken: ${p16(token)}` : ''}`, methodDesc: md, kind: resolved.kind === 'code' ? 'method' : 'precode' };
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}
