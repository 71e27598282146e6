/**
 * One place that turns code addresses into methods for the commands: the ExecutionManager for JIT'd and R2R code,
 * precodes for entry stubs, and the interim MethodDesc reader for names. Cached per runtime.
 */
import type { DotNetRuntime } from '../dotnet-runtime';
import type { ModuleReader } from '../loader';
import type { MethodTableReader } from '../method-table';
import type { TypeNameResolver } from '../type-names';
import { executionManagerOf, type CodeBlock, type ExecutionManager } from './execution-manager';
import { MethodDescNames } from './method-desc-name';
import { PrecodeReader, type PrecodeInfo } from './precode';

/** How a code address resolved. */
export type CodeAddressInfo =
  | { readonly kind: 'code'; readonly address: number; readonly methodDesc: number; readonly block: CodeBlock }
  | { readonly kind: 'precode'; readonly address: number; readonly methodDesc: number; readonly precode: PrecodeInfo; readonly block?: CodeBlock }
  | { readonly kind: 'none'; readonly address: number };

/** What the code layer needs from the rest of the runtime layer. */
export interface CodeResolverParts {
  readonly runtime: DotNetRuntime;
  readonly methodTables: MethodTableReader;
  readonly modules: ModuleReader;
  readonly names: TypeNameResolver;
}

/** Resolves code addresses and entry points to MethodDescs and names. */
export class CodeResolver {
  readonly em: ExecutionManager;
  readonly methodDescs: MethodDescNames;
  private precodeReader?: PrecodeReader;

  constructor(readonly parts: CodeResolverParts) {
    this.em = executionManagerOf(parts.runtime);
    this.methodDescs = new MethodDescNames(parts.runtime, parts.methodTables, parts.modules, parts.names);
  }

  /** The precode reader (built on first use). @throws MissingRuntimeDataError when the descriptor lacks PlatformMetadata. */
  get precodes(): PrecodeReader {
    return (this.precodeReader ??= new PrecodeReader(this.parts.runtime, (md) => this.methodDescs.tryRead(md) !== undefined));
  }

  /** ip2md semantics (`GetMethodDescPtrFromIP`): only addresses inside JIT'd or R2R method code resolve. */
  methodOfIP(address: number): CodeBlock | undefined {
    return this.em.tryFindCodeBlock(address);
  }

  /** Like `methodOfIP`, but a code map the dump lacks is an error rather than "not managed code".
   * @throws UnmappedAddressError (or another DumpsleuthError) when a structure on the way is not readable. */
  findMethodOfIP(address: number): CodeBlock | undefined {
    return this.em.findCodeBlock(address);
  }

  /** Entry-point semantics (SOS `TryGetMethodDescriptorForDelegate`, runtime `Entry2MethodDesc`): method code
   * first, then a precode starting at `address`. Never throws for unreadable memory. */
  resolveEntryPoint(address: number): CodeAddressInfo {
    if (address === 0) return { kind: 'none', address };
    const block = this.em.tryFindCodeBlock(address);
    if (block) return { kind: 'code', address, methodDesc: block.methodDesc, block };
    const precode = this.precodes.tryRead(address);
    if (precode && this.methodDescs.tryRead(precode.methodDesc)) {
      // A patched precode jumps to the method's current code.
      const target = precode.target !== 0 ? this.em.tryFindCodeBlock(precode.target) : undefined;
      return { kind: 'precode', address, methodDesc: precode.methodDesc, precode, ...(target ? { block: target } : {}) };
    }
    return { kind: 'none', address };
  }
}

const resolvers = new WeakMap<DotNetRuntime, CodeResolver>();

/** The CodeResolver of a runtime (one per runtime). */
export function codeResolverOf(parts: CodeResolverParts): CodeResolver {
  let r = resolvers.get(parts.runtime);
  if (!r) {
    r = new CodeResolver(parts);
    resolvers.set(parts.runtime, r);
  }
  return r;
}
