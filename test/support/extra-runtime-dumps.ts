// The dumps made on runtimes other than the SDK's (issue 11): the debuggee published self-contained against NuGet's
// runtime packs. A chosen subset of the standard set keeps the tier's cold cost small; test/real/runtimes.test.ts
// runs the core SOS comparisons on them.
import { extraRuntimePacks } from '../../src/capture';
import type { StandardDump } from './dumps';

/** One dump of the extra-runtime tier. */
export interface ExtraRuntimeDump extends StandardDump {
  readonly runtimePack: string;
  readonly publishKind: 'self-contained' | 'single-file';
}

const LEAK_SCENARIOS = ['leak-event', 'leak-timer', 'leak-pinned', 'leak-cache', 'leak-finalizer', 'leak-tcs', 'leak-controls'];

/** Which scenarios run on a pack: the current major (11) gets the standard scenarios, heap and full, both GC modes,
 * and the hang scenario (heap workstation, full server);
 * another patch of 10 gets seed-apm (heap workstation, full server) and a single-file publish of it. */
function dumpsFor(pack: string): ExtraRuntimeDump[] {
  const one = (scenario: string, dumpType: 'heap' | 'full', serverGc: boolean, publishKind: ExtraRuntimeDump['publishKind'] = 'self-contained'): ExtraRuntimeDump =>
    ({ scenario, args: [], dumpType, serverGc, runtimePack: pack, publishKind });
  // .NET 9 and 8 are refused: one dump each proves the refusal names the version.
  if (pack.startsWith('net')) return [one('seed-apm', 'heap', false)];
  if (pack.startsWith('10.')) {
    return [one('seed-apm', 'heap', false), one('seed-apm', 'full', true), one('seed-apm', 'heap', false, 'single-file')];
  }
  return [
    ...(['heap', 'full'] as const).flatMap((t) => [one('seed-apm', t, false), one('seed-apm', t, true)]),
    one('types', 'heap', false),
    one('types', 'full', true),
    ...LEAK_SCENARIOS.map((s) => one(s, 'heap', false)),
    // The hang commands (dumpasync, timerinfo, parallelstacks, pe, clrstack -a) on 11, as on 10's standard set.
    one('hang', 'heap', false),
    one('hang', 'full', true),
  ];
}

/** The extra-runtime dumps for the packs `extraRuntimePacks()` names ($DUMPSLEUTH_EXTRA_RUNTIMES=0: none). */
export function extraRuntimeDumps(): ExtraRuntimeDump[] {
  return extraRuntimePacks().flatMap(dumpsFor);
}

/** A short label for test names: "seed-apm heap workstation on 11.0.0 (single-file)". */
export function extraDumpLabel(d: ExtraRuntimeDump): string {
  return `${d.scenario} ${d.dumpType} ${d.serverGc ? 'server' : 'workstation'} on ${d.runtimePack}${d.publishKind === 'single-file' ? ' (single-file)' : ''}`;
}
