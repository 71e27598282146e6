/**
 * The type and method-signature texts SOS prints, built from metadata plus (for instantiations) what the runtime
 * layer knows. Three styles (see research/names-and-sos-output.md §A3):
 * - DAC style (`TypeString::AppendType`): ``System.Collections.Generic.Dictionary`2[[System.String, System.Private.CoreLib],[System.Int32, System.Private.CoreLib]]``;
 * - ClrMD style (`DacNameParser`): `System.Collections.Generic.Dictionary<System.String, System.Int32>`;
 * - SigFormat style for method parameter lists: `(Int32, System.String, System.Collections.Generic.List`1<Int32>)`.
 */
import { EcmaMetadata } from './ecma-metadata';
import { TableId } from './metadata-tables';
import { ElementType, MethodSig, SigCallConv, TypeSig } from './signature-decoder';

/** The name SOS prints for the free-space pseudo object's MethodTable, in every style. */
export const FREE_TYPE_NAME = 'Free';

/** A type name as a tree, rendered by `formatDacTypeName` and `formatClrMdTypeName`; the runtime layer builds it
 * from a MethodTable (segments from metadata, instantiation and array shape from the runtime). */
export type TypeNameNode =
  | {
      readonly kind: 'named';
      /** `+`-separated parts outermost first, unescaped; the first carries the namespace (`System.Collections.Generic.Dictionary`2`). */
      readonly segments: readonly string[];
      /** Simple name of the defining assembly (`System.Private.CoreLib`), printed after closed generic arguments. */
      readonly assembly: string;
      /** The instantiation (outer types' arguments first); undefined for a non-generic type or a generic definition. */
      readonly typeArgs?: readonly TypeNameNode[];
    }
  | { readonly kind: 'array'; readonly element: TypeNameNode; readonly rank: number; readonly isSzArray: boolean }
  | { readonly kind: 'pointer' | 'byref'; readonly element: TypeNameNode }
  /** A generic variable, printed by its metadata name (`T`, `TKey`). */
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'fnptr'; readonly returnType: TypeNameNode; readonly params: readonly TypeNameNode[] }
  | { readonly kind: 'free' };

/** One argument of `formatDacGenericInstantiation`: a formatted DAC name and its assembly (absent for a type variable). */
export interface DacTypeArg {
  readonly name: string;
  readonly assembly?: string;
}

// typeparse.h IsTypeNameReservedChar: these are escaped with a backslash inside each name.
const RESERVED = /[,[\]&*+\\]/g;

/** Escapes the characters `, [ ] & * + \` of one name segment with `\`, as the DAC's TypeNameBuilder does. */
export function escapeDacName(segment: string): string {
  return segment.replace(RESERVED, (c) => '\\' + c);
}

/** Array suffix in DAC style: `[]` (SZARRAY), `[*]` (rank-1 multi-dimensional), `[,]`, `[,,]`... */
export function arraySuffix(rank: number, isSzArray: boolean): string {
  if (isSzArray) return '[]';
  if (rank <= 1) return '[*]';
  return '[' + ','.repeat(rank - 1) + ']';
}

/** `elementName` + array suffix, e.g. `System.Int32[]`, `System.String[,]`, `System.Int32[][]` (SOS `dumparray`/`dumpobj` Name). */
export function formatDacArrayName(elementName: string, rank: number, isSzArray: boolean): string {
  return elementName + arraySuffix(rank, isSzArray);
}

/** A generic instantiation in DAC style: ``Name`N[[A, asmA],[B, asmB]]``; a type-variable argument (no assembly)
 * prints bare (``List`1[T]``). `genericFullName` is the already escaped DAC name of the definition. */
export function formatDacGenericInstantiation(genericFullName: string, args: readonly DacTypeArg[]): string {
  const parts = args.map((a) => (a.assembly === undefined ? a.name : `[${a.name}, ${a.assembly}]`));
  return `${genericFullName}[${parts.join(',')}]`;
}

/** The assembly SOS prints after `node` when it is a generic argument (an array's or pointer's is its element's). */
export function assemblyOfTypeName(node: TypeNameNode): string | undefined {
  switch (node.kind) {
    case 'named':
      return node.assembly;
    case 'array':
    case 'pointer':
    case 'byref':
      return assemblyOfTypeName(node.element);
    default:
      return undefined;
  }
}

