// Scenario "hang": one hung process holding every hang shape dumpsleuth diagnoses, so one dump covers them all.
//
//   Deadlock (Monitor):  thread A: TransferDesk.MoveAToB holds s_ledgerA, waits for s_ledgerB
//                        thread B: TransferDesk.MoveBToA holds s_ledgerB, waits for s_ledgerA
//   Held Monitor:        ReportWriter.WriteWhileHolding holds s_reportLock (recursion 2) and sleeps;
//                        2 threads (ReportWriter.WaitForReport) wait for it
//   Lock (.NET 9+):      InventoryLock.HoldAndWait holds s_inventory (System.Threading.Lock) and waits on an
//                        event never set; 1 thread (InventoryLock.WaitForInventory) waits for the Lock
//   Starvation:          the thread pool capped at ProcessorCount workers, each blocked in
//                        SyncOverAsync.BlockOnResult (Task.Result on a never-completed TaskCompletionSource);
//                        QueuedWorkCount more work items (SyncOverAsync.QueuedWork) wait in the global queue;
//                        each worker queued local work before blocking, which Task.Wait moved to the
//                        high-priority global queue (HangPool.cs)
//   Async:               PendingChainCount chains OrderPipeline.ProcessAsync -> LoadAsync -> await never-completed
//                        TCS (s_neverReply), plus CompletedChainCount completed twins kept in s_completed
//   Exceptions:          s_lastFailure: InvalidOperationException("order 42 failed") with an inner
//                        FormatException("bad amount"), thrown and caught on the main thread
//   Timers:              TimerCount timers (due 1 h, period 2 h) firing TimerCallbacks.OnTick
//
// Controls in the same process: two threads take s_ledgerC then s_ledgerD in the same order and finish (no
// cycle); a Lock and a Monitor taken and released.
using System.Runtime.CompilerServices;

namespace Hangs;

