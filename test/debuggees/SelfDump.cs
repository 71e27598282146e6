// Self-dump mode for the Windows test dumps (made under Wine): with DUMPSLEUTH_SELF_DUMP=<path>, the debuggee, once
// READY, starts the runtime's own createdump.exe (from its self-contained publish folder) as its child. On Windows
// createdump dumps its parent process, so the dump shows the scenario's graph with this thread waiting on the child.
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Debuggees;

internal static class SelfDump
{
    /// <summary>Writes a full dump of this process to <paramref name="path"/> (the DUMPSLEUTH_SELF_DUMP variable), prints
    /// "DUMPED &lt;exit code&gt;" and exits with createdump's exit code.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    /// <remarks><paramref name="exitByKill"/>: Environment.Exit waits for a finalizer thread that may be blocked forever
    /// (leak-finalizer), so that scenario's process is killed once the dump is written.</remarks>
    public static void Run(string path, bool exitByKill = false)
    {
        string createdump = Path.Combine(AppContext.BaseDirectory, "createdump.exe");
        var start = new ProcessStartInfo(createdump) { UseShellExecute = false };
        start.ArgumentList.Add("--full");
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add(path);
        using Process child = Process.Start(start) ?? throw new InvalidOperationException("createdump.exe did not start");
        child.WaitForExit();
        Console.Out.WriteLine($"DUMPED {child.ExitCode}");
        Console.Out.Flush();
        if (exitByKill)
            Process.GetCurrentProcess().Kill();
        Environment.Exit(child.ExitCode);
    }
}
