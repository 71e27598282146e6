import { EM_AARCH64, EM_X86_64 } from '../binary/elf-constants';
import { DumpFormatError } from '../errors';

/** What the core reader needs to know about one CPU architecture. */
export interface CoreArchitecture {
  /** Short name as .NET spells it ("x64", "arm64"). */
  readonly name: 'x64' | 'arm64';
  /** The `e_machine` value. */
  readonly machine: number;
  /** Bytes per pointer. */
  readonly pointerSize: 8;
  /** Size of `elf_prstatus` (NT_PRSTATUS descriptor). */
  readonly prstatusSize: number;
  /** Offset of `pr_reg` inside `elf_prstatus`. */
  readonly prstatusRegistersOffset: number;
  /** Names of the u64 registers of `pr_reg`, in the kernel's `user_regs_struct` / `user_pt_regs` order. */
  readonly registerNames: readonly string[];
  /** Register holding the instruction pointer. */
  readonly instructionPointer: string;
  /** Register holding the stack pointer. */
  readonly stackPointer: string;
  /** Register holding the frame pointer. */
  readonly framePointer: string;
}

/** x86-64 Linux: `user_regs_struct` of arch/x86/include/asm/user_64.h. */
export const X64_ARCHITECTURE: CoreArchitecture = {
  name: 'x64',
  machine: EM_X86_64,
  pointerSize: 8,
  prstatusSize: 336,
  prstatusRegistersOffset: 112,
  registerNames: [
    'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi', 'rdi',
    'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
  ],
  instructionPointer: 'rip',
  stackPointer: 'rsp',
  framePointer: 'rbp',
};

/** AArch64 Linux: `user_pt_regs` (x0..x30, sp, pc, pstate) of arch/arm64/include/uapi/asm/ptrace.h. */
export const ARM64_ARCHITECTURE: CoreArchitecture = {
  name: 'arm64',
  machine: EM_AARCH64,
  pointerSize: 8,
  prstatusSize: 392,
  prstatusRegistersOffset: 112,
  registerNames: [...Array.from({ length: 31 }, (_, i) => `x${i}`), 'sp', 'pc', 'pstate'],
  instructionPointer: 'pc',
  stackPointer: 'sp',
  framePointer: 'x29',
};

const ARCHITECTURES: readonly CoreArchitecture[] = [X64_ARCHITECTURE, ARM64_ARCHITECTURE];

/** The architecture for an `e_machine` value; throws `DumpFormatError` "unsupported architecture ..." otherwise. */
export function architectureForMachine(machine: number, what: string): CoreArchitecture {
  const arch = ARCHITECTURES.find((a) => a.machine === machine);
  if (arch === undefined) {
    throw new DumpFormatError(`${what}: unsupported architecture (e_machine ${machine}); dumpsleuth reads x64 and arm64 cores`);
  }
  return arch;
}
