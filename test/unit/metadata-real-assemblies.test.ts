/**
 * EcmaMetadata against System.Reflection.Metadata on real framework assemblies: every TypeDef full name, every
 * Field and MethodDef (name, flags, owner, signature text), TypeRefs, TypeSpecs, MemberRefs, AssemblyRefs and
 * the CLI header. The oracle is test/oracles/metadata (built once and cached with its outputs under
 * `${DUMPSLEUTH_CACHE:-~/.cache/dumpsleuth}/metadata-oracle/`). Skips when `dotnet` or the framework is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EcmaMetadata, PeImage, TableId, byteArraySource, formatSigParams, formatSigType } from '../../src/runtime/metadata';

const ORACLE_SOURCE = path.resolve(__dirname, '../../../test/oracles/metadata');
const CACHE = path.join(process.env.DUMPSLEUTH_CACHE || path.join(os.homedir(), '.cache', 'dumpsleuth'), 'metadata-oracle');

function frameworkDir(): string | undefined {
  const root = path.join(process.env.DOTNET_ROOT || '/usr/share/dotnet', 'shared', 'Microsoft.NETCore.App');
  if (!fs.existsSync(root)) return undefined;
  const versions = fs.readdirSync(root).filter((v) => v.startsWith('10.')).sort();
  return versions.length ? path.join(root, versions[versions.length - 1]) : undefined;
}

function hasDotnet(): boolean {
  try {
    execFileSync('dotnet', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds the oracle once per source hash; returns the path of its dll. */
function oracleDll(): string {
  const hash = createHash('sha256');
  for (const f of ['MetadataOracle.csproj', 'Program.cs']) hash.update(fs.readFileSync(path.join(ORACLE_SOURCE, f)));
  const out = path.join(CACHE, 'bin-' + hash.digest('hex').slice(0, 16));
  const dll = path.join(out, 'MetadataOracle.dll');
  if (!fs.existsSync(dll)) {
    execFileSync('dotnet', ['build', '-c', 'Release', '-o', out, '--nologo', '-v', 'q'], { cwd: ORACLE_SOURCE, stdio: 'ignore' });
  }
  return dll;
}

interface OracleOutput {
  module: string;
  mvid: string;
  metadataVersion: string;
  assembly?: [string, string];
  cor20Flags: number;
  managedNativeHeaderRva: number;
  metadataRva: number;
  metadataSize: number;
  rowCounts: Record<string, number>;
  assemblyRefs: [string, string, string][];
  typeRefs: [string, string, string, string][];
  typeDefs: [string, string, number, string, string, number][];
  fields: [string, string, number, string, string][];
  methods: [string, string, number, number, string, string, number, number, string, string][];
  typeSpecs: [string, string][];
  memberRefs: [string, string][];
}

function runOracle(dll: string, assembly: string): OracleOutput {
  const st = fs.statSync(assembly);
  const key = createHash('sha256').update(`${dll}|${assembly}|${st.size}|${st.mtimeMs}`).digest('hex').slice(0, 24);
  const file = path.join(CACHE, 'out', key + '.json');
  if (!fs.existsSync(file)) {
    const json = execFileSync('dotnet', [dll, assembly], { maxBuffer: 1 << 30 });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file + '.tmp', json);
    fs.renameSync(file + '.tmp', file);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as OracleOutput;
}

const hex = (t: number): string => t.toString(16).padStart(8, '0');
const tok = (s: string): number => parseInt(s, 16);

