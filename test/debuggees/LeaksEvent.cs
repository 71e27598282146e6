// Scenario "leak-event": a static event whose handler list keeps dropped subscribers alive.
// Each QuoteWidget subscribes its OnPriceChanged to the static PriceFeed.PriceChanged event in its
// constructor; the leak forgets Dispose (which unsubscribes), so the event's invocation list is the
// only thing that still references the 40 widgets (SubscriberCount).
//
//   static PriceFeed.PriceChanged : EventHandler<decimal> (multicast)
//     '-> _invocationList : object[] -> EventHandler<decimal> x40
//            '-> _target : Leaks.QuoteWidget  (method QuoteWidget.OnPriceChanged)
//                  '-> _view : byte[256]
//
// Control ("leak-controls event"): the same 40 widgets are disposed (unsubscribed) and dropped; two
// widgets stay subscribed and are also held by the static Dashboard.Widgets list, as a live UI would;
// and 12 logging lambdas (LoggedSymbols) stay subscribed for the life of the process: each is a
// closure that captures only its symbol, which nothing else needs to hold.
using System.Runtime.CompilerServices;

namespace Leaks;

/// <summary>A process-wide price source with a static event.</summary>
public static class PriceFeed
{
    public static event EventHandler<decimal>? PriceChanged;

    public static void Publish(decimal price) => PriceChanged?.Invoke(null, price);
}

/// <summary>A view that listens to prices until it is disposed.</summary>
public sealed class QuoteWidget : IDisposable
{
    private readonly byte[] _view = new byte[256];
    private decimal _last;

    public QuoteWidget() => PriceFeed.PriceChanged += OnPriceChanged;

    private void OnPriceChanged(object? sender, decimal price)
    {
        _last = price;
        _view[0]++;
    }

    public void Dispose() => PriceFeed.PriceChanged -= OnPriceChanged;
}

/// <summary>Widgets the (pretend) UI keeps on screen for the life of the process.</summary>
public static class Dashboard
{
    public static readonly List<QuoteWidget> Widgets = new();
}

/// <summary>Builds the event-leak graph, or its control.</summary>
public static class EventLeakScenario
{
    /// <summary>Subscribers created and dropped without unsubscribing.</summary>
    public const int SubscriberCount = 40;

    public static void Run(string[] args) => Leak();

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Leak()
    {
        for (int i = 0; i < SubscriberCount; i++)
            _ = new QuoteWidget(); // the leak: never disposed, so never unsubscribed
        PriceFeed.Publish(1.5m);
    }

    /// <summary>Symbols the control logs through lambdas subscribed for good.</summary>
    public const int LoggedSymbols = 12;

    /// <summary>Prices the logging lambdas saw.</summary>
    public static long Logged;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Control()
    {
        for (int i = 0; i < LoggedSymbols; i++)
        {
            string symbol = $"SYM{i}";
            PriceFeed.PriceChanged += (_, price) => Logged += symbol.Length + (long)price;
        }
        Dashboard.Widgets.Add(new QuoteWidget());
        Dashboard.Widgets.Add(new QuoteWidget());
        for (int i = 0; i < SubscriberCount; i++)
        {
            using var widget = new QuoteWidget();
            PriceFeed.Publish(i);
        }
    }
}
