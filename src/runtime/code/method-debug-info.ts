/**
 * The debug info (IL↔native bounds, variable locations) of a code block, decoded by the format the runtime states:
 * no DebugInfo contract (.NET 10) is the flag-byte format of debug-info.ts; DebugInfo "c1" (.NET 11) is
 * debug-info-c1.ts. Another contract version is a new algorithm, refused by name rather than decoded as one of these.
 */
import { DumpFormatError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';
import { readMethodDebugInfo, readyToRunDebugInfoAddress, type MethodDebugInfo } from './debug-info';
import { readMethodDebugInfoC1 } from './debug-info-c1';
import type { CodeBlock, ExecutionManager } from './execution-manager';

const EMPTY: MethodDebugInfo = { bounds: [], vars: [] };

/** @internal The decoded debug info of `block`'s method; empty when the code has none (stubs, methods without debug info).
 * @throws DumpFormatError for a contract version with no decoder or a malformed blob; UnmappedAddressError. */
export function readBlockDebugInfo(rt: DotNetRuntime, em: ExecutionManager, block: CodeBlock): MethodDebugInfo {
  const m = rt.memory;
  const contract = rt.descriptor.contracts.get('DebugInfo');
  if (contract !== undefined && contract !== 'c1') throw new DumpFormatError(`this runtime's debug info (DebugInfo contract ${contract}) is in a format dumpsleuth does not decode`);
  let address: number | undefined;
  if (block.kind === 'jit') {
    if (block.codeHeader === 0) return EMPTY;
    const field = rt.descriptor.has('RealCodeHeader', 'DebugInfo') ? rt.descriptor.offset('RealCodeHeader', 'DebugInfo') : 0;
    address = m.readPointer(block.codeHeader + field);
  } else {
    if (block.runtimeFunctionIndex === undefined) return EMPTY;
    address = readyToRunDebugInfoAddress(m, block.rangeSection.rangeBegin, em.readyToRunHeader(block.rangeSection), block.runtimeFunctionIndex);
  }
  if (!address) return EMPTY;
  if (contract === 'c1') return readMethodDebugInfoC1(m, address);
  return readMethodDebugInfo(m, address, block.kind === 'jit');
}
