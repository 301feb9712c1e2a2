using System;
using System.Runtime.InteropServices;
using System.Collections;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;

namespace XetPs.Reconstruction;

/// <summary>
/// Settings of one <see cref="XetSession"/>, with laptop defaults (512 MiB buffer, 64 CAS connections, 4 files at
/// once). Invariant: <see cref="Validate"/> is called by the session, so every value the engine reads is in range.
/// <see cref="FromEnvironment"/> reads HF_ENDPOINT, HF_TOKEN (and the token files huggingface_hub reads) and the
/// HF_XET_* names xet-core defines where one exists.
/// </summary>
public sealed class XetSessionOptions
{
    public const long DefaultBufferSize = 512L << 20;
    public const int DefaultCasConcurrency = 64;
    public const int DefaultMaxFilesInFlight = 4;
    public const long DefaultSegmentSize = 256L << 20;

    /// <summary>The Hub endpoint (HF_ENDPOINT); default https://huggingface.co.</summary>
    public Uri Endpoint { get; set; } = new("https://huggingface.co");

    /// <summary>The Hub token. Never logged, never put in a message, never sent to presigned URLs.</summary>
    public string? HubToken { get; set; }

    /// <summary>Bytes of buffer permits shared by every file of the session: the bound on memory held for data.</summary>
    public long BufferSize { get; set; } = DefaultBufferSize;

    /// <summary>CAS connection permits: xorb downloads running at once, over all files.</summary>
    public int CasConcurrency { get; set; } = DefaultCasConcurrency;

    /// <summary>Files downloading at once (the module's pipeline runs this many DownloadAsync calls).</summary>
    public int MaxFilesInFlight { get; set; } = DefaultMaxFilesInFlight;

    /// <summary>End-to-end check of every file against its Xet file id (or sha256 for plain files).</summary>
    public bool Verify { get; set; } = true;

    public int MaxRetries { get; set; } = 5;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Per attempt of a request: no response headers within this long of sending it, or a body that brings fewer than
    /// <see cref="LowSpeedLimit"/> bytes per second over this long (at least one byte), fails the attempt, which is
    /// then retried (<see cref="Hub.XetHttpOptions.ReadTimeout"/>).
    /// </summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The slowest response body accepted, in bytes per second over <see cref="ReadTimeout"/> (0: a byte
    /// per read timeout is enough). Default <see cref="Hub.XetHttpOptions.DefaultLowSpeedLimit"/> (XETPS_LOW_SPEED_LIMIT).</summary>
    public long LowSpeedLimit { get; set; } = Hub.XetHttpOptions.DefaultLowSpeedLimit;

    /// <summary>
    /// Watchdog: a file with work pending fails when the session received and wrote no byte for this long, requests in
    /// flight or not; only a request waiting to retry after an error answer stops the clock (<see cref="StallWatchdog"/>).
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Bytes of file covered by one reconstruction request (xet-core: HF_XET_RECONSTRUCTION_MIN_RECONSTRUCTION_FETCH_SIZE).
    /// The pipeline uses at most a little under a quarter of <see cref="BufferSize"/> (four blocks of such segments fit in
    /// the buffer whole), which bounds the size of any one xorb block.
    /// </summary>
    public long SegmentSize { get; set; } = DefaultSegmentSize;

    /// <summary>
    /// Write files of <see cref="DirectWriteMinimum"/> bytes or more past the page cache (Linux O_DIRECT, where the
    /// file system reports its direct-I/O alignment; elsewhere nothing changes), two files at a time at most (12 MiB of
    /// stages each, outside the buffer). On by default: on large files the
    /// kernel's page-cache work was the engine's largest cost, and a file larger than the free memory makes the
    /// kernel reclaim as it writes. XETPS_DIRECT_WRITES=0 turns it off.
    /// </summary>
    public bool DirectWrites { get; set; } = true;

    /// <summary>
    /// Bytes left to write from which <see cref="DirectWrites"/> applies (default 4 GiB). From 4 GiB direct writes were
    /// as fast or faster and used much less CPU; at 1-2 GiB the wall time moved within the noise either way, and a file
    /// left in the page cache loads faster right after its download (figures in the commit that set it).
    /// </summary>
    public long DirectWriteMinimum { get; set; } = 4L << 30;

    /// <summary>Bytes per direct write (a multiple of 4096; 4 MiB, see DirectFileWriter.StageSize). Small values only in specifications.</summary>
    internal int DirectWriteStageSize { get; set; } = 4 << 20;

    /// <summary>How often (in written bytes) the resume journal is committed. Small values only in specifications.</summary>
    internal long JournalCommitInterval { get; set; } = 8L << 20;

