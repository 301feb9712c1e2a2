using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace XetPs.Hub;

/// <summary>
/// The one HTTP stack shared by <see cref="HubClient"/> and <see cref="Cas.CasClient"/>: one pooled HttpClient that
/// never follows redirects by itself, the retry pipeline (Polly) that decides what is transient and for how long, and
/// the read timeout and low-speed limit that turn a silent or trickling server into a transient failure.
/// Invariants: every attempt is bounded in time (headers within the read timeout of sending, connection included; a
/// body at least the low-speed limit over every read timeout); a caller's cancellation surfaces as an
/// <see cref="OperationCanceledException"/> for the caller's token; messages and logs name hosts and paths, never a
/// token or a presigned URL's query; every body byte and every operation is reported to the session's
/// <see cref="ITransferObserver"/>, when it has one.
/// </summary>
public sealed class XetHttpTransport : IDisposable
{
    private readonly ResiliencePipeline _retry;
    private readonly bool _ownsClient;

    public XetHttpTransport(XetHttpOptions? options = null, ILogger? logger = null)
        : this(options, logger, observer: null)
    {
    }

    /// <summary>A transport whose traffic <paramref name="observer"/> watches (the session's progress).</summary>
    internal XetHttpTransport(XetHttpOptions? options, ILogger? logger, ITransferObserver? observer)
    {
        Observer = observer;
        var snapshot = (options ?? new XetHttpOptions()).Clone();
        snapshot.Validate();
        Options = snapshot;
        Logger = logger ?? NullLogger.Instance;
        if (snapshot.Handler is not null)
        {
            // A handler that follows redirects would take resolve past the Xet headers and carry requests where we
            // decide, per hop, which credentials go.
            if (FollowsRedirects(snapshot.Handler))
                throw new ArgumentException("The injected HttpMessageHandler must not follow redirects (set AllowAutoRedirect = false).", nameof(options));
            Client = new HttpClient(snapshot.Handler, disposeHandler: false);
        }
        else
        {
            Client = new HttpClient(CreateHandler(snapshot), disposeHandler: true);
        }
        _ownsClient = true;
        // Timeouts are ours (per read), not HttpClient's (per request): a long fetch that keeps moving must not die.
        Client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
        Client.DefaultRequestHeaders.UserAgent.ParseAdd("XetPs/0.1");
        _retry = BuildRetryPipeline(snapshot, Logger);
    }

    /// <summary>The validated options in force.</summary>
    public XetHttpOptions Options { get; }

    internal ILogger Logger { get; }

    internal ITransferObserver? Observer { get; }

    internal HttpClient Client { get; }

