/**
 * The culprit of growth with no delegate on its path: the method that adds to the collection. The holder is the
 * field nearest the growing objects on the chain that user code declares — a static field (a statics array's slot)
 * or an instance field of a user type — and the candidates are the methods of its declaring type whose IL (read
 * from the module image in the dump, or the image file overlaid on it) loads that field and calls an adding method
 * (`Add`, `set_Item`, `Enqueue`, ...). The IL says which methods can add; which one ran is not in a heap dump, so
 * the evidence says so, and when no method qualifies the answer says why instead of naming one.
 */
import { DumpFormatError, DumpsleuthError } from '../errors';
import { DEPENDENT_EDGE } from '../heap/object-graph';
import { FieldDescReader } from '../runtime/field-desc';
import { PeImage } from '../runtime/metadata/pe-image';
import { staticSlotsOf } from '../runtime/static-slots';
import type { AnalysisContext, RetentionPath } from './analysis-context';
import type { Culprit } from './finding';
import { methodCulprit } from './rules/rule-support';

const POINTER = 8;
/** Methods whose call, after the holder field is loaded, adds to (or replaces an element of) a collection. */
const ADDERS = new Set(['Add', 'AddRange', 'set_Item', 'TryAdd', 'Enqueue', 'Push', 'Insert', 'InsertRange', 'AddOrUpdate', 'GetOrAdd', 'AddFirst', 'AddLast', 'AddBefore', 'AddAfter', 'Combine', 'UnionWith']);
const MAX_IL_BYTES = 1 << 20;

/** The field that holds a growing cluster. */
export interface Holder {
  readonly declaringMT: number;
  /** FieldDef token. */
  readonly token: number;
  readonly isStatic: boolean;
  /** `Type.field`. */
  readonly name: string;
}

/** The culprit, or why none is named. */
export interface HolderCulprit {
  readonly holder?: Holder;
  readonly culprit?: Culprit;
  /** Why no method is named (absent when one is). */
  readonly note?: string;
}

/** The adding method of the field that holds `path`'s last object (see the file comment). */
export function holderCulprit(ctx: AnalysisContext, path: RetentionPath): HolderCulprit {
  const holder = holderOf(ctx, path);
  if (!holder) return { note: 'no static field or field of a user type holds the chain, so no method can be named' };
  const typeName = ctx.names.clrmdName(holder.declaringMT);
  let scan: MethodScan[];
  try {
    scan = scanMethods(ctx, holder);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    return { holder, note: `the IL of ${typeName}'s methods is not readable (${e.message}), so no method can be named` };
  }
  const touching = scan.filter((m) => m.touches);
  const adders = touching.filter((m) => m.adds.length > 0);
  // A static constructor fills a collection once; growth comes from the others.
  const ranked = [...adders.filter((m) => m.name !== '.cctor' && m.name !== '.ctor'), ...adders.filter((m) => m.name === '.cctor' || m.name === '.ctor')];
  const best = ranked[0];
  if (!best) {
    const names = touching.map((m) => m.name);
    return {
      holder,
      note:
        names.length === 0
          ? `no method of ${typeName} uses ${holder.name} in its IL (code elsewhere reaches it), so no method can be named`
          : `no method of ${typeName} both loads ${holder.name} and calls an adding method in its IL (${names.join(', ')} use it), so no method can be named`,
    };
  }
  const others = ranked.slice(1).map((m) => m.name);
  const evidence =
    `its IL loads ${holder.name}, which holds the growing objects, and calls ${[...new Set(best.adds)].join(', ')}` +
    (others.length > 0 ? ` (so do ${others.join(', ')})` : ` (the only method of ${typeName} that does)`) +
    '; a heap dump does not say which call ran';
  const info = ctx.parts.methodTables.read(holder.declaringMT);
  const methodDesc = ctx.modules.lookupMapElement(info.module, 'MethodDefToDescMap', best.token);
  const culprit: Culprit =
    methodDesc !== 0
      ? methodCulprit(ctx, methodDesc, evidence)
      : { method: `${ctx.names.dacName(holder.declaringMT)}.${best.name}`, type: ctx.names.dacName(holder.declaringMT), module: ctx.moduleFileName(info.module), evidence };
  return { holder, culprit };
}

