/**
 * A managed frame's arguments and locals as the DAC's ClrDataFrame reports them to SOS's `clrstack -p/-l/-a`: the
 * count and names from metadata (the signature, Param rows, the IL header's LocalVarSig), each variable's location
 * from the method's debug info (the first NativeVarInfo of that IL variable whose [start, end] holds the frame's
 * code offset — the end counts, as in ClrDataFrame::ValueFromDebugInfo), and its value read from the frame's
 * register context or stack: primitives at their own size, anything else as one pointer-sized slot.
 */
import { DumpsleuthError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import { decodeLocalVarSignature, ElementType, type TypeSig } from '../metadata/signature-decoder';
import type { CodeResolver } from './code-resolver';
import { VarLocType, type NativeVarInfo } from './debug-info';
import { readBlockDebugInfo } from './method-debug-info';
import { ilAddress } from './method-details';
import { MethodClassification } from './method-desc-name';
import type { StackFrame } from './stack-walker';
import type { X64Context } from './x64-unwinder';

/** Where a variable lives at the frame's IP. */
export type VariableLocation = { readonly kind: 'register'; readonly register: number } | { readonly kind: 'memory'; readonly address: number } | { readonly kind: 'split' };

/** One argument or local. */
export interface FrameVariable {
  /** The parameter name (`this` for the instance); '' for locals and unnamed parameters. */
  readonly name: string;
  /** Undefined when the debug info has no live location at the frame's IP. */
  readonly location?: VariableLocation;
  /** The value's bytes as an unsigned integer (the DAC's 1/2/4/8-byte read; 0 for other sizes); undefined when
   * there is no location or the memory is not in the dump. */
  readonly value?: bigint;
  /** True when the location is known but its memory is not in the dump. */
  readonly unreadable?: boolean;
}

/** The arguments and locals of a frame; `locals` is undefined when the method has no local signature (SOS then
 * prints no LOCALS section). */
export interface FrameVariables {
  readonly args: readonly FrameVariable[];
  readonly locals?: readonly FrameVariable[];
  /** Why no debug info was read, when none was (every variable is then without location). */
  readonly debugInfoProblem?: string;
}

const AMBIENT_SP = 16;
const RSP = 4;

/** Primitive element types and their sizes (the DAC reads a primitive at its own size). */
const PRIMITIVE_SIZE = new Map<number, number>([
  [ElementType.Boolean, 1],
  [ElementType.Char, 2],
  [ElementType.I1, 1],
  [ElementType.U1, 1],
  [ElementType.I2, 2],
  [ElementType.U2, 2],
  [ElementType.I4, 4],
  [ElementType.U4, 4],
  [ElementType.I8, 8],
  [ElementType.U8, 8],
  [ElementType.R4, 4],
  [ElementType.R8, 8],
  [ElementType.I, 8],
  [ElementType.U, 8],
]);

function valueSize(type: TypeSig | undefined): number {
  let t = type;
  while (t && (t.kind === 'modified' || t.kind === 'pinned')) t = t.element;
  return t && t.kind === 'primitive' ? (PRIMITIVE_SIZE.get(t.elementType) ?? 8) : 8;
}

/** Reads the variables of managed frame `frame`. Never throws for missing data: what cannot be read has no value. */
export function readFrameVariables(rt: DotNetRuntime, code: CodeResolver, frame: Extract<StackFrame, { kind: 'managed' }>): FrameVariables {
  const info = code.methodDescs.tryRead(frame.methodDesc);
  if (!info) return { args: [] };
  const module = code.methodDescs.module(frame.methodDesc);
  const meta = code.parts.names.moduleMetadata(module);
  if (meta instanceof Error || info.classification === MethodClassification.Dynamic) return { args: [] };
  const md = meta.metadata;
  const sig = md.getMethodSignature(info.token);
  const hasThis = (sig.header & 0x20) !== 0;
  const params = md.getParamsOfMethod(info.token);
  let vars: readonly NativeVarInfo[] = [];
  let debugInfoProblem: string | undefined;
  try {
    vars = debugVars(rt, code, frame);
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
    debugInfoProblem = e.message;
  }
  const offset = frame.ip - frame.block.startAddress;
  const argCount = sig.params.length + (hasThis ? 1 : 0);
  const args: FrameVariable[] = [];
  for (let i = 0; i < argCount; i++) {
    const name = hasThis && i === 0 ? 'this' : (params.find((p) => p.sequence === (hasThis ? i : i + 1))?.name ?? '');
    const type = hasThis && i === 0 ? undefined : sig.params[hasThis ? i - 1 : i];
    args.push({ name, ...variableAt(rt, vars, offset, i, frame.context, valueSize(type)) });
  }
  let locals: FrameVariable[] | undefined;
  const localTypes = isIL(info.classification) ? localSignature(rt, code, module, info.token) : undefined;
  if (localTypes) {
    locals = localTypes.map((type, k) => ({ name: '', ...variableAt(rt, vars, offset, argCount + k, frame.context, valueSize(type)) }));
  }
  return { args, ...(locals ? { locals } : {}), ...(debugInfoProblem !== undefined ? { debugInfoProblem } : {}) };
}

function isIL(classification: number): boolean {
  return classification === MethodClassification.IL || classification === MethodClassification.Instantiated;
}

function debugVars(rt: DotNetRuntime, code: CodeResolver, frame: Extract<StackFrame, { kind: 'managed' }>): readonly NativeVarInfo[] {
  return readBlockDebugInfo(rt, code.em, frame.block).vars;
}

/** The types of the method's locals from its IL header's LocalVarSig; undefined when it has none (tiny header,
 * no signature token) or the IL is not readable. */
function localSignature(rt: DotNetRuntime, code: CodeResolver, module: number, token: number): TypeSig[] | undefined {
  try {
    const il = ilAddress(code, module, token);
    if (il === 0) return undefined;
    const m = rt.memory;
    const first = m.readU8(il);
    if ((first & 3) !== 3) return undefined;
    const sigToken = m.readU32(il + 8);
    if (sigToken === 0) return undefined;
    const meta = code.parts.names.moduleMetadata(module);
    if (meta instanceof Error) return undefined;
    const blob = meta.metadata.getStandAloneSigBlob(sigToken);
    return decodeLocalVarSignature(blob, 0, blob.length);
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

function registerValue(ctx: X64Context, reg: number): number {
  return ctx.regs[reg === AMBIENT_SP ? RSP : reg] ?? NaN;
}

function variableAt(rt: DotNetRuntime, vars: readonly NativeVarInfo[], offset: number, varNumber: number, ctx: X64Context, size: number): Omit<FrameVariable, 'name'> {
  const v = vars.find((x) => x.varNumber === varNumber && x.startOffset <= offset && offset <= x.endOffset);
  if (!v) return {};
  const m = rt.memory;
  const read = (address: number, n: number): bigint | undefined => {
    try {
      const bytes = m.read(address, n);
      let value = 0n;
      for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
      return value;
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  };
  switch (v.type) {
    case VarLocType.REG: {
      const raw = registerValue(ctx, v.reg!);
      if (!Number.isFinite(raw)) return { location: { kind: 'register', register: v.reg! } };
      const mask = size >= 8 ? (1n << 64n) - 1n : (1n << BigInt(8 * size)) - 1n;
      return { location: { kind: 'register', register: v.reg! }, value: BigInt(raw) & mask };
    }
    case VarLocType.STK: {
      const address = registerValue(ctx, v.baseReg!) + v.offset!;
      const value = read(address, size);
      return { location: { kind: 'memory', address }, ...(value !== undefined ? { value } : { unreadable: true }) };
    }
    case VarLocType.REG_BYREF: {
      const address = registerValue(ctx, v.reg!);
      const value = read(address, size);
      return { location: { kind: 'memory', address }, ...(value !== undefined ? { value } : { unreadable: true }) };
    }
    case VarLocType.STK_BYREF: {
      const slot = read(registerValue(ctx, v.baseReg!) + v.offset!, 8);
      if (slot === undefined) return { location: { kind: 'split' }, unreadable: true };
      const address = Number(slot);
      const value = read(address, size);
      return { location: { kind: 'memory', address }, ...(value !== undefined ? { value } : { unreadable: true }) };
    }
    default:
      // Two locations (register pairs, register + stack, two stack slots) or x87/vararg ones: the DAC reports no
      // single location, and its value read is wider than 8 bytes, which SOS prints as 0.
      return { location: { kind: 'split' }, value: 0n };
  }
}
