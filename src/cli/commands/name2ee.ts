/**
 * `name2ee <module|*> <type or Type.Member>` (or `module!name`): the MethodTable of each type whose name contains
 * the given text, or the MethodDesc / field of a member, per module, in the text of dotnet-dump's Name2EECommand
 * (C# since 10.0.721401). Type names are ClrMD's: ``List`1`` is `System.Collections.Generic.List<T1>`, nested
 * types use `+` (`/` is accepted too), and matching is a case-insensitive substring test, as SOS does it.
 */
import * as nodePath from 'node:path';
import { DumpsleuthError, UsageError } from '../../errors';
import type { ClrModule } from '../../runtime/loader';
import { enumerateLookupMap } from '../../runtime/module-details';
import type { Command } from '../command';
import { hexJson } from '../format';
import type { Session } from '../session';
import { classFieldRows } from './dumpclass';
import { definitionDacName } from './dumpmodule';
import { methodDescReaderOf } from './dumpmt';
import { objectReaderOf } from './object-text';
import { reportNameProblems } from './warnings';

const MODULE_RULE = '--------------------------------------';
const MATCH_RULE = '-----------------------';
const USAGE = 'usage: name2ee <module_name|*> <type_or_method_name>   or   name2ee <module_name|*>!<type_or_method_name>';
// ClrMD reports "no native code" as ulong.MaxValue, which Name2EE prints as is (observed on 10.0.750501).
const NO_NATIVE_CODE = 'ffffffffffffffff';

type Match =
  | { kind: 'type'; mt: number; token: number; name: string }
  | { kind: 'method'; mt: number; token: number; name: string; methodDesc: number; methodToken: number; signature: string; nativeCode: number }
  | { kind: 'field'; mt: number; token: number; name: string; field: string };

