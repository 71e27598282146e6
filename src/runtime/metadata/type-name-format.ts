/**
 * The signature texts SOS prints, from metadata: SigFormat style for method parameter lists
 * (`(Int32, System.String, System.Collections.Generic.List`1<Int32>)`, research/names-and-sos-output.md §A3) and the
 * dumpobj Type column for element types without a MethodTable. Type names in DAC and ClrMD style are rendered by
 * runtime/type-names.ts, which knows instantiations.
 */
import { EcmaMetadata } from './ecma-metadata';
import { TableId } from './metadata-tables';
import { ElementType, MethodSig, SigCallConv, TypeSig } from './signature-decoder';

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
