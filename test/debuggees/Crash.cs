// Scenario "crash": the process dies of an unhandled exception on its main thread, with an inner exception.
// The harness runs it with DOTNET_DbgEnableMiniDump=1, so the runtime writes the (heap) crash dump itself.
//
//   Program.Main -> CrashScenario.Run -> OrderImporter.Import -> OrderImporter.ParseQuantity
//       throws FormatException("quantity 'many' is not a number")
//   OrderImporter.Import catches it and throws InvalidOperationException("import of order 7 failed", inner), unhandled.
using System.Runtime.CompilerServices;

namespace Crashes;

/// <summary>Imports orders; fails on a bad quantity.</summary>
public static class OrderImporter
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int Import(int order, string quantity)
    {
        try
        {
            return ParseQuantity(quantity);
        }
        catch (FormatException inner)
        {
            throw new InvalidOperationException($"import of order {order} failed", inner);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int ParseQuantity(string text) =>
        int.TryParse(text, out int n) ? n : throw new FormatException($"quantity '{text}' is not a number");
}

/// <summary>Crashes the process.</summary>
public static class CrashScenario
{
    public static void Run(string[] args)
    {
        Console.Out.WriteLine($"CRASHING {Environment.ProcessId}");
        Console.Out.Flush();
        OrderImporter.Import(7, "many");
    }
}
