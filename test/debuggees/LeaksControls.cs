// Scenario "leak-controls [event|timer|pinned|cache|finalizer|tcs]": the no-leak twin of every
// leak-* scenario in one process (or only the named one): the same types, correctly unsubscribed,
// disposed, freed, bounded, finalized and completed. No rule may report anything above "info" here.
// Each scenario file's header describes its control.
namespace Leaks;

/// <summary>Runs the control scenarios.</summary>
public static class LeakControlsScenario
{
    public static void Run(string[] args)
    {
        bool All(string name) => args.Length == 0 || args.Contains(name);
        if (All("event"))
            EventLeakScenario.Control();
        if (All("timer"))
            TimerLeakScenario.Control();
        if (All("pinned"))
        {
            PinnedLeakScenario.Build(freeHandles: true);
            PinnedBufferPool.Fill();
        }
        if (All("cache"))
            CacheLeakScenario.Build(CacheLeakScenario.BoundedCapacity);
        if (All("finalizer"))
            FinalizerLeakScenario.Drop();
        if (All("tcs"))
            TcsLeakScenario.Build(complete: true);
    }
}
