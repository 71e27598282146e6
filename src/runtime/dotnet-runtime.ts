/**
 * Finds the CoreCLR runtime in a dump and exposes its contract descriptor: the root of everything in `runtime/`.
 */
import { MissingRuntimeDataError, DumpsleuthError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import { findModuleExport } from '../dump/module-exports';
import { tryReadPeProductVersion } from '../dump/pe-version';
import { ContractDescriptor, readContractDescriptor, type ConstantBytesReader } from './contract-descriptor';

/** What the runtime layer needs of a dump: its memory and its loaded modules. */
export interface RuntimeHost {
  readonly path: string;
  readonly memory: MemoryReader;
  readonly modules: readonly { readonly path: string; readonly baseAddress: number; readonly endAddress: number }[];
}

/** The dump is not of a .NET (CoreCLR) process. */
export class NotDotNetError extends DumpsleuthError {}

/** libcoreclr.so on Linux, coreclr.dll on Windows (any case: Windows paths are case-insensitive). */
const CORECLR_NAME = /(^|[\\/])(libcoreclr\.so|coreclr\.dll)$/i;

/** The CoreCLR runtime of one dump: where it is loaded, its descriptor, its version. */
export class DotNetRuntime {
  private constructor(
    readonly host: RuntimeHost,
    readonly memory: MemoryReader,
    readonly coreclrPath: string,
    readonly coreclrBase: number,
    readonly descriptor: ContractDescriptor,
    readonly version: string | undefined,
  ) {}

  /** Locates libcoreclr.so and its `DotNetRuntimeContractDescriptor`.
   * @throws NotDotNetError when no CoreCLR is loaded; MissingRuntimeDataError when the descriptor cannot be found. */
  static open(host: RuntimeHost, constantBytes?: ConstantBytesReader): DotNetRuntime {
    const coreclr = host.modules.find((m) => CORECLR_NAME.test(m.path));
    if (!coreclr) {
      throw new NotDotNetError(`${host.path}: not a .NET process (neither libcoreclr.so nor coreclr.dll is loaded in this dump)`);
    }
    const sym = findModuleExport(host.memory, coreclr.baseAddress, 'DotNetRuntimeContractDescriptor');
    if (!sym) {
      throw new MissingRuntimeDataError(
        `${coreclr.path} has no DotNetRuntimeContractDescriptor export: dumpsleuth reads .NET 9 and later runtimes`,
      );
    }
    const descriptor = readContractDescriptor(host.memory, sym.address, constantBytes);
    return new DotNetRuntime(host, host.memory, coreclr.path, coreclr.baseAddress, descriptor, versionFromPath(coreclr.path) ?? (/coreclr\.dll$/i.test(coreclr.path) ? versionFromCoreLib(host) : undefined));
  }

  /** Resolves an exported symbol of libcoreclr.so, or undefined. */
  findCoreclrSymbol(name: string): number | undefined {
    return findModuleExport(this.memory, this.coreclrBase, name)?.address;
  }

  /** Reads the pointer stored in the variable whose address is the indirect global `name` (e.g. `ThreadStore`). */
  readGlobalPointer(name: string): number {
    return this.memory.readPointer(this.descriptor.global(name));
  }

  /** The `Architecture` string global ("x64", "arm64"). */
  get architecture(): string {
    return this.descriptor.stringGlobal('Architecture') ?? 'unknown';
  }
}

/** The shared-framework layout puts the version in the folder name: .../Microsoft.NETCore.App/10.0.12/libcoreclr.so. */
function versionFromPath(path: string): string | undefined {
  const m = /[\\/]Microsoft\.NETCore\.App[\\/]([0-9]+\.[0-9]+\.[0-9]+[^/\\]*)[\\/](libcoreclr\.so|coreclr\.dll)$/i.exec(path);
  return m ? m[1] : undefined;
}

/** A self-contained app's runtime has no version folder: CoreLib's ProductVersion (its informational version,
 * "10.0.12-servicing.26422.108+<commit>") names the release instead. */
function versionFromCoreLib(host: RuntimeHost): string | undefined {
  const corelib = host.modules.find((m) => /(^|[\\/])System\.Private\.CoreLib\.dll$/i.test(m.path));
  const product = corelib === undefined ? undefined : tryReadPeProductVersion(host.memory, corelib.baseAddress);
  const m = product === undefined ? null : /^([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)(\+|$)/.exec(product);
  // Released builds carry an internal "-servicing.<build>" label; previews keep theirs ("11.0.0-preview.3...").
  return m ? m[1]!.replace(/-servicing\.[0-9.]+$/, '') : undefined;
}

/** Throws a clear error when the runtime's descriptor lacks a contract the command needs. */
export function requireContract(runtime: DotNetRuntime, name: string): number {
  const v = runtime.descriptor.contracts.get(name);
  if (v === undefined) throw new MissingRuntimeDataError(`the runtime (${runtime.version ?? 'unknown version'}) does not describe the ${name} contract`);
  return v;
}
