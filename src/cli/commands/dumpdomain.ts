/**
 * `dumpdomain [<domain>]`: the system domain and the AppDomain with their loader heaps, and every assembly of the
 * AppDomain with its module, in SOS's text (strike.cpp DumpDomain, util.cpp DomainInfo/AssemblyInfo).
 */
import { UsageError } from '../../errors';
import { readUtf16, type ClrModule } from '../../runtime/loader';
import { globalLoaderHeaps } from '../../runtime/module-details';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';

const RULE = '--------------------------------------';
// DacpAppDomainData's id of the one AppDomain (DefaultADID); the DAC reports every live domain as STAGE_OPEN.
const DEFAULT_DOMAIN_ID = 1;

/** The dumpdomain command. */
export const dumpdomainCommand: Command = {
  name: 'dumpdomain',
  aliases: [],
  summary: 'Show the AppDomains, their loader heaps, assemblies and modules',
  usage: 'dumpdomain [<Domain address>]',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpdomain', args, [], []);
    if (opts.positional.length > 1) throw new UsageError(`dumpdomain: unexpected argument "${opts.positional[1]}"`);
    const rt = session.runtime;
    const systemDomain = rt.readGlobalPointer('SystemDomain');
    const appDomain = rt.readGlobalPointer('AppDomain');
    const heaps = globalLoaderHeaps(rt);
    const modules = session.modules.enumerate();
    const wanted = opts.positional.length ? addressArg('dumpdomain', opts.positional[0], 'AppDomain') : undefined;
    if (wanted !== undefined && wanted !== systemDomain && wanted !== appDomain) {
      throw new UsageError(`dumpdomain: 0x${wanted.toString(16)} is not an AppDomain (the domains are 0x${systemDomain.toString(16)} and 0x${appDomain.toString(16)})`);
    }
    const friendlyName = readUtf16(rt, rt.memory.readPointer(appDomain + rt.descriptor.offset('AppDomain', 'FriendlyName')));
    // Loader contract "c1" (.NET 11): the DAC reports the system domain as address 0 and answers for it with the
    // AppDomain's name and assemblies, so SOS prints the AppDomain twice, the first time as "System Domain".
    const merged = rt.descriptor.contracts.get('Loader')?.startsWith('c') === true;
    const domains = [
      merged
        ? { kind: 'system', address: systemDomain, title: `System Domain:      ${p16(0)}`, name: friendlyName, assemblies: modules }
        : { kind: 'system', address: systemDomain, title: `System Domain:      ${p16(systemDomain)}`, name: '', assemblies: [] as ClrModule[] },
      { kind: 'app', address: appDomain, title: `Domain ${DEFAULT_DOMAIN_ID}:           ${p16(appDomain)}`, name: friendlyName, assemblies: modules },
    ].filter((d) => wanted === undefined || d.address === wanted);
    const lines: string[] = [];
    for (const d of domains) {
      lines.push(
        RULE,
        d.title,
        `LowFrequencyHeap:   ${p16Upper(heaps.lowFrequencyHeap)}`,
        `HighFrequencyHeap:  ${p16Upper(heaps.highFrequencyHeap)}`,
        `StubHeap:           ${p16Upper(heaps.stubHeap)}`,
        'Stage:              OPEN',
        `Name:               ${d.name || 'None'}`,
      );
      if (d.assemblies.length === 0) continue;
      d.assemblies.forEach((m, i) => {
        if (i > 0) lines.push('');
        lines.push(`Assembly:           ${p16(m.assembly)} [${m.path}]`, '  Module', `  ${p16(m.address)}    ${m.path || 'Unknown Module'}`);
      });
      lines.push('');
    }
    const json = {
      domains: domains.map((d) => ({
        kind: d.kind,
        address: hexJson(d.address),
        id: d.kind === 'app' ? DEFAULT_DOMAIN_ID : null,
        name: d.name || null,
        lowFrequencyHeap: hexJson(heaps.lowFrequencyHeap),
        highFrequencyHeap: hexJson(heaps.highFrequencyHeap),
        stubHeap: hexJson(heaps.stubHeap),
        assemblies: d.assemblies.map((m) => ({ address: hexJson(m.assembly), path: m.path, modules: [{ address: hexJson(m.address), path: m.path }] })),
      })),
    };
    return { text: lines.join('\n'), json };
  },
};
