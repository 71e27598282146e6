/**
 * ECMA-335 metadata for names: PE images, the metadata root, tables, heaps, signatures, and SOS's name texts.
 * Depends only on `src/errors.ts`; sees bytes through `PeByteSource` or a `Uint8Array` (no `fs`). Malformed input
 * throws `DumpFormatError`; counts above the caps throw `LimitExceededError`.
 */
export * from './pe-image';
export * from './metadata-tables';
export * from './metadata-heaps';
export * from './signature-decoder';
export * from './ecma-metadata';
export * from './type-name-format';