    /// <summary>How often, in bytes, re-reading a resumed prefix reports progress and observes cancellation
    /// (small in specifications, whose files are a few MB).</summary>
    internal long PrefixCheckInterval { get; set; } = 64L << 20;

    /// <summary>
    /// Send every request (Hub, CAS and the presigned xorb URLs) through this HTTP proxy: an absolute http:// or
    /// https:// URL without credentials in it (they go in <see cref="ProxyCredential"/>, so they never reach a
    /// message). Null: the platform's proxy, which on .NET (PowerShell 7) is HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and
    /// NO_PROXY, then on Windows the system's settings; on .NET Framework (Windows PowerShell 5.1) the system's settings.
    /// </summary>
    public Uri? Proxy { get; set; }

    /// <summary>Credentials for <see cref="Proxy"/> when it asks for them (407). Never logged or put in a message.</summary>
    public NetworkCredential? ProxyCredential { get; set; }

    /// <summary>Connect directly, ignoring the platform's proxy settings (HTTPS_PROXY and the like).</summary>
    public bool NoProxy { get; set; }

    /// <summary>Offline (HF_HUB_OFFLINE): the session sends no request; the first one that would fails with
    /// <see cref="Hub.XetOfflineException"/>.</summary>
    public bool Offline { get; set; }

