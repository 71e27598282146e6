/**
 * `dumpmd <MethodDesc>`: SOS's DumpMD text (DumpMDInfoFromMethodDescData) for one MethodDesc.
 */
import { LayoutCheckError, UnmappedAddressError, UsageError } from '../../errors';
import { codeResolverOf } from '../../runtime/code/code-resolver';
import { readMethodDetails, type MethodDetails } from '../../runtime/code/method-details';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';

/** The lines SOS prints for a MethodDesc after its `MethodDesc:` line (shared by dumpmd and ip2md). */
export function methodDetailsText(d: MethodDetails): string[] {
  const lines = [
    `Method Name:          ${d.name}`,
    `Class:                ${p16(d.canonicalMT)}`,
    `MethodTable:          ${p16(d.methodTable)}`,
    `mdToken:              ${p16Upper(d.token)}`,
    `Module:               ${p16(d.module)}`,
    `IsJitted:             ${d.isJitted ? 'yes' : 'no'}`,
    `Current CodeAddr:     ${d.currentCode === undefined ? 'ffffffffffffffff' : p16(d.currentCode)}`,
    'Version History:',
    '  ILCodeVersion:      0000000000000000',
    '  ReJIT ID:           0',
    `  IL Addr:            ${p16(d.ilAddress)}`,
  ];
  for (const v of d.versions) {
    lines.push(`     CodeAddr:           ${p16(v.codeAddress)}  (${v.tier})`);
    lines.push(`     NativeCodeVersion:  ${p16Upper(v.node)}`);
  }
  return lines;
}

/** The JSON form of MethodDetails (addresses as hex strings). */
export function methodDetailsJson(d: MethodDetails): Record<string, unknown> {
  return {
    methodDesc: hexJson(d.methodDesc),
    name: d.name,
    class: hexJson(d.canonicalMT),
    methodTable: hexJson(d.methodTable),
    token: hexJson(d.token),
    module: hexJson(d.module),
    isJitted: d.isJitted,
    currentCodeAddress: d.currentCode === undefined ? null : hexJson(d.currentCode),
    ilAddress: hexJson(d.ilAddress),
    versions: d.versions.map((v) => ({ codeAddress: hexJson(v.codeAddress), tier: v.tier, nativeCodeVersion: hexJson(v.node) })),
  };
}

/** The dumpmd command. */
export const dumpmdCommand: Command = {
  name: 'dumpmd',
  aliases: [],
  summary: 'Show a MethodDesc: name, type, token, module, code address and code versions',
  usage: 'dumpmd <MethodDesc address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpmd', args, [], []);
    const md = addressArg('dumpmd', opts.positional[0], 'MethodDesc address');
    const code = codeResolverOf(session);
    let details: MethodDetails;
    try {
      details = readMethodDetails(code, md);
    } catch (e) {
      if (e instanceof LayoutCheckError || e instanceof UnmappedAddressError) throw new UsageError(`${p16(md)} is not a MethodDesc`);
      throw e;
    }
    return { text: methodDetailsText(details).join('\n') + '\n', json: methodDetailsJson(details) };
  },
};
