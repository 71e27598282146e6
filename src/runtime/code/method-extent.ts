/**
 * A method's native code range: where it starts (the code block's method start) and how long it is (the code length
 * in its GC info header, EEJitManager::JitTokenToMethodRegionInfo / GetCodeHeaderData.MethodSize); for ReadyToRun
 * code split into hot and cold parts, both regions. research/code-and-stacks-net10.md §1.5.
 */
import { DumpsleuthError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import type { CodeResolver } from './code-resolver';
import type { CodeBlock } from './execution-manager';
import { readGcInfoCodeLength } from './gcinfo-decoder';
import { defaultNativeCode, readMethodDetails } from './method-details';

/** One contiguous region of a method's code, [start, start + size). */
export interface CodeRegion {
  readonly start: number;
  readonly size: number;
}

/** A method's code: its hot region (main body and funclets) and, for split R2R code, its cold region. */
export interface MethodExtent {
  readonly block: CodeBlock;
  /** Code length from the GC info (hot + cold). */
  readonly codeLength: number;
  readonly hot: CodeRegion;
  readonly cold?: CodeRegion;
}

/** The code extent of the method owning `block`. @throws UnmappedAddressError when its GC info is not in the dump,
 * DumpFormatError when the GC info is malformed. */
export function readMethodExtent(rt: DotNetRuntime, block: CodeBlock): MethodExtent {
  if (block.gcInfo === 0) throw new DumpsleuthError(`the method at 0x${block.startAddress.toString(16)} has no GC info`);
  const codeLength = readGcInfoCodeLength(rt.memory, block.gcInfo, block.gcInfoVersion);
  if (block.coldStart !== undefined && block.hotSize !== undefined && block.hotSize < codeLength) {
    return { block, codeLength, hot: { start: block.startAddress, size: block.hotSize }, cold: { start: block.coldStart, size: codeLength - block.hotSize } };
  }
  return { block, codeLength, hot: { start: block.startAddress, size: codeLength } };
}

/** How a user's address named a method: code inside it, or its MethodDesc (then its current native code). */
export type MethodCodeTarget =
  | { readonly kind: 'code'; readonly address: number; readonly block: CodeBlock }
  | { readonly kind: 'methodDesc'; readonly address: number; readonly block: CodeBlock }
  | { readonly kind: 'notJitted'; readonly address: number; readonly methodDesc: number }
  | { readonly kind: 'none'; readonly address: number };

/** Resolves `address` as code first (SOS `u`/`gcinfo`: an IP inside a method), then as a MethodDesc with native code.
 * Never throws for memory missing from the dump. */
export function resolveMethodCode(code: CodeResolver, address: number): MethodCodeTarget {
  const block = code.methodOfIP(address);
  if (block) return { kind: 'code', address, block };
  try {
    const details = readMethodDetails(code, address);
    const native = details.currentCode ?? defaultNativeCode(code, address);
    const target = native ? code.methodOfIP(native) : undefined;
    if (target) return { kind: 'methodDesc', address, block: target };
    return { kind: 'notJitted', address, methodDesc: address };
  } catch (e) {
    if (e instanceof DumpsleuthError) return { kind: 'none', address };
    throw e;
  }
}
