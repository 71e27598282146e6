/**
 * `dumpclass <MethodTable | EEClass>`: a type's class-level facts (token, file, parent, attributes, field counts) and
 * its fields with static values, in SOS's text (strike.cpp DumpClass/DisplayClassDetails, util.cpp DisplayFields).
 *
 * .NET 9+ DACs hand out the canonical MethodTable where older ones handed out the EEClass, so SOS accepts a
 * MethodTable here and rejects a real EEClass address ("Invalid EEClass address"); dumpsleuth accepts both and
 * treats an EEClass as its canonical MethodTable.
 */
import { MissingRuntimeDataError, UsageError } from '../../errors';
import type { FieldRow } from '../../heap/object-reader';
import { EEClassReader } from '../../runtime/ee-class';
import type { MethodTableInfo } from '../../runtime/method-table';
import { TypeAttributes } from '../../runtime/metadata';
import { addressArg, parseArgs } from '../args';
import type { Command } from '../command';
import { hexJson, p16, p16Upper } from '../format';
import type { Session } from '../session';
import { moduleFile } from './dumpobj';
import { definitionDacName } from './dumpmodule';
import { FIELD_TABLE_HEADER, fieldRowsJson, fieldTableLines, objectReaderOf } from './object-text';
import { reportNameProblems } from './warnings';

const TD_IMPORT = 0x1000;

/** The dumpclass command. */
export const dumpclassCommand: Command = {
  name: 'dumpclass',
  aliases: [],
  summary: 'Show a class: token, parent, attributes, field counts and fields with static values',
  usage: 'dumpclass <MethodTable or EEClass address>',
  run(session: Session, args: readonly string[]) {
    const opts = parseArgs('dumpclass', args, [], []);
    if (opts.positional.length === 0) throw new UsageError('dumpclass: missing EEClass address');
    const mt = classArg(session, opts.positional[0]);
    const reader = objectReaderOf(session);
    const ee = reader.eeClassOf(mt);
    const name = definitionDacName(session, mt.address);
    const attr = ee.corTypeAttr;
    const words = [
      (attr & TypeAttributes.Interface) !== 0 ? 'Interface ' : '',
      (attr & TypeAttributes.Abstract) !== 0 ? 'Abstract ' : '',
      (attr & TD_IMPORT) !== 0 ? 'ComImport ' : '',
      (attr & TypeAttributes.Sealed) !== 0 ? 'Sealed ' : '',
    ].join('');
    const lines = [
      `Class Name:      ${name}`,
      `mdToken:         ${p16Upper(mt.typeDefToken)}`,
      `File:            ${moduleFile(session, mt.module)}`,
      `Parent:    ${p16(mt.parent)}`,
      `Module:          ${p16(mt.module)}`,
      `Method Table:    ${p16(mt.address)}`,
    ];
    if (mt.canonicalMT !== mt.address) lines.push(`Canonical:    ${p16(mt.canonicalMT)}`);
    lines.push(`Class Attributes:    ${attr.toString(16).padStart(8, '0')}  ${words}`);
    // SOS prints `Vtable Slots:` and `Total Method Slots:` only when the DAC reports them non-zero, and the .NET 10
    // DAC reports 0 for both (observed on 10.0.750501 for every class), so neither line appears.
    lines.push(`NumInstanceFields:   ${ee.numInstanceFields}`, `NumStaticFields:     ${ee.numStaticFields}`);
    if (ee.numThreadStaticFields !== 0) lines.push(`NumThreadStaticFields: ${ee.numThreadStaticFields}`);
    const json: Record<string, unknown> = {
      mt: hexJson(mt.address),
      eeClass: hexJson(mt.eeClass),
      canonicalMT: hexJson(mt.canonicalMT),
      name,
      token: hexJson(mt.typeDefToken),
      file: moduleFile(session, mt.module),
      parent: hexJson(mt.parent),
      module: hexJson(mt.module),
      attributes: attr,
      numInstanceFields: ee.numInstanceFields,
      numStaticFields: ee.numStaticFields,
      numThreadStaticFields: ee.numThreadStaticFields,
    };
    if (ee.numInstanceFields + ee.numStaticFields > 0) {
      // With no instance at hand, instance rows show no value; statics show theirs (DisplayFields with address 0).
      const rows = classFieldRows(session, mt);
      lines.push(FIELD_TABLE_HEADER, ...fieldTableLines(session, rows));
      json.fields = fieldRowsJson(session, rows);
    } else {
      json.fields = [];
    }
    reportNameProblems(session);
    return { text: lines.join('\n'), json };
  },
};

/** The field rows of a class without an instance: instance fields without storage or value, statics with theirs.
 * @throws DumpsleuthError when the fields cannot be read. */
export function classFieldRows(session: Session, mt: MethodTableInfo): FieldRow[] {
  // ObjectReader.fieldRows reads every instance value it lists, so it is given readable stand-in memory (a core
  // region large enough for the type) and the values it reads there are dropped.
  const span = mt.baseSize + 16;
  const scratch = session.dump.memory.regions.find((r) => r.origin === 'core' && r.end - r.start >= span);
  if (!scratch) throw new MissingRuntimeDataError(`no readable memory of ${span} bytes to lay out the fields of 0x${mt.address.toString(16)}`);
  return objectReaderOf(session)
    .fieldRows(mt, scratch.start, false)
    .map((r) => (r.fd.isStatic ? r : { fd: r.fd, name: r.name, type: r.type, offset: r.offset, address: 0, value: { kind: 'none' } }));
}

/** A MethodTable given directly, or the canonical MethodTable of an EEClass (which points back at it).
 * @throws UsageError when the address is neither. */
function classArg(session: Session, text: string | undefined): MethodTableInfo {
  const address = addressArg('dumpclass', text, 'EEClass');
  const reader = objectReaderOf(session);
  const direct = reader.tryReadMethodTable(address);
  if (direct && direct.address !== session.heap.freeObjectMethodTable) return direct;
  const ee = new EEClassReader(session.runtime);
  let candidate: MethodTableInfo | undefined;
  try {
    candidate = reader.tryReadMethodTable(ee.read(address).methodTable);
  } catch {
    candidate = undefined;
  }
  if (candidate && candidate.eeClass === address) return candidate;
  throw new UsageError(`dumpclass: 0x${address.toString(16)} is not an EEClass or MethodTable`);
}
