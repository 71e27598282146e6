/**
 * Source file and line of a managed frame, as SOS prints them after a frame (`[/src/Program.cs @ 41]`): the frame's
 * native offset (one byte back for every frame but the first, which points after a call) → IL offset through the
 * method's debug info bounds (the mapping whose native range holds it; prolog as IL 0, epilog as the method's last IL
 * offset) → the last visible sequence point at or before it in the module's portable PDB, found next to the module
 * or under --image-path and used only when its id matches the image's CodeView record.
 */
import { DumpsleuthError } from '../../errors';
import { findPdbFiles } from '../../dump/pdb-files';
import type { CodeResolver } from '../../runtime/code/code-resolver';
import type { OffsetMapping } from '../../runtime/code/debug-info';
import { readBlockDebugInfo } from '../../runtime/code/method-debug-info';
import type { StackFrame } from '../../runtime/code/stack-walker';
import { rvaToFileOffset } from '../../runtime/code/method-details';
import { PortablePdb } from '../../runtime/metadata/portable-pdb';
import type { Session } from '../session';

/** A frame's source position. */
export interface SourceLine {
  readonly file: string;
  readonly line: number;
}

const pdbCache = new WeakMap<Session, Map<number, PortablePdb | null>>();

/** The PDB of a module (by Module address), null when none matches. */
function pdbOf(session: Session, code: CodeResolver, module: number): PortablePdb | null {
  let cache = pdbCache.get(session);
  if (!cache) pdbCache.set(session, (cache = new Map()));
  let pdb = cache.get(module);
  if (pdb !== undefined) return pdb;
  pdb = null;
  try {
    const mod = code.parts.modules.read(module);
    const guid = codeViewGuid(session, mod.imageBase, mod.isMappedLayout);
    if (guid && mod.path !== '') {
      for (const file of findPdbFiles(mod.path, session.imagePath)) {
        let candidate: PortablePdb;
        try {
          candidate = new PortablePdb(file.bytes);
        } catch (e) {
          if (e instanceof DumpsleuthError) continue;
          throw e;
        }
        if (Buffer.from(candidate.guid).equals(Buffer.from(guid))) {
          pdb = candidate;
          break;
        }
        session.warn(`${file.path} is not the PDB of ${mod.path} (its id differs): no source lines from it`);
      }
    }
  } catch (e) {
    if (!(e instanceof DumpsleuthError)) throw e;
  }
  cache.set(module, pdb);
  return pdb;
}

/** The GUID of the image's CodeView (RSDS) debug directory entry, read from the image in the dump. */
function codeViewGuid(session: Session, imageBase: number, mapped: boolean): Uint8Array | undefined {
  if (imageBase === 0) return undefined;
  const m = session.runtime.memory;
  const pe = imageBase + m.readU32(imageBase + 0x3c);
  const magic = m.readU16(pe + 24);
  const dirs = pe + 24 + (magic === 0x20b ? 112 : 96);
  const debugRva = m.readU32(dirs + 6 * 8);
  const debugSize = m.readU32(dirs + 6 * 8 + 4);
  if (debugRva === 0 || debugSize === 0) return undefined;
  const table = imageBase + (mapped ? debugRva : rvaToFileOffset(session.runtime, imageBase, debugRva));
  for (let i = 0; i < Math.min(debugSize / 28, 16); i++) {
    const entry = table + i * 28;
    if (m.readU32(entry + 12) !== 2) continue;
    const data = imageBase + (mapped ? m.readU32(entry + 20) : m.readU32(entry + 24));
    if (m.readU32(data) !== 0x53445352) continue; // 'RSDS'
    return m.read(data + 4, 16).slice();
  }
  return undefined;
}

/** The IL offset SOS's ConvertNativeToIlOffset finds for `offset`; undefined for no mapping. */
export function ilOffsetOf(bounds: readonly OffsetMapping[], offset: number): number | undefined {
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i]!;
    const next = bounds[i + 1];
    if (b.nativeOffset <= offset && (next === undefined || offset < next.nativeOffset)) {
      if (b.ilOffset === -1) return undefined;
      if (b.ilOffset === -2) return 0;
      if (b.ilOffset === -3) return Math.max(0, ...bounds.filter((x) => x.ilOffset >= 0).map((x) => x.ilOffset));
      return b.ilOffset;
    }
  }
  return undefined;
}

/** The source line of managed frame `frame`; `adjust` steps back one byte (every frame but the first printed).
 * Undefined when there is no PDB, no debug info or no visible sequence point. */
export function sourceLineOf(session: Session, code: CodeResolver, frame: Extract<StackFrame, { kind: 'managed' }>, adjust: boolean): SourceLine | undefined {
  try {
    const info = code.methodDescs.tryRead(frame.methodDesc);
    if (!info || (info.token >>> 24) !== 0x06) return undefined;
    const pdb = pdbOf(session, code, code.methodDescs.module(frame.methodDesc));
    if (!pdb) return undefined;
    const block = frame.block;
    const bounds = readBlockDebugInfo(session.runtime, code.em, block).bounds;
    if (bounds.length === 0) return undefined;
    let offset = frame.ip - block.startAddress;
    if (adjust && offset >= 1) offset -= 1;
    const il = ilOffsetOf(bounds, offset);
    if (il === undefined) return undefined;
    let best: { document: number; startLine: number } | undefined;
    for (const p of pdb.sequencePoints(info.token & 0xffffff)) {
      if (p.ilOffset > il) break;
      if (!p.hidden && p.startLine !== 0) best = p;
    }
    return best ? { file: pdb.documentName(best.document), line: best.startLine } : undefined;
  } catch (e) {
    if (e instanceof DumpsleuthError) return undefined;
    throw e;
  }
}
