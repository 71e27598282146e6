/**
 * binary/: bounds-checked synchronous little-endian readers and one decoder per on-disk ELF structure.
 * Depends on nothing but `../errors`. Error policy: every out-of-range read or value that does not fit in a
 * `number` throws `DumpFormatError`; nothing here catches.
 */
export * from './byte-reader';
export * from './elf-constants';
export * from './elf-header';
export * from './elf-program-header';
export * from './elf-section-header';
export * from './elf-note';
export * from './elf-dynamic';
export * from './elf-symbol';