/** The DAC-style name (`GetMethodTableName`, FormatNamespace|FormatFullInst) that `dumpobj`, `dumpmt`, `gchandles` print. */
export function formatDacTypeName(node: TypeNameNode): string {
  switch (node.kind) {
    case 'free':
      return FREE_TYPE_NAME;
    case 'var':
      return node.name;
    case 'named': {
      const base = node.segments.map(escapeDacName).join('+');
      if (!node.typeArgs || node.typeArgs.length === 0) return base;
      return formatDacGenericInstantiation(
        base,
        node.typeArgs.map((a) => ({ name: formatDacTypeName(a), assembly: assemblyOfTypeName(a) })),
      );
    }
    case 'array':
      return formatDacArrayName(formatDacTypeName(node.element), node.rank, node.isSzArray);
    case 'pointer':
      return formatDacTypeName(node.element) + '*';
    case 'byref':
      return formatDacTypeName(node.element) + '&';
    case 'fnptr':
      return `${formatDacTypeName(node.returnType)}(${node.params.map(formatDacTypeName).join(', ')})`;
  }
}

/** Generic arity declared by one name segment (`` `N`` suffix), 0 when none. */
export function arityOfSegment(segment: string): number {
  const m = /`(\d+)$/.exec(segment);
  return m ? Number(m[1]) : 0;
}

/** The ClrMD-style name (`DacNameParser`) that `dumpheap -stat`, `gcroot`, `finalizequeue`, `objsize` print:
 * arity suffixes dropped, arguments given to the segment whose backtick declared them as `<A, B>`. */
export function formatClrMdTypeName(node: TypeNameNode): string {
  switch (node.kind) {
    case 'free':
      return FREE_TYPE_NAME;
    case 'var':
      return node.name;
    case 'named': {
      const args = node.typeArgs ?? [];
      let next = 0;
      let invented = 0;
      const out: string[] = [];
      for (let i = 0; i < node.segments.length; i++) {
        const seg = node.segments[i];
        const arity = arityOfSegment(seg);
        const m = /`\d+$/.exec(seg);
        let text = m ? seg.slice(0, m.index) : seg;
        // Arguments without a declaring backtick (F#, obfuscators) all go to the last segment.
        const take = i === node.segments.length - 1 && args.length > 0 ? Math.max(arity, args.length - next) : arity;
        if (take > 0) {
          const names: string[] = [];
          for (let k = 0; k < take; k++) {
            // A generic definition (no instantiation) gets invented names T1, T2... as ClrMD prints them.
            names.push(next < args.length ? formatClrMdTypeName(args[next++]) : `T${++invented}`);
          }
          text += `<${names.join(', ')}>`;
        }
        out.push(text);
      }
      return out.join('+');
    }
    case 'array':
      return formatClrMdTypeName(node.element) + arraySuffix(node.rank, node.isSzArray);
    case 'pointer':
      return formatClrMdTypeName(node.element) + '*';
    case 'byref':
      return formatClrMdTypeName(node.element) + '&';
    case 'fnptr':
      return `${formatClrMdTypeName(node.returnType)}(${node.params.map(formatClrMdTypeName).join(', ')})`;
  }
}

/** A `named` node for TypeDef `token` of `md`, optionally instantiated with `typeArgs`. */
export function typeNameNodeOfTypeDef(md: EcmaMetadata, token: number, typeArgs?: readonly TypeNameNode[]): TypeNameNode {
  const node: TypeNameNode = { kind: 'named', segments: md.getTypeDefSegments(token), assembly: md.getAssemblySimpleName() };
  return typeArgs ? { ...node, typeArgs } : node;
}

const SIG_PRIMITIVE_NAMES: Record<number, string> = {
  [ElementType.Void]: 'Void',
  [ElementType.Boolean]: 'Boolean',
  [ElementType.Char]: 'Char',
  [ElementType.I1]: 'SByte',
  [ElementType.U1]: 'Byte',
  [ElementType.I2]: 'Int16',
  [ElementType.U2]: 'UInt16',
  [ElementType.I4]: 'Int32',
  [ElementType.U4]: 'UInt32',
  [ElementType.I8]: 'Int64',
  [ElementType.U8]: 'UInt64',
  [ElementType.R4]: 'Single',
  [ElementType.R8]: 'Double',
  [ElementType.String]: 'System.String',
  [ElementType.Object]: 'System.Object',
  [ElementType.TypedByRef]: 'TypedReference',
  [ElementType.I]: 'IntPtr',
  [ElementType.U]: 'UIntPtr',
};

/** SigFormat's name of a primitive element type (`Int32`, `System.String`, `IntPtr`...), or undefined. */
export function sigFormatPrimitiveName(elementType: number): string | undefined {
  return SIG_PRIMITIVE_NAMES[elementType];
}

