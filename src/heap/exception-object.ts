/**
 * System.Exception objects read through the descriptor's `Exception` type: message, inner exception, HResult and the
 * stack trace the runtime captured while the exception unwound (`_stackTrace`, the `StackTraceInfo` array).
 */
import { DumpsleuthError, LayoutCheckError, UsageError } from '../errors';
import type { DotNetRuntime } from '../runtime/dotnet-runtime';
import type { MethodTableReader } from '../runtime/method-table';

/** One frame of an exception's captured stack trace (runtime `StackTraceElement`). */
export interface StackTraceElement {
  readonly ip: number;
  readonly sp: number;
  readonly methodDesc: number;
  readonly flags: number;
}

/** The fields of an exception object that `printexception` shows. */
export interface ExceptionObject {
  readonly address: number;
  readonly methodTable: number;
  /** `_message`, or undefined when null. */
  readonly message: string | undefined;
  /** `_innerException`, 0 when none. */
  readonly innerException: number;
  readonly stackTrace: readonly StackTraceElement[];
  /** `_stackTraceString`, or undefined when null. */
  readonly stackTraceString: string | undefined;
  readonly hresult: number;
  /** `_xcode`: the SEH code the exception was raised with (0xE0434352 for managed throws). */
  readonly xcode: number;
}

/** `EXCEPTION_COMPLUS`, the code of exceptions thrown by managed code or the runtime. */
export const EXCEPTION_COMPLUS = 0xe0434352;

/** HResults of exceptions the runtime maps from hardware faults (SOS's AsyncHResultValues, strike.cpp): arithmetic,
 * overflow, divide by zero, format, null reference / E_POINTER, data misaligned. */
const ASYNC_HRESULTS = new Set([0x80070216, 0x80131516, 0x80020012, 0x80131537, 0x80004003, 0x80131541]);

/** SOS's heuristic for an exception raised by a hardware fault, whose stored IPs it shows one byte later. */
export function isAsyncException(ex: ExceptionObject): boolean {
  return ex.xcode !== EXCEPTION_COMPLUS || ASYNC_HRESULTS.has(ex.hresult);
}

/** `StackTraceInfo`'s array: a header { size_t m_size; Thread* m_thread } then 32-byte elements
 * { ip, sp, MethodDesc*, int flags } (stackwalk.h / excep.h); the array is a byte[] or, when it keeps collectible
 * methods alive, element 0 of an object[]. */
const STACK_HEADER = 16;
const STACK_ELEMENT = 32;
const ARRAY_DATA = 16;
const MAX_FRAMES = 100_000;
const MAX_MESSAGE_CHARS = 1 << 20;
const MAX_HIERARCHY = 100;

/** Reads exception objects; caches which MethodTables derive from System.Exception. */
export class ExceptionReader {
  private readonly isException = new Map<number, boolean>();
  private readonly exceptionMT: number;

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
  ) {
    this.exceptionMT = rt.readGlobalPointer('ExceptionMethodTable');
  }

  /** True when the MethodTable is System.Exception or derives from it. */
  isExceptionType(mt: number): boolean {
    let known = this.isException.get(mt);
    if (known === undefined) {
      known = false;
      let at = mt;
      for (let depth = 0; at !== 0 && depth < MAX_HIERARCHY; depth++) {
        if (at === this.exceptionMT) {
          known = true;
          break;
        }
        const info = this.mts.tryRead(at);
        if (!info) break;
        at = info.parent;
      }
      this.isException.set(mt, known);
    }
    return known;
  }

  /** The MethodTable of the object at `address`. @throws UnmappedAddressError. */
  methodTableOf(address: number): number {
    const raw = this.rt.memory.readPointer(address);
    return raw - (raw % 8);
  }

  /** Reads the exception at `address`. @throws UsageError when it is not an exception; LayoutCheckError when its
   * stack trace array does not have the expected shape; UnmappedAddressError. */
  read(address: number): ExceptionObject {
    const m = this.rt.memory;
    const d = this.rt.descriptor;
    let mt: number;
    try {
      mt = this.methodTableOf(address);
    } catch (e) {
      if (e instanceof DumpsleuthError) throw new UsageError(`0x${address.toString(16)} is not a valid exception object`);
      throw e;
    }
    if (!this.isExceptionType(mt)) throw new UsageError(`0x${address.toString(16)} is not a valid exception object`);
    const field = (name: string): number => m.readPointer(address + d.offset('Exception', name));
    return {
      address,
      methodTable: mt,
      message: this.readString(field('_message')),
      innerException: field('_innerException'),
      stackTrace: this.readStackTrace(field('_stackTrace')),
      stackTraceString: this.readString(field('_stackTraceString')),
      hresult: m.readU32(address + d.offset('Exception', '_HResult')),
      xcode: m.readU32(address + d.offset('Exception', '_xcode')),
    };
  }

  private readString(address: number): string | undefined {
    if (address === 0) return undefined;
    const m = this.rt.memory;
    const d = this.rt.descriptor;
    const length = m.readU32(address + d.offset('String', 'm_StringLength'));
    if (length > MAX_MESSAGE_CHARS) throw new LayoutCheckError(`string 0x${address.toString(16)} claims ${length} characters`);
    return Buffer.from(m.read(address + d.offset('String', 'm_FirstChar'), length * 2)).toString('utf16le');
  }

  private readStackTrace(array: number): StackTraceElement[] {
    if (array === 0) return [];
    const m = this.rt.memory;
    let bytes = array;
    const mt = this.mts.tryRead(this.methodTableOf(array));
    if (mt && mt.componentSize === 8) {
      // object[]: the byte[] is element 0, the rest keep collectible methods alive.
      bytes = m.readPointer(array + ARRAY_DATA);
      if (bytes === 0) return [];
    }
    const length = m.readU32(bytes + 8);
    const count = m.readPointer(bytes + ARRAY_DATA);
    if (count > MAX_FRAMES || STACK_HEADER + count * STACK_ELEMENT > length) {
      throw new LayoutCheckError(`the stack trace array 0x${bytes.toString(16)} (${length} bytes) claims ${count} frames`);
    }
    const frames: StackTraceElement[] = [];
    for (let i = 0; i < count; i++) {
      const at = bytes + ARRAY_DATA + STACK_HEADER + i * STACK_ELEMENT;
      frames.push({ ip: m.readPointer(at), sp: m.readPointer(at + 8), methodDesc: m.readPointer(at + 16), flags: m.readU32(at + 24) });
    }
    return frames;
  }
}
