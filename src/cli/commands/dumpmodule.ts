/**
 * `dumpmodule [-mt] <Module>`: a runtime Module's attributes, its token → structure maps and metadata location, and
 * with -mt the MethodTables of the types it defines and references, in SOS's text (strike.cpp DumpModule).
 */
import { DumpsleuthError, UsageError } from '../../errors';
import type { ClrModule } from '../../runtime/loader';
import { enumerateLookupMap, lookupMapTable, readModuleImageDetails, type ModuleImageDetails } from '../../runtime/module-details';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper, right } from '../format';
import type { Session } from '../session';
import { reportNameProblems } from './warnings';

const RULE = '------------------------------------------------------------------------------';
// TraverseModuleMap's callback gets mdTypeDefNil as its "rid" and ORs in the index, so TypeRef rows print 0x02...
const TYPEDEF_TOKEN_BASE = 0x02000000;

/** Reads a user-given Module address. @throws UsageError when it does not read as a Module of this runtime. */
export function moduleArg(session: Session, command: string, text: string | undefined): ClrModule {
  const address = addressArg(command, text, 'Module');
  let mod: ClrModule;
  try {
    mod = session.modules.read(address);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    throw new UsageError(`${command}: 0x${address.toString(16)} is not a Module (${e.message})`);
  }
  // A Module points at its Assembly, and the Assembly back at the Module (Loader contract).
  const d = session.runtime.descriptor;
  let back = 0;
  try {
    back = mod.assembly === 0 ? 0 : session.runtime.memory.readPointer(mod.assembly + d.offset('Assembly', 'Module'));
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  if (back !== address) throw new UsageError(`${command}: 0x${address.toString(16)} is not a Module`);
  return mod;
}

/** The DAC name of a MethodTable, where a generic type definition (the typical instantiation the token maps hold)
 * is named without its instantiation (``List`1``), as the DAC's TypeString does. */
export function definitionDacName(session: Session, mt: number): string {
  const info = session.methodTables.tryRead(mt);
  if (info?.isGenericTypeDefinition) {
    const node = session.names.node(mt, 0);
    if (node.kind === 'def') return node.segments.join('+');
  }
  return session.names.dacName(mt);
}

/** The dumpmodule command. */
export const dumpmoduleCommand: Command = {
  name: 'dumpmodule',
  aliases: [],
  summary: "Show a Module: attributes, assembly, token maps, metadata (-mt: its types' MethodTables)",
  usage: 'dumpmodule [-mt] <Module address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpmodule', args, ['mt'], []);
    if (opts.positional.length !== 1) throw new UsageError('usage: dumpmodule [-mt] <Module address>');
    const mod = moduleArg(session, 'dumpmodule', opts.positional[0]);
    const rt = session.runtime;
    const d = rt.descriptor;
    const m = rt.memory;
    const peAssembly = m.readPointer(mod.address + d.offset('Module', 'PEAssembly'));
    const loaderAllocator = m.readPointer(mod.address + d.offset('Module', 'LoaderAllocator'));
    let details: ModuleImageDetails | undefined;
    if (mod.imageBase !== 0) {
      try {
        details = readModuleImageDetails(m, mod);
      } catch (e) {
        if (!(e instanceof DumpsleuthError)) throw e;
        session.warn(`${mod.path || 'the module'}: PE image not readable, metadata address unknown: ${e.message}`);
      }
    }
    const attributes = [peAssembly !== 0 ? 'PEFile ' : '', mod.imageBase === 0 ? 'IsDynamic ' : '', mod.imageBase !== 0 && !mod.isMappedLayout ? 'IsFileLayout ' : ''].join('');
    const maps = {
      TypeDefToMethodTableMap: lookupMapTable(rt, mod.address, 'TypeDefToMethodTableMap'),
      TypeRefToMethodTableMap: lookupMapTable(rt, mod.address, 'TypeRefToMethodTableMap'),
      MethodDefToDescMap: lookupMapTable(rt, mod.address, 'MethodDefToDescMap'),
      FieldDefToDescMap: lookupMapTable(rt, mod.address, 'FieldDefToDescMap'),
      MemberRefToDescMap: lookupMapTable(rt, mod.address, 'MemberRefToDescMap'),
      // .NET 10's Module has no file-reference map (its descriptor names none); the DAC reports 0.
      FileReferencesMap: 0,
      AssemblyReferencesMap: lookupMapTable(rt, mod.address, 'ManifestModuleReferencesMap'),
    };
    const lines = [
      `Name: ${mod.path || 'Unknown Module'}`,
      `Attributes:              ${attributes}`,
      `Assembly:                ${p16(mod.assembly)}`,
      `BaseAddress:             ${p16Upper(mod.imageBase)}`,
      `LoaderHeap:              ${p16Upper(loaderAllocator)}`,
      ...Object.entries(maps).map(([k, v]) => `${(k + ':').padEnd(24)} ${p16Upper(v)}`),
    ];
    if (mod.imageBase !== 0 && details && details.metadataAddress !== 0) {
      lines.push(`MetaData start address:  ${p16Upper(details.metadataAddress)} (${details.metadataSize} bytes)`);
    }
    const json: Record<string, unknown> = {
      address: hexJson(mod.address),
      name: mod.path,
      attributes: attributes.trim().split(' ').filter((x) => x),
      assembly: hexJson(mod.assembly),
      baseAddress: hexJson(mod.imageBase),
      loaderAllocator: hexJson(loaderAllocator),
      maps: Object.fromEntries(Object.entries(maps).map(([k, v]) => [k, hexJson(v)])),
      metadataAddress: details ? hexJson(details.metadataAddress) : null,
      metadataSize: details?.metadataSize ?? null,
    };
    if (opts.flags.has('mt')) {
      const section = (title: string, column: string, gap: string, map: 'TypeDefToMethodTableMap' | 'TypeRefToMethodTableMap') => {
        lines.push('', title, '', `${right('MT', 16)}${gap}${right(column, 16)} Name`, RULE);
        const rows = enumerateLookupMap(rt, mod.address, map).map((e) => ({ mt: e.value, token: TYPEDEF_TOKEN_BASE + e.rid, name: definitionDacName(session, e.value) }));
        for (const r of rows) lines.push(`${p16(r.mt)} 0x${r.token.toString(16).padStart(8, '0')} ${r.name}`);
        return rows.map((r) => ({ mt: hexJson(r.mt), token: hexJson(r.token), name: r.name }));
      };
      json.typesDefined = section('Types defined in this module', 'TypeDef', ' ', 'TypeDefToMethodTableMap');
      json.typesReferenced = section('Types referenced in this module', 'TypeRef', '   ', 'TypeRefToMethodTableMap');
      reportNameProblems(session);
    }
    return { text: lines.join('\n'), json };
  },
};