/** Compares every row the oracle printed; collects mismatches so one failure shows the first few. */
function compare(md: EcmaMetadata, image: PeImage, o: OracleOutput): string[] {
  const bad: string[] = [];
  const check = (what: string, got: unknown, want: unknown): void => {
    if (got !== want && bad.length < 20) bad.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  check('module', md.getModuleName(), o.module);
  check('mvid', md.getMvid(), o.mvid);
  check('version string', md.versionString, o.metadataVersion);
  check('assembly', md.getAssembly() && `${md.getAssembly()?.name} ${md.getAssembly()?.version}`, o.assembly && o.assembly.join(' '));
  check('cor20 flags', image.cliHeader?.flags, o.cor20Flags);
  check('R2R header', image.cliHeader?.managedNativeHeader.rva, o.managedNativeHeaderRva);
  check('metadata rva', image.cliHeader?.metadata.rva, o.metadataRva);
  check('metadata size', image.cliHeader?.metadata.size, o.metadataSize);
  for (const [t, n] of Object.entries(o.rowCounts)) check(`rows of table ${t}`, md.rowCount(tok(t) as TableId), n);
  for (const [t, name, version] of o.assemblyRefs) {
    const r = md.getAssemblyRef(tok(t));
    check(`assemblyRef ${t}`, `${r.name} ${r.version}`, `${name} ${version}`);
  }
  for (const [t, ns, name, scope] of o.typeRefs) {
    const r = md.getTypeRef(tok(t));
    check(`typeRef ${t}`, `${r.namespace}|${r.name}|${hex(r.resolutionScope)}`, `${ns}|${name}|${scope}`);
  }
  for (const [t, full, flags, ext, enclosing, genericCount] of o.typeDefs) {
    const k = tok(t);
    check(`typeDef ${t}`, md.getTypeDefFullName(k), full);
    check(`typeDef ${t} flags`, md.getTypeDefFlags(k), flags);
    check(`typeDef ${t} extends`, hex(md.getTypeDefExtends(k)), ext);
    check(`typeDef ${t} enclosing`, hex(md.getEnclosingType(k)), enclosing);
    check(`typeDef ${t} generic params`, md.getGenericParams(k).length, genericCount);
  }
  for (const [t, name, flags, sig, owner] of o.fields) {
    const k = tok(t);
    check(`field ${t}`, md.getFieldName(k), name);
    check(`field ${t} flags`, md.getFieldFlags(k), flags);
    check(`field ${t} type`, formatSigType(md, md.getFieldSignature(k)), sig);
    check(`field ${t} owner`, hex(md.getDeclaringTypeOfField(k)), owner);
  }
  for (const [t, name, flags, rva, ret, params, genericCount, header, owner, paramNames] of o.methods) {
    const k = tok(t);
    const sig = md.getMethodSignature(k);
    check(`method ${t}`, md.getMethodName(k), name);
    check(`method ${t} flags`, md.getMethodFlags(k), flags);
    check(`method ${t} rva`, md.getMethodRva(k), rva);
    check(`method ${t} return`, formatSigType(md, sig.returnType), ret);
    check(`method ${t} params`, formatSigParams(md, sig), params);
    check(`method ${t} generic count`, sig.genericParamCount, genericCount);
    check(`method ${t} header`, sig.header, header);
    check(`method ${t} owner`, hex(md.getDeclaringTypeOfMethod(k)), owner);
    check(`method ${t} param names`, md.getParamsOfMethod(k).map((p) => `${p.sequence}:${p.name}`).join('|'), paramNames);
  }
  for (const [t, text] of o.typeSpecs) check(`typeSpec ${t}`, formatSigType(md, md.getTypeSpecSignature(tok(t))), text);
  for (const [t, name] of o.memberRefs) check(`memberRef ${t}`, md.getMemberRef(tok(t)).name, name);
  return bad;
}

/** Lays a file out as the loader maps it: headers at 0, each section's raw data at its RVA. */
function mapLayout(file: Uint8Array): Uint8Array {
  const flat = new PeImage(byteArraySource(file), { isMapped: false });
  const mapped = new Uint8Array(flat.sizeOfImage);
  mapped.set(file.subarray(0, flat.sizeOfHeaders));
  for (const s of flat.sections) mapped.set(file.subarray(s.pointerToRawData, s.pointerToRawData + Math.min(s.sizeOfRawData, s.virtualSize)), s.virtualAddress);
  return mapped;
}

const fw = frameworkDir();
const skip = !fw ? 'no .NET 10 shared framework' : !hasDotnet() ? 'no dotnet' : false;
const ASSEMBLIES = ['System.Private.CoreLib.dll', 'System.Collections.dll', 'System.Linq.dll', 'System.Text.Json.dll', 'System.Reflection.Metadata.dll'];

test('real assemblies match System.Reflection.Metadata row for row', { skip }, () => {
  const dll = oracleDll();
  // The oracle itself is an IL-only (non-R2R) assembly with TypeRefs, MemberRefs and AssemblyRefs.
  for (const file of [...ASSEMBLIES.map((a) => path.join(fw as string, a)), dll]) {
    const oracle = runOracle(dll, file);
    const image = new PeImage(byteArraySource(fs.readFileSync(file)), { isMapped: false });
    const md = EcmaMetadata.fromPeImage(image);
    assert.deepEqual(compare(md, image, oracle), [], path.basename(file));
  }
});

test('the mapped layout of a real assembly reads the same metadata as the flat file', { skip }, () => {
  const dll = oracleDll();
  const file = path.join(fw as string, 'System.Collections.dll');
  const bytes = fs.readFileSync(file);
  const image = new PeImage(byteArraySource(mapLayout(bytes)), { isMapped: true });
  const md = EcmaMetadata.fromPeImage(image);
  assert.deepEqual(compare(md, image, runOracle(dll, file)), []);
});
