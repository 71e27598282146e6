// Scenario "large": a heap of about N objects (second argument, default 1,000,000) shaped like a service's, for
// `npm run bench` at scale (never made by the test run). At N = 22,000,000 the heap holds ~21 M objects and ~2 GB.
//
//   static LargeScenario.Root : LargeRoot
//     |-> Customers : List<LargeCustomer>            (one per ~24 objects of N)
//     |     '-> LargeCustomer { Id, Name -> string, Email -> string, Score,
//     |           Orders -> List<LargeOrder> -> LargeOrder[] -> LargeOrder x4
//     |                          LargeOrder { Id, Amount, Sku -> string ("SKU-<i % 5000>": duplicates),
//     |                                       Owner -> its LargeCustomer (a cycle), Lines -> int[3] }
//     |           Tags -> Dictionary<string, string> (2 entries: 4 strings, buckets int[], entries array) }
//     |-> ById      : Dictionary<int, LargeCustomer>  (every customer; its entries array is on the LOH)
//     |-> Chain     : LargeChainNode (head of a doubly linked list min(N / 12, 2,000,000) nodes deep:
//     |                 LargeChainNode { Value, Next -> next node, Prev -> previous node }; N ≥ 12 M → ≥ 1 M deep)
//     |-> Blobs     : byte[][]  -> byte[1 MiB] x (N / 25,000)  (LOH, ~0.8 GB at N = 20 M)
//     |-> Samples   : double[][] -> double[64 K] x (N / 200,000) (LOH)
//     |-> Sessions  : LargeSession[N / 2,000]  -> LargeSession { Id, User -> a LargeCustomer, Token -> string }
//     '-> Recent    : object[N / 100] (LOH) -> a sample of orders and customers (shared, not dominated)
//   threads "large-worker-0..3": each parks (blocked on a never-set event) with a local LargeSession[250] and a
//     local List<string> of 500 strings on its stack (stack roots, no static path to them).
using System.Runtime.CompilerServices;

namespace Debuggees;

public sealed class LargeOrder
{
    public long Id;
    public double Amount;
    public string? Sku;
    public LargeCustomer? Owner;
    public int[]? Lines;
}

public sealed class LargeCustomer
{
    public int Id;
    public string? Name;
    public string? Email;
    public double Score;
    public List<LargeOrder>? Orders;
    public Dictionary<string, string>? Tags;
}

public sealed class LargeChainNode
{
    public long Value;
    public LargeChainNode? Next;
    public LargeChainNode? Prev;
}

public sealed class LargeSession
{
    public int Id;
    public LargeCustomer? User;
    public string? Token;
}

public sealed class LargeRoot
{
    public List<LargeCustomer> Customers = new();
    public Dictionary<int, LargeCustomer> ById = new();
    public LargeChainNode? Chain;
    public byte[][] Blobs = Array.Empty<byte[]>();
    public double[][] Samples = Array.Empty<double[]>();
    public LargeSession[] Sessions = Array.Empty<LargeSession>();
    public object?[] Recent = Array.Empty<object>();
}

/// <summary>Builds the large graph and parks the worker threads.</summary>
public static class LargeScenario
{
    public static LargeRoot? Root;
    private static readonly ManualResetEvent Never = new(false);
    private const int ObjectsPerCustomer = 24;
    private const int WorkerThreads = 4;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        long n = args.Length > 0 ? long.Parse(args[0]) : 1_000_000;
        int depth = (int)Math.Max(16, Math.Min(n / 12, 2_000_000));
        int sessions = (int)Math.Max(8, n / 2_000);
        int blobs = (int)Math.Max(1, n / 25_000);
        int samples = (int)Math.Max(1, n / 200_000);
        long rest = n - 2L * depth - 2L * sessions - blobs - samples;
        int customers = (int)Math.Max(16, rest / ObjectsPerCustomer);

        var root = new LargeRoot
        {
            Customers = new List<LargeCustomer>(customers),
            ById = new Dictionary<int, LargeCustomer>(customers),
            Blobs = new byte[blobs][],
            Samples = new double[samples][],
            Sessions = new LargeSession[sessions],
            Recent = new object?[Math.Max(16, n / 100)],
        };
        var random = new Random(12345);
        int recent = 0;
        for (int c = 0; c < customers; c++)
        {
            var customer = new LargeCustomer
            {
                Id = c,
                Name = "customer-" + c.ToString("D9"),
                Email = "customer" + c.ToString() + "@example-mail.test",
                Score = random.NextDouble(),
                Orders = new List<LargeOrder>(4),
                Tags = new Dictionary<string, string>(2) { ["tier"] = "tier-" + (c % 7).ToString(), ["region"] = "region-" + (c % 31).ToString() },
            };
            for (int o = 0; o < 4; o++)
            {
                long id = (long)c * 4 + o;
                customer.Orders.Add(new LargeOrder
                {
                    Id = id,
                    Amount = random.NextDouble() * 1000,
                    Sku = "SKU-" + (id % 5000).ToString("D6"),
                    Owner = customer,
                    Lines = new[] { o, o + 1, o + 2 },
                });
            }
            root.Customers.Add(customer);
            root.ById.Add(c, customer);
            if (c % 25 == 0 && recent + 1 < root.Recent.Length)
            {
                root.Recent[recent++] = customer;
                root.Recent[recent++] = customer.Orders[0];
            }
        }

        // A doubly linked list: forward edges make it deep, back edges make every node reachable two ways.
        LargeChainNode head = new() { Value = 0 };
        LargeChainNode tail = head;
        for (int i = 1; i < depth; i++)
        {
            var node = new LargeChainNode { Value = i, Prev = tail };
            tail.Next = node;
            tail = node;
        }
        root.Chain = head;

        for (int i = 0; i < blobs; i++)
        {
            var blob = new byte[1 << 20];
            blob[i % blob.Length] = (byte)i;
            root.Blobs[i] = blob;
        }
        for (int i = 0; i < samples; i++) root.Samples[i] = new double[64 * 1024];
        for (int i = 0; i < sessions; i++)
        {
            root.Sessions[i] = new LargeSession { Id = i, User = root.Customers[(int)((long)i * 7919 % customers)], Token = "token-" + i.ToString("x8") };
        }
        Root = root;
        StartWorkers(root);
    }

    private static void StartWorkers(LargeRoot root)
    {
        using var started = new CountdownEvent(WorkerThreads);
        CountdownEvent signal = started;
        for (int t = 0; t < WorkerThreads; t++)
        {
            int index = t;
            var thread = new Thread(() => Work(index, root, signal)) { IsBackground = true, Name = "large-worker-" + index.ToString() };
            thread.Start();
        }
        started.Wait();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Work(int index, LargeRoot root, CountdownEvent started)
    {
        var mine = new LargeSession[250];
        for (int i = 0; i < mine.Length; i++)
        {
            mine[i] = new LargeSession { Id = -1 - i, User = root.Customers[(index * 1000 + i) % root.Customers.Count], Token = "worker-" + index.ToString() + "-" + i.ToString() };
        }
        var notes = new List<string>(500);
        for (int i = 0; i < 500; i++) notes.Add("note-" + index.ToString() + "-" + i.ToString());
        started.Signal();
        Never.WaitOne();
        GC.KeepAlive(mine);
        GC.KeepAlive(notes);
    }
}
