/**
 * Instruction decoding for `u`: an architecture-neutral interface (so arm64 can plug in another decoder) and the x64
 * implementation on iced-x86, formatted in Intel syntax the way lldb prints it under SOS's `u` (lower-case hex with
 * a 0x prefix, a space after commas; research/names-and-sos-output.md B12).
 */
import type * as IcedX86 from 'iced-x86';
import type { Formatter, Instruction } from 'iced-x86';

let icedModule: typeof IcedX86 | undefined;
/** iced-x86 (WebAssembly, ~70 ms to load) is loaded on the first disassembly, not when the CLI starts (issue 16). */
function iced(): typeof IcedX86 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (icedModule ??= require('iced-x86') as typeof IcedX86);
}

/** What an instruction does to control flow (enough to annotate calls and jumps). */
export type InstructionFlow = 'next' | 'branch' | 'conditionalBranch' | 'indirectBranch' | 'call' | 'indirectCall' | 'return' | 'other';

/** One decoded instruction. */
export interface DecodedInstruction {
  readonly address: number;
  readonly bytes: Uint8Array;
  readonly mnemonic: string;
  readonly operands: string;
  /** Mnemonic and operands, as `mov     rcx, rax`. */
  readonly text: string;
  readonly flow: InstructionFlow;
  /** Direct call/jump target. */
  readonly target?: number;
  /** For `call/jmp [rip+disp]`: the address of the pointer the branch goes through. */
  readonly indirectSlot?: number;
  /** A 64-bit immediate or RIP-relative data address an annotation may name (a MethodTable, a string, ...). */
  readonly constant?: number;
  /** True when the bytes did not decode as an instruction. */
  readonly invalid: boolean;
}

/** Decodes machine code; implementations are stateless apart from caches. */
export interface Disassembler {
  readonly architecture: string;
  /** Decodes `bytes` as code at `address`, up to `maxInstructions`; a truncated final instruction is left out. */
  decode(bytes: Uint8Array, address: number, maxInstructions?: number): DecodedInstruction[];
}

const MNEMONIC_WIDTH = 8;

/** The x64 disassembler (iced-x86, Intel syntax). */
export class X64Disassembler implements Disassembler {
  readonly architecture = 'x64';
  private readonly formatter: Formatter;

  constructor() {
    const { Formatter, FormatterSyntax } = iced();
    this.formatter = new Formatter(FormatterSyntax.Intel);
    this.formatter.hexPrefix = '0x';
    this.formatter.hexSuffix = '';
    this.formatter.uppercaseHex = false;
    this.formatter.spaceAfterOperandSeparator = true;
    this.formatter.branchLeadingZeros = false;
    this.formatter.leadingZeros = false;
    this.formatter.showBranchSize = false;
  }

  /** Decodes x64 code. */
  decode(bytes: Uint8Array, address: number, maxInstructions = Number.MAX_SAFE_INTEGER): DecodedInstruction[] {
    const { Decoder, DecoderOptions, Instruction } = iced();
    const out: DecodedInstruction[] = [];
    const decoder = new Decoder(64, bytes, DecoderOptions.None);
    const ins = new Instruction();
    try {
      decoder.ip = BigInt(address);
      while (decoder.canDecode && out.length < maxInstructions) {
        const offset = decoder.position;
        decoder.decodeOut(ins);
        const length = ins.length;
        // A final instruction cut off by the end of the bytes decodes as invalid: leave it for the caller.
        if (ins.isInvalid && offset + length >= bytes.length && bytes.length - offset < 15) break;
        out.push(this.convert(ins, bytes.subarray(offset, offset + length), address + offset));
      }
    } finally {
      ins.free();
      decoder.free();
    }
    return out;
  }

  private convert(ins: Instruction, bytes: Uint8Array, address: number): DecodedInstruction {
    const mnemonic = this.formatter.formatMnemonic(ins);
    const operands = this.formatter.formatAllOperands(ins);
    const text = operands.length > 0 ? mnemonic.padEnd(MNEMONIC_WIDTH - 1) + ' ' + operands : mnemonic;
    const flow = flowOf(ins.flowControl);
    let target: number | undefined;
    let indirectSlot: number | undefined;
    let constant: number | undefined;
    if (flow === 'branch' || flow === 'conditionalBranch' || flow === 'call') target = Number(ins.nearBranchTarget);
    if (ins.isIpRelMemoryOperand) {
      const slot = Number(ins.ipRelMemoryAddress);
      if (flow === 'indirectCall' || flow === 'indirectBranch') indirectSlot = slot;
      else constant = slot;
    } else if (flow === 'next' && ins.op1Kind === iced().OpKind.Immediate64) {
      // mov reg, imm64: the only x64 form with a 64-bit immediate, which is how JIT'd code loads handles.
      const imm = ins.immediate(1);
      if (imm > 0n && imm < 1n << 53n) constant = Number(imm);
    }
    return {
      address,
      bytes: bytes.slice(),
      mnemonic,
      operands,
      text,
      flow,
      ...(target !== undefined ? { target } : {}),
      ...(indirectSlot !== undefined ? { indirectSlot } : {}),
      ...(constant !== undefined ? { constant } : {}),
      invalid: ins.isInvalid,
    };
  }
}

function flowOf(f: IcedX86.FlowControl): InstructionFlow {
  const { FlowControl } = iced();
  switch (f) {
    case FlowControl.Next:
      return 'next';
    case FlowControl.UnconditionalBranch:
      return 'branch';
    case FlowControl.ConditionalBranch:
      return 'conditionalBranch';
    case FlowControl.IndirectBranch:
      return 'indirectBranch';
    case FlowControl.Call:
      return 'call';
    case FlowControl.IndirectCall:
      return 'indirectCall';
    case FlowControl.Return:
      return 'return';
    default:
      return 'other';
  }
}

let shared: X64Disassembler | undefined;

/** The disassembler for a target architecture ('x64' only for now). */
export function disassemblerFor(architecture: 'x64'): Disassembler {
  if (architecture !== 'x64') throw new Error(`no disassembler for ${String(architecture)}`);
  return (shared ??= new X64Disassembler());
}
