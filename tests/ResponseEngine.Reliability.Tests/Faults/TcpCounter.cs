using System.Net;
using System.Net.Sockets;

namespace ResponseEngine.Reliability.Tests.Faults;

/// <summary>
/// A TCP forwarder on loopback in front of a server, counting connection attempts: the AD connector opens a new LDAPS
/// connection for every attempt after the DC dropped the last one, so the count is the attempts the engine made. TLS
/// passes through untouched (the certificate names the IP, not the port). When the server is down the forwarder closes
/// the client's connection at once, as a refused connection would end it.
/// </summary>
public sealed class TcpCounter : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _connections;
    private int _refused;

    public TcpCounter(IPAddress address, int upstreamPort)
    {
        _upstream = new IPEndPoint(address, upstreamPort);
        _listener = new TcpListener(address, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections the client opened.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections the server refused (it was down), closed at once.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            Interlocked.Increment(ref _connections);
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        {
            using var server = new TcpClient();
            try
            {
                await server.ConnectAsync(_upstream, _stop.Token);
            }
            catch (SocketException)
            {
                Interlocked.Increment(ref _refused);
                client.Client.LingerState = new LingerOption(true, 0); // reset, like a refused connection
                return;
            }

            using var link = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = Pump(client.GetStream(), server.GetStream(), link);
            var down = Pump(server.GetStream(), client.GetStream(), link);
            await Task.WhenAny(up, down);
            await link.CancelAsync();
        }
    }

    private static async Task Pump(NetworkStream from, NetworkStream to, CancellationTokenSource link)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, link.Token)) > 0) await to.WriteAsync(buffer.AsMemory(0, read), link.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // One side closed or reset: the other is closed by the caller.
        }
    }
}
