using System;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Cas;

/// <summary>
/// Hands out a valid CAS read token, refreshing it from the Hub before it expires (at exp minus 30 s, §1.2).
/// Single-flight: while one refresh is in flight every caller awaits that same task; no lock is held across the
/// network call (the lock only guards two fields). Invariant: a token handed out was not within the refresh margin
/// of its expiry when handed out (unless the Hub itself issues shorter-lived tokens, then half their lifetime).
/// </summary>
public sealed class CasTokenProvider
{
    /// <summary>Refresh this long before the token expires (xet-core's REFRESH_BUFFER_SEC).</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task<CasAccessToken>> _fetch;
    private readonly Func<DateTimeOffset> _clock;
    private readonly object _gate = new();
    private CasAccessToken? _current;
    private DateTimeOffset _refreshAt;
    private Task<CasAccessToken>? _refresh;
    private int _refreshCount;

    /// <summary>Tokens from <paramref name="fetch"/> (e.g. a Hub token route); <paramref name="clock"/> for tests.</summary>
    public CasTokenProvider(Func<CancellationToken, Task<CasAccessToken>> fetch, Func<DateTimeOffset>? clock = null)
    {
        _fetch = fetch ?? throw new ArgumentNullException(nameof(fetch));
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>Tokens from the Hub's xet-read-token route of a repository revision.</summary>
    public CasTokenProvider(HubClient hub, RepoId repo, string revision)
        : this(ct => hub.GetXetReadTokenAsync(repo, revision, ct))
    {
    }

    /// <summary>Tokens from a token route the Hub gave (Link rel="xet-auth").</summary>
    public CasTokenProvider(HubClient hub, Uri tokenRoute, RepoId repo, string revision)
        : this(ct => hub.GetXetTokenAsync(tokenRoute, repo, revision, ct))
    {
    }

    /// <summary>How many times a token was fetched (diagnostics and tests).</summary>
    public int RefreshCount => Volatile.Read(ref _refreshCount);

    /// <summary>A token that is not about to expire; refreshes (once for all concurrent callers) when needed.</summary>
    public async Task<CasAccessToken> GetTokenAsync(CancellationToken cancellationToken)
    {
        Task<CasAccessToken> refresh;
        lock (_gate)
        {
            if (_current is not null && _clock() < _refreshAt) return _current;
            if (_refresh is null || _refresh.IsCompleted) _refresh = RefreshAsync();
            refresh = _refresh;
        }
        // The shared refresh runs on its own (bounded by the HTTP timeouts); one caller giving up does not cancel it
        // for the others.
        return await WaitAsync(refresh, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Forgets <paramref name="rejected"/> (CAS answered 401 with it), so the next call fetches a new one. A newer token
    /// already in place is kept.
    /// </summary>
    public void Invalidate(CasAccessToken rejected)
    {
        lock (_gate)
        {
            if (ReferenceEquals(_current, rejected)) _current = null;
        }
    }

    private async Task<CasAccessToken> RefreshAsync()
    {
        Interlocked.Increment(ref _refreshCount);
        // Leave the caller's lock before any network work starts.
        await Task.Yield();
        var token = await _fetch(CancellationToken.None).ConfigureAwait(false);
        var now = _clock();
        var lifetime = token.Expires - now;
        // Short-lived tokens (lifetime under twice the margin) are refreshed at half-life, not on every call.
        var margin = lifetime < RefreshMargin + RefreshMargin ? TimeSpan.FromTicks(Math.Max(0, lifetime.Ticks / 2)) : RefreshMargin;
        lock (_gate)
        {
            _current = token;
            _refreshAt = token.Expires - margin;
        }
        return token;
    }

    private static async Task<T> WaitAsync<T>(Task<T> task, CancellationToken cancellationToken)
    {
#if NET8_0_OR_GREATER
        return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
#else
        if (!cancellationToken.CanBeCanceled || task.IsCompleted) return await task.ConfigureAwait(false);
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(static s => ((TaskCompletionSource<bool>)s!).TrySetResult(true), cancelled))
        {
            if (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false) != task)
                cancellationToken.ThrowIfCancellationRequested();
        }
        return await task.ConfigureAwait(false);
#endif
    }
}
