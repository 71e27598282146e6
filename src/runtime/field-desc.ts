/**
 * FieldDescs (RuntimeTypeSystem contract) and the type handles of field types.
 *
 * The .NET 10 descriptor has no FieldDesc type, so its layout is pinned here (vm/field.h, 64-bit):
 * `MTOfEnclosingClass` pointer @0, `DWord1` u32 @8 (FieldDef RID in bits 0-23, static 0x1000000, thread static
 * 0x2000000, RVA 0x4000000), `DWord2` u32 @12 (offset in bits 0-26, CorElementType in bits 27-31); size 16.
 * Every FieldDesc read is checked against that layout: its enclosing MethodTable must be the type's canonical MT.
 */
import { DumpsleuthError, LayoutCheckError, LimitExceededError } from '../errors';
import type { DotNetRuntime } from './dotnet-runtime';
import { EEClassReader, type EEClassInfo } from './ee-class';
import type { ModuleReader } from './loader';
import type { MethodTableInfo, MethodTableReader } from './method-table';
import { ElementType, sigFormatPrimitiveName, TableId, type EcmaMetadata, type TypeSig } from './metadata';
import type { ModuleMetadata } from './module-metadata';
import { ConstructedTypeLookup } from './type-hash';

/** Size of one FieldDesc on 64-bit targets. */
export const FIELD_DESC_SIZE = 16;
const FIELD_DESC_STATIC = 0x1000000;
const FIELD_DESC_THREAD_STATIC = 0x2000000;
const FIELD_DESC_RVA = 0x4000000;
const MAX_FIELDS_PER_CLASS = 65_535;
const MAX_PARENT_DEPTH = 1_000;
const MAX_SIG_DEPTH = 64;
/** The names SigFormat gives the primitive element types (CoreLib's `System.<name>`). */
const PRIMITIVE_NAMES: readonly string[] = [
  ElementType.Void, ElementType.Boolean, ElementType.Char, ElementType.I1, ElementType.U1, ElementType.I2, ElementType.U2,
  ElementType.I4, ElementType.U4, ElementType.I8, ElementType.U8, ElementType.R4, ElementType.R8, ElementType.TypedByRef,
  ElementType.I, ElementType.U,
].map((et) => sigFormatPrimitiveName(et)!);

/** One decoded FieldDesc. */
export interface FieldDescInfo {
  readonly address: number;
  /** The canonical MethodTable of the declaring type. */
  readonly enclosingMT: number;
  /** The FieldDef token (0x04xxxxxx). */
  readonly token: number;
  readonly isStatic: boolean;
  readonly isThreadStatic: boolean;
  readonly isRva: boolean;
  /** Instance fields: from the start of the object's data (after the MethodTable pointer); statics: from the
   * statics base. */
  readonly offset: number;
  /** The runtime's CorElementType for the field (I4 for an int enum, CLASS for strings and arrays). */
  readonly elementType: number;
}

/** The FieldDescs one class introduces, with the class they belong to. */
export interface ClassFields {
  /** The (exact) MethodTable in the parent chain whose class introduced these fields. */
  readonly mt: number;
  readonly eeClass: EEClassInfo;
  readonly fields: readonly FieldDescInfo[];
}

