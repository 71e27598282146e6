// Parsers for SOS's object and type commands as the pinned dotnet-dump (10.0.750501) prints them: dumpobj,
// dumpvc, dumparray and dumpmt -md (native strike.cpp formats, research/names-and-sos-output.md B0/B15).
// Fixed columns are cut by position (type names may contain spaces); values and names by whitespace.

/** One row of a dumpobj/dumpvc `Fields:` table. */
export interface SosFieldRow {
  readonly mt: number;
  readonly token: number;
  readonly offset: number;
  /** The Type column as printed (cut to 20 characters with a leading `...` when longer). */
  readonly type: string;
  readonly isValueType: boolean;
  readonly attr: 'instance' | 'static' | 'TLstatic';
  /** The Value column (trimmed), '' when SOS printed none. */
  readonly value: string;
  readonly name: string;
}

/** The parts of a dumpobj/dumpvc answer. */
export interface SosObject {
  /** The `Name:` line; '' when absent (a free object or an error). */
  readonly name: string;
  readonly methodTable: number;
  readonly size: number;
  readonly file?: string;
  readonly array?: { readonly rank: number; readonly length: number; readonly elementType: string };
  readonly content?: string;
  readonly string?: string;
  /** undefined when the output has no `Fields:` line (-nofields), [] for `None`. */
  readonly fields?: SosFieldRow[];
  /** Lines SOS printed that this parser did not recognise (warnings, thread-static values). */
  readonly other: string[];
}

const FIELD_ROW = /^([0-9a-f]{16}) ([0-9a-f]{8}) ([ 0-9a-f]{8}) (.{20}) ([ A-Za-z]{4}) ([ A-Za-z]{8}) ?(.*)$/;

/** Parses one dumpobj or dumpvc output (the `Loading core dump:` line, if present, is skipped). */
export function parseDumpObj(text: string): SosObject {
  const lines = text.split('\n').filter((l) => !l.startsWith('Loading core dump:') && !l.startsWith('Current symbol store settings'));
  let name = '';
  let methodTable = 0;
  let size = 0;
  let file: string | undefined;
  let array: SosObject['array'];
  let content: string | undefined;
  let str: string | undefined;
  let fields: SosFieldRow[] | undefined;
  const other: string[] = [];
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if (line.startsWith('Name:        ')) name = line.slice(13);
    else if (line.startsWith('MethodTable: ')) methodTable = parseInt(line.slice(13), 16);
    else if ((m = /^Size:\s+(\d+)\(0x[0-9a-f]+\) bytes$/.exec(line))) size = Number(m[1]);
    else if (line.startsWith('File:        ')) file = line.slice(13);
    else if ((m = /^Array:\s+Rank (\d+), Number of elements (\d+), Type (.*)$/.exec(line))) array = { rank: Number(m[1]), length: Number(m[2]), elementType: m[3]! };
    else if (line.startsWith('Content:     ')) content = line.slice(13);
    else if (line.startsWith('String:      ')) str = line.slice(13);
    else if (line === 'Fields:') fields = [];
    else if (line === 'None' && fields) continue;
    else if (/^\s+MT\s+Field\s+Offset/.test(line)) continue;
    else if (fields && (m = FIELD_ROW.exec(line))) {
      const attr = m[6]!.trim() as SosFieldRow['attr'];
      const rest = m[7]!.trim().split(/\s+/);
      fields.push({
        mt: parseInt(m[1]!, 16),
        token: parseInt(m[2]!, 16),
        offset: parseInt(m[3]!.trim(), 16),
        type: m[4]!.trim(),
        isValueType: m[5]!.trim() === 'Yes',
        attr,
        value: rest.length > 1 ? rest[0]! : '',
        name: rest[rest.length - 1]!,
      });
    } else if (line.trim() !== '') other.push(line);
  }
  return { name, methodTable, size, file, array, content, string: str, fields, other };
}

/** One element line of a dumparray listing. */
export interface SosArrayElement {
  readonly indices: number[];
  /** The element's address (value types) or the object reference; 0 for `null`. */
  readonly value: number;
}

/** The parts of a dumparray answer. */
export interface SosArray {
  readonly name: string;
  readonly methodTable: number;
  readonly eeClass: number;
  readonly size: number;
  readonly array?: { readonly rank: number; readonly length: number; readonly elementType: string };
  readonly elementMethodTable: number;
  readonly elements: SosArrayElement[];
}

/** Parses one dumparray output (without -details). */
export function parseDumpArray(text: string): SosArray {
  let name = '';
  let methodTable = 0;
  let eeClass = 0;
  let size = 0;
  let array: SosArray['array'];
  let elementMethodTable = 0;
  const elements: SosArrayElement[] = [];
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if (line.startsWith('Name:        ')) name = line.slice(13);
    else if (line.startsWith('MethodTable: ')) methodTable = parseInt(line.slice(13), 16);
    else if (line.startsWith('EEClass:     ')) eeClass = parseInt(line.slice(13), 16);
    else if ((m = /^Size:\s+(\d+)\(0x[0-9a-f]+\) bytes$/.exec(line))) size = Number(m[1]);
    else if ((m = /^Array:\s+Rank (\d+), Number of elements (\d+), Type (.*)$/.exec(line))) array = { rank: Number(m[1]), length: Number(m[2]), elementType: m[3]! };
    else if (line.startsWith('Element Methodtable: ')) elementMethodTable = parseInt(line.slice(21), 16);
    else if ((m = /^((?:\[\d+\])+) (null|[0-9a-f]+)$/.exec(line))) {
      const indices = [...m[1]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
      elements.push({ indices, value: m[2] === 'null' ? 0 : parseInt(m[2]!, 16) });
    }
  }
  return { name, methodTable, eeClass, size, array, elementMethodTable, elements };
}

/** One row of `dumpmt -md`'s MethodDesc table. */
export interface SosMethodRow {
  readonly entry: number;
  readonly methodDesc: number;
  readonly jit: string;
  readonly slot: number;
  readonly name: string;
}

/** The parts of a dumpmt answer: the key/value header lines and the -md rows. */
export interface SosDumpMt {
  readonly fields: Map<string, string>;
  readonly methods: SosMethodRow[];
  readonly other: string[];
}

/** Parses one `dumpmt [-md]` output. */
export function parseDumpMt(text: string): SosDumpMt {
  const fields = new Map<string, string>();
  const methods: SosMethodRow[] = [];
  const other: string[] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Loading core dump:') || line.startsWith('Current symbol store settings')) continue;
    if (line === 'MethodDesc Table') {
      inTable = true;
      continue;
    }
    if (inTable) {
      const m = /^([0-9A-Fa-f]{16}) ([0-9A-Fa-f]{16}) +(\S+) ([0-9A-Fa-f]{16}) (.*)$/.exec(line);
      if (m) methods.push({ entry: parseInt(m[1]!, 16), methodDesc: parseInt(m[2]!, 16), jit: m[3]!, slot: parseInt(m[4]!, 16), name: m[5]! });
      else if (!/^\s+Entry\s+MethodDesc/.test(line) && line.trim() !== '') other.push(line);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z ]*?):\s+(.*)$/.exec(line);
    if (kv) fields.set(kv[1]!, kv[2]!);
    else if (line.trim() !== '' && !/^-+$/.test(line)) other.push(line);
  }
  return { fields, methods, other };
}

/** Drops what dotnet-dump's console drops (everything but TAB and 0x20-0x7E), so our text compares with SOS's. */
export function consoleFilter(text: string): string {
  return text.replace(/[^\t\n\x20-\x7e]/g, '');
}
