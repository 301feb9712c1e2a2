using System;
using XetPs.Hub;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using XetPs.Emulator.Cas;

using XetPs.Emulator.Faults;

using XetPs.Emulator.Hub;

using XetPs.Emulator.Store;


namespace XetPs.Emulator;

/// <summary>
/// A Hub + CAS emulator on Kestrel, bound to 127.0.0.1 only: one origin serves the Hub API (<see cref="BaseUrl"/>)
/// and the CAS (<see cref="CasUrl"/>, under <c>/cas</c>), including presigned xorb URLs. Every request passes one
/// dispatcher that decides the fault for it (<see cref="Faults"/>), wraps the body to count and disturb bytes, and
/// logs it (<see cref="Log"/>) when the response ends, completed or aborted. Dispose stops the server (and deletes a
/// temporary store it created).
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _ownedStoreDirectory;
    private readonly HubEndpoints _hub;
    private readonly CasEndpoints _cas;
    private int _disposed;

    private EmulatorServer(WebApplication app, EmulatorOptions options, EmulatorStore store, string? ownedStore)
    {
        _app = app;
        Options = options;
        Store = store;
        _ownedStoreDirectory = ownedStore;
        Faults = new FaultPlan(options.FaultSeed);
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        Signer = new PresignedUrlSigner(secret);
        CasTokens = new CasAccessTokens(secret);
        _hub = new HubEndpoints(this);
        _cas = new CasEndpoints(this);
        _redirects = new RepoRedirects(this);
    }

    private readonly RepoRedirects _redirects;
    private readonly ConcurrentDictionary<RepoId, ISet<string>> _gated = new();

    /// <summary>
    /// Makes <paramref name="from"/> (a renamed repository, or a legacy id such as "gpt2") redirect to the existing
    /// <paramref name="to"/>, like the Hub: 307 with a path. Ids differing only in case redirect without this.
    /// </summary>
    public void AddRepoRedirect(RepoId from, RepoId to) => _redirects.Add(from, to);

    /// <summary>
    /// Gates a repository: its files (resolve, xet-read-token) need a Hub token in <paramref name="grantedTokens"/>;
    /// without a token the Hub answers 401, with one not granted 403, both with X-Error-Code GatedRepo.
    /// </summary>
    public void GateRepo(RepoId repo, params string[] grantedTokens) =>
        _gated[repo] = new HashSet<string>(grantedTokens, StringComparer.Ordinal);

    /// <summary>The tokens granted on a gated repository, or null when it is not gated.</summary>
    internal ISet<string>? GrantedTokens(RepoId repo) => _gated.TryGetValue(repo, out var tokens) ? tokens : null;

    /// <summary>Forgets every repo redirect and gate (tests that share one server).</summary>
    public void ClearRepoRedirectsAndGates()
    {
        _redirects.Clear();
        _gated.Clear();
    }

    /// <summary>The Hub endpoint, e.g. <c>http://127.0.0.1:41234/</c> (with a trailing slash).</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The CAS endpoint handed out as <c>casUrl</c>: <c>{BaseUrl}cas</c> (no trailing slash).</summary>
    public Uri CasUrl { get; private set; } = null!;

    /// <summary>Settings read at request time (lifetimes, page size, ranges per URL may be changed while running).</summary>
    public EmulatorOptions Options { get; }

    public RequestLog Log { get; } = new();
    public FaultPlan Faults { get; }
    public EmulatorStore Store { get; }

    internal PresignedUrlSigner Signer { get; }
    internal CasAccessTokens CasTokens { get; }

    /// <summary>Clock of token and URL expiry; tests may move it forward instead of sleeping.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Starts a server on 127.0.0.1 (<see cref="EmulatorOptions.Port"/>, 0 = ephemeral) over the store.</summary>
    public static async Task<EmulatorServer> StartAsync(EmulatorOptions options, CancellationToken cancellationToken = default)
    {
        if (options is null) throw new ArgumentNullException(nameof(options));
        options.Validate();
        string? owned = null;
        string dir = options.StoreDirectory ?? (owned = Path.Combine(Path.GetTempPath(), "xetps-emulator-" + Guid.NewGuid().ToString("N")));
        var store = new EmulatorStore(dir, options);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(EmulatorServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.AddServerHeader = false;
            // Stalls and throughput caps are deliberate: Kestrel must not cut them short.
            k.Limits.MinResponseDataRate = null;
            k.Limits.MinRequestBodyDataRate = null;
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (options.ConsoleWarnings) builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        var app = builder.Build();
        var server = new EmulatorServer(app, options, store, owned);
        app.Run(server.DispatchAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        server.CasUrl = new Uri(address.TrimEnd('/') + "/cas");
        return server;
    }

    /// <summary>Stops accepting requests and waits for the ones in flight (bounded by the token).</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default) =>
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try { await _app.StopAsync(cts.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        if (_ownedStoreDirectory is not null)
        {
            try { Directory.Delete(_ownedStoreDirectory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>An absolute URL under the base: <c>{BaseUrl}{relative}</c>.</summary>
    internal string Url(string relative) => BaseUrl.ToString() + relative.TrimStart('/');

    /// <summary>An absolute URL under the CAS: <c>{CasUrl}/{relative}</c>.</summary>
    internal string CasPath(string relative) => CasUrl.ToString() + "/" + relative.TrimStart('/');

    private async Task DispatchAsync(HttpContext context)
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        int q = raw.IndexOf('?');
        string rawPath = q < 0 ? raw : raw.Substring(0, q);
        string[] segments;
        try
        {
            segments = rawPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        }
        catch (UriFormatException)
        {
            segments = Array.Empty<string>();
        }
        var (route, handler) = Route(context, segments);
        FaultRule? fault = route == EmulatorRoute.Other ? null : Faults.Decide(route, rawPath);
        var body = new FaultingResponseStream(context.Response.Body, context, fault);
        context.Response.Body = body;
        bool hadAuth = context.Request.Headers.Authorization.Count > 0;
        string? range = context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null;
        bool aborted = false;
        long sequence = Log.NextSequence();
        DateTimeOffset arrived = Clock.GetUtcNow();
        RequestLogEntry? logged = null;
        // The entry is recorded before the client can see the end of the answer (just before the last body write,
        // or before the final flush), and corrected afterwards if the outcome changed (abort, short body).
        void Record(long bytes, bool wasAborted)
        {
            var entry = new RequestLogEntry(sequence, arrived, route, context.Request.Method, raw, range,
                context.Response.StatusCode, bytes, fault?.ToString(), hadAuth, wasAborted, context.Connection.Id,
                context.Response.Headers.ContentEncoding.Count > 0 ? context.Response.Headers.ContentEncoding.ToString() : null);
            if (logged is null) Log.Add(entry);
            else if (logged != entry) Log.Replace(entry);
            logged = entry;
        }
        body.Completing = total => Record(total, wasAborted: false);
        try
        {
            if (fault?.Latency is TimeSpan latency) await Task.Delay(latency, context.RequestAborted).ConfigureAwait(false);
            if (fault is { StallDuration: TimeSpan stall, StallAfterBytes: null })
                await Task.Delay(stall, context.RequestAborted).ConfigureAwait(false);
            if (fault?.Status is int status)
            {
                context.Response.StatusCode = status;
                if (fault.RetryAfterSeconds is int ra) context.Response.Headers.RetryAfter = ra.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (fault.RateLimitResetSeconds is int reset)
                {
                    context.Response.Headers["RateLimit"] = "\"api\";r=0;t=" + reset.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    context.Response.Headers["RateLimit-Policy"] = "\"fixed window\";\"api\";q=1000;w=300";
                }
                await HttpResults.WriteErrorAsync(context, status, $"Injected fault: {fault}").ConfigureAwait(false);
            }
            else if (fault?.Hostile == HostileMetadata.RedirectLoop)
            {
                await HttpResults.WriteRedirectAsync(context, 307, raw).ConfigureAwait(false);
            }
            else
            {
                await handler(context, fault).ConfigureAwait(false);
            }
            if (!body.Aborted && !body.Truncated) Record(body.BytesWritten, wasAborted: false);
            await body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (FaultAbortException)
        {
            aborted = true;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            aborted = true;
        }
        catch (IOException) when (context.RequestAborted.IsCancellationRequested)
        {
            aborted = true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A broken store (missing xorb, unreadable record) is the emulator's fault: say so with a 500 that
            // names the cause, or cut the connection when the answer has already started.
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await HttpResults.WriteErrorAsync(context, 500, $"Emulator error: {ex.GetType().Name}: {ex.Message}").ConfigureAwait(false);
            }
            else
            {
                context.Abort();
                aborted = true;
            }
        }
        finally
        {
            aborted |= body.Aborted || body.Truncated;
            Record(body.BytesWritten, aborted);
        }
    }

    private bool HasAcceptedToken(HttpContext context)
    {
        var auth = context.Request.Headers.Authorization.ToString();
        return auth.StartsWith("Bearer ", StringComparison.Ordinal) && Options.HubTokens.Contains(auth.Substring(7).Trim());
    }

    private (EmulatorRoute, Func<HttpContext, FaultRule?, Task>) Route(HttpContext context, string[] s)
    {
        string method = context.Request.Method;
        bool get = HttpMethods.IsGet(method), head = HttpMethods.IsHead(method);
        if (s.Length >= 1 && s[0] == "cas")
        {
            if (s.Length == 4 && (s[1] == "v1" || s[1] == "v2") && s[2] == "reconstructions" && get)
                return (EmulatorRoute.Reconstruction, (c, f) => _cas.ReconstructionAsync(c, f, s[3], v2: s[1] == "v2"));
            if (s.Length == 4 && s[1] == "v1" && s[2] == "files" && (head || get))
                return (EmulatorRoute.Reconstruction, (c, f) => _cas.FileInfoAsync(c, s[3]));
            if (s.Length == 5 && s[1] == "v1" && s[2] == "xorbs" && s[3] == "default" && head)
                return (EmulatorRoute.Other, (c, f) => _cas.XorbInfoAsync(c, s[4]));
            if (s.Length == 4 && s[1] == "xorb" && s[2] == "default" && get)
                return (EmulatorRoute.Xorb, (c, f) => _cas.XorbAsync(c, f, s[3]));
            if (s.Length == 3 && s[1] == "bridge" && (get || head))
                return (EmulatorRoute.Bridge, (c, f) => _hub.BridgeAsync(c, s[2]));
            return (EmulatorRoute.Other, (c, f) => HttpResults.WriteErrorAsync(c, 404, $"No CAS route {method} {string.Join('/', s)}."));
        }
        if (!(s.Length >= 1 && s[0] == "cas") && (get || head) &&
            _redirects.Find(s, context.Request.QueryString.Value ?? "", HasAcceptedToken(context)) is (EmulatorRoute redirected, string location))
            return (redirected, (c, f) => HttpResults.WriteRedirectAsync(c, 307, location));
        if (s.Length >= 4 && s[0] == "api" && (s[1] is "models" or "datasets" or "spaces"))
        {
            var repo = HubEndpoints.RepoFromApi(s[1], s[2], s[3]);
            if (repo is not null)
            {
                if (s.Length >= 6 && s[4] == "tree" && get)
                    return (EmulatorRoute.Tree, (c, f) => _hub.TreeAsync(c, f, repo, s[5], string.Join('/', s.Skip(6))));
                if (s.Length == 6 && s[4] == "paths-info" && HttpMethods.IsPost(method))
                    return (EmulatorRoute.Tree, (c, f) => _hub.PathsInfoAsync(c, f, repo, s[5]));
                if (s.Length == 6 && s[4] == "xet-read-token" && get)
                    return (EmulatorRoute.Token, (c, f) => _hub.TokenAsync(c, repo, s[5]));
                if (s.Length == 4 && get)
                    return (EmulatorRoute.Other, (c, f) => _hub.RepoInfoAsync(c, repo, "main"));
                if (s.Length == 6 && s[4] == "revision" && get)
                    return (EmulatorRoute.Other, (c, f) => _hub.RepoInfoAsync(c, repo, s[5]));
            }
        }
        int r = Array.IndexOf(s, "resolve");
        if ((get || head) && (r == 2 || r == 3) && s.Length >= r + 3)
        {
            var repo = r == 2 ? HubEndpoints.RepoFromApi("models", s[0], s[1])
                     : s[0] is "datasets" or "spaces" ? HubEndpoints.RepoFromApi(s[0], s[1], s[2]) : null;
            if (repo is not null)
                return (EmulatorRoute.Resolve, (c, f) => _hub.ResolveAsync(c, f, repo, s[r + 1], string.Join('/', s.Skip(r + 2))));
        }
        return (EmulatorRoute.Other, (c, f) => HttpResults.WriteErrorAsync(c, 404, $"No route {method} /{string.Join('/', s)}."));
    }
}
