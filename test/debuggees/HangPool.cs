// Scenario "hang-pool": every thread-pool worker queued work on its own local (work-stealing) queue and then
// blocked on an event never set, so the work stays there: its owner is blocked and no worker is free to steal it.
//
//   the pool capped at ProcessorCount workers, each in PoolWorkers.QueueThenBlock:
//     LocalWork.QueueOnThisWorker (once every worker is in, so none is free to steal):
//       Task.Factory.StartNew(LocalWork.RunTask, i)  x TasksPerWorker -> Tasks in the worker's WorkStealingQueue
//       ThreadPool.UnsafeQueueUserWorkItem(LocalWork.RunItem, id, preferLocal: true)
//                                                   -> one QueueUserWorkItemCallbackDefaultContext<Int32> beside them
//     then s_never.Wait() (a ManualResetEventSlim: unlike Task.Wait it leaves the local queue in place)
//   GlobalItemCount work items (PoolWorkers.GlobalWork) queued afterwards wait in the global queue.
//
// Scenario "hang" (Hang.cs) calls LocalWork.QueueOnThisWorker too, before blocking on Task.Result: Task.Wait moves
// the blocking worker's local items to the pool's high-priority global queue (.NET 8+), so there they show as
// "[Global high-pri]".
using System.Runtime.CompilerServices;

namespace Hangs;

/// <summary>Work queued on a worker's local queue before it blocks.</summary>
public static class LocalWork
{
    public const int TasksPerWorker = 2;
    public static int s_workers;
    public static int s_arrived;
    public static int s_queued;
    public static int s_ran;

    /// <summary>Waits until every worker has arrived (so none is free to steal), then queues locally.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void QueueOnThisWorker()
    {
        Interlocked.Increment(ref s_arrived);
        SpinWait.SpinUntil(() => Volatile.Read(ref s_arrived) >= Volatile.Read(ref s_workers), 30_000);
        for (int i = 0; i < TasksPerWorker; i++)
            Task.Factory.StartNew(RunTask, i);
        ThreadPool.UnsafeQueueUserWorkItem(RunItem, Environment.CurrentManagedThreadId, preferLocal: true);
        Interlocked.Increment(ref s_queued);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RunTask(object? state) => Interlocked.Increment(ref s_ran);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RunItem(int worker) => Interlocked.Increment(ref s_ran);
}

/// <summary>The workers of scenario hang-pool.</summary>
public static class PoolWorkers
{
    public static readonly ManualResetEventSlim s_never = new(false);
    public static int s_ran;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void QueueThenBlock(object? state)
    {
        LocalWork.QueueOnThisWorker();
        s_never.Wait();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void GlobalWork(object? state) => Interlocked.Increment(ref s_ran);
}

/// <summary>Builds scenario hang-pool and waits until every worker is blocked.</summary>
public static class HangPoolScenario
{
    public const int GlobalItemCount = 3;

    public static void Run(string[] args)
    {
        int workers = Environment.ProcessorCount;
        ThreadPool.SetMinThreads(workers, workers);
        ThreadPool.SetMaxThreads(workers, workers);
        LocalWork.s_workers = workers;
        for (int i = 0; i < workers; i++)
            ThreadPool.UnsafeQueueUserWorkItem(PoolWorkers.QueueThenBlock, null);
        SpinWait.SpinUntil(() => Volatile.Read(ref LocalWork.s_queued) == workers, 30_000);
        for (int i = 0; i < GlobalItemCount; i++)
            ThreadPool.UnsafeQueueUserWorkItem(PoolWorkers.GlobalWork, null);
        Thread.Sleep(200);
    }
}
