using System;
using System.Net;
using System.Net.Http;

namespace XetPs.Hub;

/// <summary>
/// How the HTTP layer talks to the Hub, CAS and the transfer CDN: retries, timeouts, connection limits. Defaults suit a
/// laptop on a home link and follow xet-core where it has a setting (5 retries; PROTOCOL.md §2.5). Invariant: an
/// instance that passed <see cref="Validate"/> has positive timeouts and non-negative retries, so every request is
/// bounded in time and every retry loop ends.
/// </summary>
public sealed class XetHttpOptions
{
    /// <summary>Retries after the first attempt of a request (0 disables retrying). Default 5 (xet-core's).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>The first backoff delay; later ones grow exponentially with jitter. Default 500 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The cap on any single delay, including one asked for by Retry-After. Default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The bound on a silent or trickling server, per attempt (a transient <see cref="XetReadTimeoutException"/> ends
    /// it): no response headers within this long of sending the request, connection included; and, once the body
    /// flows, fewer than <see cref="LowSpeedLimit"/> bytes per second over this long (at least one byte), counting
    /// only the time spent waiting for the server. Not a bound on the whole request: a large xorb fetch may take
    /// minutes as long as it keeps moving. Default 60 s.
    /// </summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The slowest body accepted, in bytes per second, averaged over <see cref="ReadTimeout"/> (0: only a byte per
    /// read timeout). Default <see cref="DefaultLowSpeedLimit"/>.
    /// </summary>
    public long LowSpeedLimit { get; set; } = DefaultLowSpeedLimit;

    /// <summary>
    /// 10 bytes per second, Cargo's default (http.low-speed-limit, the only such floor on by default among curl,
    /// git, aria2 and Cargo; huggingface_hub and xet-core have only read timeouts): it cuts a server that trickles a
    /// few bytes per read timeout, while 64 connections at the floor are 5 kbit/s, below any working link.
    /// </summary>
    public const long DefaultLowSpeedLimit = 10;

    /// <summary>Time allowed to open a connection (TCP + TLS), within <see cref="ReadTimeout"/>. Default 15 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Concurrent connections per server. Default 64 (the default CAS concurrency).</summary>
    public int MaxConnectionsPerServer { get; set; } = 64;

    /// <summary>The proxy to send every request through; null: the platform's (see <see cref="UseProxy"/>).</summary>
    public IWebProxy? Proxy { get; set; }

    /// <summary>False: connect directly, ignoring <see cref="Proxy"/> and the platform's proxy settings.</summary>
    public bool UseProxy { get; set; } = true;

    /// <summary>
    /// A handler to send requests with (tests and benchmarks inject a real SocketsHttpHandler, e.g. with other
    /// limits). It must not follow redirects: the Hub token must never follow a redirect to another host. Not disposed
    /// by the transport.
    /// </summary>
    public HttpMessageHandler? Handler { get; set; }

    /// <summary>Offline (HF_HUB_OFFLINE): every request is refused with <see cref="XetOfflineException"/> before it is sent.</summary>
    public bool Offline { get; set; }

    /// <summary>Checks every value; throws <see cref="ArgumentOutOfRangeException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (MaxRetries < 0 || MaxRetries > 100)
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries must be between 0 and 100.");
        if (RetryBaseDelay < TimeSpan.Zero || RetryBaseDelay > TimeSpan.FromMinutes(10))
            throw new ArgumentOutOfRangeException(nameof(RetryBaseDelay), RetryBaseDelay, "RetryBaseDelay must be between 0 and 10 minutes.");
        if (MaxRetryDelay < RetryBaseDelay || MaxRetryDelay > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(MaxRetryDelay), MaxRetryDelay, "MaxRetryDelay must be at least RetryBaseDelay and at most 1 hour.");
        if (ReadTimeout <= TimeSpan.Zero || ReadTimeout > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(ReadTimeout), ReadTimeout, "ReadTimeout must be positive and at most 1 hour.");
        if (LowSpeedLimit < 0 || LowSpeedLimit > (1L << 30))
            throw new ArgumentOutOfRangeException(nameof(LowSpeedLimit), LowSpeedLimit, "LowSpeedLimit must be between 0 and 1 GiB per second.");
        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromHours(1))
            throw new ArgumentOutOfRangeException(nameof(ConnectTimeout), ConnectTimeout, "ConnectTimeout must be positive and at most 1 hour.");
        if (MaxConnectionsPerServer < 1 || MaxConnectionsPerServer > 4096)
            throw new ArgumentOutOfRangeException(nameof(MaxConnectionsPerServer), MaxConnectionsPerServer, "MaxConnectionsPerServer must be between 1 and 4096.");
        if (Handler is not null && (Proxy is not null || !UseProxy))
            throw new ArgumentException("Proxy settings apply to the transport's own handler; set them on the injected Handler instead.", nameof(Proxy));
    }

    /// <summary>A copy, so a validated snapshot cannot be changed under a running transport.</summary>
    public XetHttpOptions Clone() => (XetHttpOptions)MemberwiseClone();
}