/** Reads FieldDescs; validates each against its class. */
export class FieldDescReader {
  private readonly perClass = new Map<number, FieldDescInfo[]>();

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    readonly eeClasses: EEClassReader = new EEClassReader(rt),
  ) {}

  /** The FieldDescs the class of `mt` introduces (not its parents'): instance fields, then statics.
   * @throws LayoutCheckError when a FieldDesc does not belong to the class; UnmappedAddressError. */
  introduced(mt: MethodTableInfo): FieldDescInfo[] {
    const canon = mt.canonicalMT;
    const cached = this.perClass.get(canon);
    if (cached) return cached;
    const ee = this.eeClasses.read(mt.eeClass, canon);
    const parentInstance = mt.parent !== 0 ? this.eeClasses.read(this.mts.read(mt.parent).eeClass).numInstanceFields : 0;
    const count = ee.numInstanceFields - parentInstance + ee.numStaticFields;
    if (count < 0 || count > MAX_FIELDS_PER_CLASS) {
      throw new LayoutCheckError(`EEClass 0x${ee.address.toString(16)} declares ${count} fields`);
    }
    const out: FieldDescInfo[] = [];
    if (count > 0) {
      if (ee.fieldDescList === 0) throw new LayoutCheckError(`EEClass 0x${ee.address.toString(16)} has ${count} fields but no FieldDesc list`);
      const bytes = this.rt.memory.read(ee.fieldDescList, count * FIELD_DESC_SIZE);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < count; i++) {
        const at = i * FIELD_DESC_SIZE;
        const enclosing = view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x100000000;
        if (enclosing !== canon) {
          throw new LayoutCheckError(
            `FieldDesc 0x${(ee.fieldDescList + at).toString(16)} belongs to 0x${enclosing.toString(16)}, not to MethodTable 0x${canon.toString(16)}: the FieldDesc layout does not match this runtime`,
          );
        }
        const dword1 = view.getUint32(at + 8, true);
        const dword2 = view.getUint32(at + 12, true);
        out.push({
          address: ee.fieldDescList + at,
          enclosingMT: canon,
          token: 0x04000000 + (dword1 % 0x1000000),
          isStatic: (dword1 & FIELD_DESC_STATIC) !== 0,
          isThreadStatic: (dword1 & FIELD_DESC_THREAD_STATIC) !== 0,
          isRva: (dword1 & FIELD_DESC_RVA) !== 0,
          offset: dword2 % 0x8000000,
          elementType: dword2 >>> 27,
        });
      }
    }
    this.perClass.set(canon, out);
    return out;
  }

  /** The classes of `mt`'s parent chain, root (System.Object) first, each with the fields it introduces — the
   * order SOS's dumpobj prints them in. @throws LayoutCheckError / UnmappedAddressError / LimitExceededError. */
  hierarchy(mt: MethodTableInfo): ClassFields[] {
    const chain: MethodTableInfo[] = [];
    for (let cur: MethodTableInfo | undefined = mt; cur; cur = cur.parent !== 0 ? this.mts.read(cur.parent) : undefined) {
      if (chain.length > MAX_PARENT_DEPTH) throw new LimitExceededError(`MethodTable 0x${mt.address.toString(16)}: the parent chain does not end`);
      chain.push(cur);
    }
    return chain.reverse().map((c) => ({ mt: c.address, eeClass: this.eeClasses.read(c.eeClass, c.canonicalMT), fields: this.introduced(c) }));
  }
}

/** CorElementTypes whose values live inline (SOS's IsElementValueType). */
export function isValueElementType(et: number): boolean {
  return (et >= ElementType.Boolean && et <= ElementType.R8) || et === ElementType.ValueType || et === ElementType.I || et === ElementType.U;
}


/** A field's declared type as the DAC's `GetFieldDescData` reports it. */
export interface FieldTypeInfo {
  /** The MethodTable of the field's type when the runtime has loaded it, else 0 (`MTOfType`). */
  readonly mt: number;
  /** The TypeDef/TypeRef token the signature names for CLASS/VALUETYPE fields, else 0 (`TokenOfType`). */
  readonly token: number;
  /** The signature's element type (GENERICINST, SZARRAY, ...). */
  readonly sigElementType: number;
  /** The full metadata name of `token` (`System.Threading.ExecutionContext`), '' without a token. */
  readonly tokenName: string;
}

interface TypeDefRef {
  readonly module: number;
  readonly token: number;
}

/**
 * Finds the runtime type handles of field types without loading anything: the lookups the DAC makes with
 * `DontLoadTypes` (TypeDef/TypeRef maps of the Module, and the Modules' tables of constructed types).
 */
