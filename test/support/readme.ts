// Reads code out of the README, so tests run what the README shows (a README example that stops working fails).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './cli-runner';

/** The README's text. */
export function readme(): string {
  return fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
}

/** The fenced blocks under the `## <heading>` section (up to the next `## `), with their info strings. */
export function readmeBlocks(heading: string): { lang: string; code: string }[] {
  const text = readme();
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 4);
  const section = text.slice(start, end < 0 ? undefined : end);
  const out: { lang: string; code: string }[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(section)) !== null) out.push({ lang: m[1]!, code: m[2]! });
  return out;
}

/** The library example of the README's "Library API" section (its first js block). */
export function readmeLibraryExample(): string {
  const block = readmeBlocks('Library API').find((b) => b.lang === 'js');
  if (!block) throw new Error('README "Library API" has no js example');
  return block.code;
}
