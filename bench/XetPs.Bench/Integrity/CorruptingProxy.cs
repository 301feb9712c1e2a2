using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Bench.Integrity;

/// <summary>
/// A forward HTTP proxy on loopback that damages xorb answers in transit, as a flaky link or CDN does. It takes
/// absolute-form requests (<c>GET http://host:port/path HTTP/1.1</c>, what a client sends to a proxy), forwards each to
/// its origin and relays the answer byte for byte, except that a 200 or 206 answer to a presigned xorb URL (a GET whose
/// path holds "/xorb/") has, with probability <see cref="Rate"/>, one byte of its body XORed with a non-zero value.
/// That byte may fall in a range's payload or in multipart/byteranges framing alike: a flaky link does not care. It is
/// written apart from the emulator's own fault injection, so the engine meets a second, independent implementation of
/// the fault.
/// <para>
/// Deterministic: whether and where the n-th answer to one request (method, path, Range) is damaged depends on the seed
/// alone, not on the order in which concurrent requests happen to arrive.
/// </para>
/// <para>
/// One request per connection on both legs (<c>Connection: close</c>): an answer then ends where its Content-Length or
/// its origin's close says, nothing past the heads is parsed, and each xorb answer is one connection whose damage is
/// counted once. The cost, a loopback connection per request, is small beside a download's bytes. Bounded: heads up to
/// 64 KiB, every byte relayed through one 64 KiB buffer per connection, a connection idle for 60 s dropped. Plain
/// http:// origins only: a CONNECT tunnel carries TLS, in which a damaged byte is a broken connection, not bad data.
/// </para>
/// </summary>
public sealed class CorruptingProxy : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly TcpListener _listener;
    private readonly int _seed;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly ConcurrentDictionary<string, int> _occurrences = new(StringComparer.Ordinal);
    private readonly Task _accepting;
    private long _requests, _xorbResponses, _corruptedResponses;

    private CorruptingProxy(double rate, int seed)
    {
        if (!(rate >= 0 && rate <= 1)) throw new ArgumentOutOfRangeException(nameof(rate), rate, "A probability: 0..1.");
        Rate = rate;
        _seed = seed;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    /// <summary>A proxy listening on 127.0.0.1 (an ephemeral port) that damages xorb answers with probability <paramref name="rate"/>.</summary>
    public static CorruptingProxy Start(double rate, int seed = 1) => new(rate, seed);

    public Uri Url { get; }

    /// <summary>The probability that one xorb answer is damaged.</summary>
    public double Rate { get; }

    /// <summary>Requests read from clients (forwarded or refused).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Answers to xorb requests whose head reached the client.</summary>
    public long XorbResponses => Interlocked.Read(ref _xorbResponses);

    /// <summary>Xorb answers whose damaged byte reached the client.</summary>
    public long CorruptedResponses => Interlocked.Read(ref _corruptedResponses);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (_stop.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
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
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            client.NoDelay = true;
            var downstream = client.GetStream();
            var request = await ReadHeadAsync(downstream, buffer, idle).ConfigureAwait(false);
            if (request is null) return;
            var (head, headLength, filled) = request.Value;
            Interlocked.Increment(ref _requests);
            if (!RequestHead.TryParse(head, out var parsed))
            {
                await RefuseAsync(downstream, "400 Bad Request", idle).ConfigureAwait(false);
                return;
            }
            if (parsed.Method == "CONNECT" || parsed.Target.Scheme != Uri.UriSchemeHttp)
            {
                await RefuseAsync(downstream, "501 Not Implemented", idle).ConfigureAwait(false);
                return;
            }
            if (parsed.ChunkedBody)
            {
                // Clients of this proxy send GET and HEAD only; a chunked upload is not worth a framing parser here.
                await RefuseAsync(downstream, "501 Not Implemented", idle).ConfigureAwait(false);
                return;
            }

            using var origin = new TcpClient { NoDelay = true };
            try
            {
                await origin.ConnectAsync(parsed.Target.Host, parsed.Target.Port, Step(idle)).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                await RefuseAsync(downstream, "502 Bad Gateway", idle).ConfigureAwait(false);
                return;
            }
            var upstream = origin.GetStream();
            await upstream.WriteAsync(Encoding.ASCII.GetBytes(parsed.ForwardedHead()), Step(idle)).ConfigureAwait(false);
            // The request body, if any: what came with the head, then the rest of its Content-Length.
            var bodyLeft = parsed.ContentLength;
            var early = (int)Math.Min(filled - headLength, bodyLeft);
            if (early > 0) await upstream.WriteAsync(buffer.AsMemory(headLength, early), Step(idle)).ConfigureAwait(false);
            bodyLeft -= early;
            while (bodyLeft > 0)
            {
                var n = await downstream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bodyLeft)), Step(idle)).ConfigureAwait(false);
                if (n == 0) return;
                await upstream.WriteAsync(buffer.AsMemory(0, n), Step(idle)).ConfigureAwait(false);
                bodyLeft -= n;
            }

            var response = await ReadHeadAsync(upstream, buffer, idle).ConfigureAwait(false);
            if (response is null) return;
            (head, headLength, filled) = response.Value;
            var answer = ResponseHead.Parse(head, parsed.Method);
            var isXorb = parsed.Method == "GET" && parsed.Target.AbsolutePath.Contains("/xorb/", StringComparison.Ordinal);
            var damage = isXorb && answer.Status is 200 or 206 && answer.BodyLength > 0
                ? Decide($"{parsed.Method} {parsed.Target.AbsolutePath} {parsed.Range}", answer.BodyLength)
                : default;

            await downstream.WriteAsync(buffer.AsMemory(0, headLength), Step(idle)).ConfigureAwait(false);
            if (isXorb) Interlocked.Increment(ref _xorbResponses);
            var relay = new BodyRelay(downstream, damage, answer.BodyLength, this);
            if (filled > headLength) await relay.WriteAsync(buffer.AsMemory(headLength, filled - headLength), Step(idle)).ConfigureAwait(false);
            while (!relay.Done)
            {
                var n = await upstream.ReadAsync(buffer.AsMemory(0, relay.NextRead(buffer.Length)), Step(idle)).ConfigureAwait(false);
                if (n == 0) return;
                await relay.WriteAsync(buffer.AsMemory(0, n), Step(idle)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A client or origin that went away, an idle connection or the proxy being stopped: the connection ends.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Restarts the idle timer for the next read or write and returns the token that observes it.</summary>
    private static CancellationToken Step(CancellationTokenSource idle)
    {
        idle.CancelAfter(IdleTimeout);
        return idle.Token;
    }

    /// <summary>Whether the n-th answer to this request is damaged, and where: from the seed, the request and n alone.</summary>
    private Damage Decide(string request, long bodyLength)
    {
        var occurrence = _occurrences.AddOrUpdate(request, 1, (_, n) => n + 1);
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{_seed}|{occurrence}|{request}")));
        var random = new Random(BinaryPrimitives.ReadInt32LittleEndian(digest));
        if (random.NextDouble() >= Rate) return default;
        return new Damage(true, random.NextInt64(bodyLength), (byte)random.Next(1, 256));
    }

    private static async Task RefuseAsync(NetworkStream downstream, string status, CancellationTokenSource idle) =>
        await downstream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), Step(idle)).ConfigureAwait(false);

    /// <summary>
    /// Reads into <paramref name="buffer"/> until a head's blank line: the head's text, its length with the blank line,
    /// and how many bytes the buffer holds (bytes past the head are the body's first). Null when the peer closed first
    /// or the head does not fit the buffer.
    /// </summary>
    private static async Task<(string Head, int HeadLength, int Filled)?> ReadHeadAsync(NetworkStream stream, byte[] buffer,
        CancellationTokenSource idle)
    {
        var filled = 0;
        while (filled < BufferSize)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(filled, BufferSize - filled), Step(idle)).ConfigureAwait(false);
            if (n == 0) return null;
            var searchFrom = Math.Max(0, filled - (HeadEnd.Length - 1));
            filled += n;
            var at = buffer.AsSpan(searchFrom, filled - searchFrom).IndexOf(HeadEnd);
            if (at >= 0)
            {
                var headLength = searchFrom + at + HeadEnd.Length;
                return (Encoding.ASCII.GetString(buffer, 0, headLength - HeadEnd.Length), headLength, filled);
            }
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

    /// <summary>One damage: the body offset of the byte to change and the non-zero value it is XORed with.</summary>
    private readonly record struct Damage(bool Applies, long Offset, byte Mask);

    /// <summary>
    /// Relays an answer's body to the client, at most its known length, and applies its damage as the byte passes;
    /// counted once that byte was written.
    /// </summary>
    private sealed class BodyRelay(NetworkStream downstream, Damage damage, long length, CorruptingProxy proxy)
    {
        private long _position;

        /// <summary>True once a body of known length is relayed whole; a body of unknown length ends at the origin's close.</summary>
        public bool Done => length >= 0 && _position >= length;

        public int NextRead(int capacity) => length < 0 ? capacity : (int)Math.Min(capacity, length - _position);

        public async Task WriteAsync(Memory<byte> bytes, CancellationToken ct)
        {
            if (length >= 0) bytes = bytes[..(int)Math.Min(bytes.Length, length - _position)];
            var hit = damage.Applies && damage.Offset >= _position && damage.Offset < _position + bytes.Length;
            if (hit) bytes.Span[(int)(damage.Offset - _position)] ^= damage.Mask;
            await downstream.WriteAsync(bytes, ct).ConfigureAwait(false);
            _position += bytes.Length;
            if (hit) Interlocked.Increment(ref proxy._corruptedResponses);
        }
    }

    /// <summary>A client's request head: method, absolute target, Range, body framing, and the headers to forward.</summary>
    private sealed record RequestHead(string Method, Uri Target, string Range, long ContentLength, bool ChunkedBody, string[] Lines)
    {
        public static bool TryParse(string head, out RequestHead parsed)
        {
            parsed = null!;
            var lines = head.Split("\r\n");
            var requestLine = lines[0].Split(' ');
            if (requestLine.Length != 3) return false;
            var method = requestLine[0];
            // CONNECT names host:port (a tunnel to an https origin); anything else an absolute URL.
            if (!Uri.TryCreate(method == "CONNECT" ? "https://" + requestLine[1] : requestLine[1], UriKind.Absolute, out var target)) return false;
            string range = "";
            long contentLength = 0;
            var chunked = false;
            for (var i = 1; i < lines.Length; i++)
            {
                var colon = lines[i].IndexOf(':');
                if (colon <= 0) return false;
                var name = lines[i][..colon].Trim();
                var value = lines[i][(colon + 1)..].Trim();
                if (name.Equals("Range", StringComparison.OrdinalIgnoreCase)) range = value;
                else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) &&
                         !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out contentLength)) return false;
                else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) chunked = true;
            }
            parsed = new RequestHead(method, target, range, contentLength, chunked, lines);
            return true;
        }

        /// <summary>The origin-form head: the path and query, the client's headers less the proxy's and the connection's own, then Connection: close.</summary>
        public string ForwardedHead()
        {
            var forwarded = new StringBuilder().Append(Method).Append(' ').Append(Target.PathAndQuery).Append(" HTTP/1.1\r\n");
            var hasHost = false;
            for (var i = 1; i < Lines.Length; i++)
            {
                var name = Lines[i][..Lines[i].IndexOf(':')].Trim();
                if (name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) ||
                    name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)) continue;
                hasHost |= name.Equals("Host", StringComparison.OrdinalIgnoreCase);
                forwarded.Append(Lines[i]).Append("\r\n");
            }
            if (!hasHost) forwarded.Append("Host: ").Append(Target.Authority).Append("\r\n");
            return forwarded.Append("Connection: close\r\n\r\n").ToString();
        }
    }

    /// <summary>An origin's answer head: its status and how long its body is (-1: until the origin closes).</summary>
    private readonly record struct ResponseHead(int Status, long BodyLength)
    {
        public static ResponseHead Parse(string head, string method)
        {
            var lines = head.Split("\r\n");
            var statusLine = lines[0].Split(' ', 3);
            var status = statusLine.Length >= 2 && int.TryParse(statusLine[1], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            long length = -1;
            foreach (var line in lines.AsSpan(1))
            {
                var colon = line.IndexOf(':');
                if (colon > 0 && line[..colon].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase) &&
                    long.TryParse(line[(colon + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    length = n;
            }
            // No body after a HEAD, a 204 or a 304, whatever Content-Length says; an interim 1xx is followed by the
            // real answer, which is then relayed as an unknown-length body until the origin closes.
            if (method == "HEAD" || status is 204 or 304) length = 0;
            else if (status is >= 100 and < 200) length = -1;
            return new ResponseHead(status, length);
        }
    }
}
