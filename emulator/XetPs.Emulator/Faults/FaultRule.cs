using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace XetPs.Emulator.Faults;

/// <summary>Hostile metadata a route can serve instead of an honest answer.</summary>
public enum HostileMetadata
{
    None = 0,
    /// <summary>Tree: entries whose paths climb out (<c>../x</c>, <c>a/../../x</c>).</summary>
    DotDotPath,
    /// <summary>Tree: absolute paths (<c>/etc/x</c>, <c>C:\x</c>).</summary>
    AbsolutePath,
    /// <summary>Tree: device names (<c>CON</c>, <c>NUL.txt</c>, <c>\\.\PhysicalDrive0</c>).</summary>
    DevicePath,
    /// <summary>Reconstruction: every term's <c>unpacked_length</c> is off by one.</summary>
    LyingUnpackedLength,
    /// <summary>Xorb: the first chunk header of each range claims sizes past the limits.</summary>
    OversizedChunkHeader,
    /// <summary>Tree, reconstruction: a JSON body of tens of megabytes.</summary>
    EnormousJson,
    /// <summary>Reconstruction: an answer that starts inside its first chunk (a segment boundary cut it, so the
    /// previous segment served it too) serves that chunk from a xorb of its own, with one byte changed.</summary>
    StraddlingChunk,
    /// <summary>Reconstruction: the first term and the range of its fetch claim <see cref="FaultRule.OversizedFetchChunks"/>
    /// chunks (more than a xorb may hold) and the term the most bytes they could decode to (128 KiB each); the fetch
    /// keeps its real, signed byte range.</summary>
    OversizedFetch,
    /// <summary>Tree: every page's <c>Link rel="next"</c> names the page itself, so the listing would never end.</summary>
    RepeatingNextLink,
    /// <summary>Any route: a 307 whose Location is the request's own path and query, a redirect loop.</summary>
    RedirectLoop,
}

/// <summary>
/// One fault for one route: what to do to the matching requests and which of them. An options object with
/// validated values; it holds no state (the plan counts requests). Parsed from the command-line form
/// <c>route:key=value,key=value</c>, for example <c>xorb:status=503,rate=0.3,retry-after=1</c>.
/// </summary>
public sealed record FaultRule
{
    /// <summary>The route it applies to.</summary>
    public EmulatorRoute Route { get; init; }

    /// <summary>Probability that a matching request gets the fault (decided by the plan's seeded sequence).</summary>
    public double Rate { get; init; } = 1.0;

    /// <summary>Matching requests to let through untouched before the fault starts.</summary>
    public int Skip { get; init; }

    /// <summary>Most requests that get the fault; null = no limit.</summary>
    public int? Times { get; init; }

    /// <summary>Only requests whose path contains this text match (e.g. a file's hash).</summary>
    public string? PathContains { get; init; }

    /// <summary>Answer with this status instead (500, 503, 429...), with a small JSON error body.</summary>
    public int? Status { get; init; }

    /// <summary>Retry-After seconds sent with <see cref="Status"/>.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Seconds until the quota resets, sent with <see cref="Status"/> as the Hub sends it on a 429:
    /// <c>RateLimit: "api";r=0;t=N</c> (and a <c>RateLimit-Policy</c>), without Retry-After.</summary>
    public int? RateLimitResetSeconds { get; init; }

    /// <summary>Write this many body bytes, then abort the connection.</summary>
    public long? ResetAfterBytes { get; init; }

    /// <summary>Declare the full Content-Length, write this many body bytes, then end the connection.</summary>
    public long? TruncateAfterBytes { get; init; }

    /// <summary>Stall for <see cref="StallDuration"/>: before the headers when null, else after this many body bytes.</summary>
    public long? StallAfterBytes { get; init; }

    public TimeSpan? StallDuration { get; init; }

    /// <summary>Cap on the body throughput of each connection, in bytes per second.</summary>
    public long? ThroughputBytesPerSecond { get; init; }

    /// <summary>Delay added before the request is handled.</summary>
    public TimeSpan? Latency { get; init; }

    /// <summary>Flip the bits of the body byte at this offset (xorb data corrupted in flight).</summary>
    public long? CorruptAtByte { get; init; }

    public HostileMetadata Hostile { get; init; }

    /// <summary>Chunks an oversized fetch claims (<see cref="HostileMetadata.OversizedFetch"/>): past the 8,192 of a xorb.</summary>
    public const int OversizedFetchChunks = 8200;

