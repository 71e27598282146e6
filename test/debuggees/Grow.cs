// Scenarios "grow" and "grow-churn": one process dumped twice (src/capture/capture-dump-pair.ts). The
// scenario builds phase 1, prints "READY <pid>" and waits for a line on stdin; the harness dumps it,
// writes "next", the scenario builds phase 2, and Program prints "READY <pid>" again for the second dump.
//
// grow: two things that only grow, plus churn that does not.
//   static SessionRegistry.s_sessions : Dictionary<string, Growth.UserSession>
//     '-> _entries : Entry<string, UserSession>[] -> UserSession x(300, then 1,000)
//                                                      '-> _state : byte[512]
//   static Heartbeat.Beat : EventHandler (multicast)
//     '-> _invocationList : object[] -> EventHandler x(200, then 500)
//            '-> _target : Growth.BeatListener (method BeatListener.OnBeat) -> _buffer : byte[128]
//   static ChurnRing.s_ring : ChurnItem[64]  (64 live items in both dumps; 5,000 temporaries per phase die)
//
// grow-churn (the twin without growth): the same types; the registry evicts down to 300 sessions,
// every listener unsubscribes before it is dropped, the ring stays at 64. Its diff must show no growth.
using System.Runtime.CompilerServices;

namespace Growth;

/// <summary>One logged-in user's state, kept by the registry.</summary>
public sealed class UserSession
{
    public readonly string Id;
    public readonly byte[] _state = new byte[512];

    public UserSession(string id) => Id = id;
}

/// <summary>Every session ever opened, by id; bounded only when a capacity is set.</summary>
public static class SessionRegistry
{
    private static readonly Dictionary<string, UserSession> s_sessions = new();
    private static readonly Queue<string> s_order = new();

    public static int Capacity;

    public static void Open(string id)
    {
        s_sessions[id] = new UserSession(id);
        s_order.Enqueue(id);
        if (Capacity > 0 && s_sessions.Count > Capacity)
            s_sessions.Remove(s_order.Dequeue());
    }
}

/// <summary>A process-wide tick.</summary>
public static class Heartbeat
{
    public static event EventHandler? Beat;

    public static void Raise() => Beat?.Invoke(null, EventArgs.Empty);
}

/// <summary>Listens to the heartbeat until disposed.</summary>
public sealed class BeatListener : IDisposable
{
    private readonly byte[] _buffer = new byte[128];

    public BeatListener() => Heartbeat.Beat += OnBeat;

    private void OnBeat(object? sender, EventArgs e) => _buffer[0]++;

    public void Dispose() => Heartbeat.Beat -= OnBeat;
}

/// <summary>A short-lived work item.</summary>
public sealed class ChurnItem
{
    public readonly int Sequence;
    public readonly byte[] Data = new byte[64];

    public ChurnItem(int sequence) => Sequence = sequence;
}

/// <summary>A fixed ring of the latest work items: churns, never grows.</summary>
public static class ChurnRing
{
    private static readonly ChurnItem?[] s_ring = new ChurnItem?[64];
    private static int s_next;

    public static void Add(ChurnItem item) => s_ring[s_next++ % s_ring.Length] = item;
}

/// <summary>Builds both phases; growing or (churn only) not.</summary>
public static class GrowScenario
{
    /// <summary>Sessions opened by phase 1 and in all by phase 2 (grow: all kept).</summary>
    public const int SessionsPhase1 = 300;
    public const int SessionsPhase2 = 1000;

    /// <summary>Listeners subscribed by phase 1 and in all by phase 2 (grow: never unsubscribed).</summary>
    public const int ListenersPhase1 = 200;
    public const int ListenersPhase2 = 500;

    /// <summary>Temporary work items per phase (only the ring's 64 survive).</summary>
    public const int ChurnPerPhase = 5000;

    public static void Run(string[] args) => RunPhases(growing: true);

    public static void RunChurn(string[] args) => RunPhases(growing: false);

    private static void RunPhases(bool growing)
    {
        SessionRegistry.Capacity = growing ? 0 : SessionsPhase1;
        Phase(0, SessionsPhase1, 0, ListenersPhase1, growing);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Console.Out.WriteLine($"READY {Environment.ProcessId}");
        Console.Out.Flush();
        if (Console.In.ReadLine() == null)
            Environment.Exit(0);
        Phase(SessionsPhase1, SessionsPhase2, ListenersPhase1, ListenersPhase2, growing);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Phase(int sessionsFrom, int sessionsTo, int listenersFrom, int listenersTo, bool growing)
    {
        for (int i = sessionsFrom; i < sessionsTo; i++)
            SessionRegistry.Open($"user-{i:D6}");
        for (int i = listenersFrom; i < listenersTo; i++)
        {
            var listener = new BeatListener();
            if (!growing)
                listener.Dispose();
        }
        Heartbeat.Raise();
        for (int i = 0; i < ChurnPerPhase; i++)
            ChurnRing.Add(new ChurnItem(i));
    }
}
