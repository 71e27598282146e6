// Scenario "seed-apm": the motivating leak. A gateway starts one Thread per client; each thread
// issues an APM Socket.BeginReceive on a loopback connection whose peer never sends, with an
// AsyncCallback bound to the controller's OnReceive, and exits. EndReceive is never called, so the
// pending operation keeps the controller, and through it the dead Thread, alive (25 clients).
//
//   static SocketAsyncEngine.s_engines[i]                              (runtime, Linux epoll engine)
//     -> _handleToContextMap -> SocketAsyncContext -> receive queue -> AsyncOperation
//       -> ... -> TaskAsyncResult (from TaskToAsyncResult.Begin)
//            |-> _callback : AsyncCallback --Target--> GatewayClientController
//            '-> AsyncState: Server+ConnectSocketResult
//                              |-> Callback   : AsyncCallback (same delegate)
//                              '-> Controller : GatewayClientController
//   GatewayClientController
//     |-> _thread : System.Threading.Thread   (dead: the thread has exited)  x25
//     |-> _socket : Socket (client side, receive pending)
//     |-> _server : Gateway.Server
//     '-> _buffer : byte[1024]
//   static Server.Instance : Gateway.Server
//     |-> _listener : Socket (listening on 127.0.0.1:<ephemeral>)
//     '-> _peers    : List<Socket> (accepted sides, never written to, never closed)
//
// Nothing else references the controllers or their threads once the scenario returns.
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Gateway;

/// <summary>The gateway server: accepts loopback clients and never answers them.</summary>
public sealed partial class Server
{
    /// <summary>Keeps the server (and the accepted peers) alive for the life of the process.</summary>
    public static Server? Instance;

    private readonly Socket _listener;
    private readonly List<Socket> _peers = new();

    public Server()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(128);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>Accepts one pending client and keeps its socket open without ever sending.</summary>
    public void AcceptOne() => _peers.Add(_listener.Accept());

    /// <summary>The state object of a pending client operation (like the real gateway's).</summary>
    public sealed class ConnectSocketResult : IAsyncResult
    {
        public ConnectSocketResult(AsyncCallback callback, GatewayClientController controller)
        {
            Callback = callback;
            Controller = controller;
        }

        public AsyncCallback Callback { get; }
        public GatewayClientController Controller { get; }
        public object? AsyncState => Controller;
        public WaitHandle AsyncWaitHandle => throw new NotSupportedException();
        public bool CompletedSynchronously => false;
        public bool IsCompleted => false;
    }
}

/// <summary>Talks to one client on its own thread.</summary>
public sealed class GatewayClientController
{
    private readonly Server _server;
    private readonly int _clientId;
    private readonly byte[] _buffer = new byte[1024];
    private Thread? _thread;
    private Socket? _socket;
    private bool _handshakeTimedOut;

    public GatewayClientController(Server server, int clientId)
    {
        _server = server;
        _clientId = clientId;
    }

    public Thread? Thread => _thread;

    public void Start()
    {
        _thread = new Thread(Run) { Name = $"gateway-client-{_clientId}", IsBackground = false };
        _thread.Start();
    }

    private void Run()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        IAsyncResult connect = _socket.BeginConnect(_server.EndPoint, null, null);
        _socket.EndConnect(connect);
        // The handshake timer "fires" before any data arrives: this code path forgets the
        // pending receive (no EndReceive, no Close), and the thread just returns.
        _handshakeTimedOut = true;
        var callback = new AsyncCallback(OnReceive);
        _socket.BeginReceive(_buffer, 0, _buffer.Length, SocketFlags.None, callback, new Server.ConnectSocketResult(callback, this));
    }

    private void OnReceive(IAsyncResult ar)
    {
        if (_handshakeTimedOut)
            return; // the leak: EndReceive is never called on this path
        _socket!.EndReceive(ar);
    }
}

/// <summary>Builds the seed-apm graph.</summary>
public static class SeedApmScenario
{
    public const int ClientCount = 25;

    public static void Run(string[] args)
    {
        int clients = args.Length > 0 ? int.Parse(args[0]) : ClientCount;
        Server.Instance = new Server();
        StartAndJoinClients(Server.Instance, clients);
    }

    // Separate frame so that no local of the caller can keep a controller or a Thread alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StartAndJoinClients(Server server, int clients)
    {
        var controllers = new GatewayClientController?[clients];
        for (int i = 0; i < clients; i++)
        {
            controllers[i] = new GatewayClientController(server, i + 1);
            controllers[i]!.Start();
            server.AcceptOne();
        }
        for (int i = 0; i < clients; i++)
        {
            controllers[i]!.Thread!.Join();
            controllers[i] = null;
        }
    }
}