    /// <summary>
    /// Runs <paramref name="attempt"/> until it succeeds, fails with a non-transient error, or the retries run out;
    /// the last error is rethrown as the very object the attempt threw. A failure that ends the operation is
    /// annotated in its <see cref="Exception.Data"/> (the operation, its attempts, the time spent; see
    /// <see cref="DescribeGivingUp"/>), so the caller can say what gave up without wrapping the exception.
    /// </summary>
    internal async Task<T> ExecuteAsync<T>(string operation, Func<CancellationToken, Task<T>> attempt, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var context = ResilienceContextPool.Shared.Get(operation, ct);
        using var observed = Observer?.Started(operation);
        var run = new AttemptRun<T>(attempt, observed);
        try
        {
            return await _retry.ExecuteAsync(
                static async (ctx, run) =>
                {
                    run.Attempts++;
                    run.Observed?.AttemptStarted();
                    try
                    {
                        return await run.Attempt(ctx.CancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (run.Observed is { } watched && Report(watched, ex))
                    {
                        throw; // never reached: the filter only reports
                    }
                },
                context, run).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            ct.ThrowIfCancellationRequested();
            throw;
        }
        catch (Exception ex) when (Annotate(ex, operation, run.Attempts, run.Clock.Elapsed))
        {
            throw; // never reached: the filter only annotates
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private sealed class AttemptRun<T>(Func<CancellationToken, Task<T>> attempt, ITransferOperation? observed)
    {
        public Func<CancellationToken, Task<T>> Attempt { get; } = attempt;
        public ITransferOperation? Observed { get; } = observed;
        public System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();
        public int Attempts { get; set; }
    }

    private static bool Report(ITransferOperation observed, Exception error)
    {
        observed.AttemptFailed(error);
        return false;
    }

    private const string OperationKey = "XetPs.Operation", AttemptsKey = "XetPs.Attempts", ElapsedKey = "XetPs.Elapsed";

    /// <summary>Records the operation a failure ended (the innermost one: an annotated error keeps its first note, and
    /// one error object shared by several waiters is annotated once). Returns false, so the exception is not caught.</summary>
    private static bool Annotate(Exception error, string operation, int attempts, TimeSpan elapsed)
    {
        try
        {
            if (error.Data.Contains(OperationKey)) return false;
            error.Data[OperationKey] = operation;
            error.Data[AttemptsKey] = attempts;
            error.Data[ElapsedKey] = elapsed;
        }
        catch (Exception e) when (e is NotSupportedException or ArgumentException)
        {
            // A read-only or picky Data dictionary: the error goes on without the note.
        }
        return false;
    }

    /// <summary>
    /// What gave up, for an error that ended an operation after retries: "gave up on the fetch of xorb … after 6
    /// attempts in 14.2 s" (the operation left out when <paramref name="error"/>'s message already names it). Null
    /// when the operation failed at its first attempt: its message is then the whole story.
    /// </summary>
    public static string? DescribeGivingUp(Exception error)
    {
        if (error.Data[OperationKey] is not string operation || error.Data[AttemptsKey] is not int attempts || attempts < 2)
            return null;
        var elapsed = error.Data[ElapsedKey] is TimeSpan t ? t : TimeSpan.Zero;
        // Messages quote paths ("the Hub resolve of 'a.bin' in ..."), operation keys do not ("resolve of a.bin").
        var named = error.Message.Replace("'", string.Empty).IndexOf(operation, StringComparison.OrdinalIgnoreCase) >= 0;
        var what = named ? string.Empty : " on the " + operation;
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, "gave up{0} after {1} attempts in {2:0.0} s",
            what, attempts, elapsed.TotalSeconds);
    }

    /// <summary>
    /// Sends one request and returns when the headers are in (the body is read later, under the read timeout and the
    /// low-speed limit). No headers within the read timeout of sending, connection included, throws
    /// <see cref="XetReadTimeoutException"/> (transient); a refused connection or a host name that does not resolve
    /// throws an <see cref="HttpRequestException"/> saying so, the handler's own error inside (see
    /// <see cref="IsConnectFailure"/>).
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        if (Options.Offline) throw new XetOfflineException(what);
        var deadline = Options.ReadTimeout;
        using var timer = new CancellationTokenSource(deadline);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            return await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (timer.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new XetReadTimeoutException(
                $"No response from {WithHost(what, request.RequestUri)} within {deadline.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s.", ex);
        }
        catch (HttpRequestException ex) when (!ct.IsCancellationRequested && IsConnectFailure(ex) && request.RequestUri is Uri url)
        {
            throw new HttpRequestException(ConnectFailureMessage(url, ex), ex);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            ct.ThrowIfCancellationRequested();
            throw;
        }
    }

    /// <summary>The response body under the read timeout and the low-speed limit, its bytes reported to the
    /// observer; disposing the stream disposes the response.</summary>
    internal async Task<ReadTimeoutStream> OpenBodyAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        return new ReadTimeoutStream(body, response, Options.ReadTimeout, WithHost(what, response.RequestMessage?.RequestUri),
            Options.LowSpeedLimit, Observer);
    }

    /// <summary>"what (host:port)" unless <paramref name="what"/> names the host already: which request, and where
    /// to, for a timeout's message. The authority only: never a path's token or a query's signature.</summary>
    private static string WithHost(string what, Uri? url) =>
        url is null || !url.IsAbsoluteUri || what.IndexOf(url.Host, StringComparison.OrdinalIgnoreCase) >= 0 ? what : $"{what} ({HostAndPort(url)})";

    /// <summary>"host:port", the port written even when it is the scheme's default.</summary>
    private static string HostAndPort(Uri url) => url.Host + ":" + url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Asks for a gzip-compressed body (JSON documents: tree pages, reconstructions); such a body is read
    /// with <see cref="ReadBoundedBodyAsync"/>, which decodes it. Binary bodies never ask: they must keep their length.</summary>
    internal static void AcceptGzip(HttpRequestMessage request)
    {
        request.Headers.AcceptEncoding.Add(new System.Net.Http.Headers.StringWithQualityHeaderValue("gzip"));
    }

    /// <summary>
    /// Reads a whole (small) body, refusing more than <paramref name="maxBytes"/> before reading it: a hostile server
    /// cannot make us hold an enormous document. A body shorter than its Content-Length is a transient
    /// <see cref="IOException"/> (truncated). A gzip or deflate body (asked for with <see cref="AcceptGzip"/>) is
    /// decoded, and the bound applies to the decoded bytes too (no decompression bomb).
    /// </summary>
    internal async Task<ArraySegment<byte>> ReadBoundedBodyAsync(HttpResponseMessage response, long maxBytes, string what,
        Func<string, Exception> tooLarge, CancellationToken ct)
    {
        var declared = response.Content.Headers.ContentLength;
        if (declared > maxBytes)
            throw tooLarge($"{what} sent {declared} bytes, more than the {maxBytes} accepted.");
        var encoding = ContentEncodingOf(response, what);
        ArraySegment<byte> raw;
        using (var body = await OpenBodyAsync(response, what).ConfigureAwait(false))
            raw = await ReadBoundedAsync(body, declared, maxBytes, what, tooLarge, ct).ConfigureAwait(false);
        if (declared is long expected && raw.Count < expected)
            throw new IOException($"{what} ended after {raw.Count} of {expected} bytes (truncated response).");
        if (encoding is null) return raw;
        try
        {
            using var compressed = new MemoryStream(raw.Array!, raw.Offset, raw.Count, writable: false);
            using Stream decoder = encoding == "gzip"
                ? new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionMode.Decompress)
                : new System.IO.Compression.DeflateStream(compressed, System.IO.Compression.CompressionMode.Decompress);
            return await ReadBoundedAsync(decoder, null, maxBytes, what + " (decoded)", tooLarge, ct).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new XetProtocolException($"{what} sent a {encoding} body that does not decode: {ex.Message}", ex);
        }
    }

