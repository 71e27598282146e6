// Scenario "leak-timer": timers that are never disposed keep their owners alive forever.
// A HealthProbe starts a System.Threading.Timer whose callback is its own OnProbeTimer; a
// SessionReaper starts a System.Timers.Timer whose Elapsed handler is its own OnReap. Both are
// dropped without Dispose, and the runtime's timer queue now holds them: each owner is retained only
// through its timer (30 probes: ProbeCount, 20 reapers: ReaperCount).
//
//   static TimerQueue.Instances[i] -> _longTimers -> TimerQueueTimer (linked by _next) x50
//     |-> _timerCallback : TimerCallback --_target--> Leaks.HealthProbe (method OnProbeTimer)      x30
//     |                                                 '-> _timer : Timer -> TimerHolder -> (this TimerQueueTimer)
//     '-> _timerCallback : TimerCallback --_target--> System.Timers.Timer (MyTimerCallback)        x20
//                                                       '-> _onIntervalElapsed : ElapsedEventHandler
//                                                             '-> _target : Leaks.SessionReaper (method OnReap)
//
// Control ("leak-controls timer"): the same owners are disposed (their timers cancelled and removed
// from the queue) and dropped; one probe and one reaper keep running and are also held by the static
// Monitoring.Active list.
using System.Runtime.CompilerServices;

namespace Leaks;

/// <summary>Probes an endpoint every hour until disposed.</summary>
public sealed class HealthProbe : IDisposable
{
    private readonly Timer _timer;
    private readonly string _endpoint;
    private int _failures;

    public HealthProbe(string endpoint)
    {
        _endpoint = endpoint;
        _timer = new Timer(OnProbeTimer, null, TimeSpan.FromHours(1), TimeSpan.FromHours(1));
    }

    private void OnProbeTimer(object? state)
    {
        if (_endpoint.Length == 0)
            _failures++;
    }

    public void Dispose() => _timer.Dispose();
}

/// <summary>Expires idle sessions every hour until disposed.</summary>
public sealed class SessionReaper : IDisposable
{
    private readonly System.Timers.Timer _timer;
    private int _reaped;

    public SessionReaper()
    {
        _timer = new System.Timers.Timer(TimeSpan.FromHours(1).TotalMilliseconds) { AutoReset = true };
        _timer.Elapsed += OnReap;
        _timer.Start();
    }

    private void OnReap(object? sender, System.Timers.ElapsedEventArgs e) => _reaped++;

    public void Dispose() => _timer.Dispose();
}

/// <summary>Owners the application keeps for its whole life.</summary>
public static class Monitoring
{
    public static readonly List<IDisposable> Active = new();
}

/// <summary>Builds the timer-leak graph, or its control.</summary>
public static class TimerLeakScenario
{
    /// <summary>HealthProbes (System.Threading.Timer) created and dropped without Dispose.</summary>
    public const int ProbeCount = 30;

    /// <summary>SessionReapers (System.Timers.Timer) created and dropped without Dispose.</summary>
    public const int ReaperCount = 20;

    public static void Run(string[] args) => Leak();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Leak()
    {
        for (int i = 0; i < ProbeCount; i++)
            _ = new HealthProbe($"http://10.0.0.{i}/health");
        for (int i = 0; i < ReaperCount; i++)
            _ = new SessionReaper();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Control()
    {
        Monitoring.Active.Add(new HealthProbe("http://10.0.1.1/health"));
        Monitoring.Active.Add(new SessionReaper());
        for (int i = 0; i < ProbeCount; i++)
        {
            using var probe = new HealthProbe($"http://10.0.0.{i}/health");
        }
        for (int i = 0; i < ReaperCount; i++)
        {
            using var reaper = new SessionReaper();
        }
    }
}
