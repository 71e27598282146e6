// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and ranks functions by self time, the way the
// "Bottom-Up" view of Chrome DevTools does: each sample's duration is charged to the function on top of the stack.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** One function's share of a CPU profile. */
export interface ProfileEntry {
  readonly functionName: string;
  /** `file:line` (1-based), relative to the repository when inside it; empty for V8's pseudo-frames such as (garbage collector). */
  readonly location: string;
  readonly selfMs: number;
  /** Self time as a percentage of the profile's total. */
  readonly selfPercent: number;
}

/** The top functions of a CPU profile by self time. */
export interface ProfileSummary {
  readonly profilePath: string;
  /** The dumpsleuth command profiled (the bench sets it; default `dumpheap -stat`). */
  readonly command?: string;
  readonly totalMs: number;
  readonly top: ProfileEntry[];
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Parses the .cpuprofile at `profilePath` and returns its `limit` heaviest functions by self time; throws when the file is not a CPU profile. */
export function summarizeCpuProfile(profilePath: string, repoRoot: string, limit = 15): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(profilePath, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${profilePath} is not a V8 CPU profile`);
  }
  const keyOf = new Map<number, string>();
  const frames = new Map<string, { functionName: string; location: string; selfUs: number }>();
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    const location = frame.url === '' ? '' : `${shortenUrl(frame.url, repoRoot)}:${frame.lineNumber + 1}`;
    const functionName = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${functionName}\u0000${location}`;
    keyOf.set(node.id, key);
    if (!frames.has(key)) frames.set(key, { functionName, location, selfUs: 0 });
  }
  // timeDeltas[i] is the gap before sample i, so sample i lasted until sample i+1.
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const duration = profile.timeDeltas[i + 1] ?? 0;
    const key = keyOf.get(profile.samples[i]!);
    if (key === undefined || duration <= 0) continue;
    frames.get(key)!.selfUs += duration;
    totalUs += duration;
  }
  const top = [...frames.values()]
    .filter((f) => f.selfUs > 0)
    .sort((a, b) => b.selfUs - a.selfUs)
    .slice(0, limit)
    .map((f) => ({ functionName: f.functionName, location: f.location, selfMs: f.selfUs / 1000, selfPercent: totalUs === 0 ? 0 : (100 * f.selfUs) / totalUs }));
  return { profilePath, totalMs: totalUs / 1000, top };
}

function shortenUrl(url: string, repoRoot: string): string {
  const file = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  return file.startsWith(repoRoot + path.sep) ? path.relative(repoRoot, file) : file;
}
