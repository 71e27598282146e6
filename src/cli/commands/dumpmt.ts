/**
 * `dumpmt [-md] <MethodTable>`: a type's MethodTable facts and, with -md, every vtable slot and introduced method
 * with its entry point, MethodDesc and JIT state, in SOS's text (strike.cpp DumpMT).
 */
import { DumpsleuthError, UsageError } from '../../errors';
import { MethodDescReader } from '../../runtime/method-desc';
import type { MethodTableInfo } from '../../runtime/method-table';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, left, p16, p16Upper, right } from '../format';
import type { Session } from '../session';
import { moduleFile } from './dumpobj';
import { objectReaderOf } from './object-text';
import { reportNameProblems } from './warnings';

const readers = new WeakMap<Session, MethodDescReader>();

/** The session's MethodDescReader, created on first use. */
export function methodDescReaderOf(session: Session): MethodDescReader {
  let r = readers.get(session);
  if (!r) {
    r = new MethodDescReader(session.runtime, session.methodTables, session.names, session.modules);
    readers.set(session, r);
  }
  return r;
}

/** Reads a user-given MethodTable. @throws UsageError when it is not one. */
export function methodTableArg(session: Session, command: string, text: string | undefined): MethodTableInfo {
  const address = addressArg(command, text, 'MethodTable');
  // SOS clears the two low bits (a TypeHandle may be tagged).
  const mt = objectReaderOf(session).tryReadMethodTable(address - (address % 4));
  if (!mt) throw new UsageError(`${command}: 0x${address.toString(16)} is not a MethodTable`);
  if (mt.address === session.heap.freeObjectMethodTable) throw new UsageError(`${command}: 0x${address.toString(16)} is the free-space MethodTable`);
  return mt;
}

/** The dumpmt command. */
export const dumpmtCommand: Command = {
  name: 'dumpmt',
  aliases: [],
  summary: "Show a MethodTable: name, module, sizes, and with -md its methods",
  usage: 'dumpmt [-md] <MethodTable>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpmt', args, ['md'], []);
    const mt = methodTableArg(session, 'dumpmt', opts.positional[0]);
    const mds = methodDescReaderOf(session);
    const names = session.names;
    const meta = names.moduleMetadata(mt.module);
    const name = names.dacName(mt.address);
    const row = (k: string, v: string, w = 20) => `${left(k, w)} ${v}`;
    const lines = [row('Parent:', p16(mt.parent))];
    if (mt.canonicalMT !== mt.address) lines.push(row('Canonical:', p16(mt.canonicalMT)));
    lines.push(
      row('Module:', p16Upper(mt.module)),
      row('Name:', name),
      row('mdToken:', p16Upper(mt.typeDefToken)),
      row('File:', moduleFile(session, mt.module)),
    );
    const alc = assemblyLoadContext(session, mt.module);
    lines.push(row('AssemblyLoadContext:', alc === 0 ? "Default ALC - The managed instance of this context doesn't exist yet." : p16(alc)));
    // The DAC reports a string's BaseSize without the terminating NUL character (GetMethodTableData).
    const baseSize = mt.isString ? mt.baseSize - 2 : mt.baseSize;
    lines.push(row('BaseSize:', '0x' + baseSize.toString(16)));
    if (mt.componentSize !== 0) lines.push(row('ComponentSize:', '0x' + mt.componentSize.toString(16)));
    const numMethods = mds.numMethods(mt);
    lines.push(row('Has GC Pointers:', mt.containsGCPointers ? 'true' : 'false'), row('Number of Methods:', String(numMethods)));
    lines.push(row('Number of IFaces in IFaceMap:', String(mt.numInterfaces), 29));
    const json: Record<string, unknown> = {
      mt: hexJson(mt.address),
      name,
      parent: hexJson(mt.parent),
      canonicalMT: hexJson(mt.canonicalMT),
      eeClass: hexJson(mt.eeClass),
      module: hexJson(mt.module),
      token: hexJson(mt.typeDefToken),
      file: moduleFile(session, mt.module),
      assembly: meta instanceof Error ? null : meta.assemblyName,
      baseSize,
      componentSize: mt.componentSize,
      containsGCPointers: mt.containsGCPointers,
      numMethods,
      numVirtuals: mt.numVirtuals,
      numInterfaces: mt.numInterfaces,
    };
    if (opts.flags.has('md')) {
      lines.push('--------------------------------------', 'MethodDesc Table');
      lines.push(`${right('Entry', 16)} ${right('MethodDesc', 16)} ${right('JIT', 6)} ${left('Slot', 16)} Name`);
      const methods: unknown[] = [];
      for (const e of mds.enumerateForType(mt)) {
        const jit = mds.jitState(e.methodDesc, e.entryPoint);
        let methodName: string;
        try {
          methodName = e.methodDesc !== 0 ? mds.name(e.methodDesc) : 'Unknown';
        } catch (err) {
          if (!(err instanceof DumpsleuthError)) throw err;
          session.warn(`method name of MethodDesc 0x${e.methodDesc.toString(16)}: ${err.message}`);
          methodName = `<unknown method @${e.methodDesc.toString(16)}>`;
        }
        lines.push(`${p16Upper(e.entryPoint)} ${p16Upper(e.methodDesc)} ${right(jit, 6)} ${p16Upper(e.slot)} ${methodName}`);
        methods.push({ entryPoint: hexJson(e.entryPoint), methodDesc: hexJson(e.methodDesc), jit, slot: e.slot, name: methodName });
      }
      json.methods = methods;
    }
    reportNameProblems(session);
    return { text: lines.join('\n'), json };
  },
};

/** The managed AssemblyLoadContext handle of a module's binder (0 for the default context before it exists). */
function assemblyLoadContext(session: Session, module: number): number {
  const d = session.runtime.descriptor;
  const m = session.runtime.memory;
  try {
    const peAssembly = m.readPointer(module + d.offset('Module', 'PEAssembly'));
    const binder = peAssembly === 0 ? 0 : m.readPointer(peAssembly + d.offset('PEAssembly', 'AssemblyBinder'));
    return binder === 0 ? 0 : m.readPointer(binder + d.offset('AssemblyBinder', 'AssemblyLoadContext'));
  } catch (e) {
    if (e instanceof DumpsleuthError) return 0;
    throw e;
  }
}
