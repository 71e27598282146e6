// Capture layer: builds the C# debuggees, runs a scenario and dumps it with the runtime's createdump.
// May depend on Node built-ins only (child_process, fs, crypto); it is used by the `demo` command and
// the tests, never by the analyzer layers. Errors: every failure is a CaptureError with a clear message
// (and the tail of the failing process's output); debuggee processes are killed on every path.
export { CaptureError } from './capture-error';
export { findDotnet, findRuntime, runtimeAt, type DotnetRuntime } from './find-dotnet';
export { buildDebuggees, debuggeesDir } from './build-debuggees';
export { buildDotnetProject, type BuiltProject } from './build-dotnet-project';
export { captureDump, type CaptureOptions, type CapturedDump, type DumpType } from './capture-dump';
export { captureDumpPair, type CapturePairOptions, type CapturedDumpPair } from './capture-dump-pair';
export { cacheRoot, dumpCacheDir, findRepoRoot } from './paths';
export { hashKey, hashSources } from './source-hash';
export { runProcess, runProcessChecked, tail, type ProcessResult, type RunProcessOptions } from './run-process';
export { withFileLock } from './file-lock';
export { publishDebuggees, extraRuntimePacks, DEFAULT_EXTRA_RUNTIME_PACKS, type PublishedDebuggee, type PublishKind } from './publish-debuggees';
