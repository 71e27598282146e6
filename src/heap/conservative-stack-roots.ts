/**
 * Conservative stack roots: every pointer-aligned word of a thread's stack (from its saved stack pointer to the
 * end of the stack's memory mapping) and every general register whose value lies inside a walked heap object
 * (research/code-and-stacks-net10.md §6.2: the heap walk is the proof of an object start). These are "possible"
 * roots: stale slots and dead registers are included, and they stand in until precise GC-info roots exist.
 */
import type { CoreThread } from '../dump/core-notes';
import type { MemoryReader } from '../dump/memory-reader';
import { NO_OBJECT, type ObjectGraph } from './object-graph';

/** A stack root as any source reports it (conservative scan here; precise GC-info decoding later). */
export interface StackRoot {
  /** The stack slot holding the reference; 0 when it is in a register. */
  readonly address: number;
  /** The referenced object's start (the containing object for an interior pointer). */
  readonly object: number;
  /** The value found in the slot or register. */
  readonly value: number;
  /** Register name for register roots, or the frame register a slot is addressed from (e.g. `rbp`). */
  readonly register?: string;
  /** The slot's offset from `register` when the slot is frame-relative. */
  readonly registerOffset?: number;
  /** The frame that owns the slot, when known. */
  readonly frame?: { readonly stackPointer: number; readonly instructionPointer: number; readonly method?: string };
  /** True when the value points inside the object rather than at its start. */
  readonly interior: boolean;
  /** True when GC info says the slot is live; false for a conservative find. */
  readonly precise: boolean;
}

/** The general registers a conservative scan looks at, in SOS's order. */
const REGISTERS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
/** Longest stack span scanned per thread (the default Linux main-thread stack is 8 MiB). */
const MAX_STACK_BYTES = 16 << 20;
const TWO32 = 4294967296;
const CHUNK = 1 << 16;

/** Options of the conservative scan. */
export interface ConservativeScanOptions {
  /** Also report words that point inside an object (not at its start); default false, as SOS's `dso`. */
  readonly interior?: boolean;
  /** MethodTable of free space: words pointing at free objects are not roots. */
  readonly freeMethodTable: number;
}

/** Scans one thread's stack and registers; returns roots in stack order (registers first).
 * Unreadable stack memory ends the scan (the rest of the stack is not in the dump). */
export function scanStackConservatively(
  memory: MemoryReader,
  graph: ObjectGraph,
  thread: CoreThread,
  stackEnd: number,
  options: ConservativeScanOptions,
): StackRoot[] {
  const out: StackRoot[] = [];
  const consider = (value: number, address: number, register?: string) => {
    let i = graph.indexOf(value);
    let interior = false;
    if (i === NO_OBJECT && options.interior) {
      i = graph.containing(value);
      interior = true;
    }
    if (i === NO_OBJECT || graph.mtOf(i) === options.freeMethodTable) return;
    const root: StackRoot = { address, object: graph.addresses[i]!, value, interior, precise: false, ...(register ? { register } : {}) };
    out.push(root);
  };
  for (const name of REGISTERS) {
    const v = thread.registers[name];
    if (v !== undefined && v > 0n && v < 1n << 53n) consider(Number(v), 0, name);
  }
  const sp = thread.stackPointer;
  const end = Math.min(stackEnd, sp + MAX_STACK_BYTES);
  for (let a = sp - (sp % 8); a < end; ) {
    const bytes = memory.readUpTo(a, Math.min(CHUNK, end - a));
    if (bytes.length < 8) break;
    for (let at = 0; at + 8 <= bytes.length; at += 8) {
      const lo = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
      const hi = (bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16)) + bytes[at + 7]! * 0x1000000;
      if (hi === 0 || hi >= 0x200000) continue; // heap addresses on x64 Linux are above 4 GiB and below 2^53
      consider(hi * TWO32 + lo, a + at);
    }
    a += bytes.length - (bytes.length % 8);
  }
  return out;
}

/** End of the contiguous mapped memory that holds `sp` (the top of the thread's stack mapping). */
export function stackMappingEnd(segments: readonly { readonly vaddr: number; readonly memsz: number }[], sp: number): number {
  let end = 0;
  for (const s of segments) if (sp >= s.vaddr && sp < s.vaddr + s.memsz) end = s.vaddr + s.memsz;
  if (end === 0) return sp;
  // Adjacent PT_LOAD segments continue the mapping.
  for (let grown = true; grown; ) {
    grown = false;
    for (const s of segments) {
      if (s.vaddr === end) {
        end = s.vaddr + s.memsz;
        grown = true;
      }
    }
  }
  return end;
}
