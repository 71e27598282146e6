// Oracle for test/unit/metadata-real-assemblies.test.ts: prints, as one JSON document, what
// System.Reflection.Metadata reads from the assembly named on the command line (flat file layout).
// Signatures are rendered in SOS's SigFormat style (sigformat.cpp): primitives without namespace,
// classes as Namespace.Name without enclosing types, generic instantiations as Name`N<A,B>,
// arrays T[] / T[,], pointers T*, byrefs "T ByRef", type variables !0 / !!0, custom modifiers ignored.
using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.Json;

var path = args[0];
using var fs = File.OpenRead(path);
using var pe = new PEReader(fs);
var md = pe.GetMetadataReader();
var prov = new SigText(md);
var o = new Dictionary<string, object?>();

string FullName(TypeDefinitionHandle h)
{
    var td = md.GetTypeDefinition(h);
    var name = md.GetString(td.Name);
    var decl = td.GetDeclaringType();
    if (!decl.IsNil) return FullName(decl) + "+" + name;
    var ns = md.GetString(td.Namespace);
    return ns.Length > 0 ? ns + "." + name : name;
}
static string Tok(EntityHandle h) => MetadataTokens.GetToken(h).ToString("x8");

var mod = md.GetModuleDefinition();
o["module"] = md.GetString(mod.Name);
o["mvid"] = md.GetGuid(mod.Mvid).ToString();
o["metadataVersion"] = md.MetadataVersion;
if (md.IsAssembly)
{
    var a = md.GetAssemblyDefinition();
    o["assembly"] = new object[] { md.GetString(a.Name), a.Version.ToString() };
}
o["cor20Flags"] = (int)pe.PEHeaders.CorHeader!.Flags;
o["managedNativeHeaderRva"] = pe.PEHeaders.CorHeader!.ManagedNativeHeaderDirectory.RelativeVirtualAddress;
o["metadataRva"] = pe.PEHeaders.CorHeader!.MetadataDirectory.RelativeVirtualAddress;
o["metadataSize"] = pe.PEHeaders.CorHeader!.MetadataDirectory.Size;
var rowCounts = new Dictionary<string, int>();
for (int t = 0; t < 0x2d; t++) rowCounts[t.ToString("x2")] = md.GetTableRowCount((TableIndex)t);
o["rowCounts"] = rowCounts;

o["assemblyRefs"] = md.AssemblyReferences.Select(h => { var r = md.GetAssemblyReference(h); return new object[] { Tok(h), md.GetString(r.Name), r.Version.ToString() }; }).ToList();
o["typeRefs"] = md.TypeReferences.Select(h => { var r = md.GetTypeReference(h); return new object[] { Tok(h), md.GetString(r.Namespace), md.GetString(r.Name), r.ResolutionScope.IsNil ? "00000000" : Tok(r.ResolutionScope) }; }).ToList();
var types = new List<object[]>();
var fields = new List<object[]>();
var methods = new List<object[]>();
var ctx = new object();
foreach (var h in md.TypeDefinitions)
{
    var td = md.GetTypeDefinition(h);
    types.Add(new object[] { Tok(h), FullName(h), (int)td.Attributes, td.BaseType.IsNil ? "00000000" : Tok(td.BaseType), td.GetDeclaringType().IsNil ? "00000000" : Tok(td.GetDeclaringType()), td.GetGenericParameters().Count });
    foreach (var fh in td.GetFields())
    {
        var f = md.GetFieldDefinition(fh);
        fields.Add(new object[] { Tok(fh), md.GetString(f.Name), (int)f.Attributes, f.DecodeSignature(prov, ctx), Tok(h) });
    }
    foreach (var mh in td.GetMethods())
    {
        var m = md.GetMethodDefinition(mh);
        var sig = m.DecodeSignature(prov, ctx);
        var ps = string.Join(", ", sig.ParameterTypes.Take(sig.RequiredParameterCount));
        if (sig.Header.CallingConvention == SignatureCallingConvention.VarArgs) ps += sig.ParameterTypes.Length > 0 || ps.Length > 0 ? ", ..." : "...";
        var pnames = m.GetParameters().Select(ph => { var p = md.GetParameter(ph); return p.SequenceNumber + ":" + md.GetString(p.Name); });
        methods.Add(new object[] { Tok(mh), md.GetString(m.Name), (int)m.Attributes, m.RelativeVirtualAddress, sig.ReturnType, "(" + ps + ")", sig.GenericParameterCount, (int)sig.Header.RawValue, Tok(h), string.Join("|", pnames) });
    }
}
o["typeDefs"] = types;
o["fields"] = fields;
o["methods"] = methods;
var specs = new List<object[]>();
for (int rid = 1; rid <= md.GetTableRowCount(TableIndex.TypeSpec); rid++)
{
    var h = MetadataTokens.TypeSpecificationHandle(rid);
    specs.Add(new object[] { Tok(h), md.GetTypeSpecification(h).DecodeSignature(prov, ctx) });
}
o["typeSpecs"] = specs;
o["memberRefs"] = md.MemberReferences.Select(h => new object[] { Tok(h), md.GetString(md.GetMemberReference(h).Name) }).ToList();
Console.Out.Write(JsonSerializer.Serialize(o));

sealed class SigText(MetadataReader md) : ISignatureTypeProvider<string, object>
{
    public string GetPrimitiveType(PrimitiveTypeCode c) => c switch
    {
        PrimitiveTypeCode.String => "System.String",
        PrimitiveTypeCode.Object => "System.Object",
        PrimitiveTypeCode.TypedReference => "TypedReference",
        _ => c.ToString(),
    };
    static string Join(string ns, string n) => ns.Length > 0 ? ns + "." + n : n;
    public string GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle h, byte k) { var t = md.GetTypeDefinition(h); return Join(md.GetString(t.Namespace), md.GetString(t.Name)); }
    public string GetTypeFromReference(MetadataReader r, TypeReferenceHandle h, byte k) { var t = md.GetTypeReference(h); return Join(md.GetString(t.Namespace), md.GetString(t.Name)); }
    public string GetTypeFromSpecification(MetadataReader r, object g, TypeSpecificationHandle h, byte k) => md.GetTypeSpecification(h).DecodeSignature(this, g);
    public string GetSZArrayType(string e) => e + "[]";
    public string GetArrayType(string e, ArrayShape s) => e + "[" + new string(',', s.Rank - 1) + "]";
    public string GetPointerType(string e) => e + "*";
    public string GetByReferenceType(string e) => e + " ByRef";
    public string GetGenericInstantiation(string g, ImmutableArray<string> a) => g + "<" + string.Join(",", a) + ">";
    public string GetGenericTypeParameter(object g, int i) => "!" + i;
    public string GetGenericMethodParameter(object g, int i) => "!!" + i;
    public string GetFunctionPointerType(MethodSignature<string> s) => s.ReturnType + " (" + string.Join(", ", s.ParameterTypes) + ")";
    public string GetModifiedType(string m, string u, bool req) => u;
    public string GetPinnedType(string e) => e;
}
