// ClrMD stack-root oracle for dumpsleuth's precise stack roots (src/runtime/code/stack-roots.ts).
//
// Usage: ClrmdStackOracle <dump>
//
// For every live managed thread, prints the DAC's stack roots twice:
//   raw      IAbstractThreadHelpers.EnumerateStackRoots (the DAC's ISOSStackRefEnum, unfiltered): the frame's IP/SP,
//            the Frame it came from, the slot address (0 for a register), the raw slot value, interior/pinned flags,
//            the register name/offset, and the MethodDesc of the frame's IP;
//   resolved ClrThread.EnumerateStackRoots (what SOS's gcroot uses): slot address and the object, interior pointers
//            already resolved to their containing object.
// One JSON document on stdout; addresses are "0x…" hex strings. The DAC comes from the dump's runtime folder
// (libmscordaccore.so next to libcoreclr.so) or $DUMPSLEUTH_DAC; nothing is downloaded.
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Diagnostics.Runtime;
using Microsoft.Diagnostics.Runtime.AbstractDac;

internal static class Program
{
    private static string Hex(ulong value) => "0x" + value.ToString("x");

    /// <summary>Sets DacVersion to 10 on every ClrMD SOSDac reachable from <paramref name="root"/> (a few levels of
    /// private fields), so ReleaseLeakedDacRef does not release a reference the DAC never leaked.</summary>
    private static void MarkDacFixed(object? root, int depth, HashSet<object> seen)
    {
        if (root is null || depth > 5 || root.GetType().IsPrimitive || root is string || !seen.Add(root)) return;
        Type type = root.GetType();
        if (type.Name == "SOSDac")
        {
            const BindingFlags any = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
            PropertyInfo? version = type.GetProperty("DacVersion", any);
            System.Reflection.FieldInfo? backing = type.GetField("<DacVersion>k__BackingField", any);
            if (version is not null && backing is not null && Convert.ToInt32(version.GetValue(root)) < 10)
                backing.SetValue(root, Convert.ChangeType(10, backing.FieldType));
        }
        if (type.Namespace is null || !type.Namespace.StartsWith("Microsoft.Diagnostics.Runtime", StringComparison.Ordinal)) return;
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            foreach (System.Reflection.FieldInfo f in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (f.FieldType.IsValueType) continue;
                object? value = f.GetValue(root);
                if (value is Lazy<object> lazy) value = lazy.IsValueCreated ? lazy.Value : null;
                MarkDacFixed(value, depth + 1, seen);
            }
        }
    }

    private static int Main(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: ClrmdStackOracle <dump>");
            return 2;
        }
        using DataTarget dataTarget = DataTarget.LoadDump(args[0], new DataTargetOptions { SymbolPaths = Array.Empty<string>() });
        if (dataTarget.ClrVersions.Length == 0)
        {
            Console.Error.WriteLine("no CLR found in the dump");
            return 3;
        }
        ClrInfo clrInfo = dataTarget.ClrVersions[0];
        string dacPath = Environment.GetEnvironmentVariable("DUMPSLEUTH_DAC")
            ?? Path.Combine(Path.GetDirectoryName(clrInfo.ModuleInfo.FileName) ?? "", "libmscordaccore.so");
        if (!File.Exists(dacPath))
        {
            Console.Error.WriteLine($"DAC not found at {dacPath} (set DUMPSLEUTH_DAC)");
            return 3;
        }
        using ClrRuntime runtime = clrInfo.CreateRuntime(dacPath, ignoreMismatch: true);
        IServiceProvider services = DataTarget.CreateDacServices(clrInfo, dacPath, true);
        var helpers = services.GetService(typeof(IAbstractThreadHelpers)) as IAbstractThreadHelpers
            ?? throw new InvalidOperationException("the DAC services have no IAbstractThreadHelpers");

        var threads = new JsonArray();
        foreach (ClrThread thread in runtime.Threads.Where(t => t.IsAlive))
        {
            var raw = new JsonArray();
            List<StackRootInfo> rawRoots;
            try
            {
                rawRoots = helpers.EnumerateStackRoots(thread.OSThreadId, false).ToList();
            }
            catch (InvalidOperationException e) when (e.Message.Contains("fully released", StringComparison.Ordinal))
            {
                // ClrMD 4.2 releases a reference it believes the DAC leaked on every stack-ref enumeration when the
                // DAC's request revision is below 10; .NET 11's DAC no longer leaks it (the enumerator was freed
                // instead), so ClrMD is told the DAC is fixed and the thread is enumerated again.
                MarkDacFixed(runtime, 0, new HashSet<object>(ReferenceEqualityComparer.Instance));
                MarkDacFixed(helpers, 0, new HashSet<object>(ReferenceEqualityComparer.Instance));
                rawRoots = helpers.EnumerateStackRoots(thread.OSThreadId, false).ToList();
            }
            foreach (StackRootInfo r in rawRoots)
            {
                ClrMethod? method = r.InstructionPointer != 0 ? runtime.GetMethodByInstructionPointer(r.InstructionPointer) : null;
                raw.Add(new JsonObject
                {
                    ["ip"] = Hex(r.InstructionPointer),
                    ["sp"] = Hex(r.StackPointer),
                    ["internalFrame"] = Hex(r.InternalFrame),
                    ["address"] = Hex(r.Address),
                    ["object"] = Hex(r.Object),
                    ["interior"] = r.IsInterior,
                    ["pinned"] = r.IsPinned,
                    ["enregistered"] = r.IsEnregistered,
                    ["register"] = r.RegisterName,
                    ["registerOffset"] = r.RegisterOffset,
                    ["methodDesc"] = Hex(method?.MethodDesc ?? 0),
                    ["method"] = method?.Signature,
                });
            }
            var resolved = new JsonArray();
            foreach (ClrStackRoot r in thread.EnumerateStackRoots())
            {
                resolved.Add(new JsonObject
                {
                    ["address"] = Hex(r.Address),
                    ["object"] = Hex(r.Object.Address),
                    ["interior"] = r.IsInterior,
                    ["pinned"] = r.IsPinned,
                    ["register"] = r.RegisterName,
                    ["frameSp"] = Hex(r.StackFrame?.StackPointer ?? 0),
                    ["frameIp"] = Hex(r.StackFrame?.InstructionPointer ?? 0),
                });
            }
            threads.Add(new JsonObject
            {
                ["osId"] = thread.OSThreadId,
                ["managedId"] = thread.ManagedThreadId,
                ["raw"] = raw,
                ["resolved"] = resolved,
            });
        }
        Console.Out.Write(new JsonObject { ["threads"] = threads }.ToJsonString());
        return 0;
    }
}