export class FieldTypeResolver {
  private constructedIndex?: Map<string, number>;
  /** CoreLib's `System.<primitive>` TypeDefs by name, found on first use. */
  private primitiveTokens?: Map<string, number>;
  /** `module|enclosing|namespace|name` → TypeDef token (0: none), per lookup (no index of a whole module). */
  private readonly typeDefCache = new Map<string, number>();
  private readonly moduleByAssembly = new Map<string, number>();
  private modulesLoaded = false;
  private readonly cache = new Map<number, FieldTypeInfo>();
  /** One bucket per lookup; `constructed()` (every type of every module) only where the hash layout fails. */
  private readonly lookup: ConstructedTypeLookup;

  constructor(
    private readonly rt: DotNetRuntime,
    private readonly mts: MethodTableReader,
    private readonly modules: ModuleReader,
    private readonly metadataOf: (module: number) => ModuleMetadata | Error,
  ) {
    this.lookup = new ConstructedTypeLookup(modules, mts);
  }

  /** The declared type of field `fd` (of a class whose canonical MethodTable is `fd.enclosingMT`).
   * @throws DumpsleuthError when the declaring module's metadata cannot be read. */
  fieldType(fd: FieldDescInfo): FieldTypeInfo {
    const hit = this.cache.get(fd.address);
    if (hit) return hit;
    const enclosing = this.mts.read(fd.enclosingMT);
    const md = this.metadataOf(enclosing.module);
    if (md instanceof Error) throw md;
    const sig = md.metadata.getFieldSignature(fd.token);
    const bare = stripModifiers(sig);
    let token = 0;
    let tokenName = '';
    if (bare.kind === 'class' || bare.kind === 'valuetype') {
      token = bare.token;
      tokenName = safe(() => fullNameOfToken(md.metadata, bare.token), '');
    }
    let mt = 0;
    try {
      // A loaded pointer or function-pointer TypeDesc reports System.UIntPtr / System.IntPtr as its MethodTable: SOS's
      // MT column shows them for `void*` and `delegate*<...>` fields (ASP.NET Core dump), and 0 for a pointer to a
      // type whose pointer TypeDesc was never loaded (`SocketEvent*` in SocketAsyncEngine). `void*` is always loaded
      // by CoreLib; other pointer TypeDescs are not looked up (0, as before).
      const handle =
        bare.kind === 'ptr' && bare.element.kind === 'primitive' && bare.element.elementType === ElementType.Void
          ? this.primitiveHandle(ElementType.U)
          : bare.kind === 'fnptr'
            ? this.primitiveHandle(ElementType.I)
            : this.handleOfSig(enclosing.module, md.metadata, sig, this.mts.instantiation(enclosing), 0);
      // A TypeDesc (pointer, byref, function pointer) has no MethodTable.
      if (handle % 4 === 0) mt = handle;
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
    }
    const info: FieldTypeInfo = { mt, token, sigElementType: sigElementTypeOf(bare), tokenName };
    this.cache.set(fd.address, info);
    return info;
  }

  /** The MethodTable of field `fd`'s type as declared in the exact (instantiated) class `exactMT` of the field's
   * enclosing type: a field typed by a type parameter (`Task<T>.m_result`) resolves to the instantiation's argument
   * (System.String in `Task<String>`), as ClrMD reports it, where `fieldType` gives the shared code's
   * System.__Canon. 0 when not loaded. @throws as fieldType. */
  fieldTypeIn(fd: FieldDescInfo, exactMT: number): number {
    const shared = this.fieldType(fd);
    if (exactMT === fd.enclosingMT) return shared.mt;
    const enclosing = this.mts.read(fd.enclosingMT);
    const md = this.metadataOf(enclosing.module);
    if (md instanceof Error) throw md;
    const sig = stripModifiers(md.metadata.getFieldSignature(fd.token));
    if (sig.kind !== 'var' && sig.kind !== 'genericinst' && sig.kind !== 'szarray') return shared.mt;
    try {
      const handle = this.handleOfSig(enclosing.module, md.metadata, sig, this.mts.instantiation(this.mts.read(exactMT)), 0);
      return handle % 4 === 0 ? handle : shared.mt;
    } catch (e) {
      if (!(e instanceof DumpsleuthError)) throw e;
      return shared.mt;
    }
  }

