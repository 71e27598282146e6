/**
 * `clrmodules` (alias `assemblies`): every loaded managed module with its image base, size and path, and with -v
 * the details dotnet-dump's AssembliesCommand prints (module and assembly addresses, layout, metadata, PDB, version).
 */
import * as nodePath from 'node:path';
import { DumpsleuthError, UsageError } from '../../errors';
import { readModuleImageDetails, type ModuleImageDetails } from '../../runtime/module-details';
import { parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson } from '../format';
import type { Session } from '../session';

/** The clrmodules command. */
export const clrmodulesCommand: Command = {
  name: 'clrmodules',
  aliases: ['assemblies'],
  summary: 'List the loaded managed modules: image base, size, path (-v for details)',
  usage: 'clrmodules [-v] [-n <regex on the file name>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('clrmodules', args, ['v', 'verbose'], ['n', 'name']);
    if (opts.positional.length) throw new UsageError(`clrmodules: unexpected argument "${opts.positional[0]}"`);
    const verbose = opts.flags.has('v') || opts.flags.has('verbose');
    const pattern = opts.values.get('n') ?? opts.values.get('name');
    let regex: RegExp | undefined;
    if (pattern !== undefined) {
      try {
        regex = new RegExp(pattern, 'i');
      } catch (e) {
        throw new UsageError(`clrmodules: bad regular expression "${pattern}": ${(e as Error).message}`);
      }
    }
    const lines: string[] = [];
    const modules: unknown[] = [];
    for (const mod of session.modules.enumerate()) {
      if (regex && !(mod.path !== '' && regex.test(nodePath.win32.basename(mod.path)))) continue;
      const isDynamic = mod.imageBase === 0 && mod.path === '';
      let details: ModuleImageDetails | undefined;
      if (verbose) {
        try {
          details = readModuleImageDetails(session.runtime.memory, mod);
        } catch (e) {
          if (!(e instanceof DumpsleuthError)) throw e;
          session.warn(`${mod.path || `module 0x${mod.address.toString(16)}`}: PE image not readable: ${e.message}`);
        }
      }
      const dynamicNote = isDynamic ? '(Dynamic)' : '';
      if (verbose) {
        const layout = mod.isMappedLayout ? 'Mapped' : 'Flat';
        // dotnet-dump looks the version up in its native module list, which knows a file by its lowest mapping of
        // file offset 0: when the runtime's image lies elsewhere (R2R images with an extra flat copy below) it finds
        // nothing and prints <none> (observed on 10.0.750501).
        const listedBase = session.dump.modules.find((m) => m.path === mod.path)?.baseAddress;
        const version = listedBase === mod.imageBase ? details?.fileVersion : undefined;
        lines.push(
          `${mod.path}${dynamicNote}`,
          `    AssemblyName:    ${mod.path}`,
          `    ImageBase:       ${X(mod.imageBase, 16)}`,
          `    Size:            ${X(mod.imageSize, 8)}`,
          `    ModuleAddress:   ${X(mod.address, 16)}`,
          `    AssemblyAddress: ${X(mod.assembly, 16)}`,
          `    IsPEFile:        ${isDynamic ? 'False' : 'True'}`,
          `    Layout:          ${layout}`,
          `    IsDynamic:       ${isDynamic ? 'True' : 'False'}`,
          `    MetadataAddress: ${X(details?.metadataAddress ?? 0, 16)}`,
          `    MetadataSize:    ${X(details?.metadataSize ?? 0, 16)}`,
          `    PdbInfo:         ${details?.pdb ? `${details.pdb.guid} ${details.pdb.age} ${details.pdb.path}` : '<none>'}`,
          `    Version:         ${version ?? '<none>'}`,
        );
      } else {
        lines.push(`${X(mod.imageBase, 16)} ${X(mod.imageSize, 8)} ${mod.path}${dynamicNote}`);
      }
      const json: Record<string, unknown> = {
        address: hexJson(mod.address),
        assembly: hexJson(mod.assembly),
        path: mod.path,
        imageBase: hexJson(mod.imageBase),
        imageSize: mod.imageSize,
        layout: mod.isMappedLayout ? 'mapped' : 'flat',
        isDynamic,
      };
      if (verbose) {
        json.metadataAddress = details ? hexJson(details.metadataAddress) : null;
        json.metadataSize = details?.metadataSize ?? null;
        json.pdb = details?.pdb ?? null;
        json.fileVersion = details?.fileVersion ?? null;
      }
      modules.push(json);
    }
    return { text: lines.join('\n'), json: { modules } };
  },
};

/** C# `{0:X<n>}`: upper-case hex, at least `n` digits. */
function X(n: number, digits: number): string {
  return n.toString(16).toUpperCase().padStart(digits, '0');
}
