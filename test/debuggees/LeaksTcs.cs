// Scenario "leak-tcs": TaskCompletionSources that are never completed. RequestBroker.FetchAsync
// registers a TaskCompletionSource per request in a static table and awaits its Task; the replies
// never arrive, so 20 requests (RequestCount) stay pending forever, each with one awaiting FetchAsync
// state machine.
//
//   static RequestBroker.s_pending : Dictionary<int, TaskCompletionSource<string>>
//     '-> TaskCompletionSource<string> x20 -> Task<string> (never completed)
//            '-> m_continuationObject -> AsyncStateMachineBox<..., RequestBroker+<FetchAsync>d__N>
//
// Control ("leak-controls tcs"): the same 20 requests get their replies (SetResult) and complete.
using System.Runtime.CompilerServices;

namespace Leaks;

/// <summary>Matches replies to pending requests.</summary>
public static class RequestBroker
{
    private static readonly Dictionary<int, TaskCompletionSource<string>> s_pending = new();

    public static async Task<int> FetchAsync(int id)
    {
        var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (s_pending)
            s_pending[id] = tcs;
        string reply = await tcs.Task.ConfigureAwait(false);
        return reply.Length;
    }

    public static void Complete(int id, string reply)
    {
        TaskCompletionSource<string>? tcs;
        lock (s_pending)
        {
            if (!s_pending.Remove(id, out tcs))
                return;
        }
        tcs.SetResult(reply);
    }
}

/// <summary>Builds the never-completed requests, or their control.</summary>
public static class TcsLeakScenario
{
    /// <summary>Requests whose TaskCompletionSource is never completed (one awaiter each).</summary>
    public const int RequestCount = 20;

    public static void Run(string[] args) => Build(complete: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Build(bool complete)
    {
        var tasks = new Task<int>[RequestCount];
        for (int i = 0; i < RequestCount; i++)
            tasks[i] = RequestBroker.FetchAsync(i);
        if (!complete)
            return; // the leak: no reply ever comes
        for (int i = 0; i < RequestCount; i++)
            RequestBroker.Complete(i, $"reply-{i}");
        Task.WaitAll(tasks);
    }
}
