// ClrMD oracle for dumpsleuth's tests.
//
// Usage: ClrmdOracle <mode> <dump> [args...]
//   threads                     managed threads from the thread store
//   heapstat                    per-MethodTable counts/sizes over heap.EnumerateObjects() (free objects included)
//   objects <typeNameSubstring> objects whose type name contains the substring (ordinal, case-sensitive)
//   segments                    GC sub-heaps and their segments
//   handles                     runtime.EnumerateHandles(): address, kind, object, dependent, isStrong
//   roots                       the roots SOS's gcroot/dumpheap -live use: strong handles, finalizer roots, stack
//                               roots of live threads (address, kind, object, thread, interior, register, frame)
//   live                        per-MethodTable counts of objects reachable from those roots (dumpheap -live)
//   refs <address>...           each object's references, keyed by object (EnumerateReferencesWithFields:
//                               address, offset, isDependent, field)
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
                "handles" => Handles(runtime),
                "roots" => Roots(runtime),
                "live" => Live(runtime),
                "refs" => Refs(runtime.Heap, args.Skip(2).Select(a => Convert.ToUInt64(a, 16)).ToArray()),
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

    private static JsonNode Handles(ClrRuntime runtime)
    {
        var array = new JsonArray();
        foreach (ClrHandle handle in runtime.EnumerateHandles())
        {
            array.Add(new JsonObject
            {
                ["address"] = Hex(handle.Address),
                ["kind"] = handle.HandleKind.ToString(),
                ["object"] = Hex(handle.Object.Address),
                ["dependent"] = Hex(handle.Dependent.Address),
                ["isStrong"] = handle.IsStrong,
            });
        }
        return array;
    }

    private static IEnumerable<ClrRoot> SosRoots(ClrRuntime runtime)
    {
        foreach (ClrHandle handle in runtime.EnumerateHandles())
            if (handle.IsStrong)
                yield return handle;
        foreach (ClrRoot root in runtime.Heap.EnumerateFinalizerRoots())
            yield return root;
        foreach (ClrThread thread in runtime.Threads.Where(t => t.IsAlive))
            foreach (ClrRoot root in thread.EnumerateStackRoots())
                yield return root;
    }

    private static JsonNode Roots(ClrRuntime runtime)
    {
        var array = new JsonArray();
        foreach (ClrRoot root in SosRoots(runtime))
        {
            var o = new JsonObject
            {
                ["address"] = Hex(root.Address),
                ["kind"] = root.RootKind.ToString(),
                ["object"] = Hex(root.Object.Address),
                ["interior"] = root.IsInterior,
            };
            if (root is ClrStackRoot stackRoot)
            {
                o["thread"] = stackRoot.StackFrame?.Thread?.OSThreadId ?? 0;
                o["register"] = stackRoot.RegisterName;
                o["registerOffset"] = stackRoot.RegisterOffset;
                o["frameSp"] = Hex(stackRoot.StackFrame?.StackPointer ?? 0);
                o["method"] = stackRoot.StackFrame?.Method?.Signature;
            }
            if (root is ClrHandle handle)
                o["handleKind"] = handle.HandleKind.ToString();
            array.Add(o);
        }
        return array;
    }

    private static JsonNode Live(ClrRuntime runtime)
    {
        ClrHeap heap = runtime.Heap;
        var live = new HashSet<ulong>();
        var todo = new Queue<ulong>();
        int roots = 0;
        foreach (ClrRoot root in SosRoots(runtime))
        {
            roots++;
            if (live.Add(root.Object))
                todo.Enqueue(root.Object);
        }
        while (todo.Count > 0)
        {
            ClrObject obj = heap.GetObject(todo.Dequeue());
            foreach (ulong address in obj.EnumerateReferenceAddresses(carefully: false, considerDependantHandles: true))
                if (live.Add(address))
                    todo.Enqueue(address);
        }
        var byMt = new Dictionary<ulong, (long Count, ulong Size)>();
        long total = 0;
        foreach (ClrObject obj in heap.EnumerateObjects())
        {
            if (!live.Contains(obj.Address))
                continue;
            ulong mt = obj.Type?.MethodTable ?? 0;
            byMt.TryGetValue(mt, out var e);
            byMt[mt] = (e.Count + 1, e.Size + obj.Size);
            total++;
        }
        var types = new JsonArray();
        foreach (var (mt, e) in byMt.OrderBy(kv => kv.Key))
            types.Add(new JsonObject { ["mt"] = Hex(mt), ["count"] = e.Count, ["totalSize"] = e.Size });
        return new JsonObject { ["roots"] = roots, ["totalCount"] = total, ["types"] = types };
    }

    private static JsonNode Refs(ClrHeap heap, ulong[] addresses)
    {
        var result = new JsonObject();
        foreach (ulong address in addresses)
            result[Hex(address)] = RefsOf(heap, address);
        return result;
    }

    private static JsonNode RefsOf(ClrHeap heap, ulong address)
    {
        var array = new JsonArray();
        ClrObject obj = heap.GetObject(address);
        foreach (ClrReference r in obj.EnumerateReferencesWithFields(carefully: false, considerDependantHandles: true))
        {
            array.Add(new JsonObject
            {
                ["address"] = Hex(r.Object.Address),
                ["offset"] = r.Offset,
                ["isDependent"] = r.IsDependentHandle,
                ["field"] = r.Field?.Name,
            });
        }
        return array;
    }
}
