// Scenario "many": N small objects (second argument, default 1,000,000) for speed measurements.
// Object i is, by i % 4: a ManyNode, a string, an int[4], or a ManyPair (which points at a node).
//
//   static ManyScenario.Root : ManyRoot
//     |-> Nodes   : ManyNode[N/4+1]  -> ManyNode { Id, Weight, Next -> previous ManyNode }
//     |-> Strings : string[N/4+1]    -> "item-<i>"
//     |-> Arrays  : List<int[]>      -> int[4]
//     '-> Pairs   : ManyPair[N/4+1]  -> ManyPair { Key, Node -> a ManyNode }
using System.Runtime.CompilerServices;

namespace Debuggees;

public sealed class ManyNode
{
    public int Id;
    public double Weight;
    public ManyNode? Next;
}

public sealed class ManyPair
{
    public long Key;
    public ManyNode? Node;
}

public sealed class ManyRoot
{
    public ManyNode?[] Nodes = Array.Empty<ManyNode>();
    public string?[] Strings = Array.Empty<string>();
    public List<int[]> Arrays = new();
    public ManyPair?[] Pairs = Array.Empty<ManyPair>();
}

/// <summary>Builds the many-objects graph.</summary>
public static class ManyScenario
{
    public static ManyRoot? Root;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        int n = args.Length > 0 ? int.Parse(args[0]) : 1_000_000;
        int perKind = n / 4 + 1;
        var root = new ManyRoot
        {
            Nodes = new ManyNode?[perKind],
            Strings = new string?[perKind],
            Arrays = new List<int[]>(perKind),
            Pairs = new ManyPair?[perKind],
        };
        ManyNode? previous = null;
        for (int i = 0; i < n; i++)
        {
            int slot = i / 4;
            switch (i % 4)
            {
                case 0:
                    previous = new ManyNode { Id = i, Weight = i * 0.5, Next = previous };
                    root.Nodes[slot] = previous;
                    break;
                case 1:
                    root.Strings[slot] = "item-" + i.ToString();
                    break;
                case 2:
                    root.Arrays.Add(new[] { i, i + 1, i + 2, i + 3 });
                    break;
                default:
                    root.Pairs[slot] = new ManyPair { Key = i, Node = previous };
                    break;
            }
        }
        Root = root;
    }
}
