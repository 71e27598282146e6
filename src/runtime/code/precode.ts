/**
 * Precode recognition (PrecodeStubs contract, version 3): fixup and stub precodes found by byte pattern through the
 * runtime's PrecodeMachineDescriptor; the MethodDesc sits in the data page `StubCodePageSize` after the stub.
 * Sources: dotnet/runtime docs/design/datacontracts/PrecodeStubs.md, precode.h; research/code-and-stacks-net10.md §2.
 */
import { DumpsleuthError } from '../../errors';
import type { DotNetRuntime } from '../dotnet-runtime';

/** The platform's precode shapes, read once from `PlatformMetadata.PrecodeMachineDescriptor`. */
export interface PrecodeMachineDescriptor {
  readonly stubCodePageSize: number;
  readonly invalidType: number;
  readonly pinvokeImportType: number;
  readonly fixupType: number;
  readonly fixupCodeOffset: number;
  readonly fixupSize: number;
  readonly fixupBytes: Uint8Array;
  readonly fixupIgnored: Uint8Array;
  readonly stubSize: number;
  readonly stubType: number;
  readonly stubBytes: Uint8Array;
  readonly stubIgnored: Uint8Array;
  readonly thisPtrRetBufType: number;
  readonly umEntryType: number;
}

/** What a precode address resolved to. */
export interface PrecodeInfo {
  readonly address: number;
  readonly kind: 'fixup' | 'stub' | 'pinvoke-import' | 'this-ptr-retbuf';
  readonly methodDesc: number;
  /** Where the precode jumps now (its patched target, or back into itself when the method is not compiled yet). */
  readonly target: number;
  /** True when the code bytes were not in the dump and the data page alone identified the precode. */
  readonly fromDataPageOnly: boolean;
}

const PATTERN_BYTES = 24;

/** Reads the PrecodeMachineDescriptor. @throws MissingRuntimeDataError / UnmappedAddressError. */
export function readPrecodeMachineDescriptor(rt: DotNetRuntime): PrecodeMachineDescriptor {
  const d = rt.descriptor;
  const m = rt.memory;
  const base = d.global('PlatformMetadata') + d.offset('PlatformMetadata', 'PrecodeMachineDescriptor');
  const u8 = (f: string) => m.readU8(base + d.offset('PrecodeMachineDescriptor', f));
  const bytes = (f: string) => Uint8Array.from(m.read(base + d.offset('PrecodeMachineDescriptor', f), PATTERN_BYTES));
  return {
    stubCodePageSize: m.readU32(base + d.offset('PrecodeMachineDescriptor', 'StubCodePageSize')),
    invalidType: u8('InvalidPrecodeType'),
    pinvokeImportType: u8('PInvokeImportPrecodeType'),
    fixupType: u8('FixupPrecodeType'),
    fixupCodeOffset: u8('FixupCodeOffset'),
    fixupSize: u8('FixupStubPrecodeSize'),
    fixupBytes: bytes('FixupBytes'),
    fixupIgnored: bytes('FixupIgnoredBytes'),
    stubSize: u8('StubPrecodeSize'),
    stubType: u8('StubPrecodeType'),
    stubBytes: bytes('StubBytes'),
    stubIgnored: bytes('StubIgnoredBytes'),
    thisPtrRetBufType: u8('ThisPointerRetBufPrecodeType'),
    umEntryType: u8('UMEntryPrecodeType'),
  };
}

/** Recognises precodes and reads their MethodDescs. */
export class PrecodeReader {
  readonly machine: PrecodeMachineDescriptor;

  constructor(
    private readonly rt: DotNetRuntime,
    /** Validates a candidate MethodDesc (chunk → MethodTable → EEClass); the data-page fallback relies on it. */
    private readonly isMethodDesc: (md: number) => boolean,
  ) {
    this.machine = readPrecodeMachineDescriptor(rt);
  }

  /** The precode starting at `address`, or undefined when it is not one (PrecodeStubs v3 GetPrecodeType).
   * Never throws for unreadable memory. */
  tryRead(address: number): PrecodeInfo | undefined {
    try {
      return this.read(address);
    } catch (e) {
      if (e instanceof DumpsleuthError) return undefined;
      throw e;
    }
  }

  private read(address: number): PrecodeInfo | undefined {
    const m = this.rt.memory;
    const pc = this.machine;
    const data = address + pc.stubCodePageSize;
    if (!m.isMapped(data, 24)) return undefined;
    const code = m.readUpTo(address, PATTERN_BYTES);
    if (code.length >= pc.stubSize && matches(code, pc.stubBytes, pc.stubIgnored, pc.stubSize)) return this.stubFamily(address, data, false);
    if (code.length >= pc.fixupSize && matches(code, pc.fixupBytes, pc.fixupIgnored, pc.fixupSize)) return this.fixup(address, data, false);
    if (code.length > 0) return undefined;
    // Heap dumps usually lack the RX code pages of precode heaps but keep the RW data pages: identify the precode
    // by its data and accept it only when the MethodDesc validates (research §2.3, data-page heuristic).
    const stub = this.stubFamily(address, data, true);
    if (stub && this.isMethodDesc(stub.methodDesc)) return stub;
    const fixup = this.fixup(address, data, true);
    if (fixup && this.isMethodDesc(fixup.methodDesc)) return fixup;
    return undefined;
  }

  private stubFamily(address: number, data: number, fromDataPageOnly: boolean): PrecodeInfo | undefined {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const pc = this.machine;
    const type = m.readU8(data + d.offset('StubPrecodeData', 'Type'));
    const secret = m.readPointer(data + d.offset('StubPrecodeData', 'SecretParam'));
    const target = d.has('StubPrecodeData', 'Target') ? m.readPointer(data + d.offset('StubPrecodeData', 'Target')) : m.readPointer(data + 8);
    if (type === pc.stubType) return { address, kind: 'stub', methodDesc: secret, target, fromDataPageOnly };
    if (type === pc.pinvokeImportType) return { address, kind: 'pinvoke-import', methodDesc: secret, target, fromDataPageOnly };
    if (type === pc.thisPtrRetBufType && secret !== 0) {
      const md = m.readPointer(secret + d.offset('ThisPtrRetBufPrecodeData', 'MethodDesc'));
      return { address, kind: 'this-ptr-retbuf', methodDesc: md, target, fromDataPageOnly };
    }
    return undefined;
  }

  private fixup(address: number, data: number, fromDataPageOnly: boolean): PrecodeInfo | undefined {
    const d = this.rt.descriptor;
    const m = this.rt.memory;
    const md = m.readPointer(data + d.offset('FixupPrecodeData', 'MethodDesc'));
    // FixupPrecodeData { Target +0, MethodDesc +8, PrecodeFixupThunk +16 } (precode.h).
    const target = d.has('FixupPrecodeData', 'Target') ? m.readPointer(data + d.offset('FixupPrecodeData', 'Target')) : m.readPointer(data);
    if (md === 0) return undefined;
    return { address, kind: 'fixup', methodDesc: md, target, fromDataPageOnly };
  }
}

function matches(code: Uint8Array, pattern: Uint8Array, ignored: Uint8Array, size: number): boolean {
  for (let i = 0; i < size && i < pattern.length; i++) {
    if (ignored[i] !== 0) continue;
    if (code[i] !== pattern[i]) return false;
  }
  return true;
}
