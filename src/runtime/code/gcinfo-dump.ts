/**
 * GC info as text, the way SOS's `gcinfo` prints it (dotnet/diagnostics src/shared/gcdump/gcdumpnonx86.cpp
 * `GCDump::DumpGCTable` over gcinfodumper.cpp `GcInfoDumper::EnumerateStateChanges`): the header, the untracked
 * slots, then for every code offset the interruptibility changes, safe points and live-slot births and deaths.
 */
import { enumerateLiveSlots, GcInfoHeaderFlags, GcStackSlotBase, GcSlotFlags, type GcInfo, type GcSlot, type LiveSlot } from './gcinfo-decoder';

/** SOS's text for the GC info (without its `entry point`/`GC info` lines, which need the code address). */
export function formatGcInfoLikeSos(info: GcInfo): string {
  const out: string[] = [];
  const regName = (r: number) => info.encoding.registerNames[r] ?? '???';
  const callerSp = (ofs: number) => `caller.sp${ofs < 0 ? '-' : '+'}${Math.abs(ofs).toString(16)}`;
  // gcdumpnonx86.cpp prints the prolog size when there is a generics context or no GS cookie (security objects are gone).
  if (info.genericsInstContext !== undefined || info.gsCookieStackSlot === undefined) out.push(`Prolog size: ${info.prologSize ?? 0}\n`);
  if (info.gsCookieStackSlot === undefined) out.push('GS cookie: <none>\n');
  else {
    out.push(`GS cookie: ${callerSp(info.gsCookieStackSlot)}\n`);
    out.push(`GS cookie valid range: [${info.gsCookieValidRange!.start.toString(16)};${info.gsCookieValidRange!.end.toString(16)})\n`);
  }
  out.push(`PSPSym: ${info.pspSymStackSlot === undefined ? '<none>' : `initial.sp${info.pspSymStackSlot < 0 ? '-' : '+'}${Math.abs(info.pspSymStackSlot).toString(16)}`}\n`);
  out.push(`Generics inst context: ${info.genericsInstContext === undefined ? '<none>' : callerSp(info.genericsInstContext.stackSlot)}\n`);
  out.push(`PSP slot: ${info.pspSymStackSlot === undefined ? '<none>' : callerSp(info.pspSymStackSlot)}\n`);
  if (info.genericsInstContext === undefined) out.push('GenericInst slot: <none>\n');
  else {
    const kind = info.genericsInstContext.kind === 'MD' ? 'GENERIC_PARAM_CONTEXT_METHODDESC' : info.genericsInstContext.kind === 'MT' ? 'GENERIC_PARAM_CONTEXT_METHODHANDLE' : 'GENERIC_PARAM_CONTEXT_THIS';
    out.push(`GenericInst slot: ${callerSp(info.genericsInstContext.stackSlot)} (${kind})\n`);
  }
  out.push(`Varargs: ${info.isVarArg ? 1 : 0}\n`);
  out.push(`Frame pointer: ${info.stackBaseRegister === undefined ? '<none>' : regName(info.stackBaseRegister)}\n`);
  out.push(`Wants Report Only Leaf: ${(info.headerFlags & GcInfoHeaderFlags.WantsReportOnlyLeaf) !== 0 ? 1 : 0}\n`);
  out.push(`Size of parameter area: ${info.sizeOfStackOutgoingAndScratchArea.toString(16)}\n`);
  out.push(`Code size: ${info.codeLength.toString(16)}\n`);
  out.push(stateChanges(info));
  return out.join('');
}

