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
/// never follows redirects by itself, the retry pipeline (Polly) that decides what is transient, and the read timeout
/// that turns a silent server into a transient failure. Invariants: every attempt is bounded in time (connect + read
/// timeout until headers, read timeout per body read); a caller's cancellation surfaces as an
/// <see cref="OperationCanceledException"/> for the caller's token; messages and logs name hosts and paths, never a
/// token or a presigned URL's query.
/// </summary>
public sealed class XetHttpTransport : IDisposable
{
    private readonly ResiliencePipeline _retry;
    private readonly bool _ownsClient;

    public XetHttpTransport(XetHttpOptions? options = null, ILogger? logger = null)
    {
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
        var run = new AttemptRun<T>(attempt);
        try
        {
            return await _retry.ExecuteAsync(
                static async (ctx, run) =>
                {
                    run.Attempts++;
                    return await run.Attempt(ctx.CancellationToken).ConfigureAwait(false);
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

    private sealed class AttemptRun<T>(Func<CancellationToken, Task<T>> attempt)
    {
        public Func<CancellationToken, Task<T>> Attempt { get; } = attempt;
        public System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();
        public int Attempts { get; set; }
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
    /// Sends one request and returns when the headers are in (the body is read later, under the read timeout).
    /// No answer within connect + read timeout throws <see cref="XetReadTimeoutException"/> (transient).
    /// </summary>
    internal async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        if (Options.Offline) throw new XetOfflineException(what);
        var deadline = Options.ConnectTimeout + Options.ReadTimeout;
        using var timer = new CancellationTokenSource(deadline);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            return await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (timer.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new XetReadTimeoutException($"No response from {what} within {deadline.TotalSeconds:0.###} s.", ex);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            ct.ThrowIfCancellationRequested();
            throw;
        }
    }

    /// <summary>The response body under the read timeout; disposing the stream disposes the response.</summary>
    internal async Task<ReadTimeoutStream> OpenBodyAsync(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
        return new ReadTimeoutStream(body, response, Options.ReadTimeout, what);
    }

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
    /// <see cref="IOException"/>). Never a cancellation, never a missing file (an IOException too).
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

    /// <summary>Scheme, host, port and path: what may appear in a message or a log (never the query).</summary>
    internal static string Describe(Uri url) => url.GetLeftPart(UriPartial.Path);

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
                ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception is Exception e && IsTransient(e)),
                // Retry-After (seconds or a date), or a 429's RateLimit reset, replaces the backoff, capped like any other delay.
                DelayGenerator = args =>
                {
                    if (args.Outcome.Exception?.Data["RetryAfter"] is TimeSpan asked)
                        return new ValueTask<TimeSpan?>(asked > cap ? cap : asked);
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