    /// <summary>Tests and benchmarks may inject a handler (a real SocketsHttpHandler, never a mock).</summary>
    public HttpMessageHandler? Handler { get; set; }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Endpoint is null || !Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException("Endpoint must be an absolute http(s) URL.", nameof(Endpoint));
        Check(BufferSize >= 64 * 1024 && BufferSize <= (1L << 40), nameof(BufferSize), BufferSize, "64 KiB..1 TiB");
        Check(CasConcurrency is >= 1 and <= 1024, nameof(CasConcurrency), CasConcurrency, "1..1024");
        Check(MaxFilesInFlight is >= 1 and <= 256, nameof(MaxFilesInFlight), MaxFilesInFlight, "1..256");
        Check(MaxRetries is >= 0 and <= 100, nameof(MaxRetries), MaxRetries, "0..100");
        Check(RetryBaseDelay >= TimeSpan.Zero && RetryBaseDelay <= TimeSpan.FromMinutes(10), nameof(RetryBaseDelay), RetryBaseDelay, "0..10 min");
        Check(MaxRetryDelay >= RetryBaseDelay && MaxRetryDelay <= TimeSpan.FromHours(1), nameof(MaxRetryDelay), MaxRetryDelay, "RetryBaseDelay..1 h");
        Check(ReadTimeout > TimeSpan.Zero && ReadTimeout <= TimeSpan.FromHours(1), nameof(ReadTimeout), ReadTimeout, "(0, 1 h]");
        Check(LowSpeedLimit >= 0 && LowSpeedLimit <= (1L << 30), nameof(LowSpeedLimit), LowSpeedLimit, "0..1 GiB per second");
        Check(StallTimeout > TimeSpan.Zero && StallTimeout <= TimeSpan.FromHours(24), nameof(StallTimeout), StallTimeout, "(0, 24 h]");
        Check(SegmentSize >= 64 * 1024 && SegmentSize <= (8L << 30), nameof(SegmentSize), SegmentSize, "64 KiB..8 GiB");
        Check(DirectWriteMinimum >= 0, nameof(DirectWriteMinimum), DirectWriteMinimum, "0 or more bytes");
        Check(DirectWriteStageSize > 0 && DirectWriteStageSize % 4096 == 0, nameof(DirectWriteStageSize), DirectWriteStageSize, "a positive multiple of 4096");
        if (Proxy is not null)
        {
            if (!Proxy.IsAbsoluteUri || (Proxy.Scheme != Uri.UriSchemeHttp && Proxy.Scheme != Uri.UriSchemeHttps))
                throw new ArgumentException($"Proxy must be an absolute http:// or https:// URL, not '{Describe(Proxy)}'.", nameof(Proxy));
            if (!string.IsNullOrEmpty(Proxy.UserInfo))
                throw new ArgumentException("Proxy must not carry credentials in the URL; give them as ProxyCredential.", nameof(Proxy));
            if (NoProxy) throw new ArgumentException("Proxy and NoProxy exclude each other.", nameof(NoProxy));
        }
        else if (ProxyCredential is not null)
        {
            throw new ArgumentException("ProxyCredential needs a Proxy to give it to.", nameof(ProxyCredential));
        }
    }

    /// <summary>A URL for a message: without its user info, which may hold a password.</summary>
    private static string Describe(Uri url) =>
        !url.IsAbsoluteUri || string.IsNullOrEmpty(url.UserInfo) ? url.OriginalString : url.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);

    private static void Check(bool ok, string name, object value, string range)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} must be in {range}.");
    }

    /// <summary>
    /// Reads the settings from environment variables (or from <paramref name="environment"/>, for tests):
    /// HF_ENDPOINT; HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), else the file HF_TOKEN_PATH, else $HF_HOME/token,
    /// else $XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token (~ is USERPROFILE on Windows, HOME
    /// elsewhere), as huggingface_hub finds it; HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) = 1/true/yes/on;
    /// HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE (bytes, "512mb"...), HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY
    /// (or the older HF_XET_NUM_CONCURRENT_RANGE_GETS), HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS,
    /// HF_XET_CLIENT_RETRY_MAX_ATTEMPTS, HF_XET_CLIENT_RETRY_BASE_DELAY, HF_XET_CLIENT_RETRY_MAX_DURATION,
    /// HF_XET_CLIENT_READ_TIMEOUT, HF_XET_RECONSTRUCTION_MIN_RECONSTRUCTION_FETCH_SIZE; and XETPS_LOW_SPEED_LIMIT (bytes
    /// per second, "10", "1kb"), XETPS_STALL_TIMEOUT, XETPS_VERIFY, XETPS_DIRECT_WRITES, XETPS_DIRECT_WRITE_MINIMUM
    /// (xet-core has no name for these). A malformed value throws naming the variable.
    /// </summary>
    public static XetSessionOptions FromEnvironment(IDictionary? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariables();
        string? Get(string name)
        {
            var value = environment[name] as string;
            return string.IsNullOrWhiteSpace(value) ? null : value!.Trim();
        }

        var options = new XetSessionOptions();
        if (Get("HF_ENDPOINT") is { } endpoint)
        {
            if (!Uri.TryCreate(endpoint.TrimEnd('/'), UriKind.Absolute, out var uri))
                throw new ArgumentException($"HF_ENDPOINT is not an absolute URL: '{endpoint}'.");
            options.Endpoint = uri;
        }
        options.HubToken = ReadToken(Get);
        options.Offline = IsTrue(Get("HF_HUB_OFFLINE")) || IsTrue(Get("TRANSFORMERS_OFFLINE"));

        if (Get("HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE") is { } buffer)
            options.BufferSize = ParseByteSize("HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE", buffer);
        if ((Get("HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY") ?? Get("HF_XET_NUM_CONCURRENT_RANGE_GETS")) is { } cas)
            options.CasConcurrency = ParseInt(Get("HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY") is null
                ? "HF_XET_NUM_CONCURRENT_RANGE_GETS" : "HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY", cas);
        if (Get("HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS") is { } files)
            options.MaxFilesInFlight = ParseInt("HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS", files);
        if (Get("HF_XET_CLIENT_RETRY_MAX_ATTEMPTS") is { } retries)
            options.MaxRetries = ParseInt("HF_XET_CLIENT_RETRY_MAX_ATTEMPTS", retries);
        if (Get("HF_XET_CLIENT_RETRY_BASE_DELAY") is { } baseDelay)
            options.RetryBaseDelay = ParseDuration("HF_XET_CLIENT_RETRY_BASE_DELAY", baseDelay);
        if (Get("HF_XET_CLIENT_RETRY_MAX_DURATION") is { } maxDelay)
            options.MaxRetryDelay = ParseDuration("HF_XET_CLIENT_RETRY_MAX_DURATION", maxDelay);
        if (options.MaxRetryDelay < options.RetryBaseDelay) options.MaxRetryDelay = options.RetryBaseDelay;
        if (Get("HF_XET_CLIENT_READ_TIMEOUT") is { } readTimeout)
            options.ReadTimeout = ParseDuration("HF_XET_CLIENT_READ_TIMEOUT", readTimeout);
        if (Get("HF_XET_RECONSTRUCTION_MIN_RECONSTRUCTION_FETCH_SIZE") is { } segment)
            options.SegmentSize = ParseByteSize("HF_XET_RECONSTRUCTION_MIN_RECONSTRUCTION_FETCH_SIZE", segment);
        if (Get("XETPS_LOW_SPEED_LIMIT") is { } lowSpeed)
            options.LowSpeedLimit = ParseByteSize("XETPS_LOW_SPEED_LIMIT", lowSpeed);
        if (Get("XETPS_STALL_TIMEOUT") is { } stall)
            options.StallTimeout = ParseDuration("XETPS_STALL_TIMEOUT", stall);
        if (Get("XETPS_VERIFY") is { } verify)
            options.Verify = ParseBool("XETPS_VERIFY", verify);
        if (Get("XETPS_DIRECT_WRITES") is { } direct)
            options.DirectWrites = ParseBool("XETPS_DIRECT_WRITES", direct);
        if (Get("XETPS_DIRECT_WRITE_MINIMUM") is { } directMinimum)
            options.DirectWriteMinimum = ParseByteSize("XETPS_DIRECT_WRITE_MINIMUM", directMinimum);
        options.Validate();
        return options;
    }

    /// <summary>huggingface_hub's truthy values ("1", "ON", "YES", "TRUE", any case); anything else is false.</summary>
    internal static bool IsTrue(string? value) =>
        value is not null && (value == "1" || value.Equals("on", StringComparison.OrdinalIgnoreCase) ||
                              value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    private static string? ReadToken(Func<string, string?> get)
    {
        if ((get("HF_TOKEN") ?? get("HUGGING_FACE_HUB_TOKEN")) is { } token) return token;
        var hfHome = HuggingFaceHome(get);
        var path = ExpandUser(get("HF_TOKEN_PATH"), get) ?? (hfHome is null ? null : Path.Combine(hfHome, "token"));
        if (path is null || !File.Exists(path)) return null;
        var text = File.ReadAllText(path).Trim();
        return text.Length == 0 ? null : text;
    }

    /// <summary>
    /// HF_HOME as huggingface_hub finds it: $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
    /// (null only when no home folder is known).
    /// </summary>
    internal static string? HuggingFaceHome(Func<string, string?> get) =>
        ExpandUser(get("HF_HOME"), get)
        ?? (ExpandUser(get("XDG_CACHE_HOME"), get) is { } xdg ? Path.Combine(xdg, "huggingface") : null)
        ?? (UserHome(get) is { } home ? Path.Combine(home, ".cache", "huggingface") : null);

    /// <summary>A leading "~" replaced by the user's home, as Python's expanduser does.</summary>
    internal static string? ExpandUser(string? path, Func<string, string?> get) =>
        path is not null && UserHome(get) is { } home && (path == "~" || path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal))
            ? Path.Combine(home, path.Substring(Math.Min(2, path.Length)))
            : path;

    /// <summary>The user's home as Python's expanduser sees it: USERPROFILE on Windows, HOME elsewhere.</summary>
    private static string? UserHome(Func<string, string?> get) =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? get("USERPROFILE") ?? get("HOME") : get("HOME") ?? get("USERPROFILE");

    internal static long ParseByteSize(string name, string text)
    {
        var t = text.Trim().ToLowerInvariant().Replace(" ", "");
        long multiplier = 1;
        (string Suffix, long Multiplier)[] suffixes =
        [
            ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("tib", 1L << 40),
            ("kb", 1000), ("mb", 1000 * 1000), ("gb", 1000L * 1000 * 1000), ("tb", 1000L * 1000 * 1000 * 1000),
            ("k", 1L << 10), ("m", 1L << 20), ("g", 1L << 30), ("b", 1),
        ];
        foreach (var (suffix, m) in suffixes)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = m;
                t = t.Substring(0, t.Length - suffix.Length);
                break;
            }
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value))
            throw new ArgumentException($"{name} is not a byte size: '{text}' (examples: 536870912, 512mb, 2GiB).");
        var bytes = value * multiplier;
        if (bytes > long.MaxValue / 2) throw new ArgumentException($"{name} is too large: '{text}'.");
        return (long)bytes;
    }

    internal static TimeSpan ParseDuration(string name, string text)
    {
        var t = text.Trim().ToLowerInvariant().Replace(" ", "");
        double unitSeconds = 1;
        (string Suffix, double Seconds)[] suffixes =
        [
            ("ms", 0.001), ("msec", 0.001), ("sec", 1), ("secs", 1), ("s", 1), ("min", 60), ("mins", 60), ("m", 60), ("h", 3600),
        ];
        foreach (var (suffix, s) in suffixes)
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal) && t.Length > suffix.Length && char.IsDigit(t[t.Length - suffix.Length - 1]))
            {
                unitSeconds = s;
                t = t.Substring(0, t.Length - suffix.Length);
                break;
            }
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || double.IsNaN(value) || value * unitSeconds > 366 * 86400)
            throw new ArgumentException($"{name} is not a duration: '{text}' (examples: 30, 3000ms, 60s, 6min).");
        return TimeSpan.FromSeconds(value * unitSeconds);
    }

    private static int ParseInt(string name, string text)
    {
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            throw new ArgumentException($"{name} is not an integer: '{text}'.");
        return value;
    }

    private static bool ParseBool(string name, string text) => text.ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => throw new ArgumentException($"{name} is not a boolean: '{text}' (use 1/0, true/false)."),
    };
}