/** The dumper's state machine (GcInfoDumpState): births and deaths per offset, safe points, interruptibility. */
function stateChanges(info: GcInfo): string {
  let text = '';
  let lastOffset: number | undefined;
  let anything = false;
  let atSafePoint = false;
  const slotText = (slot: GcSlot, live: boolean) => {
    let s = ` ${live ? '+' : '-'}`;
    if (slot.kind === 'register') s += info.encoding.registerNames[slot.register] ?? '???';
    else {
      // The dumper guesses a stack slot's base from the address and "fixes" nonsensical guesses: a negative offset
      // from SP is shown as caller SP, a positive one from caller SP as SP (gcdumpnonx86.cpp).
      let base = slot.base;
      const sign = slot.offset < 0 ? '-' : '+';
      if (slot.offset < 0 && base === GcStackSlotBase.Sp) base = GcStackSlotBase.CallerSp;
      else if (slot.offset >= 0 && base === GcStackSlotBase.CallerSp) base = GcStackSlotBase.Sp;
      const name = base === GcStackSlotBase.CallerSp ? 'caller.sp' : base === GcStackSlotBase.Sp ? 'sp' : info.stackBaseRegister !== undefined ? (info.encoding.registerNames[info.stackBaseRegister] ?? '???') : '???';
      s += `${name}${sign}${Math.abs(slot.offset).toString(16)}`;
    }
    if ((slot.flags & GcSlotFlags.Pinned) !== 0) s += '(pinned)';
    if ((slot.flags & GcSlotFlags.Interior) !== 0) s += '(interior)';
    return s;
  };
  const change = (offset: number, slot: GcSlot, live: boolean, untracked: boolean) => {
    if (atSafePoint && !live) return;
    if (lastOffset !== offset) {
      if (anything) text += '\n';
      text += untracked && !anything ? 'Untracked:' : offset.toString(16).padStart(8, '0');
      lastOffset = offset;
    }
    text += slotText(slot, live);
    anything = true;
  };
  // Records are kept newest first (LivePointerRecord lists are prepended), so each set is printed in reverse.
  const key = (l: LiveSlot) => `${l.index}`;
  const diff = (offset: number, prev: LiveSlot[], next: LiveSlot[], untracked: boolean) => {
    const nextKeys = new Set(next.map(key));
    const prevKeys = new Set(prev.map(key));
    for (const p of [...prev].reverse()) if (!nextKeys.has(key(p))) change(offset, p.slot, false, untracked);
    for (const n of [...next].reverse()) if (!prevKeys.has(key(n))) change(offset, n.slot, true, untracked);
  };
  const untrackedSlots: LiveSlot[] = [];
  for (let i = info.numTracked; i < info.slots.length; i++) untrackedSlots.push({ index: i, slot: info.slots[i]!, tracked: false });
  diff(-2, [], untrackedSlots, true);
  let prev: LiveSlot[] = [];
  let prevInterruptible = false;
  const safePoints = new Set(info.safePoints);
  for (let offset = 0; offset <= info.codeLength; offset++) {
    const interruptible = info.interruptibleRanges.some((r) => offset >= r.start && offset < r.stop);
    if (interruptible !== prevInterruptible) {
      if (anything) {
        text += '\n';
        anything = false;
        atSafePoint = false;
      }
      text += `${offset.toString(16).padStart(8, '0')}${interruptible ? '' : ' not'} interruptible\n`;
      lastOffset = undefined;
      prevInterruptible = interruptible;
    }
    let active = true;
    // v4 safe points are the return-address offsets themselves, so the loop offset is looked up as is (the v3 dumper
    // looked up offset + 1 against "return address − 1"; only v4 is printed exactly here).
    if (safePoints.has(offset)) {
      if (anything) text += '\n';
      text += `${offset.toString(16).padStart(8, '0')} is a safepoint: `;
      lastOffset = offset;
      anything = true;
      atSafePoint = true;
      active = false;
    }
    // Non-interruptible offsets other than safe points decode as "execution aborted" (nothing but untracked slots).
    const live = enumerateLiveSlots(info, offset, { isActiveFrame: active, executionAborted: active && !interruptible, noReportUntracked: true }).slots;
    diff(offset, prev, live, false);
    prev = live;
  }
  if (anything) text += '\n';
  return text;
}