/** The holder field: walking back from the growing object, the first link out of a statics array slot or out of a
 * user type's instance field. */
export function holderOf(ctx: AnalysisContext, path: RetentionPath): Holder | undefined {
  const g = ctx.graph;
  const p = ctx.parts;
  for (let k = path.nodes.length - 2; k >= 0; k--) {
    const from = path.nodes[k]!;
    const edge = path.edges[k + 1]!;
    if (edge < 0) continue;
    const offset = g.edgeOffsetOf(edge);
    if (offset === DEPENDENT_EDGE || Number.isNaN(offset)) continue;
    const mt = g.mtOf(from);
    try {
      if (ctx.typeName(from) === 'System.Object[]') {
        const slot = staticSlotsOf(p.runtime, p.methodTables, p.modules, (m) => p.names.moduleMetadata(m)).at(g.addresses[from]! + offset);
        if (slot) return { declaringMT: slot.declaringMT, token: slot.fieldDesc.token, isStatic: true, name: `${p.names.clrmdName(slot.declaringMT)}.${slot.field}` };
        continue;
      }
      if (!ctx.isUserType(mt)) continue;
      const fields = new FieldDescReader(p.runtime, p.methodTables);
      for (const cls of fields.hierarchy(p.methodTables.read(mt))) {
        for (const f of cls.fields) {
          if (f.isStatic || f.offset + POINTER !== offset) continue;
          return { declaringMT: cls.mt, token: f.token, isStatic: false, name: `${p.names.clrmdName(cls.mt)}.${ctx.slotName(from, edge)}` };
        }
      }
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
  }
  return undefined;
}

interface MethodScan {
  readonly token: number;
  readonly name: string;
  /** Loads or stores the holder field. */
  readonly touches: boolean;
  /** Names of the adding methods it calls. */
  readonly adds: readonly string[];
}

/** Reads and decodes the IL of every method of the holder's declaring type. */
function scanMethods(ctx: AnalysisContext, holder: Holder): MethodScan[] {
  const p = ctx.parts;
  const info = p.methodTables.read(holder.declaringMT);
  const md = p.names.moduleMetadata(info.module);
  if (md instanceof Error) throw md;
  const mod = p.modules.read(info.module);
  if (mod.imageBase === 0) throw new DumpFormatError('the module has no loaded PE image');
  const memory = p.runtime.memory;
  const image = new PeImage({ read: (offset: number, length: number) => Uint8Array.from(memory.read(mod.imageBase + offset, length)) }, { isMapped: mod.isMappedLayout });
  const meta = md.metadata;
  const calleeName = (token: number): string | undefined => {
    const table = token >>> 24;
    if (table === 0x0a) return meta.getMemberRef(token).name;
    if (table === 0x06) return meta.getMethodName(token);
    return undefined;
  };
  const fieldOps = holder.isStatic ? STATIC_FIELD_OPS : INSTANCE_FIELD_OPS;
  const out: MethodScan[] = [];
  for (const token of meta.getMethodsOfType(info.typeDefToken)) {
    const rva = meta.getMethodRva(token);
    if (rva === 0) continue;
    const il = methodIl(image, rva);
    let touches = false;
    // Armed from a load of the holder field until another holder-like field is loaded (a static, or a field of
    // `this`): an adding call in between is most likely made on the holder's collection (`s_a.Add(x);
    // s_b.Enqueue(y)` counts Add only). Stores (object initializers) and fields of other objects do not disarm.
    let armed = false;
    let previous = -1;
    const adds: string[] = [];
    forEachInstruction(il, (op, operand) => {
      if (fieldOps.has(op) && operand === holder.token) touches = armed = true;
      else if (op === LDSFLD || op === LDSFLDA || ((op === LDFLD || op === LDFLDA) && previous === LDARG_0)) armed = false;
      else if ((op === CALL || op === CALLVIRT) && armed) {
        const name = calleeName(operand);
        if (name !== undefined && ADDERS.has(name)) adds.push(name);
      }
      previous = op;
    });
    out.push({ token, name: meta.getMethodName(token), touches, adds });
  }
  return out;
}

/** The code bytes of the method body at `rva` (ECMA-335 II.25.4: tiny or fat header). */
function methodIl(image: PeImage, rva: number): Uint8Array {
  const first = image.readRva(rva, 1)[0]!;
  if ((first & 3) === 2) return image.readRva(rva + 1, first >>> 2);
  if ((first & 3) !== 3) throw new DumpFormatError(`method body at RVA 0x${rva.toString(16)} has no tiny or fat header`);
  const head = image.readRva(rva, 12);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerBytes = ((view.getUint16(0, true) >>> 12) & 0xf) * 4;
  const codeSize = view.getUint32(4, true);
  if (headerBytes < 12 || codeSize > MAX_IL_BYTES) throw new DumpFormatError(`method body at RVA 0x${rva.toString(16)} has an implausible fat header`);
  return image.readRva(rva + headerBytes, codeSize);
}

const CALL = 0x28;
const LDARG_0 = 0x02;
const LDFLD = 0x7b;
const LDFLDA = 0x7c;
const LDSFLD = 0x7e;
const LDSFLDA = 0x7f;
const CALLVIRT = 0x6f;
const STATIC_FIELD_OPS = new Set([0x7e, 0x7f, 0x80]);
const INSTANCE_FIELD_OPS = new Set([0x7b, 0x7c, 0x7d]);
/** One-byte opcodes by operand size (ECMA-335 III); all others have none. */
const ONE_BYTE_OPERAND = new Set([0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x1f, 0xde, ...range(0x2b, 0x37)]);
const FOUR_BYTE_OPERAND = new Set([
  0x20, 0x22, 0x27, 0x28, 0x29, ...range(0x38, 0x44), 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x79, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x8c, 0x8d, 0x8f, 0xa3, 0xa4,
  0xa5, 0xc2, 0xc6, 0xd0, 0xdd,
]);
const EIGHT_BYTE_OPERAND = new Set([0x21, 0x23]);
const SWITCH = 0x45;
/** Operand sizes of the 0xFE-prefixed opcodes that have one. */
const PREFIXED_OPERAND = new Map<number, number>([
  [0x06, 4], [0x07, 4], [0x09, 2], [0x0a, 2], [0x0b, 2], [0x0c, 2], [0x0d, 2], [0x0e, 2], [0x12, 1], [0x15, 4], [0x16, 4], [0x19, 1], [0x1c, 4],
]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Calls `visit(opcode, operand)` for each instruction (operand: the 4-byte token or 0); stops at a truncated one. */
function forEachInstruction(il: Uint8Array, visit: (op: number, operand: number) => void): void {
  const view = new DataView(il.buffer, il.byteOffset, il.byteLength);
  let i = 0;
  while (i < il.length) {
    const op = il[i++]!;
    if (op === 0xfe) {
      const op2 = il[i++];
      if (op2 === undefined) return;
      i += PREFIXED_OPERAND.get(op2) ?? 0;
      continue;
    }
    if (FOUR_BYTE_OPERAND.has(op)) {
      if (i + 4 > il.length) return;
      visit(op, view.getUint32(i, true));
      i += 4;
    } else if (ONE_BYTE_OPERAND.has(op)) i += 1;
    else if (EIGHT_BYTE_OPERAND.has(op)) i += 8;
    else if (op === SWITCH) {
      if (i + 4 > il.length) return;
      i += 4 + 4 * view.getUint32(i, true);
    } else visit(op, 0);
  }
}
