/**
 * dump/: a dump file as a process — memory (an address space over the core plus image files on disk), modules,
 * threads and registers. Depends on `binary/` and `../errors` only; the only layer besides `cli/` that touches `fs`.
 * Error policy: malformed input throws `DumpFormatError` (or `LimitExceededError` for hostile counts), reads of memory
 * not in the dump throw `UnmappedAddressError`; problems that leave the dump usable become `warnings`.
 */
export * from './memory-reader';
export * from './address-space';
export * from './core-architecture';
export * from './core-notes';
export * from './dump-limits';
export * from './dump-module';
export * from './elf-core';
export * from './elf-image-file';
export * from './elf-memory-image';
export * from './elf-symbols';
export * from './file-window-cache';
export * from './image-overlays';
export * from './open-dump';
export * from './special-diag-info';
export * from './minidump';
export * from './open-minidump';
export * from './pdb-files';
export * from './pe-exports';
export * from './module-exports';
