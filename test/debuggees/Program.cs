// Entry point of the dumpsleuth test debuggees.
//
// Usage: Debuggees <scenario> [args...]
//   seed-apm             25 dead Threads kept alive by pending Socket.BeginReceive (APM) operations
//   seed-apm-overlapped  25 dead Threads kept alive by Overlapped.Pack'ed (never freed) operations
//   types                a zoo of type shapes reachable from a static root
//   many [N]             N small objects (default 1,000,000)
//   linked [N]           ~N small linked objects with strings in 4096-slot arrays, for npm run bench (Linked.cs)
//   leak-event           40 subscribers kept alive only by a static event (Leaks*.cs: one leak per rule)
//   leak-timer           30 + 20 undisposed timers that keep their owners alive
//   leak-pinned          64 pinned + 24 strong GC handles never freed
//   leak-cache           an unbounded static cache holding 3,000 records
//   leak-finalizer       the finalizer thread blocked on a lock, 49 objects queued behind it
//   leak-tcs             20 TaskCompletionSources never completed, one awaiter each
//   leak-controls [name] the no-leak twins of all leak-* scenarios (or of one)
//   grow / grow-churn    dumped twice: a registry and an event that grow between the dumps / the twin that only churns
//   hang                 a deadlock, held Monitor/Lock, starved thread pool, pending async chains (Hang.cs)
//   hang-pool            every pool worker blocked with work left in its local queue (HangPool.cs)
//   crash                dies of an unhandled exception with an inner one (Crash.cs; dumped by the runtime itself)
//
// Protocol: the scenario builds its graph, the program forces full collections, prints
// "READY <pid>" on stdout (flushed) and then sleeps forever; the harness dumps and kills it.
// With DUMPSLEUTH_EXIT_ON_STDIN_EOF=1 the main thread blocks reading stdin instead and exits at
// end of input, so a debuggee whose harness died (and so closed the pipe) does not linger.
using System.Runtime.CompilerServices;

namespace Debuggees;

internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Debuggees <seed-apm|seed-apm-overlapped|types|many> [args...]");
            return 2;
        }
        string scenario = args[0];
        string[] rest = args.Skip(1).ToArray();
        switch (scenario)
        {
            case "seed-apm":
                Gateway.SeedApmScenario.Run(rest);
                break;
            case "seed-apm-overlapped":
                Gateway.SeedApmOverlappedScenario.Run(rest);
                break;
            case "types":
                TypesScenario.Run(rest);
                break;
            case "many":
                ManyScenario.Run(rest);
                break;
            case "large": LargeScenario.Run(rest); break; // Large.cs: ~N objects for npm run bench (never in npm test)
            case "linked": LinkedScenario.Run(rest); break; // Linked.cs: issue 16's heap shape for npm run bench (never in npm test)
            case "leak-event":
                Leaks.EventLeakScenario.Run(rest);
                break;
            case "leak-timer":
                Leaks.TimerLeakScenario.Run(rest);
                break;
            case "leak-pinned":
                Leaks.PinnedLeakScenario.Run(rest);
                break;
            case "leak-cache":
                Leaks.CacheLeakScenario.Run(rest);
                break;
            case "leak-finalizer": // announces READY itself and never returns (its finalizer thread is blocked)
                Leaks.FinalizerLeakScenario.Run(rest);
                break;
            case "leak-tcs":
                Leaks.TcsLeakScenario.Run(rest);
                break;
            case "leak-controls":
                Leaks.LeakControlsScenario.Run(rest);
                break;
            case "grow": Growth.GrowScenario.Run(rest); break; // Grow.cs: READY, waits for a stdin line, grows, READY again
            case "grow-churn": Growth.GrowScenario.RunChurn(rest); break;
            case "large-grow": LargeGrowScenario.Run(rest); break; // LargeGrow.cs: the large heap twice, for npm run bench's diff
            case "hang":
                Hangs.HangScenario.Run(rest);
                break;
            case "hang-pool": Hangs.HangPoolScenario.Run(rest); break;
            case "crash": // never returns: the unhandled exception ends the process
                Crashes.CrashScenario.Run(rest);
                break;
            default:
                Console.Error.WriteLine($"unknown scenario '{scenario}'");
                return 2;
        }
        ReadyAndWait();
        return 0;
    }

    /// <summary>Forces full collections, announces readiness and blocks forever.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ReadyAndWait()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        // SelfDump.cs (Windows dumps made under Wine). Read before READY and called only when set: a first call after
        // READY would catch the main thread in the JIT's prestub in the Linux dumps.
        string? selfDump = Environment.GetEnvironmentVariable("DUMPSLEUTH_SELF_DUMP");
        Console.Out.WriteLine($"READY {Environment.ProcessId}");
        Console.Out.Flush();
        if (!string.IsNullOrEmpty(selfDump))
        {
            SelfDump.Run(selfDump);
        }
        if (Environment.GetEnvironmentVariable("DUMPSLEUTH_EXIT_ON_STDIN_EOF") == "1")
        {
            using Stream stdin = Console.OpenStandardInput();
            var sink = new byte[256];
            while (stdin.Read(sink, 0, sink.Length) > 0)
            {
            }
            Environment.Exit(0);
        }
        Thread.Sleep(Timeout.Infinite);
    }
}
