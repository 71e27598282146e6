// Scenario "types": one object of (almost) every shape the analyzer must name and size, all
// reachable from the static root TypesScenario.Root so that they survive GC.
//
//   static TypesScenario.Root : TypeZoo
//     |-> EmptyString "" , LongString (10,000 x 'x' + "END"), NonAsciiString "héllo wörld ✓ 日本語 🚀"
//     |-> Literal "dumpsleuth-literal-string" (string literal: frozen/NonGC segment)
//     |-> Ints int[5] {1..5}, Doubles double[3], Bytes byte[16], Chars char[4], Longs long[2], Bools bool[3]
//     |-> PlainPoint : PlainPoint (struct, no references) stored inline in the field
//     |-> Points : PlainPoint[3]                (array of structs without references)
//     |-> Labeled : LabeledPoint[2]             (array of structs with a reference field)
//     |-> Matrix : int[2,3]    Cube : string[2,2,2]    Jagged : int[][] {int[1], int[2], int[3]}
//     |-> Map : Dictionary<string, List<int>>  {"a" -> [1,2], "b" -> [3]}
//     |-> Pairs : List<KeyValuePair<int, string>>
//     |-> Inner : Outer<int>.Inner<string>      (user nested generic, value + reference arguments)
//     |-> InnerRef : Outer<string>.Inner<double>
//     |-> Nested : TypeZoo.NestedClass -> NestedClass.Deeper
//     |-> BoxedInt (object)42, BoxedPoint (object)PlainPoint, BoxedColor (object)Color.Green
//     |-> Color : Color (enum field, inline)   Colors : Color[3]
//     |-> Large : byte[100,000]                 (large object heap)
//     |-> Pinned : byte[1000]                   (pinned object heap, GC.AllocateArray pinned: true)
//     |-> InstanceDelegate : Func<int,int> -> target TypeZoo.NestedClass, method AddOffset
//     |-> StaticDelegate   : Func<int,int> -> static TypesScenario.Twice
//     |-> Multicast        : Action = Ping + Pong (two instance targets)
//     '-> Objects : object[] { the boxes, a Tuple<int,string>, a ValueTuple boxed, an anonymous object }
using System.Runtime.CompilerServices;

namespace Debuggees;

public enum Color
{
    Red = 1,
    Green = 2,
    Blue = 4,
}

public struct PlainPoint
{
    public int X;
    public int Y;

    public PlainPoint(int x, int y)
    {
        X = x;
        Y = y;
    }
}

public struct LabeledPoint
{
    public PlainPoint Point;
    public string Label;
}

public sealed class Outer<T>
{
    public sealed class Inner<U>
    {
        public T? First;
        public U? Second;
    }
}

public sealed class TypeZoo
{
    public string EmptyString = string.Empty;
    public string LongString = new string('x', 10_000) + "END";
    public string NonAsciiString = "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001F680";
    public string Literal = "dumpsleuth-literal-string";
    public int[] Ints = { 1, 2, 3, 4, 5 };
    public double[] Doubles = { 1.5, -2.25, Math.PI };
    public byte[] Bytes = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();
    public char[] Chars = { 'a', 'b', 'c', 'd' };
    public long[] Longs = { long.MinValue, long.MaxValue };
    public bool[] Bools = { true, false, true };
    public PlainPoint PlainPoint = new(7, 8);
    public PlainPoint[] Points = { new(1, 2), new(3, 4), new(5, 6) };
    public LabeledPoint[] Labeled =
    {
        new() { Point = new PlainPoint(1, 1), Label = "first" },
        new() { Point = new PlainPoint(2, 2), Label = "second" },
    };
    public int[,] Matrix = { { 1, 2, 3 }, { 4, 5, 6 } };
    public string[,,] Cube = new string[2, 2, 2];
    public int[][] Jagged = { new[] { 1 }, new[] { 1, 2 }, new[] { 1, 2, 3 } };
    public Dictionary<string, List<int>> Map = new() { ["a"] = new List<int> { 1, 2 }, ["b"] = new List<int> { 3 } };
    public List<KeyValuePair<int, string>> Pairs = new() { new(1, "one"), new(2, "two") };
    public Outer<int>.Inner<string> Inner = new() { First = 11, Second = "inner" };
    public Outer<string>.Inner<double> InnerRef = new() { First = "outer", Second = 2.5 };
    public NestedClass Nested = new();
    public object BoxedInt = 42;
    public object BoxedPoint = new PlainPoint(9, 10);
    public object BoxedColor = Color.Green;
    public Color Color = Color.Blue;
    public Color[] Colors = { Color.Red, Color.Green, Color.Blue };
    public byte[] Large = new byte[100_000];
    public byte[] Pinned = GC.AllocateArray<byte>(1000, pinned: true);
    public Func<int, int>? InstanceDelegate;
    public Func<int, int>? StaticDelegate;
    public Action? Multicast;
    public object[]? Objects;

    public sealed class NestedClass
    {
        public int Offset = 100;
        public Deeper Child = new();

        public int AddOffset(int value) => value + Offset;

        public sealed class Deeper
        {
            public string Name = "deeper";

            public void Ping() { }

            public void Pong() { }
        }
    }
}

/// <summary>Builds the types graph.</summary>
public static class TypesScenario
{
    public static TypeZoo? Root;

    public static int Twice(int value) => value * 2;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        var zoo = new TypeZoo();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 2; k++)
                    zoo.Cube[i, j, k] = $"cube-{i}{j}{k}";
        zoo.InstanceDelegate = zoo.Nested.AddOffset;
        zoo.StaticDelegate = Twice;
        var other = new TypeZoo.NestedClass.Deeper { Name = "other" };
        zoo.Multicast = zoo.Nested.Child.Ping;
        zoo.Multicast += other.Pong;
        zoo.Objects = new object[]
        {
            zoo.BoxedInt,
            zoo.BoxedPoint,
            zoo.BoxedColor,
            Tuple.Create(1, "tuple"),
            (object)(2, "valuetuple"),
            new { Name = "anonymous", Value = 3 },
        };
        Root = zoo;
    }
}
