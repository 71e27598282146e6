// Scenario "linked": about N objects (second argument, default 6,000,000; ~370 MB of heap at that N) shaped like
// issue 16's heap dump, for `npm run bench` (never made by the test run): many small linked objects, each with its
// own short string, held by 4096-slot pointer arrays.
//
//   static LinkedScenario.Root : LinkedRoot
//     '-> Chunks : List<LinkedItem[]> -> LinkedItem[4096] x (N / 2 / 4096 + 1)
//                    '-> LinkedItem { Id, Value, Name -> string "node-<i>", Next -> the item made before it,
//                                     Prev -> the item made after it }
using System.Runtime.CompilerServices;

namespace Debuggees;

public sealed class LinkedItem
{
    public long Id;
    public double Value;
    public string? Name;
    public LinkedItem? Next;
    public LinkedItem? Prev;
}

public sealed class LinkedRoot
{
    public List<LinkedItem[]> Chunks = new();
}

/// <summary>Builds the linked-items graph.</summary>
public static class LinkedScenario
{
    public const int ChunkSlots = 4096;
    public static LinkedRoot? Root;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 6_000_000;
        int items = n / 2;
        var root = new LinkedRoot();
        LinkedItem[]? chunk = null;
        LinkedItem? previous = null;
        for (int i = 0; i < items; i++)
        {
            if (i % ChunkSlots == 0)
            {
                chunk = new LinkedItem[ChunkSlots];
                root.Chunks.Add(chunk);
            }
            var item = new LinkedItem { Id = i, Value = i * 0.25, Name = "node-" + i.ToString(), Next = previous };
            if (previous != null) previous.Prev = item;
            chunk![i % ChunkSlots] = item;
            previous = item;
        }
        Root = root;
    }
}