/// <summary>The two-lock deadlock.</summary>
public static class TransferDesk
{
    public static readonly object s_ledgerA = new LedgerLock("A");
    public static readonly object s_ledgerB = new LedgerLock("B");
    public static readonly object s_ledgerC = new LedgerLock("C");
    public static readonly object s_ledgerD = new LedgerLock("D");
    private static readonly Barrier s_bothHoldFirst = new(2);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void MoveAToB()
    {
        lock (s_ledgerA)
        {
            s_bothHoldFirst.SignalAndWait();
            lock (s_ledgerB)
                Console.WriteLine("never");
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void MoveBToA()
    {
        lock (s_ledgerB)
        {
            s_bothHoldFirst.SignalAndWait();
            lock (s_ledgerA)
                Console.WriteLine("never");
        }
    }

    /// <summary>Control: the same two locks in the same order on every thread; finishes.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void MoveCToD()
    {
        lock (s_ledgerC)
        {
            lock (s_ledgerD)
                Thread.SpinWait(100);
        }
    }
}

/// <summary>A lock object with a recognisable type.</summary>
public sealed class LedgerLock(string name)
{
    public readonly string Name = name;
}

/// <summary>A Monitor held by a sleeping thread with waiters.</summary>
public static class ReportWriter
{
    public static readonly object s_reportLock = new LedgerLock("report");
    public static readonly ManualResetEventSlim s_held = new(false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WriteWhileHolding()
    {
        lock (s_reportLock)
        {
            lock (s_reportLock)
            {
                s_held.Set();
                Thread.Sleep(Timeout.Infinite);
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WaitForReport()
    {
        lock (s_reportLock)
            Console.WriteLine("never");
    }
}

/// <summary>A System.Threading.Lock held by a thread that waits on something else.</summary>
public static class InventoryLock
{
#if NET9_0_OR_GREATER
    public static readonly Lock s_inventory = new();
    public static readonly Lock s_released = new();
#else
    // The net8.0 publish (issue 11's refusal test) has no System.Threading.Lock; it never runs this scenario.
    public static readonly object s_inventory = new();
    public static readonly object s_released = new();
#endif
    public static readonly ManualResetEventSlim s_neverSet = new(false);
    public static readonly ManualResetEventSlim s_held = new(false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void HoldAndWait()
    {
        lock (s_inventory)
        {
            s_held.Set();
            s_neverSet.Wait();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void WaitForInventory()
    {
        lock (s_inventory)
            Console.WriteLine("never");
    }
}

/// <summary>Sync-over-async on every thread-pool worker while work items queue up.</summary>
public static class SyncOverAsync
{
    public static readonly TaskCompletionSource<int> s_neverAnswered = new();
    public static int s_blocked;
    public static int s_ran;

    public static async Task<int> FetchRateAsync()
    {
        int rate = await s_neverAnswered.Task.ConfigureAwait(false);
        return rate + 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void BlockOnResult(object? state)
    {
        Interlocked.Increment(ref s_blocked);
        LocalWork.QueueOnThisWorker();
        Console.WriteLine(FetchRateAsync().Result);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void QueuedWork(object? state) => Interlocked.Increment(ref s_ran);
}

/// <summary>Async chains awaiting a TaskCompletionSource nothing completes, and completed twins.</summary>
public static class OrderPipeline
{
    public static readonly TaskCompletionSource<string> s_neverReply = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public static readonly List<Task<int>> s_pending = new();
    public static readonly List<Task<int>> s_completed = new();

    public static async Task<int> ProcessAsync(int order, Task<string> reply)
    {
        int n = await LoadAsync(order, reply).ConfigureAwait(false);
        return n * 2;
    }

    public static async Task<int> LoadAsync(int order, Task<string> reply)
    {
        string text = await reply.ConfigureAwait(false);
        return text.Length + order;
    }
}

/// <summary>Timer callbacks.</summary>
public static class TimerCallbacks
{
    public static readonly List<Timer> s_timers = new();

    public static void OnTick(object? state) => Console.WriteLine(state);
}

/// <summary>Builds the hang and waits until every thread is in place.</summary>
public static class HangScenario
{
    public const int PendingChainCount = 25;
    public const int CompletedChainCount = 5;
    public const int QueuedWorkCount = 12;
    public const int TimerCount = 3;
    public static Exception? s_lastFailure;
    private static readonly List<Thread> s_threads = new();

    public static void Run(string[] args)
    {
        StartThread(TransferDesk.MoveAToB);
        StartThread(TransferDesk.MoveBToA);
        StartThread(ReportWriter.WriteWhileHolding);
        ReportWriter.s_held.Wait();
        StartThread(ReportWriter.WaitForReport);
        StartThread(ReportWriter.WaitForReport);
        StartThread(InventoryLock.HoldAndWait);
        InventoryLock.s_held.Wait();
        StartThread(InventoryLock.WaitForInventory);

        // Controls: ordered locking that finishes, a Lock and a Monitor taken and released.
        Thread c1 = StartThread(TransferDesk.MoveCToD);
        Thread c2 = StartThread(TransferDesk.MoveCToD);
        c1.Join();
        c2.Join();
        lock (InventoryLock.s_released)
            Thread.SpinWait(10);

        for (int i = 0; i < PendingChainCount; i++)
            OrderPipeline.s_pending.Add(OrderPipeline.ProcessAsync(i, OrderPipeline.s_neverReply.Task));
        for (int i = 0; i < CompletedChainCount; i++)
        {
            var done = new TaskCompletionSource<string>();
            Task<int> t = OrderPipeline.ProcessAsync(1000 + i, done.Task);
            done.SetResult("done");
            t.Wait();
            OrderPipeline.s_completed.Add(t);
        }

        for (int i = 0; i < TimerCount; i++)
            TimerCallbacks.s_timers.Add(new Timer(TimerCallbacks.OnTick, $"tick-{i}", TimeSpan.FromHours(1), TimeSpan.FromHours(2)));

        ThrowAndKeep();

        int workers = Environment.ProcessorCount;
        ThreadPool.SetMinThreads(workers, workers);
        ThreadPool.SetMaxThreads(workers, workers);
        LocalWork.s_workers = workers;
        for (int i = 0; i < workers; i++)
            ThreadPool.UnsafeQueueUserWorkItem(SyncOverAsync.BlockOnResult, null);
        SpinWait.SpinUntil(() => Volatile.Read(ref SyncOverAsync.s_blocked) == workers, 30_000);
        SpinWait.SpinUntil(() => Volatile.Read(ref LocalWork.s_queued) == workers, 30_000);
        for (int i = 0; i < QueuedWorkCount; i++)
            ThreadPool.UnsafeQueueUserWorkItem(SyncOverAsync.QueuedWork, null);

        // Let the waiters reach their waits (Monitor.Enter spins before it blocks).
        Thread.Sleep(500);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAndKeep()
    {
        try
        {
            ParseOrder("x42");
        }
        catch (InvalidOperationException e)
        {
            s_lastFailure = e;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ParseOrder(string text)
    {
        try
        {
            return ParseAmount(text);
        }
        catch (FormatException inner)
        {
            throw new InvalidOperationException("order 42 failed", inner);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int ParseAmount(string text) => text.StartsWith('x') ? throw new FormatException("bad amount") : text.Length;

    private static Thread StartThread(ThreadStart body)
    {
        var t = new Thread(body) { IsBackground = true };
        s_threads.Add(t);
        t.Start();
        return t;
    }
}