  /** For a field declared as a generic instantiation (`IList<T>`, `Nullable<X>`): the MethodTable of the generic
   * type definition as ClrMD finds it from the signature's token (the declaring module's TypeDef or TypeRef map;
   * ClrMD names it `IList<T1>`), 0 when the field is not so declared or the map has no entry. @throws as fieldType. */
  openGenericFieldType(fd: FieldDescInfo): number {
    const enclosing = this.mts.read(fd.enclosingMT);
    const md = this.metadataOf(enclosing.module);
    if (md instanceof Error) throw md;
    const sig = stripModifiers(md.metadata.getFieldSignature(fd.token));
    if (sig.kind !== 'genericinst') return 0;
    const table = sig.token >>> 24 === TableId.TypeRef ? 'TypeRefToMethodTableMap' : sig.token >>> 24 === 0x02 ? 'TypeDefToMethodTableMap' : undefined;
    return table === undefined ? 0 : this.modules.lookupMapElement(enclosing.module, table, sig.token);
  }

  /** The metadata name (`Namespace.Outer`1+Inner`) of the TypeDef a MethodTable was loaded from.
   * @throws as fieldType. */
  typeDefName(mt: number): string {
    const info = this.mts.read(mt);
    const md = this.metadataOf(info.module);
    if (md instanceof Error) throw md;
    return md.metadata.getTypeDefFullName(info.typeDefToken);
  }

  /** The type handle a signature denotes in `module`, 0 when the runtime has not loaded it. */
  handleOfSig(module: number, md: EcmaMetadata, sig: TypeSig, typeArgs: readonly number[], depth: number): number {
    if (depth > MAX_SIG_DEPTH) return 0;
    switch (sig.kind) {
      case 'primitive':
        return this.primitiveHandle(sig.elementType);
      case 'class':
      case 'valuetype': {
        const def = this.resolveTypeDefOrRef(module, md, sig.token);
        const mt = def ? this.modules.lookupMapElement(def.module, 'TypeDefToMethodTableMap', def.token) : 0;
        // Observed with the DAC of .NET 10 (dotnet-dump 10.0.750501): a field whose TypeRef names a type of
        // another module that is not loaded reports System.Void's MethodTable (LookupFieldTypeHandle with
        // DontLoadTypes). Mirror it so the MT column equals SOS's; a TypeDef of the same module reports 0.
        if (mt === 0 && def && depth === 0 && sig.token >>> 24 === TableId.TypeRef) return this.primitiveHandle(ElementType.Void);
        return mt;
      }
      case 'var':
        return typeArgs[sig.index] ?? 0;
      case 'mvar':
        return 0;
      case 'modified':
      case 'pinned':
        return this.handleOfSig(module, md, sig.element, typeArgs, depth + 1);
      case 'szarray':
      case 'array': {
        const element = this.handleOfSig(module, md, sig.element, typeArgs, depth + 1);
        if (element === 0) return 0;
        const rank = sig.kind === 'array' ? sig.rank : 1;
        return this.lookup.array(element, rank, sig.kind === 'szarray') ?? this.constructed().get(arrayKey(element, rank, sig.kind === 'szarray')) ?? 0;
      }
      case 'genericinst': {
        const def = this.resolveTypeDefOrRef(module, md, sig.token);
        if (!def) return 0;
        const args: number[] = [];
        for (const a of sig.args) {
          const h = this.handleOfSig(module, md, a, typeArgs, depth + 1);
          if (h === 0) return 0;
          args.push(h);
        }
        return this.lookup.generic(def.module, def.token, args) ?? this.constructed().get(genericKey(def.module, def.token, args)) ?? 0;
      }
      default:
        return 0;
    }
  }

