/**
 * `info`: what the dump is (runtime version, architecture, GC mode, heaps) and what is missing from it.
 */
import { DumpsleuthError } from '../../errors';
import type { Command } from '../command';
import { hexJson } from '../format';
import type { Session } from '../session';
import { isStrongHandleKind } from '../../runtime/gc/handle-table';
import { rootCache } from './root-cache';

/** On server GC the runtime keeps one handle table per processor (objecthandle.cpp getNumberOfSlots) while the 10.0
 * DAC walks only as many as there are GC heaps; with DATAS (fewer heaps than processors) SOS and ClrMD therefore
 * miss the handles of the other tables (dotnet/runtime#124872, fixed in 11.0). Says so when it applies. */
function perCpuHandleNote(session: Session, heapCount: number): { slots: number; past: number; text: string } | undefined {
  try {
    const handles = rootCache(session).handles;
    const slots = handles.reduce((m, h) => Math.max(m, h.slot + 1), 0);
    const past = handles.filter((h) => h.slot >= heapCount);
    if (past.length === 0) return undefined;
    const strong = past.filter((h) => isStrongHandleKind(h.kind)).length;
    return {
      slots,
      past: past.length,
      text: `${past.length} GC handles (${strong} strong) sit in per-CPU handle ${slots - 1 === heapCount ? `table ${heapCount}` : `tables ${heapCount}..${slots - 1}`}, which SOS and ClrMD on .NET 10 do not read (dotnet/runtime#124872): their gchandles and live-object counts are lower than dumpsleuth's`,
    };
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** How many handle tables each bucket has on server GC and what said so (the runtime's processor count, or a probe
 * where .NET 10 records none). */
function handleTablesLine(session: Session): { slots: { count: number; source: string }; text: string } | undefined {
  try {
    const cache = rootCache(session);
    void cache.handles;
    const slots = cache.handleWalk.slots;
    if (!slots) return undefined;
    const how =
      slots.source === 'TotalCpuCount'
        ? "the GC's TotalCpuCount"
        : slots.source === 'probe'
          ? 'found by validating each slot: .NET 10 records no processor count the DAC can read'
          : 'workstation GC';
    return { slots, text: `${slots.count} per bucket, one per CPU (${how})` };
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}

/** The info command. */
export const infoCommand: Command = {
  name: 'info',
  aliases: ['eeversion'],
  summary: 'Runtime version, architecture, GC mode and heaps, descriptor contracts, missing data',
  usage: 'info',
  run(session: Session) {
    const dump = session.dump;
    const rt = session.anyRuntime;
    const d = rt.descriptor;
    const lines: string[] = [];
    const json: Record<string, unknown> = {
      dump: dump.path,
      format: dump.format,
      os: dump.os,
      processName: dump.processName ?? null,
      architecture: rt.architecture,
      runtimeVersion: rt.version ?? null,
      runtimeVersionSource: rt.versionInfo?.source ?? null,
      runtimeFileVersion: rt.versionInfo?.fileVersion ?? null,
      runtimeCommit: rt.versionInfo?.commit ?? null,
      supported: rt.isSupportedVersion,
      coreclr: { path: rt.coreclrPath, base: hexJson(rt.coreclrBase) },
      descriptor: {
        address: hexJson(d.address),
        version: d.version,
        types: d.types.size,
        globals: d.globals.size,
        contracts: Object.fromEntries(d.contracts),
      },
      osThreads: dump.threads.length,
      modules: dump.modules.length,
    };
    lines.push(`Dump:            ${dump.path}`);
    lines.push(`Format:          ${dump.format === 'minidump' ? 'Windows minidump' : 'Linux ELF core'}`);
    if (dump.processName) lines.push(`Process:         ${dump.processName}`);
    lines.push(`Architecture:    ${rt.architecture}`);
    // A self-contained app's coreclr.dll path has no version folder; its file version is the closest thing recorded.
    const fileVersion = rt.versionInfo?.fileVersion ?? dump.modules.find((m) => m.path === rt.coreclrPath)?.fileVersion;
    const stamp = fileVersion === undefined ? '' : `, file version ${fileVersion}${rt.versionInfo?.commit === undefined ? '' : ` @${rt.versionInfo.commit.slice(0, 12)}`}`;
    lines.push(`Runtime:         .NET ${rt.version ?? '(version unknown)'} (${rt.coreclrPath}${stamp})`);
    if (!rt.isSupportedVersion) lines.push('                 not read by dumpsleuth (.NET 10 and 11 only): other commands are refused');
    lines.push(`Descriptor:      ${d.types.size} types, ${d.globals.size} globals, ${d.contracts.size} contracts at 0x${d.address.toString(16)}`);
    lines.push(`Contracts:       ${[...d.contracts].map(([k, v]) => `${k} ${/^\d/.test(v) ? `v${v}` : v}`).join(', ')}`);
    try {
      const heap = session.heap;
      const gc = {
        mode: heap.isServer ? 'server' : 'workstation',
        layout: heap.usesRegions ? 'regions' : 'segments',
        heapCount: heap.heaps.length,
        segments: heap.segments.length,
        backgroundGC: heap.vars.backgroundGC,
        gcDacVars: hexJson(heap.vars.address),
        validForTraversal: heap.isValidForTraversal,
      };
      const datas = heap.isServer && heap.vars.dynamicAdaptationMode === 1;
      const sub = heap.gcSubDescriptor;
      const subDescriptor = sub === undefined ? null : { address: hexJson(sub.address), contract: sub.contractVersion ?? null, types: sub.descriptor.types.size, globals: sub.descriptor.globals.size, identifiers: sub.identifiers };
      json.gc = { ...gc, datas, subDescriptor };
      lines.push(`GC:              ${gc.mode}${datas ? ' with DATAS (dynamic adaptation)' : ''}, ${gc.layout}, ${gc.heapCount} heap${gc.heapCount === 1 ? '' : 's'}, ${gc.segments} regions/segments${gc.backgroundGC ? ', background GC' : ''}`);
      if (heap.isServer) {
        const note = perCpuHandleNote(session, gc.heapCount);
        const tables = handleTablesLine(session);
        json.gc = { ...gc, datas, subDescriptor, ...(note ? { handleSlots: note.slots, handlesPastHeaps: note.past } : {}), handleTablesPerBucket: tables?.slots ?? null };
        if (note) lines.push(`                 ${note.text}`);
        if (tables) lines.push(`Handle tables:   ${tables.text}`);
      }
      if (sub !== undefined) {
        lines.push(`GC descriptor:   GC ${sub.contractVersion ?? '?'}, ${sub.descriptor.types.size} types, ${sub.descriptor.globals.size} globals (${sub.identifiers.join(', ')}); the heap is read through it${heap.vars.dacTableSlot !== 0 ? '; agrees with g_dacTable' : ''}`);
      }
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      json.gc = { error: e.message };
      lines.push(`GC:              unavailable: ${e.message}`);
    }
    lines.push(`OS threads:      ${dump.threads.length}`);
    lines.push(`Modules:         ${dump.modules.length}`);
    // Heap dumps leave out file-backed image pages; say where they came from instead.
    const overlays = dump.imageOverlays.filter((r) => r.missingBytes > 0);
    const filled = overlays.filter((r) => r.filePath !== undefined);
    json.imagePages = overlays.map((r) => ({
      module: r.modulePath,
      missingBytes: r.missingBytes,
      filledBytes: r.filledBytes,
      from: r.filePath ?? null,
      matchedBy: r.matchedBy ?? null,
    }));
    json.descriptorRebuiltFromImageFile = d.rebuiltFromImageFile;
    if (overlays.length) {
      const missingMiB = overlays.reduce((a, r) => a + r.missingBytes, 0) / 1048576;
      const filledMiB = overlays.reduce((a, r) => a + r.filledBytes, 0) / 1048576;
      lines.push(`Image pages:     ${missingMiB.toFixed(1)} MiB of ${overlays.length} images not in the dump; ${filledMiB.toFixed(1)} MiB read from ${filled.length} matching files on disk`);
    }
    if (d.rebuiltFromImageFile) lines.push('                 (the contract descriptor was rebuilt from libcoreclr.so on disk, same build id)');
    const missing = [...dump.warnings];
    json.missing = missing;
    lines.push(missing.length ? `Missing:         ${missing.length} item(s):` : 'Missing:         nothing else noted');
    for (const m of missing) lines.push(`  ${m}`);
    return { text: lines.join('\n'), json };
  },
};
