/**
 * dumpsleuth as a library: `openDump(path)` → ClrDump → ClrRuntime → ClrHeap → ClrObject / ClrType, named after
 * ClrMD's classes. See the README's "Library API" section for a complete example.
 */
export { openDump, ClrDump } from './api/clr-dump';
export type { OpenDumpOptions, DumpThread, DumpModule, CommandDocument } from './api/clr-dump';
export { ClrRuntime } from './api/clr-runtime';
export { ClrHeap, ClrObject, ClrType, ClrValue } from './api/clr-heap';
export type { ObjectBatch, TypeStatistics, ClrField, ClrFieldValue, AnalyzeOptions, AnalyzeFinding } from './api/clr-heap';
export type { ClrThread } from './runtime/thread-store';
export type { ClrModule } from './runtime/loader';
export type { GcRoot, RootKind } from './heap/roots';
export type { StackRoot } from './heap/conservative-stack-roots';
export {
  DumpsleuthError,
  DumpFormatError,
  UnmappedAddressError,
  MissingRuntimeDataError,
  LayoutCheckError,
  LimitExceededError,
  UsageError,
  CancelledError,
} from './errors';