  /** The MethodTable of CoreLib's `System.<name>` for a primitive element type, 0 when not loaded. */
  primitiveHandle(elementType: number): number {
    if (elementType === ElementType.String) return this.rt.readGlobalPointer('StringMethodTable');
    if (elementType === ElementType.Object) return this.rt.readGlobalPointer('ObjectMethodTable');
    // SigFormat's short names are CoreLib's type names for the primitives (`Int32` → System.Int32).
    const name = sigFormatPrimitiveName(elementType);
    if (name === undefined) return 0;
    const object = this.mts.read(this.rt.readGlobalPointer('ObjectMethodTable'));
    if (this.primitiveTokens === undefined) {
      // Every primitive's TypeDef in one pass over CoreLib's rows: a dumpobj asks for several.
      const md = this.metadataOf(object.module);
      this.primitiveTokens = md instanceof Error ? new Map() : md.metadata.findTopLevelTypeDefs('System', PRIMITIVE_NAMES);
    }
    const token = this.primitiveTokens.get(name);
    return token === undefined ? 0 : this.modules.lookupMapElement(object.module, 'TypeDefToMethodTableMap', token);
  }

  /** Resolves a TypeDef/TypeRef token of `module` to the defining module and TypeDef, following the runtime's
   * own TypeRef cache first and then names (through forwarders, by searching every loaded module). */
  resolveTypeDefOrRef(module: number, md: EcmaMetadata, token: number, depth = 0): TypeDefRef | undefined {
    const table = token >>> 24;
    if (table === TableId.TypeDef) return { module, token };
    if (table !== TableId.TypeRef || depth > MAX_SIG_DEPTH) return undefined;
    const cached = this.modules.lookupMapElement(module, 'TypeRefToMethodTableMap', token);
    if (cached !== 0 && cached % 4 === 0) {
      const info = this.mts.tryRead(cached);
      if (info) return { module: info.module, token: info.typeDefToken };
    }
    const ref = md.getTypeRef(token);
    const scope = ref.resolutionScope;
    const scopeTable = scope >>> 24;
    if (scopeTable === TableId.TypeRef) {
      const outer = this.resolveTypeDefOrRef(module, md, scope, depth + 1);
      if (!outer) return undefined;
      const t = this.findTypeDef(outer.module, '', ref.name, outer.token);
      return t === undefined ? undefined : { module: outer.module, token: t };
    }
    if (scopeTable === TableId.Module || scope === 0) {
      const t = this.findTypeDef(module, ref.namespace, ref.name, 0);
      return t === undefined ? undefined : { module, token: t };
    }
    const preferred = scopeTable === TableId.AssemblyRef ? this.moduleOfAssembly(safe(() => md.getAssemblyRef(scope).name, '')) : undefined;
    if (preferred !== undefined) {
      const t = this.findTypeDef(preferred, ref.namespace, ref.name, 0);
      if (t !== undefined) return { module: preferred, token: t };
    }
    // Forwarded or misdirected: search the other modules (this reads every module's metadata, so only now).
    for (const m of this.allModules()) {
      if (m === preferred) continue;
      const t = this.findTypeDef(m, ref.namespace, ref.name, 0);
      if (t !== undefined) return { module: m, token: t };
    }
    return undefined;
  }

  private allModules(): number[] {
    this.loadModules();
    return [...new Set(this.moduleByAssembly.values())];
  }

  private moduleOfAssembly(name: string): number | undefined {
    if (!this.modulesLoaded && name !== '') {
      // An assembly's module is nearly always its file `<name>.dll`: that one module's metadata confirms it, instead
      // of reading every module's metadata to map names (issue 16: nothing proportional to the images on the path
      // of a single-object answer).
      const lower = `${name.toLowerCase()}.dll`;
      for (const mod of this.modules.enumerate()) {
        const file = mod.path.slice(Math.max(mod.path.lastIndexOf('/'), mod.path.lastIndexOf('\\')) + 1).toLowerCase();
        if (file !== lower) continue;
        const md = this.metadataOf(mod.address);
        if (!(md instanceof Error) && md.assemblyName === name) return mod.address;
      }
    }
    this.loadModules();
    return this.moduleByAssembly.get(name);
  }

