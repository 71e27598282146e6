/** Caps on counts and sizes read from a dump, so a corrupt or hostile file fails fast instead of hanging. */
export interface DumpLimits {
  /** Most program headers in a core (createdump writes one per merged region: thousands at most). */
  readonly maxProgramHeaders: number;
  /** Most bytes of one PT_NOTE segment read into memory. */
  readonly maxNoteSegmentBytes: number;
  /** Most notes in one PT_NOTE segment. */
  readonly maxNotes: number;
  /** Most entries in NT_FILE. */
  readonly maxFileMappings: number;
  /** Most threads (NT_PRSTATUS notes). */
  readonly maxThreads: number;
  /** Most PT_DYNAMIC entries walked in a module. */
  readonly maxDynamicEntries: number;
  /** Most symbols visited in one hash chain or `.dynsym` scan. */
  readonly maxSymbols: number;
}

/** The default caps. */
export const DEFAULT_DUMP_LIMITS: DumpLimits = {
  maxProgramHeaders: 1_000_000,
  maxNoteSegmentBytes: 256 << 20,
  maxNotes: 1_000_000,
  maxFileMappings: 1_000_000,
  maxThreads: 100_000,
  maxDynamicEntries: 100_000,
  maxSymbols: 10_000_000,
};
