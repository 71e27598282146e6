/**
 * `dumpvc <MethodTable> <address>`: the fields of a value type stored inline (in an object, an array or on a
 * stack), in SOS's text (strike.cpp PrintVC).
 */
import { UsageError } from '../../errors';
import { addressArg, parseArgs } from '../args';
import type { Command, CommandResult } from '../command';
import { hexJson, p16 } from '../format';
import type { Session } from '../session';
import { moduleFile } from './dumpobj';
import { FIELD_TABLE_HEADER, fieldRowsJson, fieldTableLines, objectReaderOf } from './object-text';
import { reportNameProblems } from './warnings';

/** The dumpvc command. */
export const dumpvcCommand: Command = {
  name: 'dumpvc',
  aliases: [],
  summary: 'Show the fields of a value type stored at an address',
  usage: 'dumpvc <MethodTable> <address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpvc', args, [], []);
    if (opts.positional.length !== 2) throw new UsageError('usage: dumpvc <MethodTable> <value address>');
    const mtAddress = addressArg('dumpvc', opts.positional[0], 'MethodTable');
    const address = addressArg('dumpvc', opts.positional[1], 'address');
    const result = describeValue(session, mtAddress, address, true);
    reportNameProblems(session);
    return result;
  },
};

/** The dumpvc text and JSON of the value of type `mtAddress` at `address`. @throws UsageError for a bad
 * MethodTable; DumpsleuthError when the fields cannot be read. */
export function describeValue(session: Session, mtAddress: number, address: number, withFields: boolean): CommandResult {
  const mt = objectReaderOf(session).tryReadMethodTable(mtAddress);
  if (!mt || mtAddress === session.heap.freeObjectMethodTable) throw new UsageError(`0x${mtAddress.toString(16)} is not a valid MethodTable`);
  const name = session.names.dacName(mt.address);
  const lines = [`Name:        ${name}`, `MethodTable: ${p16(mt.address)}`];
  if (mt.canonicalMT !== mt.address) lines.push(`Canonical: ${p16(mt.canonicalMT)}`);
  lines.push(`Size:        ${mt.baseSize}(0x${mt.baseSize.toString(16)}) bytes`, `File:        ${moduleFile(session, mt.module)}`);
  const json: Record<string, unknown> = { address: hexJson(address), mt: hexJson(mt.address), name, size: mt.baseSize };
  if (withFields) {
    const rows = objectReaderOf(session).fieldRows(mt, address, true);
    lines.push('Fields:');
    if (rows.length > 0) lines.push(FIELD_TABLE_HEADER, ...fieldTableLines(session, rows));
    json.fields = fieldRowsJson(session, rows);
  }
  return { text: lines.join('\n'), json };
}