  private loadModules(): void {
    if (this.modulesLoaded) return;
    this.modulesLoaded = true;
    for (const mod of this.modules.enumerate()) {
      const md = this.metadataOf(mod.address);
      if (!(md instanceof Error) && !this.moduleByAssembly.has(md.assemblyName)) this.moduleByAssembly.set(md.assemblyName, mod.address);
    }
  }

  /** The TypeDef `namespace`.`name` nested in `enclosing` (0: top level) of `module`, undefined when it has none or
   * its metadata is unreadable. */
  private findTypeDef(module: number, namespace: string, name: string, enclosing: number): number | undefined {
    const key = `${module}|${enclosing}|${namespace}|${name}`;
    let token = this.typeDefCache.get(key);
    if (token === undefined) {
      const md = this.metadataOf(module);
      token = md instanceof Error ? 0 : md.metadata.findTypeDef(namespace, name, enclosing);
      this.typeDefCache.set(key, token);
    }
    return token === 0 ? undefined : token;
  }

  /** Every constructed type the runtime has created, keyed by its identity. */
  private constructed(): Map<string, number> {
    if (this.constructedIndex) return this.constructedIndex;
    const index = new Map<string, number>();
    this.constructedIndex = index;
    for (const mod of this.modules.enumerate()) {
      let handles: number[];
      try {
        handles = this.modules.availableTypeParams(mod.address);
      } catch (e) {
        if (e instanceof DumpsleuthError) continue;
        throw e;
      }
      for (const h of handles) {
        if (h % 4 !== 0) continue;
        const info = this.mts.tryRead(h);
        if (!info) continue;
        if (info.isArray) {
          index.set(arrayKey(this.mts.arrayElementType(info), this.mts.arrayRank(info), info.isSzArray), h);
        } else if (info.hasInstantiation && !info.isGenericTypeDefinition) {
          try {
            index.set(genericKey(info.module, info.typeDefToken, this.mts.instantiation(info)), h);
          } catch (e) {
            if (!(e instanceof DumpsleuthError)) throw e;
          }
        }
      }
    }
    return index;
  }
}

function arrayKey(element: number, rank: number, sz: boolean): string {
  return `[${element}:${rank}:${sz ? 1 : 0}]`;
}

function genericKey(module: number, token: number, args: readonly number[]): string {
  return `${module}:${token}<${args.join(',')}>`;
}

function stripModifiers(sig: TypeSig): TypeSig {
  let s = sig;
  for (let i = 0; i < MAX_SIG_DEPTH && (s.kind === 'modified' || s.kind === 'pinned'); i++) s = s.element;
  return s;
}

function sigElementTypeOf(sig: TypeSig): number {
  switch (sig.kind) {
    case 'primitive':
      return sig.elementType;
    case 'class':
      return ElementType.Class;
    case 'valuetype':
      return ElementType.ValueType;
    case 'var':
      return ElementType.Var;
    case 'mvar':
      return ElementType.MVar;
    case 'szarray':
      return ElementType.SzArray;
    case 'array':
      return ElementType.Array;
    case 'ptr':
      return ElementType.Ptr;
    case 'byref':
      return ElementType.ByRef;
    case 'genericinst':
      return ElementType.GenericInst;
    case 'fnptr':
      return ElementType.FnPtr;
    case 'internal':
      return ElementType.Internal;
    default:
      return 0;
  }
}

/** `Namespace.Outer+Inner` of a TypeDef or TypeRef token (as `NameForToken` prints it). */
function fullNameOfToken(md: EcmaMetadata, token: number): string {
  if (token >>> 24 === TableId.TypeDef) return md.getTypeDefFullName(token);
  const parts: string[] = [];
  let t = token;
  for (let i = 0; i < MAX_SIG_DEPTH && t >>> 24 === TableId.TypeRef; i++) {
    const r = md.getTypeRef(t);
    parts.push(r.namespace ? `${r.namespace}.${r.name}` : r.name);
    t = r.resolutionScope;
  }
  return parts.reverse().join('+');
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DumpsleuthError) return fallback;
    throw e;
  }
}
