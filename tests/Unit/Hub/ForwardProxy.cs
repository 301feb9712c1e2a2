using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Tests.Hub;

/// <summary>
/// A forward HTTP proxy on loopback, for specifications: it takes absolute-form requests
/// (<c>GET http://127.0.0.1:port/path HTTP/1.1</c>), asks for Basic credentials first when built with some (407), sends
/// each request on a new connection to its origin with <c>Connection: close</c>, relays the answer byte for byte and
/// closes. A CONNECT (a tunnel to an https origin) gets the same 407 check, then a 502: no https origin runs here. Every request it forwarded or refused is recorded. Bounded: a request head larger than 64 KiB or a
/// connection idle for 30 s is dropped.
/// </summary>
internal sealed class ForwardProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly string? _expectedAuthorization;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly Task _accepting;

    /// <summary>One request the proxy saw: its method and absolute target, which credentials came with it, and whether it was refused (407).</summary>
    public sealed record Seen(string Method, Uri Target, bool HadAuthorization, string? ProxyAuthorization, bool Refused);

    private ForwardProxy(string? user, string? password)
    {
        if (user is not null)
            _expectedAuthorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>A proxy that forwards everything; with <paramref name="user"/>, only requests carrying those Basic credentials.</summary>
    public static ForwardProxy Start(string? user = null, string? password = null) => new(user, password);

    public Uri Url { get; }

    public ConcurrentQueue<Seen> Requests { get; } = new();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var connection = ServeAsync(client);
            _connections[connection] = true;
            _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        idle.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var downstream = client.GetStream();
            var head = await ReadHeadAsync(downstream, idle.Token).ConfigureAwait(false);
            if (head is null) return;
            var lines = head.Split(new[] { "\r\n" }, StringSplitOptions.None);
            var requestLine = lines[0].Split(' ');
            var method = requestLine[0];
            // CONNECT names host:port (the client wants a tunnel to an https origin); anything else an absolute URL.
            var target = method == "CONNECT" ? new Uri("https://" + requestLine[1]) : new Uri(requestLine[1]);
            var headers = new List<(string Name, string Value)>();
            foreach (var line in lines[1..])
            {
                if (line.Length == 0) continue;
                var colon = line.IndexOf(':');
                headers.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
            var proxyAuthorization = headers.Find(h => h.Name.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)).Value;
            var hadAuthorization = headers.Exists(h => h.Name.Equals("Authorization", StringComparison.OrdinalIgnoreCase));
            if (_expectedAuthorization is not null && proxyAuthorization != _expectedAuthorization)
            {
                Requests.Enqueue(new Seen(method, target, hadAuthorization, proxyAuthorization, Refused: true));
                var refusal = Encoding.ASCII.GetBytes("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"specs\"\r\n" +
                    "Content-Length: 0\r\nConnection: close\r\n\r\n");
                await downstream.WriteAsync(refusal, idle.Token).ConfigureAwait(false);
                return;
            }

            if (method == "CONNECT")
            {
                // No https origin runs in these specs: an authorized tunnel is answered 502, and recorded as forwarded.
                Requests.Enqueue(new Seen(method, target, hadAuthorization, proxyAuthorization, Refused: false));
                await downstream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), idle.Token).ConfigureAwait(false);
                return;
            }

            using var origin = new TcpClient();
            await origin.ConnectAsync(target.Host, target.Port, idle.Token).ConfigureAwait(false);
            var upstream = origin.GetStream();
            var forwarded = new StringBuilder($"{method} {target.PathAndQuery} HTTP/1.1\r\n");
            foreach (var (name, value) in headers)
            {
                if (name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase)) continue;
                forwarded.Append(name).Append(": ").Append(value).Append("\r\n");
            }
            forwarded.Append("Connection: close\r\n\r\n");
            await upstream.WriteAsync(Encoding.ASCII.GetBytes(forwarded.ToString()), idle.Token).ConfigureAwait(false);
            Requests.Enqueue(new Seen(method, target, hadAuthorization, proxyAuthorization, Refused: false));
            // The client sends no bodies (GET and HEAD only); the origin closes after its answer.
            await upstream.CopyToAsync(downstream, idle.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or UriFormatException or IndexOutOfRangeException or ArgumentException)
        {
            // A client that went away, a malformed request or a proxy being stopped: the connection just ends.
        }
    }

    /// <summary>The request head up to its blank line, or null when the client closed first or sent too much.</summary>
    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            // One byte at a time: nothing past the head may be consumed (there is nothing past it in these specs anyway).
            var n = await stream.ReadAsync(buffer.AsMemory(length, 1), ct).ConfigureAwait(false);
            if (n == 0) return null;
            length += n;
            if (length >= 4 && buffer[length - 4] == '\r' && buffer[length - 3] == '\n' && buffer[length - 2] == '\r' && buffer[length - 1] == '\n')
                return Encoding.ASCII.GetString(buffer, 0, length - 4);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        await Task.WhenAll(_connections.Keys).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