const COR_TYPE_INFO_NAMES: Record<number, string> = {
  [ElementType.Void]: 'System.Void',
  [ElementType.Boolean]: 'System.Boolean',
  [ElementType.Char]: 'System.Char',
  [ElementType.I1]: 'System.SByte',
  [ElementType.U1]: 'System.Byte',
  [ElementType.I2]: 'System.Int16',
  [ElementType.U2]: 'System.UInt16',
  [ElementType.I4]: 'System.Int32',
  [ElementType.U4]: 'System.UInt32',
  [ElementType.I8]: 'System.Int64',
  [ElementType.U8]: 'System.UInt64',
  [ElementType.R4]: 'System.Single',
  [ElementType.R8]: 'System.Double',
  [ElementType.String]: 'System.String',
  [ElementType.Ptr]: 'PTR',
  [ElementType.ByRef]: 'BYREF',
  [ElementType.ValueType]: 'VALUETYPE',
  [ElementType.Class]: 'CLASS',
  [ElementType.Var]: 'VAR',
  [ElementType.Array]: 'ARRAY',
  [ElementType.GenericInst]: '',
  [ElementType.TypedByRef]: 'System.TypedReference',
  [ElementType.I]: 'System.IntPtr',
  [ElementType.U]: 'System.UIntPtr',
  [ElementType.FnPtr]: 'FNPTR',
  [ElementType.Object]: 'System.Object',
  [ElementType.SzArray]: 'SZARRAY',
  [ElementType.MVar]: 'MVAR',
};

/** The `cortypeinfo.h` name `dumpobj` prints in the field Type column when the field's type has no MethodTable
 * (`System.Int32`, `CLASS`, `SZARRAY`, '' for GENERICINST and modifiers). */
export function corElementTypeName(elementType: number): string {
  return COR_TYPE_INFO_NAMES[elementType] ?? '';
}

/** Runtime hooks for SigFormat text: what a type variable is instantiated with, and how to name an
 * ELEMENT_TYPE_INTERNAL type handle. Without them variables print `!0` / `!!0`, as SOS does without a context. */
export interface SigFormatContext {
  /** Formatted SigFormat names of the enclosing type's instantiation (`!0`, `!1`...). */
  readonly typeArgs?: readonly string[];
  /** Formatted SigFormat names of the method's instantiation (`!!0`...). */
  readonly methodArgs?: readonly string[];
  /** Name of a runtime TypeHandle found in a runtime-made signature. */
  readonly nameOfTypeHandle?: (handle: number) => string;
}

const UNKNOWN_TYPE = '**UNKNOWN TYPE**';

/** A signature type in SOS's SigFormat style (`sigformat.cpp` AddTypeString): primitives without namespace,
 * classes as `Namespace.Name` without enclosing types, ``Name`N<A,B>``, `T[]`, `T[,]`, `T*`, `T ByRef`, `Ret (A, B)`.
 * Custom modifiers are skipped (unconfirmed against SOS). Throws `DumpFormatError` for a bad token. */
export function formatSigType(md: EcmaMetadata, sig: TypeSig, ctx: SigFormatContext = {}): string {
  switch (sig.kind) {
    case 'primitive':
      return SIG_PRIMITIVE_NAMES[sig.elementType] ?? UNKNOWN_TYPE;
    case 'class':
    case 'valuetype':
      return formatTypeToken(md, sig.token, ctx);
    case 'var':
      return ctx.typeArgs?.[sig.index] ?? `!${sig.index}`;
    case 'mvar':
      return ctx.methodArgs?.[sig.index] ?? `!!${sig.index}`;
    case 'szarray':
      return formatSigType(md, sig.element, ctx) + '[]';
    case 'array':
      return formatSigType(md, sig.element, ctx) + '[' + ','.repeat(sig.rank - 1) + ']';
    case 'ptr':
      return formatSigType(md, sig.element, ctx) + '*';
    case 'byref':
      return formatSigType(md, sig.element, ctx) + ' ByRef';
    case 'pinned':
    case 'modified':
      return formatSigType(md, sig.element, ctx);
    case 'genericinst':
      return `${formatTypeToken(md, sig.token, ctx)}<${sig.args.map((a) => formatSigType(md, a, ctx)).join(',')}>`;
    case 'fnptr':
      return `${formatSigType(md, sig.method.returnType, ctx)} ${formatSigParams(md, sig.method, ctx)}`;
    case 'internal':
      return ctx.nameOfTypeHandle ? ctx.nameOfTypeHandle(sig.handle) : UNKNOWN_TYPE;
  }
}

/** The parameter list SOS appends to method names (`GetCStringParmsOnly`): `(Int32, System.String)`,
 * with `, ...` for varargs. Throws `DumpFormatError` for a bad token. */
export function formatSigParams(md: EcmaMetadata, sig: MethodSig, ctx: SigFormatContext = {}): string {
  let text = sig.params.map((p) => formatSigType(md, p, ctx)).join(', ');
  if ((sig.header & 0x0f) === SigCallConv.VarArg) text += text.length > 0 ? ', ...' : '...';
  return `(${text})`;
}

/** SigFormat name of a TypeDef/TypeRef/TypeSpec token. */
function formatTypeToken(md: EcmaMetadata, token: number, ctx: SigFormatContext): string {
  if (token >>> 24 === TableId.TypeSpec) return formatSigType(md, md.getTypeSpecSignature(token), ctx);
  return md.getTypeDefOrRefSimpleName(token);
}
