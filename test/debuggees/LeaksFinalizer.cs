// Scenario "leak-finalizer": a finalizer blocked on a lock that is never released. A maintenance
// thread takes LegacyFileLock.s_sync and never leaves the lock; then 50 LegacyFileLocks
// (ObjectCount) become garbage. The finalizer thread takes the first one, runs its ~LegacyFileLock,
// and blocks in lock (s_sync); the other 49 (ObjectCount - 1) wait in the ready-for-finalization
// queue forever, and so does everything they reference.
//
//   finalizer thread: LegacyFileLock.Finalize() -> Monitor.Enter(s_sync)   (blocked)
//   maintenance thread: holds s_sync, sleeps forever
//   finalization queue (ready) -> Leaks.LegacyFileLock x49 -> _path : string, _buffer : byte[128]
//
// This scenario cannot use Program's ReadyAndWait (GC.WaitForPendingFinalizers would never return):
// it announces READY itself through LeakSupport.ReadyAndWait(waitForFinalizers: false) and never returns.
// Control ("leak-controls finalizer"): the same objects are finalized while nobody holds the lock.
using System.Runtime.CompilerServices;

namespace Leaks;

/// <summary>Releases a (pretend) OS file lock in its finalizer, under a process-wide lock.</summary>
public sealed class LegacyFileLock
{
    private static readonly object s_sync = new();
    /// <summary>Set when a finalizer has entered (before it takes the lock).</summary>
    public static readonly ManualResetEventSlim FinalizerEntered = new();
    /// <summary>Finalizers that completed.</summary>
    public static int Released;

    private readonly string _path;
    private readonly byte[] _buffer = new byte[128];

    public LegacyFileLock(string path) => _path = path;

    ~LegacyFileLock()
    {
        FinalizerEntered.Set();
        lock (s_sync)
        {
            Released += _path.Length > 0 ? 1 : 0;
            _buffer[0] = 1;
        }
    }

    /// <summary>Takes the lock on a new thread and keeps it forever; returns once it is held.</summary>
    public static void HoldLockForever()
    {
        using var held = new ManualResetEventSlim();
        var thread = new Thread(() =>
        {
            lock (s_sync)
            {
                held.Set();
                Thread.Sleep(Timeout.Infinite);
            }
        }) { IsBackground = true, Name = "maintenance" };
        thread.Start();
        held.Wait();
    }
}

/// <summary>Builds the blocked-finalizer scenario, or its control.</summary>
public static class FinalizerLeakScenario
{
    /// <summary>Finalizable objects made garbage; one of them blocks the finalizer thread.</summary>
    public const int ObjectCount = 50;

    /// <summary>Blocks the finalizer thread, announces READY and never returns.</summary>
    public static void Run(string[] args)
    {
        // Finalize whatever startup left behind, so the ready queue holds only this scenario's objects.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        LegacyFileLock.HoldLockForever();
        Drop();
        GC.Collect();
        if (!LegacyFileLock.FinalizerEntered.Wait(TimeSpan.FromSeconds(30)))
            throw new InvalidOperationException("the finalizer thread did not start");
        LeakSupport.ReadyAndWait(waitForFinalizers: false);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Drop()
    {
        for (int i = 0; i < ObjectCount; i++)
            _ = new LegacyFileLock($"/var/lock/legacy-{i}.lck");
    }
}

/// <summary>What scenarios that cannot use Program's ReadyAndWait share.</summary>
public static class LeakSupport
{
    /// <summary>Program.ReadyAndWait's protocol (READY line, then block), optionally without waiting for finalizers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ReadyAndWait(bool waitForFinalizers)
    {
        GC.Collect();
        if (waitForFinalizers)
            GC.WaitForPendingFinalizers();
        GC.Collect();
        // As in Program.ReadyAndWait: the Windows self-dump (SelfDump.cs) is read before READY.
        string? selfDump = Environment.GetEnvironmentVariable("DUMPSLEUTH_SELF_DUMP");
        Console.Out.WriteLine($"READY {Environment.ProcessId}");
        Console.Out.Flush();
        if (!string.IsNullOrEmpty(selfDump))
            Debuggees.SelfDump.Run(selfDump, exitByKill: !waitForFinalizers);
        if (Environment.GetEnvironmentVariable("DUMPSLEUTH_EXIT_ON_STDIN_EOF") == "1")
        {
            using Stream stdin = Console.OpenStandardInput();
            var sink = new byte[256];
            while (stdin.Read(sink, 0, sink.Length) > 0)
            {
            }
            // Environment.Exit waits for the finalizer thread, which may be blocked forever.
            if (waitForFinalizers)
                Environment.Exit(0);
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }
        Thread.Sleep(Timeout.Infinite);
    }
}