    /// <summary>Checks that the rule does something and its values are in range.</summary>
    public FaultRule Validated()
    {
        if (Route == EmulatorRoute.Other) throw new ArgumentException("A fault needs a route: tree, resolve, token, reconstruction, xorb or bridge.");
        if (Rate is < 0 or > 1 || double.IsNaN(Rate)) throw new ArgumentOutOfRangeException(nameof(Rate), Rate, "Fault rate must be within 0..1.");
        if (Skip < 0 || Times < 0) throw new ArgumentOutOfRangeException(nameof(Skip), "skip and times cannot be negative.");
        if (Status is < 100 or > 599) throw new ArgumentOutOfRangeException(nameof(Status), Status, "Fault status must be an HTTP status.");
        if (ResetAfterBytes < 0 || TruncateAfterBytes < 0 || StallAfterBytes < 0 || CorruptAtByte < 0)
            throw new ArgumentOutOfRangeException(nameof(ResetAfterBytes), "Byte counts cannot be negative.");
        if (ThroughputBytesPerSecond is <= 0) throw new ArgumentOutOfRangeException(nameof(ThroughputBytesPerSecond), "Throughput must be positive.");
        if (StallAfterBytes is not null && StallDuration is null) throw new ArgumentException("stall-after needs a stall duration.");
        bool acts = Status is not null || ResetAfterBytes is not null || TruncateAfterBytes is not null || StallDuration is not null ||
                    ThroughputBytesPerSecond is not null || Latency is not null || CorruptAtByte is not null || Hostile != HostileMetadata.None;
        if (!acts) throw new ArgumentException($"The {Route} fault does nothing: give status, reset-after, truncate-after, stall, throughput, latency, corrupt-at or hostile.");
        return this;
    }

