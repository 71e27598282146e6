// An ASP.NET Core app as `dotnet new web` makes it, plus a few endpoints that cache, serialize JSON and await, so a
// dump taken under load holds what real servers hold: Kestrel connections, pending socket operations, a static cache,
// System.Text.Json metadata, async state machines. Server GC with DATAS, as ASP.NET Core defaults.
using System.Collections.Concurrent;
using System.Text.Json;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

app.MapGet("/", () => "Hello World!");
app.MapGet("/cache/{id:int}", (int id) => PriceCache.Get(id));
app.MapGet("/json", () => Results.Json(Enumerable.Range(0, 20).Select(i => new Quote($"Q{i}", i * 1.5m, DateTime.UnixEpoch.AddDays(i))).ToList()));
app.MapGet("/slow", async () =>
{
    await Task.Delay(TimeSpan.FromMinutes(5));
    return "late";
});
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine($"READY {Environment.ProcessId}"));
app.Run();

record Quote(string Symbol, decimal Price, DateTime At);

static class PriceCache
{
    // Bounded: the app keeps at most 800 quotes, as a real price cache would.
    static readonly ConcurrentDictionary<int, string> Items = new();

    public static string Get(int id)
    {
        var key = id % 800;
        return Items.GetOrAdd(key, k => JsonSerializer.Serialize(new Quote($"S{k}", k, DateTime.UnixEpoch)));
    }
}
