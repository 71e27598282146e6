// Scenario "large-grow": the `large` heap (Large.cs, N objects, first argument) dumped twice from one process for
// `npm run bench`'s diff case (never made by the test run). Phase 1 builds the large heap plus G / 5 audit entries
// (G: second argument, default 1,000,000), prints READY and waits for a stdin line; phase 2 records the rest up to G
// entries, and Program prints READY again. At N = 21,000,000 both dumps hold more than 20 M objects.
//
//   static AuditLog.s_entries : List<AuditEntry> -> AuditEntry[] -> AuditEntry x(G / 5, then G)
//     '-> AuditEntry { OrderId, Note -> string, Payload -> byte[24] }   (3 objects per entry, no delegate on the path:
//         the culprit is the method that adds to the list, AuditLog.Record)
using System.Runtime.CompilerServices;

namespace Debuggees;

public sealed class AuditEntry
{
    public long OrderId;
    public string? Note;
    public byte[]? Payload;
}

/// <summary>Every order change ever audited, never trimmed.</summary>
public static class AuditLog
{
    private static readonly List<AuditEntry> s_entries = new();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Record(long orderId) =>
        s_entries.Add(new AuditEntry { OrderId = orderId, Note = "changed order " + orderId.ToString(), Payload = new byte[24] });
}

/// <summary>The large heap, then audit entries in two phases.</summary>
public static class LargeGrowScenario
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Run(string[] args)
    {
        long growth = args.Length > 1 ? long.Parse(args[1]) : 1_000_000;
        LargeScenario.Run(args.Length > 0 ? new[] { args[0] } : Array.Empty<string>());
        for (long i = 0; i < growth / 5; i++) AuditLog.Record(i);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Console.Out.WriteLine($"READY {Environment.ProcessId}");
        Console.Out.Flush();
        if (Console.In.ReadLine() == null)
            Environment.Exit(0);
        for (long i = growth / 5; i < growth; i++) AuditLog.Record(i);
    }
}
