/**
 * A runtime Module's ECMA-335 metadata, read from its PE image in the dump's memory (mapped or flat layout), page
 * by page as names are asked for.
 * Pages missing from a heap dump come from the image file on disk through the address space's overlays.
 */
import { DumpFormatError, UnmappedAddressError } from '../errors';
import type { MemoryReader } from '../dump/memory-reader';
import type { ClrModule } from './loader';
import { EcmaMetadata, PeImage, TableId, Col } from './metadata';

/** What the type-name and object layers need from one module's metadata. */
export interface ModuleMetadata {
  readonly metadata: EcmaMetadata;
  /** The assembly's simple name (as DAC-style names print it). */
  readonly assemblyName: string;
  /** TypeDef name segments, outermost first, the first with its namespace; arity suffixes kept. */
  typeDefSegments(token: number): readonly string[];
  /** The name of GenericParam `token` (0x2Axxxxxx). */
  genericParamName(token: number): string;
}

/** Opens the metadata of `module`. @throws DumpFormatError / UnmappedAddressError when the image is not readable. */
export function openModuleMetadata(memory: MemoryReader, module: ClrModule): ModuleMetadata {
  if (module.imageBase === 0) throw new DumpFormatError('the module has no loaded PE image (dynamic module)');
  const base = module.imageBase;
  const image = new PeImage(
    {
      read(offset: number, length: number): Uint8Array {
        // The metadata reader keeps what it gets: copy out of the shared window cache.
        return Uint8Array.from(memory.read(base + offset, length));
      },
    },
    { isMapped: module.isMappedLayout },
  );
  let metadata: EcmaMetadata;
  try {
    // Read on demand when the whole block is in the dump (or its image file): one answer touches a few of its pages
    // (issue 16). Otherwise the eager read fails as before, naming the missing page.
    const at = image.metadataLocation();
    // Pages go straight into the metadata's own array where the reader can (a page is at least a dump window, so
    // it is not cached a second time); else through `read`, which also names a missing page.
    const fill = (offset: number, target: Uint8Array, length: number): void => {
      const address = base + at.offset + offset;
      if (memory.readUpToInto !== undefined && memory.readUpToInto(address, target, offset, length) === length) return;
      target.set(memory.read(address, length), offset);
    };
    metadata = memory.isMapped(base + at.offset, at.size) ? EcmaMetadata.fromLazyBytes(at.size, fill) : EcmaMetadata.fromPeImage(image);
  } catch (e) {
    if (e instanceof UnmappedAddressError) throw new UnmappedAddressError(e.address, e.length, 'metadata of ' + (module.path || 'a module'));
    throw e;
  }
  const assemblyName = metadata.getAssemblySimpleName();
  // Every instantiation of a generic type asks for its definition's segments again: read them once per token.
  const segments = new Map<number, readonly string[]>();
  return {
    metadata,
    assemblyName,
    typeDefSegments: (token) => {
      let s = segments.get(token);
      if (s === undefined) segments.set(token, (s = metadata.getTypeDefSegments(token)));
      return s;
    },
    genericParamName: (token) => metadata.readStringColumn(TableId.GenericParam, token & 0xffffff, Col.GenericParam.Name),
  };
}
