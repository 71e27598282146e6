import * as path from 'node:path';
import { buildDotnetProject, type BuiltProject } from './build-dotnet-project';
import { findRepoRoot } from './paths';

/** The folder of the debuggee project (test/debuggees in the checkout). */
export function debuggeesDir(): string {
  return path.join(findRepoRoot(), 'test', 'debuggees');
}

/** Builds the debuggee program (Release, into test/debuggees/bin/dumpsleuth) unless a build of the same sources is there; throws CaptureError on failure. */
export function buildDebuggees(): Promise<BuiltProject> {
  return buildDotnetProject(debuggeesDir(), 'Debuggees');
}
