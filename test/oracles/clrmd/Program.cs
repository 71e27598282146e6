// ClrMD oracle for dumpsleuth's tests.
//
// Usage: ClrmdOracle <mode> <dump> [args...]
//   threads                     managed threads from the thread store
//   heapstat                    per-MethodTable counts/sizes over heap.EnumerateObjects() (free objects included)
//   objects <typeNameSubstring> objects whose type name contains the substring (ordinal, case-sensitive)
//   segments                    GC sub-heaps and their segments
//
// Prints one JSON document on stdout. Addresses are "0x…" hex strings, counts and sizes are numbers.
// The DAC is loaded from the runtime directory recorded in the dump (libcoreclr.so's folder), or from
// $DUMPSLEUTH_DAC when set; nothing is downloaded.
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Diagnostics.Runtime;

internal static class Program
{
    private static string Hex(ulong value) => "0x" + value.ToString("x");

    private static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: ClrmdOracle <threads|heapstat|objects|segments> <dump> [args...]");
            return 2;
        }
        string mode = args[0];
        string dumpPath = args[1];
        try
        {
            using DataTarget dataTarget = DataTarget.LoadDump(dumpPath, new DataTargetOptions { SymbolPaths = Array.Empty<string>() });
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
            JsonNode result = mode switch
            {
                "threads" => Threads(runtime),
                "heapstat" => HeapStat(runtime.Heap),
                "objects" => Objects(runtime.Heap, args.Length > 2 ? args[2] : throw new ArgumentException("objects needs a type name substring")),
                "segments" => Segments(runtime.Heap),
                _ => throw new ArgumentException($"unknown mode '{mode}'"),
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

    private static JsonNode Threads(ClrRuntime runtime)
    {
        var array = new JsonArray();
        foreach (ClrThread thread in runtime.Threads)
        {
            array.Add(new JsonObject
            {
                ["managedId"] = thread.ManagedThreadId,
                ["osId"] = thread.OSThreadId,
                ["address"] = Hex(thread.Address),
                ["isAlive"] = thread.IsAlive,
                ["isDead"] = !thread.IsAlive,
                ["isBackground"] = (thread.State & ClrThreadState.TS_Background) != 0,
                ["isUnstarted"] = (thread.State & ClrThreadState.TS_Unstarted) != 0,
                ["isFinalizer"] = thread.IsFinalizer,
                ["isGc"] = thread.IsGc,
                ["state"] = Hex((ulong)thread.State),
                ["gcMode"] = thread.GCMode.ToString(),
                ["lockCount"] = thread.LockCount,
            });
        }
        return array;
    }

    private static JsonNode HeapStat(ClrHeap heap)
    {
        var byMt = new Dictionary<ulong, (string Name, long Count, ulong Size)>();
        long totalCount = 0;
        ulong totalSize = 0;
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            ulong mt = obj.Type?.MethodTable ?? 0;
            string name = obj.Type?.Name ?? "<unknown>";
            ulong size = obj.Size;
            byMt.TryGetValue(mt, out var entry);
            byMt[mt] = (entry.Name ?? name, entry.Count + 1, entry.Size + size);
            totalCount++;
            totalSize += size;
        }
        var types = new JsonArray();
        foreach (var (mt, entry) in byMt.OrderBy(kv => kv.Value.Size).ThenBy(kv => kv.Key))
        {
            types.Add(new JsonObject
            {
                ["mt"] = Hex(mt),
                ["name"] = entry.Name,
                ["count"] = entry.Count,
                ["totalSize"] = entry.Size,
            });
        }
        return new JsonObject
        {
            ["canWalkHeap"] = heap.CanWalkHeap,
            ["isServer"] = heap.IsServer,
            ["freeTypeName"] = heap.FreeType.Name,
            ["freeMt"] = Hex(heap.FreeType.MethodTable),
            ["types"] = types,
            ["totalCount"] = totalCount,
            ["totalSize"] = totalSize,
        };
    }

    private static JsonNode Objects(ClrHeap heap, string substring)
    {
        var array = new JsonArray();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            string? name = obj.Type?.Name;
            if (name is null || !name.Contains(substring, StringComparison.Ordinal))
                continue;
            array.Add(new JsonObject
            {
                ["address"] = Hex(obj.Address),
                ["mt"] = Hex(obj.Type!.MethodTable),
                ["name"] = name,
                ["size"] = obj.Size,
            });
        }
        return array;
    }

    private static JsonNode Segments(ClrHeap heap)
    {
        var subHeaps = new JsonArray();
        foreach (ClrSubHeap subHeap in heap.SubHeaps)
        {
            subHeaps.Add(new JsonObject
            {
                ["index"] = subHeap.Index,
                ["address"] = Hex(subHeap.Address),
            });
        }
        var segments = new JsonArray();
        foreach (ClrSegment segment in heap.Segments)
        {
            segments.Add(new JsonObject
            {
                ["address"] = Hex(segment.Address),
                ["heap"] = segment.SubHeap?.Index ?? -1,
                ["kind"] = segment.Kind.ToString(),
                ["start"] = Hex(segment.Start),
                ["end"] = Hex(segment.End),
                ["committedStart"] = Hex(segment.CommittedMemory.Start),
                ["committedEnd"] = Hex(segment.CommittedMemory.End),
                ["reservedStart"] = Hex(segment.ReservedMemory.Start),
                ["reservedEnd"] = Hex(segment.ReservedMemory.End),
                ["length"] = segment.Length,
            });
        }
        return new JsonObject
        {
            ["isServer"] = heap.IsServer,
            ["canWalkHeap"] = heap.CanWalkHeap,
            ["heapCount"] = heap.SubHeaps.Length,
            ["subHeaps"] = subHeaps,
            ["segments"] = segments,
        };
    }
}
