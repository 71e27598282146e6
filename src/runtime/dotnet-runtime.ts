/**
 * Finds the CoreCLR runtime in a dump and exposes its contract descriptor: the root of everything in `runtime/`.
 */
import { MissingRuntimeDataError, DumpsleuthError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import { findModuleExport } from '../dump/module-exports';
import { ContractDescriptor, readContractDescriptor, type ConstantBytesReader } from './contract-descriptor';
import { majorVersion, readRuntimeVersion, type RuntimeVersionInfo } from './runtime-version';

/** What the runtime layer needs of a dump: its memory and its loaded modules. */
export interface RuntimeHost {
  readonly path: string;
  readonly memory: MemoryReader;
  readonly modules: readonly { readonly path: string; readonly baseAddress: number; readonly endAddress: number; readonly fileVersion?: string }[];
}

/** The dump is not of a .NET (CoreCLR) process. */
export class NotDotNetError extends DumpsleuthError {}

/** libcoreclr.so on Linux, coreclr.dll on Windows (any case: Windows paths are case-insensitive). */
const CORECLR_NAME = /(^|[\\/])(libcoreclr\.so|coreclr\.dll)$/i;
const DESCRIPTOR_EXPORT = 'DotNetRuntimeContractDescriptor';
/** The runtimes whose layouts dumpsleuth checks against SOS (README, Limits). */
const SUPPORTED_MAJORS = [10, 11];

/** The dump's runtime is one dumpsleuth does not read (it names the version and what is missing). */
export class UnsupportedRuntimeError extends MissingRuntimeDataError {}

/** The CoreCLR runtime of one dump: where it is loaded, its descriptor, its version. */
export class DotNetRuntime {
  private constructor(
    readonly host: RuntimeHost,
    readonly memory: MemoryReader,
    readonly coreclrPath: string,
    readonly coreclrBase: number,
    readonly descriptor: ContractDescriptor,
    readonly versionInfo: RuntimeVersionInfo | undefined,
    /** Rebuilds constant image bytes heap dumps leave out (descriptors live in libcoreclr's writable data). */
    readonly constantBytes?: ConstantBytesReader,
  ) {}

  /** The product version ("10.0.15"), read from the runtime itself when possible (see runtime-version.ts). */
  get version(): string | undefined {
    return this.versionInfo?.version;
  }

  /** True when the runtime is a version whose layouts dumpsleuth reads (10 and 11). */
  get isSupportedVersion(): boolean {
    const major = majorVersion(this.version);
    // Without a readable version, judge by the descriptor: .NET 9's describes neither code maps nor stack walks.
    if (major === undefined) return this.descriptor.contracts.has('ExecutionManager') && this.descriptor.contracts.has('StackWalk');
    return SUPPORTED_MAJORS.includes(major);
  }

  /** Throws UnsupportedRuntimeError for a runtime dumpsleuth does not read (.NET 9: same descriptor format, other
   * layouts and no GC data in it), naming the version and what the command would have needed. */
  requireSupportedVersion(what: string): void {
    if (this.isSupportedVersion) return;
    throw new UnsupportedRuntimeError(
      `${what} needs .NET 10 or 11; this dump's runtime is .NET ${this.version ?? '(version unknown)'} (its descriptor has ${this.descriptor.types.size} types and no ` +
        `GC data; its type, code-map and GC layouts are not checked against SOS), so dumpsleuth answers only \`info\` for it`,
    );
  }

  /** Locates libcoreclr.so and its `DotNetRuntimeContractDescriptor`.
   * @throws NotDotNetError when no CoreCLR is loaded; MissingRuntimeDataError when the descriptor cannot be found. */
  static open(host: RuntimeHost, constantBytes?: ConstantBytesReader, imageText?: ConstantBytesReader): DotNetRuntime {
    const coreclr = host.modules.find((m) => CORECLR_NAME.test(m.path)) ?? findSingleFileHost(host);
    if (!coreclr) {
      throw new NotDotNetError(`${host.path}: not a .NET process (neither libcoreclr.so nor coreclr.dll is loaded in this dump, and no module exports ${DESCRIPTOR_EXPORT})`);
    }
    const sym = tryFindExport(host, coreclr.baseAddress, DESCRIPTOR_EXPORT);
    if (!sym) {
      const info = readRuntimeVersion(host.memory, coreclr, undefined, imageText ?? constantBytes);
      throw new UnsupportedRuntimeError(
        `${coreclr.path} is .NET ${info?.version ?? '(version unknown)'}, which has no contract descriptor (${DESCRIPTOR_EXPORT}): dumpsleuth reads .NET 10 and 11`,
      );
    }
    const descriptor = readContractDescriptor(host.memory, sym.address, constantBytes);
    const info = readRuntimeVersion(host.memory, coreclr, descriptor.stringGlobal('RuntimeProductVersionString'), imageText ?? constantBytes);
    return new DotNetRuntime(host, host.memory, coreclr.path, coreclr.baseAddress, descriptor, info, constantBytes);
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

function tryFindExport(host: RuntimeHost, base: number, name: string): { address: number } | undefined {
  try {
    return findModuleExport(host.memory, base, name);
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** A single-file app (`PublishSingleFile`) links the runtime into its own executable: the module that exports the
 * descriptor is the runtime. Only native images are asked (managed assemblies are skipped). */
function findSingleFileHost(host: RuntimeHost): RuntimeHost['modules'][number] | undefined {
  for (const m of host.modules) {
    if (/\.(dll|exe|so\.\d.*)$/i.test(m.path) || /\/(ld-linux|libc|libm|libstdc\+\+|libgcc)/.test(m.path)) continue;
    if (tryFindExport(host, m.baseAddress, DESCRIPTOR_EXPORT) !== undefined) return m;
  }
  return undefined;
}

/** Throws a clear error when the runtime's descriptor lacks a contract the command needs. */
export function requireContract(runtime: DotNetRuntime, name: string): string {
  const v = runtime.descriptor.contracts.get(name);
  if (v === undefined) throw new MissingRuntimeDataError(`the runtime (${runtime.version ?? 'unknown version'}) does not describe the ${name} contract`);
  return v;
}
