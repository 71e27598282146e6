// ClrMD oracle for dumpsleuth's Windows-dump tests, run under Wine with the Windows DAC.
//
// Usage: ClrmdWinOracle <dac> <dump> <output.json>
//   Opens the dump with ClrMD and the given mscordaccore.dll and writes one JSON document with everything the
//   tests compare (one Wine start per dump: Wine's start-up is the slow part):
//   threads   managed threads (managedId, osId, address, isAlive)
//   heapstat  per-MethodTable counts and sizes over heap.EnumerateObjects() (free objects included)
//   handles   per-kind counts and per-MethodTable object counts of runtime.EnumerateHandles()
//   stacks    each live thread's EnumerateStackTrace(): managed frames (sp, ip, method signature)
//   stackroots each live thread's EnumerateStackRoots() (what SOS's gcroot uses): slot address (0 for a register)
//             and the object (interior pointers resolved to their object)
//   objects   samples (the first object of each of the first 60 MethodTables in heap order,
//             and of every MethodTable outside System.*): type, MethodTable, size and
//             every instance field's offset and raw bytes
// Writes the file instead of stdout: Wine's console adds carriage returns and its own messages.
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
            Console.Error.WriteLine("usage: ClrmdWinOracle <mscordaccore.dll> <dump> <output.json>");
            return 2;
        }
        try
        {
            using DataTarget dataTarget = DataTarget.LoadDump(args[1], new DataTargetOptions { SymbolPaths = Array.Empty<string>() });
            if (dataTarget.ClrVersions.Length == 0)
            {
                Console.Error.WriteLine("no CLR found in the dump");
                return 3;
            }
            using ClrRuntime runtime = dataTarget.ClrVersions[0].CreateRuntime(args[0], ignoreMismatch: true);
            var result = new JsonObject
            {
                ["threads"] = Threads(runtime),
                ["heapstat"] = HeapStat(runtime.Heap),
                ["handles"] = Handles(runtime),
                ["stacks"] = Stacks(runtime),
                ["stackroots"] = StackRoots(runtime),
                ["objects"] = Objects(dataTarget, runtime.Heap, Samples(runtime.Heap)),
            };
            File.WriteAllText(args[2], result.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
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
                ["isFinalizer"] = thread.IsFinalizer,
                ["state"] = Hex((ulong)thread.State),
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
            byMt.TryGetValue(mt, out var entry);
            byMt[mt] = (entry.Name ?? obj.Type?.Name ?? "<unknown>", entry.Count + 1, entry.Size + obj.Size);
            totalCount++;
            totalSize += obj.Size;
        }
        var types = new JsonArray();
        foreach (var (mt, entry) in byMt.OrderBy(kv => kv.Key))
        {
            types.Add(new JsonObject { ["mt"] = Hex(mt), ["name"] = entry.Name, ["count"] = entry.Count, ["totalSize"] = entry.Size });
        }
        return new JsonObject { ["types"] = types, ["totalCount"] = totalCount, ["totalSize"] = totalSize };
    }

    private static JsonNode Handles(ClrRuntime runtime)
    {
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var byMt = new SortedDictionary<ulong, int>();
        foreach (ClrHandle handle in runtime.EnumerateHandles())
        {
            string kind = handle.HandleKind.ToString();
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            if (handle.Object.Address != 0 && handle.Object.Type is not null)
            {
                byMt[handle.Object.Type.MethodTable] = byMt.GetValueOrDefault(handle.Object.Type.MethodTable) + 1;
            }
        }
        var kindObj = new JsonObject();
        foreach (var (k, n) in kinds) kindObj[k] = n;
        var mtObj = new JsonObject();
        foreach (var (mt, n) in byMt) mtObj[Hex(mt)] = n;
        return new JsonObject { ["kinds"] = kindObj, ["objectsByMt"] = mtObj };
    }

    private static JsonNode Stacks(ClrRuntime runtime)
    {
        var array = new JsonArray();
        foreach (ClrThread thread in runtime.Threads)
        {
            if (!thread.IsAlive) continue;
            var frames = new JsonArray();
            foreach (ClrStackFrame frame in thread.EnumerateStackTrace())
            {
                if (frame.Kind != ClrStackFrameKind.ManagedMethod) continue;
                frames.Add(new JsonObject
                {
                    ["sp"] = Hex(frame.StackPointer),
                    ["ip"] = Hex(frame.InstructionPointer),
                    ["method"] = frame.Method?.Signature,
                    ["methodDesc"] = Hex(frame.Method?.MethodDesc ?? 0),
                });
            }
            array.Add(new JsonObject { ["osId"] = thread.OSThreadId, ["managedId"] = thread.ManagedThreadId, ["frames"] = frames });
        }
        return array;
    }

    private static JsonNode StackRoots(ClrRuntime runtime)
    {
        var array = new JsonArray();
        foreach (ClrThread thread in runtime.Threads)
        {
            if (!thread.IsAlive || thread.OSThreadId == 0) continue;
            var roots = new JsonArray();
            foreach (ClrStackRoot root in thread.EnumerateStackRoots())
            {
                roots.Add(new JsonObject { ["address"] = Hex(root.Address), ["object"] = Hex(root.Object.Address), ["interior"] = root.IsInterior });
            }
            array.Add(new JsonObject { ["osId"] = thread.OSThreadId, ["roots"] = roots });
        }
        return array;
    }

    private static IEnumerable<ulong> Samples(ClrHeap heap)
    {
        var seen = new HashSet<ulong>();
        var samples = new List<ulong>();
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (obj.Type is null || obj.IsFree || !seen.Add(obj.Type.MethodTable)) continue;
            // The first 60 types in heap order, and every type of the test program's own (not System.*).
            if (samples.Count < 60 || !(obj.Type.Name ?? "System.").StartsWith("System.", StringComparison.Ordinal))
            {
                samples.Add(obj.Address);
            }
        }
        return samples;
    }

    private static JsonNode Objects(DataTarget target, ClrHeap heap, IEnumerable<ulong> addresses)
    {
        var array = new JsonArray();
        foreach (ulong address in addresses)
        {
            ClrObject obj = heap.GetObject(address);
            ClrType? type = obj.Type;
            var fields = new JsonArray();
            if (type is not null)
            {
                foreach (ClrInstanceField field in type.Fields)
                {
                    // Raw bytes of the field as little-endian hex: compared with dumpobj's value without formatting rules.
                    int size = Math.Clamp(field.Size, 0, 16);
                    var bytes = new byte[size];
                    target.DataReader.Read(address + (ulong)IntPtr.Size + (ulong)field.Offset, bytes);
                    fields.Add(new JsonObject
                    {
                        ["name"] = field.Name,
                        ["offset"] = field.Offset,
                        ["type"] = field.Type?.Name,
                        ["bytes"] = Convert.ToHexString(bytes.Reverse().ToArray()).ToLowerInvariant(),
                    });
                }
            }
            array.Add(new JsonObject
            {
                ["address"] = Hex(address),
                ["type"] = type?.Name,
                ["mt"] = Hex(type?.MethodTable ?? 0),
                ["size"] = obj.Size,
                ["fields"] = fields,
            });
        }
        return array;
    }
}
