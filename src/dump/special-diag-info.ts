import type { MemoryReader } from './memory-reader';

/** Address of createdump's special diagnostics page on 64-bit Linux (specialdiaginfo.h). */
export const SPECIAL_DIAG_INFO_ADDRESS = 0x00007ffffff10000;

const SIGNATURE = 'DIAGINFOHEADER';

/** createdump's "DIAGINFOHEADER" page: its presence means the dump was written by createdump. */
export interface SpecialDiagInfo {
  /** Header version (2 adds `runtimeBaseAddress`). */
  readonly version: number;
  /** Address of the exception record, 0 when none. */
  readonly exceptionRecordAddress: number;
  /** Base address of libcoreclr.so (version ≥ 2), else undefined. */
  readonly runtimeBaseAddress: number | undefined;
}

/**
 * Reads createdump's special diagnostics page, or returns undefined when the page is absent or its signature does
 * not match (a kernel or gdb core). Never throws for missing memory.
 */
export function tryReadSpecialDiagInfo(memory: MemoryReader): SpecialDiagInfo | undefined {
  const a = SPECIAL_DIAG_INFO_ADDRESS;
  // Layout: char Signature[16]; int Version; (pad 4) uint64 ExceptionRecordAddress; uint64 RuntimeBaseAddress.
  if (!memory.isMapped(a, 40)) return undefined;
  const sig = memory.read(a, 16);
  for (let i = 0; i < 16; i++) {
    if (sig[i] !== (i < SIGNATURE.length ? SIGNATURE.charCodeAt(i) : 0)) return undefined;
  }
  const version = memory.readI32(a + 16);
  const safe = (at: number): number | undefined => {
    const high = memory.readU32(at + 4);
    return high < 0x200000 ? high * 0x100000000 + memory.readU32(at) : undefined;
  };
  return {
    version,
    exceptionRecordAddress: safe(a + 24) ?? 0,
    runtimeBaseAddress: version >= 2 ? safe(a + 32) : undefined,
  };
}