/** The name2ee command. */
export const name2eeCommand: Command = {
  name: 'name2ee',
  aliases: [],
  summary: 'Find a type (MethodTable) or method (MethodDesc) by name in one module or all (*)',
  usage: 'name2ee <module|*> <Namespace.Type[+Nested][.Member]>',
  run(session: Session, args: readonly string[]) {
    let moduleName: string;
    let itemName: string;
    if (args.length === 1) {
      const bang = args[0]!.indexOf('!');
      if (bang <= 0 || bang === args[0]!.length - 1 || args[0]!.indexOf('!', bang + 1) !== -1) throw new UsageError(USAGE);
      moduleName = args[0]!.slice(0, bang);
      itemName = args[0]!.slice(bang + 1);
    } else if (args.length === 2) {
      [moduleName, itemName] = args as [string, string];
    } else {
      throw new UsageError(USAGE);
    }
    if (!moduleName || !itemName) throw new UsageError(USAGE);
    const wildcard = moduleName === '*';
    const modules = session.modules.enumerate().filter((m) => wildcard || matchesModuleName(m, moduleName));
    const name = itemName.replace(/\//g, '+');
    const lines: string[] = [];
    const found: unknown[] = [];
    let matchCount = 0;
    let nonMatchCount = 0;
    for (const mod of modules) {
      const matches = searchModule(session, mod, name);
      const header = [`Module:      ${x16(mod.address)}`, `Assembly:    ${moduleFileName(mod)}`];
      if (matches.length === 0) {
        if (wildcard) {
          nonMatchCount++;
          continue;
        }
        // A named module is shown even when nothing in it matched.
        if (matchCount > 0) lines.push(MODULE_RULE);
        lines.push(...header);
        matchCount++;
        found.push({ module: hexJson(mod.address), assembly: moduleFileName(mod), matches: [] });
        continue;
      }
      if (matchCount > 0) lines.push(MODULE_RULE);
      lines.push(...header);
      matches.forEach((match, i) => {
        if (i > 0) lines.push(MATCH_RULE);
        lines.push(...matchLines(match));
      });
      matchCount += matches.length;
      found.push({ module: hexJson(mod.address), assembly: moduleFileName(mod), matches: matches.map(matchJson) });
    }
    if (wildcard && nonMatchCount > 0) {
      if (matchCount > 0) lines.push(MODULE_RULE);
      lines.push('', `Scanned ${nonMatchCount} module${nonMatchCount === 1 ? '' : 's'} which had no matches.`);
    }
    if (matchCount === 0 && nonMatchCount === 0) lines.push(`Failed to find module matching '${moduleName}'.`);
    reportNameProblems(session);
    return { text: lines.join('\n'), json: { modules: found, scannedWithoutMatch: nonMatchCount } };
  },
};

/** ClrMD's name of a type definition: DacNameParser gives a bare generic definition invented parameter names per
 * arity suffix (``Outer`1+Inner`1`` → `Outer<T1>+Inner<T1>`), but returns the DAC text unchanged when the last
 * segment has no arity (``List`1+Enumerator``). */
export function clrmdDefinitionName(dacName: string): string {
  if (!/`\d+$/.test(dacName)) return dacName;
  return dacName.replace(/`(\d+)/g, (_m, n: string) => '<' + Array.from({ length: Number(n) }, (_x, i) => `T${i + 1}`).join(', ') + '>');
}

function searchModule(session: Session, mod: ClrModule, name: string): Match[] {
  const needle = name.toLowerCase();
  // Type.Member: split at the last '.', one more to the left for `Type..ctor`-style names.
  let dot = name.lastIndexOf('.');
  if (dot > 0 && name[dot - 1] === '.') dot--;
  const typePart = dot > 0 ? name.slice(0, dot).toLowerCase() : undefined;
  const member = dot > 0 ? name.slice(dot + 1) : undefined;
  let entries;
  try {
    entries = enumerateLookupMap(session.runtime, mod.address, 'TypeDefToMethodTableMap');
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    session.warn(`${mod.path || `module 0x${mod.address.toString(16)}`}: its TypeDef map is not readable: ${e.message}`);
    return [];
  }
  const out: Match[] = [];
  for (const { rid, value: mt } of entries) {
    const info = session.methodTables.tryRead(mt);
    if (!info) continue;
    const typeName = clrmdDefinitionName(definitionDacName(session, mt));
    // A type without a readable name has no name to match (ClrMD skips a null name); the warning says why.
    if (typeName.includes('<unknown type @')) continue;
    const token = 0x02000000 + rid;
    const lower = typeName.toLowerCase();
    if (lower.includes(needle)) {
      out.push({ kind: 'type', mt, token, name: typeName });
      continue;
    }
    if (typePart === undefined || member === undefined || !lower.includes(typePart)) continue;
    const method = findMethod(session, mt, member);
    if (method) {
      out.push({ kind: 'method', mt, token, name: typeName, ...method });
      continue;
    }
    if (hasField(session, mt, member)) out.push({ kind: 'field', mt, token, name: typeName, field: member });
  }
  return out;
}

/** The first method named `member` in ClrMD's order: ClrMD lists a type's methods from its slots and finds each
 * MethodDesc through the slot's entry point, so only methods with an entry point are seen (String.Concat finds
 * the prepared Concat(String, String), String.Join nothing when no overload has run; observed on 10.0.750501). */
function findMethod(session: Session, mt: number, member: string): { methodDesc: number; methodToken: number; signature: string; nativeCode: number } | undefined {
  const mds = methodDescReaderOf(session);
  try {
    const info = session.methodTables.read(mt);
    const seen = new Set<number>();
    for (const e of mds.enumerateForType(info)) {
      if (e.entryPoint === 0 || e.methodDesc === 0 || seen.has(e.methodDesc)) continue;
      seen.add(e.methodDesc);
      const md = mds.read(e.methodDesc);
      const meta = mds.metadataOf(e.methodDesc);
      if (meta instanceof Error) continue;
      if (meta.metadata.getMethodName(md.token) !== member) continue;
      return { methodDesc: md.address, methodToken: md.token, signature: mds.name(md.address), nativeCode: md.nativeCode };
    }
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    session.warn(`methods of MethodTable 0x${mt.toString(16)}: ${e.message}`);
  }
  return undefined;
}

function hasField(session: Session, mt: number, member: string): boolean {
  try {
    const info = objectReaderOf(session).tryReadMethodTable(mt);
    return info !== undefined && classFieldRows(session, info).some((r) => r.name === member);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    return false;
  }
}

function matchLines(m: Match): string[] {
  const typeLines = [`Token:       ${x16(m.token)}`, `MethodTable: ${x16(m.mt)}`, `Name:        ${m.name}`];
  switch (m.kind) {
    case 'type':
      return typeLines;
    case 'field':
      // Name2EECommand prints the words "(mdToken token)" literally.
      return [`Field ${m.field} (mdToken token) of`, ...typeLines];
    case 'method':
      return [
        `Token:       ${x16(m.methodToken)}`,
        `MethodDesc:  ${x16(m.methodDesc)}`,
        `Name:        ${m.signature}`,
        `JITTED Code Address: ${m.nativeCode === 0 ? NO_NATIVE_CODE : x16(m.nativeCode)}`,
      ];
  }
}

function matchJson(m: Match): Record<string, unknown> {
  const base = { kind: m.kind, token: hexJson(m.token), mt: hexJson(m.mt), name: m.name };
  if (m.kind === 'method') return { ...base, methodToken: hexJson(m.methodToken), methodDesc: hexJson(m.methodDesc), signature: m.signature, nativeCode: m.nativeCode === 0 ? null : hexJson(m.nativeCode) };
  if (m.kind === 'field') return { ...base, field: m.field };
  return base;
}

function matchesModuleName(mod: ClrModule, name: string): boolean {
  if (!mod.path) return false;
  const n = name.toLowerCase();
  const file = nodePath.win32.basename(mod.path);
  return file.toLowerCase() === n || nodePath.win32.basename(mod.path, nodePath.win32.extname(mod.path)).toLowerCase() === n || mod.path.toLowerCase() === n;
}

function moduleFileName(mod: ClrModule): string {
  if (!mod.path) return mod.imageBase === 0 ? '<dynamic>' : '<unknown>';
  return nodePath.win32.basename(mod.path);
}

function x16(n: number): string {
  return n.toString(16).padStart(16, '0');
}
