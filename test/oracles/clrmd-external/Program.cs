// ClrMD oracle of the external tier (dumpsleuth tests). Modes:
//   live <dump> <extraRootsFile>     the objects reachable from ClrMD's roots (strong handles, finalizer queue, stacks
//                                    of live threads) plus the extra root objects listed in the file (hex, one a line),
//                                    per MethodTable: { roots, totalCount, types: [{ mt, count, totalSize }] }
//   gcroot <dump> <extraRootsFile> <targetsFile>
//                                    for each target, every root (ClrMD's and the extra ones) from which it is
//                                    reachable: { "0x…": [{ kind, address, object }] } (a backward search over the
//                                    whole heap's references, dependent handles included)
// The extra roots file's lines are "<object hex>" or "<object hex> <root address hex> <kind>".
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Diagnostics.Runtime;

internal static class Program
{
    private static string Hex(ulong value) => "0x" + value.ToString("x");

    private static int Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: ClrmdExternalOracle <live|gcroot> <dump> <extraRootsFile> [targetsFile]");
            return 2;
        }
        try
        {
            using DataTarget dataTarget = DataTarget.LoadDump(args[1], new DataTargetOptions { SymbolPaths = Array.Empty<string>() });
            ClrInfo clrInfo = dataTarget.ClrVersions[0];
            string dacPath = Environment.GetEnvironmentVariable("DUMPSLEUTH_DAC")
                ?? Path.Combine(Path.GetDirectoryName(clrInfo.ModuleInfo.FileName) ?? "", "libmscordaccore.so");
            using ClrRuntime runtime = clrInfo.CreateRuntime(dacPath, ignoreMismatch: true);
            var roots = Roots(runtime).ToList();
            foreach (string line in File.ReadAllLines(args[2]))
            {
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0) continue;
                ulong obj = Convert.ToUInt64(parts[0], 16);
                roots.Add((parts.Length > 2 ? parts[2] : "extra", parts.Length > 1 ? Convert.ToUInt64(parts[1], 16) : 0, obj));
            }
            JsonNode result = args[0] switch
            {
                "live" => Live(runtime.Heap, roots),
                "gcroot" => GcRoot(runtime.Heap, roots, File.ReadAllLines(args[3]).Where(l => l.Trim() != "").Select(l => Convert.ToUInt64(l.Trim(), 16)).ToArray()),
                _ => throw new ArgumentException($"unknown mode '{args[0]}'"),
            };
            Console.Out.Write(result.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            Console.Out.WriteLine();
            return 0;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"{ex.GetType().FullName}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>SOS's roots as ClrMD lists them: strong handles, finalizer roots, stack roots of live threads.</summary>
    private static IEnumerable<(string Kind, ulong Address, ulong Object)> Roots(ClrRuntime runtime)
    {
        foreach (ClrHandle handle in runtime.EnumerateHandles())
            if (handle.IsStrong)
                yield return (handle.HandleKind.ToString(), handle.Address, handle.Object.Address);
        foreach (ClrRoot root in runtime.Heap.EnumerateFinalizerRoots())
            yield return ("finalizer", root.Address, root.Object.Address);
        foreach (ClrThread thread in runtime.Threads.Where(t => t.IsAlive))
            foreach (ClrRoot root in thread.EnumerateStackRoots())
                yield return ("stack", root.Address, root.Object.Address);
    }

    private static IEnumerable<ulong> RefsOf(ClrHeap heap, ulong address)
    {
        ClrObject obj = heap.GetObject(address);
        if (!obj.IsValid) yield break;
        foreach (ulong r in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
            yield return r;
    }

    private static JsonNode Live(ClrHeap heap, List<(string Kind, ulong Address, ulong Object)> roots)
    {
        var live = new HashSet<ulong>();
        var todo = new Queue<ulong>();
        foreach (var root in roots)
            if (root.Object != 0 && live.Add(root.Object))
                todo.Enqueue(root.Object);
        while (todo.Count > 0)
            foreach (ulong r in RefsOf(heap, todo.Dequeue()))
                if (live.Add(r))
                    todo.Enqueue(r);
        var byMt = new SortedDictionary<ulong, (long Count, ulong Size)>();
        long total = 0;
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (!live.Contains(obj.Address)) continue;
            ulong mt = obj.Type?.MethodTable ?? 0;
            byMt.TryGetValue(mt, out var e);
            byMt[mt] = (e.Count + 1, e.Size + obj.Size);
            total++;
        }
        var types = new JsonArray();
        foreach (var (mt, e) in byMt)
            types.Add(new JsonObject { ["mt"] = Hex(mt), ["count"] = e.Count, ["totalSize"] = e.Size });
        return new JsonObject { ["roots"] = roots.Count, ["totalCount"] = total, ["types"] = types };
    }

    private static JsonNode GcRoot(ClrHeap heap, List<(string Kind, ulong Address, ulong Object)> roots, ulong[] targets)
    {
        // Reverse edges of every object on the heap, then a backward search from each target.
        var parents = new Dictionary<ulong, List<ulong>>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (!obj.IsValid || obj.IsFree) continue;
            foreach (ulong r in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
            {
                if (!parents.TryGetValue(r, out var list)) parents[r] = list = new List<ulong>(1);
                list.Add(obj.Address);
            }
        }
        var result = new JsonObject();
        foreach (ulong target in targets)
        {
            var seen = new HashSet<ulong> { target };
            var todo = new Queue<ulong>();
            todo.Enqueue(target);
            while (todo.Count > 0)
                if (parents.TryGetValue(todo.Dequeue(), out var list))
                    foreach (ulong p in list)
                        if (seen.Add(p))
                            todo.Enqueue(p);
            var array = new JsonArray();
            foreach (var root in roots.Where(r => seen.Contains(r.Object)).Distinct())
                array.Add(new JsonObject { ["kind"] = root.Kind, ["address"] = Hex(root.Address), ["object"] = Hex(root.Object) });
            result[Hex(target)] = array;
        }
        return result;
    }
}
