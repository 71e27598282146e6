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
using System.Text.Json.Nodes;
using Microsoft.Diagnostics.Runtime;
using Microsoft.Diagnostics.Runtime.AbstractDac;

internal static class Program
{
    private static string Hex(ulong value) => "0x" + value.ToString("x");

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
            foreach (StackRootInfo r in helpers.EnumerateStackRoots(thread.OSThreadId, false))
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
