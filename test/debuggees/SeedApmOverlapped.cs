// Scenario "seed-apm-overlapped": the seed-apm story, but the pending operation is rooted the
// Windows way, through System.Threading.Overlapped.Pack (a strong GC handle to the Overlapped plus a
// pinned GC handle to the buffer). A fake native channel's BeginReceive packs an Overlapped and hands
// the NativeOverlapped* to "native I/O" that never completes; Overlapped.Free is never called.
// Each of the 25 client threads does one BeginReceive and exits.
//
//   strong GC handle ---> System.Threading.Overlapped
//                           |-> _callback  --> IOCompletionCallback(OverlappedChannel.OnIoCompleted)
//                           '-> _asyncResult : Gateway.OverlappedChannel+ReceiveAsyncResult
//                                                |-> Callback : AsyncCallback --Target--> GatewayOverlappedClientController
//                                                '-> State    : Server+OverlappedConnectSocketResult
//                                                                 |-> Callback   (same AsyncCallback)
//                                                                 '-> Controller : GatewayOverlappedClientController
//   pinned GC handle ---> byte[1024] (the receive buffer, also GatewayOverlappedClientController._buffer)
//
//   GatewayOverlappedClientController
//     |-> _thread  : System.Threading.Thread   (dead: the thread has exited)  x25
//     |-> _channel : Gateway.OverlappedChannel (holds only the NativeOverlapped* as an IntPtr)
//     '-> _buffer  : byte[1024]
using System.Runtime.CompilerServices;

namespace Gateway;

/// <summary>A fake native I/O channel with an APM surface built on Overlapped.Pack.</summary>
public sealed unsafe class OverlappedChannel
{
    private IntPtr _pending; // NativeOverlapped*; a native pointer, not a GC reference

    /// <summary>Starts a receive that the "kernel" never completes.</summary>
    public IAsyncResult BeginReceive(byte[] buffer, AsyncCallback callback, object state)
    {
        var result = new ReceiveAsyncResult(callback, state);
        var overlapped = new Overlapped(0, 0, IntPtr.Zero, result);
        NativeOverlapped* native = overlapped.Pack(OnIoCompleted, buffer);
        _pending = (IntPtr)native; // would be passed to the native read; the completion never comes
        return result;
    }

    /// <summary>Completes a receive (never reached in this scenario).</summary>
    public int EndReceive(IAsyncResult ar)
    {
        if (_pending != IntPtr.Zero)
        {
            Overlapped.Free((NativeOverlapped*)_pending);
            _pending = IntPtr.Zero;
        }
        return ((ReceiveAsyncResult)ar).BytesTransferred;
    }

    private static void OnIoCompleted(uint errorCode, uint numBytes, NativeOverlapped* native)
    {
        var result = (ReceiveAsyncResult)Overlapped.Unpack(native).AsyncResult!;
        result.BytesTransferred = (int)numBytes;
        result.Callback(result);
    }

    /// <summary>The IAsyncResult of one pending receive.</summary>
    public sealed class ReceiveAsyncResult : IAsyncResult
    {
        public ReceiveAsyncResult(AsyncCallback callback, object state)
        {
            Callback = callback;
            AsyncState = state;
        }

        public AsyncCallback Callback { get; }
        public object? AsyncState { get; }
        public int BytesTransferred { get; set; }
        public WaitHandle AsyncWaitHandle => throw new NotSupportedException();
        public bool CompletedSynchronously => false;
        public bool IsCompleted => false;
    }
}

/// <summary>Talks to one client over an OverlappedChannel on its own thread.</summary>
public sealed class GatewayOverlappedClientController
{
    private readonly int _clientId;
    private readonly byte[] _buffer = new byte[1024];
    private readonly OverlappedChannel _channel = new();
    private Thread? _thread;
    private bool _handshakeTimedOut;

    public GatewayOverlappedClientController(int clientId) => _clientId = clientId;

    public Thread? Thread => _thread;

    public void Start()
    {
        _thread = new Thread(Run) { Name = $"gateway-overlapped-client-{_clientId}" };
        _thread.Start();
    }

    private void Run()
    {
        _handshakeTimedOut = true;
        var callback = new AsyncCallback(OnReceive);
        _channel.BeginReceive(_buffer, callback, new Server.OverlappedConnectSocketResult(callback, this));
    }

    private void OnReceive(IAsyncResult ar)
    {
        if (_handshakeTimedOut)
            return; // the leak: EndReceive (and so Overlapped.Free) is never called on this path
        _channel.EndReceive(ar);
    }
}

public sealed partial class Server
{
    /// <summary>The state object of a pending overlapped client operation.</summary>
    public sealed class OverlappedConnectSocketResult
    {
        public OverlappedConnectSocketResult(AsyncCallback callback, GatewayOverlappedClientController controller)
        {
            Callback = callback;
            Controller = controller;
        }

        public AsyncCallback Callback { get; }
        public GatewayOverlappedClientController Controller { get; }
    }
}

/// <summary>Builds the seed-apm-overlapped graph.</summary>
public static class SeedApmOverlappedScenario
{
    public static void Run(string[] args)
    {
        int clients = args.Length > 0 ? int.Parse(args[0]) : SeedApmScenario.ClientCount;
        StartAndJoinClients(clients);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StartAndJoinClients(int clients)
    {
        var controllers = new GatewayOverlappedClientController?[clients];
        for (int i = 0; i < clients; i++)
        {
            controllers[i] = new GatewayOverlappedClientController(i + 1);
            controllers[i]!.Start();
        }
        for (int i = 0; i < clients; i++)
        {
            controllers[i]!.Thread!.Join();
            controllers[i] = null;
        }
    }
}