    /// <summary>The body's content coding: null for none (or identity), "gzip" or "deflate"; anything else (br, or
    /// layered codings) is refused, since we never ask for it.</summary>
    private static string? ContentEncodingOf(HttpResponseMessage response, string what)
    {
        string? encoding = null;
        foreach (var value in response.Content.Headers.ContentEncoding)
        {
            var coding = value.Trim().ToLowerInvariant();
            if (coding.Length == 0 || coding == "identity") continue;
            if (encoding is not null || (coding != "gzip" && coding != "x-gzip" && coding != "deflate"))
                throw new XetProtocolException($"{what} sent a body in a content coding that was not asked for: '{string.Join(", ", response.Content.Headers.ContentEncoding)}'.");
            encoding = coding == "deflate" ? "deflate" : "gzip";
        }
        return encoding;
    }

    private static async Task<ArraySegment<byte>> ReadBoundedAsync(Stream body, long? declared, long maxBytes, string what,
        Func<string, Exception> tooLarge, CancellationToken ct)
    {
        var buffer = new byte[(int)Math.Min(declared ?? 16384, maxBytes) + 1];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length > maxBytes)
                    throw tooLarge($"{what} sent more than the {maxBytes} bytes accepted.");
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
            }
            var n = body is ReadTimeoutStream timed
                ? await timed.ReadCoreAsync(buffer.AsMemory(length), ct).ConfigureAwait(false)
                : await body.ReadAsync(buffer, length, buffer.Length - length, ct).ConfigureAwait(false);
            if (n == 0) break;
            length += n;
        }
        if (length > maxBytes)
            throw tooLarge($"{what} sent more than the {maxBytes} bytes accepted.");
        return new ArraySegment<byte>(buffer, 0, length);
    }

    /// <summary>
    /// The error for a status that is not handled specially: an <see cref="HttpRequestException"/> carrying the status
    /// (StatusCode on net8.0, Data["StatusCode"] everywhere) and any Retry-After delay in Data["RetryAfter"];
    /// <paramref name="detail"/> (the server's own explanation, as a sentence) follows the status.
    /// </summary>
    internal static HttpRequestException StatusError(HttpResponseMessage response, string what, string? detail = null)
    {
        var status = (int)response.StatusCode;
        var message = status == 407
            ? $"{what} was refused by the HTTP proxy: 407 {response.ReasonPhrase}. The proxy wants credentials it was not given or did not accept."
            : $"{what} answered {status} {response.ReasonPhrase}.{detail}{RateLimitNote(response)}";
#if NET8_0_OR_GREATER
        var error = new HttpRequestException(message, null, response.StatusCode);
#else
        var error = new HttpRequestException(message);
#endif
        error.Data["StatusCode"] = status;
        if ((RetryAfterOf(response) ?? RateLimitResetOf(response)) is TimeSpan delay) error.Data["RetryAfter"] = delay;
        return error;
    }

    /// <summary>The HTTP status an exception carries, or null for failures without one (connect errors, resets).</summary>
    public static int? StatusOf(Exception error)
    {
        if (error.Data["StatusCode"] is int fromData) return fromData;
#if NET8_0_OR_GREATER
        if (error is HttpRequestException { StatusCode: HttpStatusCode code }) return (int)code;
#endif
        return null;
    }

    /// <summary>
    /// Transient: 5xx but 501, 408, 429, connect errors and resets, read timeouts, truncated bodies (all
    /// <see cref="IOException"/>). Never a cancellation, never a missing file (an IOException too). Connect failures
    /// (<see cref="IsConnectFailure"/>) are retried only briefly; see <see cref="ConnectRetries"/>.
    /// </summary>
    public static bool IsTransient(Exception error) => error switch
    {
        OperationCanceledException => false,
        FileNotFoundException or DirectoryNotFoundException => false,
        HttpRequestException http => StatusOf(http) is not int status
            || status == 408 || status == 429 || (status >= 500 && status != 501),
        IOException => true,
        _ => false,
    };

    /// <summary>
    /// Retries of a refused connection or a host name that does not resolve: three, after 250, 500 and 1000 ms, so an
    /// unreachable server fails in about 2 s. Such an error is an answer, not a silence: the host is down, the port
    /// closed or the name wrong, and retrying for half a minute only delays what the user must act on; the few quick
    /// retries cover a server restarting or a resolver's hiccup. Timeouts, resets and error statuses keep the full
    /// policy (<see cref="XetHttpOptions.MaxRetries"/>).
    /// </summary>
    internal const int ConnectRetries = 3;

    private static readonly TimeSpan ConnectRetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The connection could not be made because the server refused it, its host is unreachable, or its name does not
    /// resolve (a <see cref="System.Net.Sockets.SocketException"/> or, on .NET Framework, a
    /// <see cref="WebException"/> anywhere in the chain). A connect timeout is not one: it is retried like any timeout.
    /// </summary>
    internal static bool IsConnectFailure(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException socket)
            {
                return socket.SocketErrorCode is System.Net.Sockets.SocketError.ConnectionRefused
                    or System.Net.Sockets.SocketError.HostNotFound or System.Net.Sockets.SocketError.NoData
                    or System.Net.Sockets.SocketError.TryAgain or System.Net.Sockets.SocketError.HostUnreachable
                    or System.Net.Sockets.SocketError.NetworkUnreachable or System.Net.Sockets.SocketError.HostDown;
            }
            if (e is WebException { Status: WebExceptionStatus.NameResolutionFailure or WebExceptionStatus.ProxyNameResolutionFailure })
                return true;
        }
        return false;
    }

    /// <summary>
    /// The server did not answer in time: no headers, no body bytes (or too few) within the read timeout, or no
    /// connection within the connect timeout. Such a failure says nothing the stall watchdog's own message would not.
    /// </summary>
    internal static bool IsSilence(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is XetReadTimeoutException or TimeoutException) return true;
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.TimedOut }) return true;
        }
        return false;
    }

    /// <summary>"Cannot connect to host:port[ through the proxy p]: reason." The reason is the socket's own words
    /// (or the handler's when there is no socket error); the proxy is named when the transport's own proxy carried the
    /// request, since it may be the one that refused.</summary>
    private string ConnectFailureMessage(Uri url, HttpRequestException error)
    {
        Exception reason = error;
        for (var e = error.InnerException; e is not null; e = e.InnerException)
            if (e is System.Net.Sockets.SocketException) reason = e;
        var proxy = Options.UseProxy && Options.Proxy?.GetProxy(url) is Uri p && p != url ? $" through the proxy {HostAndPort(p)}" : "";
        return $"Cannot connect to {HostAndPort(url)}{proxy}: {reason.Message.TrimEnd('.')}.";
    }

    /// <summary>Scheme, host, port and path: what may appear in a message or a log (never the query).</summary>
    internal static string Describe(Uri url) => url.GetLeftPart(UriPartial.Path);

    /// <summary><see cref="Describe"/>, with a mark where a query was left out (a presigned URL's signature).</summary>
    internal static string Redacted(Uri url) =>
        url.IsAbsoluteUri ? Describe(url) + (url.Query.Length > 1 ? "?(query redacted)" : "") : "(relative URL)";

    public void Dispose()
    {
        if (_ownsClient) Client.Dispose();
    }

    /// <summary>
    /// When the quota of a rate-limited answer resets: the <c>t</c> parameter of the IETF <c>RateLimit</c> header the
    /// Hub sends on a 429 (<c>"api";r=0;t=55</c>), which stands in for a missing Retry-After. Null when absent or not a
    /// small non-negative number of seconds.
    /// </summary>
    private static TimeSpan? RateLimitResetOf(HttpResponseMessage response)
    {
        if ((int)response.StatusCode != 429 || !response.Headers.TryGetValues("RateLimit", out var values)) return null;
        foreach (var value in values)
        {
            foreach (var parameter in value.Split(';'))
            {
                var p = parameter.Trim();
                if (p.StartsWith("t=", StringComparison.Ordinal) &&
                    int.TryParse(p.Substring(2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) &&
                    seconds <= 86_400)
                    return TimeSpan.FromSeconds(seconds);
            }
        }
        return null;
    }

    /// <summary>" Rate limit reached: the quota resets in N s." for a 429 that says when; else empty.</summary>
    private static string RateLimitNote(HttpResponseMessage response) =>
        (int)response.StatusCode != 429 ? "" :
        (RetryAfterOf(response) ?? RateLimitResetOf(response)) is TimeSpan wait
            ? string.Format(System.Globalization.CultureInfo.InvariantCulture, " Rate limit reached: the quota resets in {0:0} s.", wait.TotalSeconds)
            : " Rate limit reached.";

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header is null) return null;
        if (header.Delta is TimeSpan delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header.Date is DateTimeOffset date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private static ResiliencePipeline BuildRetryPipeline(XetHttpOptions options, ILogger logger)
    {
        if (options.MaxRetries == 0) return ResiliencePipeline.Empty;
        var cap = options.MaxRetryDelay;
        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = cap,
                ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is Exception e && IsTransient(e) &&
                                                           (!IsConnectFailure(e) || args.AttemptNumber < ConnectRetries)),
                // Retry-After (seconds or a date), or a 429's RateLimit reset, replaces the backoff, capped like any other
                // delay; a connect failure waits its own short delays.
                DelayGenerator = args =>
                {
                    if (args.Outcome.Exception?.Data["RetryAfter"] is TimeSpan asked)
                        return new ValueTask<TimeSpan?>(asked > cap ? cap : asked);
                    if (args.Outcome.Exception is Exception e && IsConnectFailure(e))
                    {
                        var quick = TimeSpan.FromTicks(ConnectRetryDelay.Ticks << Math.Min(args.AttemptNumber, 8));
                        return new ValueTask<TimeSpan?>(quick > cap ? cap : quick);
                    }
                    return new ValueTask<TimeSpan?>((TimeSpan?)null);
                },
                OnRetry = args =>
                {
                    logger.LogWarning("Retrying {Operation} in {DelayMs} ms (attempt {Attempt} failed: {Error})",
                        args.Context.OperationKey, (long)args.RetryDelay.TotalMilliseconds, args.AttemptNumber + 1,
                        args.Outcome.Exception?.Message);
                    return default;
                },
            })
            .Build();
    }

    private static bool FollowsRedirects(HttpMessageHandler handler) => handler switch
    {
        HttpClientHandler h => h.AllowAutoRedirect,
#if NET8_0_OR_GREATER
        SocketsHttpHandler s => s.AllowAutoRedirect,
#endif
        _ => false,
    };

    private static HttpMessageHandler CreateHandler(XetHttpOptions options)
    {
#if NET8_0_OR_GREATER
        return new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // No automatic decompression: it would add gzip to every Accept-Encoding, and a gzip answer loses its
            // Content-Length (the size of a plain file's resolve, the length a resumed download checks). JSON bodies
            // ask for gzip themselves and are decoded in ReadBoundedBodyAsync.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,
            MaxConnectionsPerServer = options.MaxConnectionsPerServer,
            // Rotate connections so DNS changes of the CDN are picked up on long sessions.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            UseCookies = false,
            UseProxy = options.UseProxy,
            Proxy = options.UseProxy ? options.Proxy : null,
        };
#else
        var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None, // see the net8.0 handler
            UseCookies = false,
            UseProxy = options.UseProxy,
            Proxy = options.UseProxy ? options.Proxy : null,
        };
        try
        {
            handler.MaxConnectionsPerServer = options.MaxConnectionsPerServer;
        }
        catch (PlatformNotSupportedException)
        {
            // Older .NET Framework stacks take the limit from ServicePointManager instead; the default then applies.
        }
        return handler;
#endif
    }
}
