// Scenario "leak-pinned": GCHandle.Alloc without Free. PacketReader pins a 4 KB receive buffer for a
// (pretend) native read and forgets to free the handle; a CallbackRegistry allocates a normal
// (strong) handle to a NativeCallbackContext for a native callback and never frees it. Between the
// pinned buffers the reader allocates short-lived scratch arrays, so the heap keeps holes around the
// pins (free space the GC cannot compact away).
//
//   pinned handle x64 (PinnedBufferCount) -> byte[4096]        (nothing else references the buffers)
//   strong handle x24 (CallbackContextCount) -> Leaks.NativeCallbackContext -> byte[512]
//
// Control ("leak-controls pinned"): the same handles are allocated and freed; and a static
// PinnedBufferPool keeps 24 (PooledBufferCount) pinned 4 KB buffers for the life of the process, as
// I/O code that hands buffers to native code does (the pool references every buffer it pinned).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Leaks;

/// <summary>State handed to native code as a GCHandle.</summary>
public sealed class NativeCallbackContext
{
    public readonly int Id;
    public readonly byte[] Scratch = new byte[512];

    public NativeCallbackContext(int id) => Id = id;
}

/// <summary>Reads packets into pinned buffers.</summary>
public static class PacketReader
{
    /// <summary>Sums the scratch arrays so the JIT cannot drop them.</summary>
    public static long Checksum;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ReadPacket(bool freeHandle)
    {
        var buffer = new byte[4096];
        GCHandle pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        Checksum += pin.AddrOfPinnedObject() != IntPtr.Zero ? 1 : 0;
        var scratch = new byte[8192]; // garbage between two pinned buffers: a hole after the GC
        Checksum += scratch.Length;
        if (freeHandle)
            pin.Free(); // the leak path never gets here
    }
}

/// <summary>Registers callbacks with (pretend) native code.</summary>
public static class CallbackRegistry
{
    public static long Registered;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Register(int id, bool freeHandle)
    {
        GCHandle handle = GCHandle.Alloc(new NativeCallbackContext(id));
        Registered += GCHandle.ToIntPtr(handle) != IntPtr.Zero ? 1 : 0;
        if (freeHandle)
            handle.Free();
    }
}

/// <summary>Pinned buffers kept for the life of the process, with their handles.</summary>
public static class PinnedBufferPool
{
    public static readonly byte[][] Buffers = new byte[PinnedLeakScenario.PooledBufferCount][];
    public static readonly GCHandle[] Pins = new GCHandle[PinnedLeakScenario.PooledBufferCount];

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fill()
    {
        for (int i = 0; i < Buffers.Length; i++)
        {
            Buffers[i] = new byte[4096];
            Pins[i] = GCHandle.Alloc(Buffers[i], GCHandleType.Pinned);
        }
    }
}

/// <summary>Builds the pinned-handle leak, or its control.</summary>
public static class PinnedLeakScenario
{
    /// <summary>Pinned handles to byte[4096] never freed.</summary>
    public const int PinnedBufferCount = 64;

    /// <summary>Strong handles to NativeCallbackContext never freed.</summary>
    public const int CallbackContextCount = 24;

    /// <summary>The control's pool of pinned buffers (kept, referenced, not a leak).</summary>
    public const int PooledBufferCount = 24;

    public static void Run(string[] args) => Build(freeHandles: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Build(bool freeHandles)
    {
        for (int i = 0; i < PinnedBufferCount; i++)
            PacketReader.ReadPacket(freeHandles);
        for (int i = 0; i < CallbackContextCount; i++)
            CallbackRegistry.Register(i, freeHandles);
    }
}
