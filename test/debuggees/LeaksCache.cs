// Scenario "leak-cache": an unbounded static cache. CatalogCache memoizes every product it ever
// loaded in a static Dictionary and never evicts; 3,000 records (RecordCount) of ~1.1 KB each hold
// most of the heap.
//
//   static CatalogCache.s_items : Dictionary<string, ProductRecord>
//     '-> _entries : Entry<string, ProductRecord>[] -> key string, value Leaks.ProductRecord x3000
//                                                          |-> Sku : string
//                                                          '-> Payload : byte[1024]
//
// Control ("leak-controls cache"): the same cache type with a capacity of 16; it evicts the oldest
// entry, so after the same 3,000 loads it holds 16 records.
using System.Runtime.CompilerServices;

namespace Leaks;

/// <summary>One loaded product.</summary>
public sealed class ProductRecord
{
    public readonly string Sku;
    public readonly byte[] Payload = new byte[1024];

    public ProductRecord(string sku) => Sku = sku;
}

/// <summary>Memoizes products by SKU; capacity 0 means unbounded.</summary>
public sealed class CatalogCache
{
    private static CatalogCache? s_instance;
    private readonly Dictionary<string, ProductRecord> _items = new();
    private readonly Queue<string> _order = new();
    private readonly int _capacity;

    private CatalogCache(int capacity) => _capacity = capacity;

    public static CatalogCache Create(int capacity) => s_instance = new CatalogCache(capacity);

    public ProductRecord Get(string sku)
    {
        if (_items.TryGetValue(sku, out var record))
            return record;
        record = new ProductRecord(sku);
        _items[sku] = record;
        _order.Enqueue(sku);
        if (_capacity > 0 && _items.Count > _capacity)
            _items.Remove(_order.Dequeue());
        return record;
    }
}

/// <summary>Builds the unbounded cache, or its bounded control.</summary>
public static class CacheLeakScenario
{
    /// <summary>Distinct products loaded (and, in the leak, all kept).</summary>
    public const int RecordCount = 3000;

    /// <summary>The control's capacity.</summary>
    public const int BoundedCapacity = 16;

    public static void Run(string[] args) => Build(0);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Build(int capacity)
    {
        CatalogCache cache = CatalogCache.Create(capacity);
        for (int i = 0; i < RecordCount; i++)
            cache.Get($"SKU-{i:D6}");
    }
}
