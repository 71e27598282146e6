/**
 * `dumparray` (`da`): an array's shape and elements (bounds of multi-dimensional arrays, `-start`/`-length` for
 * one-dimensional ones, `-details` to expand each element), in SOS's text (strike.cpp PrintArray).
 */
import { UsageError } from '../../errors';
import type { ArrayInfo } from '../../heap/object-reader';
import { addressArg, numberArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16 } from '../format';
import { fullSpeed } from '../light-command';
import type { Session } from '../session';
import { describeObject } from './dumpobj';
import { describeValue } from './dumpvc';
import { elementTypeName, objectReaderOf } from './object-text';
import { reportNameProblems } from './warnings';

const MAX_ELEMENTS = 10_000_000;
/** More elements than this get V8's optimizing compiler back (light-command.ts). */
const LIGHT_ELEMENTS = 20_000;

/** The dumparray command. */
export const dumparrayCommand: Command = {
  name: 'dumparray',
  aliases: [],
  summary: "Show an array's bounds and elements",
  usage: 'dumparray [-start <index>] [-length <count>] [-details] [-nofields] <array address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumparray', args, ['details', 'nofields'], ['start', 'length']);
    const address = addressArg('dumparray', opts.positional[0], 'array address');
    const reader = objectReaderOf(session);
    const obj = reader.readObject(address);
    if (!obj.mt.isArray) throw new UsageError(`0x${address.toString(16)} is not an array, use dumpobj instead`);
    const arr = reader.readArray(obj);
    const start = opts.values.has('start') ? numberArg('dumparray', opts.values.get('start')!, 'start index') : 0;
    const length = opts.values.has('length') ? numberArg('dumparray', opts.values.get('length')!, 'length') : undefined;
    if (arr.rank !== 1 && (length !== undefined || start !== 0)) throw new UsageError('dumparray: -start and -length work on one-dimensional arrays only');
    if (start > arr.length) throw new UsageError(`dumparray: start index ${start} is out of range (${arr.length} elements)`);
    const details = opts.flags.has('details');
    const names = session.names;
    const elementName = names.dacName(arr.elementHandle);
    const lines = [
      `Name:        ${elementName}[${','.repeat(arr.rank - 1)}]`,
      `MethodTable: ${p16(obj.mt.address)}`,
      `EEClass:     ${p16(obj.mt.canonicalMT)}`,
      `Size:        ${obj.size}(0x${obj.size.toString(16)}) bytes`,
      `Array:       Rank ${arr.rank}, Number of elements ${arr.length}, Type ${elementTypeName(arr.elementType)}`,
      `Element Methodtable: ${p16(arr.elementHandle)}`,
    ];
    const elements: { indices: number[]; value: string | null }[] = [];
    // A short command runs without optimized code (light-command.ts); listing a big array is long work.
    if (Math.min(length ?? Infinity, arr.length - start) > LIGHT_ELEMENTS) fullSpeed();
    forEachElement(arr, start, length, (indices, offset) => {
      const at = arr.dataAddress + offset * arr.componentSize;
      const value = arr.elementIsValueType ? at : session.runtime.memory.readPointer(at);
      const label = indices.map((i) => `[${i}]`).join('');
      lines.push(value === 0 ? `${label} null` : `${label} ${p16(value)}`);
      elements.push({ indices, value: value === 0 ? null : hexJson(value) });
      if (details && value !== 0) {
        const inner = arr.elementIsValueType
          ? describeValue(session, arr.elementHandle, at, !opts.flags.has('nofields'))
          : describeObject(session, reader.readObject(value, false), !opts.flags.has('nofields'));
        for (const l of inner.text.split('\n')) lines.push('    ' + l);
      }
    });
    reportNameProblems(session);
    return {
      text: lines.join('\n'),
      json: {
        address: hexJson(address),
        mt: hexJson(obj.mt.address),
        name: names.dacName(obj.mt.address),
        size: obj.size,
        rank: arr.rank,
        length: arr.length,
        bounds: arr.bounds,
        lowerBounds: arr.lowerBounds,
        elementMT: hexJson(arr.elementHandle),
        elements,
      },
    };
  },
};

/** Visits the elements in SOS's order (last index fastest) from `start` (rank 1 only), at most `length` of them. */
function forEachElement(arr: ArrayInfo, start: number, length: number | undefined, visit: (indices: number[], offset: number) => void): void {
  const rank = arr.rank;
  const bounds = [...arr.bounds];
  const lower = arr.lowerBounds;
  if (rank === 1 && length !== undefined) bounds[0] = Math.min(bounds[0]!, length + start - lower[0]!);
  const indices = lower.slice();
  if (rank === 1) indices[0] = start;
  let offset = 0;
  for (let i = rank - 1, mul = 1; i >= 0; i--) {
    offset += (indices[i]! - lower[i]!) * mul;
    mul *= bounds[i]!;
  }
  for (let count = 0; count < MAX_ELEMENTS; count++, offset++) {
    // Carry overflowing indices into the next dimension (SOS IndicesInRange).
    let inRange = true;
    for (let i = rank - 1; i >= 0; i--) {
      if (indices[i]! >= bounds[i]! + lower[i]!) {
        if (i === 0) {
          inRange = false;
          break;
        }
        indices[i] = lower[i]!;
        indices[i - 1]!++;
      }
    }
    if (!inRange) return;
    visit(indices.slice(), offset);
    indices[rank - 1]!++;
  }
}