    /// <summary>The command-line form, also what the request log shows.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        void Add(string key, object? value) { if (value is not null) parts.Add(key + "=" + Convert.ToString(value, CultureInfo.InvariantCulture)); }
        Add("status", Status);
        Add("retry-after", RetryAfterSeconds);
        Add("ratelimit-reset", RateLimitResetSeconds);
        Add("reset-after", ResetAfterBytes);
        Add("truncate-after", TruncateAfterBytes);
        Add("stall", StallDuration?.TotalMilliseconds is double s ? s + "ms" : null);
        Add("stall-after", StallAfterBytes);
        Add("throughput", ThroughputBytesPerSecond);
        Add("latency", Latency?.TotalMilliseconds is double l ? l + "ms" : null);
        Add("corrupt-at", CorruptAtByte);
        if (Hostile != HostileMetadata.None) Add("hostile", HostileName(Hostile));
        if (Rate < 1) Add("rate", Rate);
        if (Skip > 0) Add("skip", Skip);
        Add("times", Times);
        Add("path", PathContains);
        return RouteName(Route) + ":" + string.Join(",", parts);
    }

    /// <summary>Parses <c>route:key=value,...</c>. Durations take <c>ms</c> or <c>s</c> (bare numbers are seconds);
    /// sizes take <c>K</c>, <c>M</c>, <c>G</c> (binary).</summary>
    public static FaultRule Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new FormatException("Empty fault; expected route:key=value,...");
        int colon = text.IndexOf(':');
        if (colon < 0) throw new FormatException($"Fault '{text}' has no route; expected route:key=value,...");
        var rule = new FaultRule { Route = ParseRoute(text.Substring(0, colon).Trim(), text) };
        foreach (string raw in text.Substring(colon + 1).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = raw.IndexOf('=');
            if (eq < 0) throw new FormatException($"Fault '{text}': '{raw}' is not key=value.");
            string key = raw.Substring(0, eq).Trim().ToLowerInvariant();
            string value = raw.Substring(eq + 1).Trim();
            try
            {
                rule = key switch
                {
                    "status" => rule with { Status = int.Parse(value, CultureInfo.InvariantCulture) },
                    "rate" => rule with { Rate = double.Parse(value, CultureInfo.InvariantCulture) },
                    "retry-after" => rule with { RetryAfterSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                    "ratelimit-reset" => rule with { RateLimitResetSeconds = int.Parse(value, CultureInfo.InvariantCulture) },
                    "skip" => rule with { Skip = int.Parse(value, CultureInfo.InvariantCulture) },
                    "times" => rule with { Times = int.Parse(value, CultureInfo.InvariantCulture) },
                    "path" => rule with { PathContains = value },
                    "reset-after" => rule with { ResetAfterBytes = ParseSize(value) },
                    "truncate-after" => rule with { TruncateAfterBytes = ParseSize(value) },
                    "stall" => rule with { StallDuration = ParseDuration(value) },
                    "stall-after" => rule with { StallAfterBytes = ParseSize(value) },
                    "throughput" => rule with { ThroughputBytesPerSecond = ParseSize(value) },
                    "latency" => rule with { Latency = ParseDuration(value) },
                    "corrupt-at" => rule with { CorruptAtByte = ParseSize(value) },
                    "hostile" => rule with { Hostile = ParseHostile(value) },
                    _ => throw new FormatException($"unknown key '{key}'"),
                };
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                throw new FormatException($"Fault '{text}': bad value for '{key}': {ex.Message}", ex);
            }
        }
        try { return rule.Validated(); }
        catch (ArgumentException ex) { throw new FormatException($"Fault '{text}': {ex.Message}", ex); }
    }

    internal static string RouteName(EmulatorRoute route) => route.ToString().ToLowerInvariant();

    private static EmulatorRoute ParseRoute(string name, string text) => name.ToLowerInvariant() switch
    {
        "tree" => EmulatorRoute.Tree,
        "resolve" => EmulatorRoute.Resolve,
        "token" => EmulatorRoute.Token,
        "reconstruction" => EmulatorRoute.Reconstruction,
        "xorb" => EmulatorRoute.Xorb,
        "bridge" => EmulatorRoute.Bridge,
        _ => throw new FormatException($"Fault '{text}': unknown route '{name}' (tree, resolve, token, reconstruction, xorb, bridge)."),
    };

    private static string HostileName(HostileMetadata h) => h switch
    {
        HostileMetadata.DotDotPath => "dotdot",
        HostileMetadata.AbsolutePath => "absolute",
        HostileMetadata.DevicePath => "device",
        HostileMetadata.LyingUnpackedLength => "lying-length",
        HostileMetadata.OversizedChunkHeader => "chunk-header",
        HostileMetadata.EnormousJson => "huge-json",
        HostileMetadata.StraddlingChunk => "straddle",
        HostileMetadata.OversizedFetch => "huge-fetch",
        HostileMetadata.RepeatingNextLink => "next-loop",
        HostileMetadata.RedirectLoop => "redirect-loop",
        _ => "none",
    };

    private static HostileMetadata ParseHostile(string value) => value.ToLowerInvariant() switch
    {
        "dotdot" => HostileMetadata.DotDotPath,
        "absolute" => HostileMetadata.AbsolutePath,
        "device" => HostileMetadata.DevicePath,
        "lying-length" => HostileMetadata.LyingUnpackedLength,
        "chunk-header" => HostileMetadata.OversizedChunkHeader,
        "huge-json" => HostileMetadata.EnormousJson,
        "straddle" => HostileMetadata.StraddlingChunk,
        "huge-fetch" => HostileMetadata.OversizedFetch,
        "next-loop" => HostileMetadata.RepeatingNextLink,
        "redirect-loop" => HostileMetadata.RedirectLoop,
        _ => throw new FormatException($"unknown hostile kind '{value}' (dotdot, absolute, device, lying-length, chunk-header, huge-json, huge-fetch, straddle, next-loop, redirect-loop)"),
    };

    private static long ParseSize(string value)
    {
        string v = value.Trim();
        long mult = 1;
        char last = char.ToUpperInvariant(v[^1]);
        if (last is 'K' or 'M' or 'G')
        {
            mult = last switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            v = v.Substring(0, v.Length - 1);
        }
        return checked(long.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture) * mult);
    }

    private static TimeSpan ParseDuration(string value)
    {
        string v = value.Trim().ToLowerInvariant();
        if (v.EndsWith("ms", StringComparison.Ordinal))
            return TimeSpan.FromMilliseconds(double.Parse(v.Substring(0, v.Length - 2), CultureInfo.InvariantCulture));
        if (v.EndsWith('s')) v = v.Substring(0, v.Length - 1);
        return TimeSpan.FromSeconds(double.Parse(v, CultureInfo.InvariantCulture));
    }
}
