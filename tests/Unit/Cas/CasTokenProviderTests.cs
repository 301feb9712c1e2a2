using System;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Hub;

namespace XetPs.Tests.Cas;

/// <summary>The CAS token: refreshed before exp minus 30 s, one refresh in flight for all callers.</summary>
public class CasTokenProviderTests
{
    private static readonly Uri Cas = new("http://127.0.0.1:1/cas");
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Concurrent_callers_share_one_refresh()
    {
        var gate = new TaskCompletionSource<CasAccessToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var provider = new CasTokenProvider(_ => { Interlocked.Increment(ref calls); return gate.Task; }, () => T0);

        var waiting = new Task<CasAccessToken>[16];
        for (var i = 0; i < waiting.Length; i++) waiting[i] = provider.GetTokenAsync(CancellationToken.None);
        gate.SetResult(new CasAccessToken("t1", Cas, T0.AddHours(1)));
        var tokens = await Task.WhenAll(waiting);

        Assert.Equal(1, calls);
        Assert.All(tokens, t => Assert.Equal("t1", t.AccessToken));
    }

    [Fact]
    public async Task A_token_is_reused_until_30_seconds_before_it_expires()
    {
        var now = T0;
        var issued = 0;
        var provider = new CasTokenProvider(_ =>
        {
            issued++;
            return Task.FromResult(new CasAccessToken("t" + issued, Cas, now.AddMinutes(10)));
        }, () => now);

        Assert.Equal("t1", (await provider.GetTokenAsync(CancellationToken.None)).AccessToken);
        now = T0.AddMinutes(10).AddSeconds(-31);
        Assert.Equal("t1", (await provider.GetTokenAsync(CancellationToken.None)).AccessToken);
        now = T0.AddMinutes(10).AddSeconds(-30);
        Assert.Equal("t2", (await provider.GetTokenAsync(CancellationToken.None)).AccessToken);
        Assert.Equal(2, provider.RefreshCount);
    }

    [Fact]
    public async Task A_failed_refresh_reaches_every_waiting_caller_and_the_next_call_tries_again()
    {
        var attempt = 0;
        var provider = new CasTokenProvider(_ =>
        {
            attempt++;
            return attempt == 1
                ? Task.FromException<CasAccessToken>(new XetAuthenticationException("refused", 401))
                : Task.FromResult(new CasAccessToken("t2", Cas, T0.AddHours(1)));
        }, () => T0);

        await Assert.ThrowsAsync<XetAuthenticationException>(() => provider.GetTokenAsync(CancellationToken.None));
        Assert.Equal("t2", (await provider.GetTokenAsync(CancellationToken.None)).AccessToken);
    }

    [Fact]
    public async Task A_caller_that_gives_up_does_not_cancel_the_refresh_for_others()
    {
        var gate = new TaskCompletionSource<CasAccessToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        var provider = new CasTokenProvider(_ => gate.Task, () => T0);
        using var cts = new CancellationTokenSource();

        var quitter = provider.GetTokenAsync(cts.Token);
        var patient = provider.GetTokenAsync(CancellationToken.None);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => quitter);
        gate.SetResult(new CasAccessToken("t1", Cas, T0.AddHours(1)));
        Assert.Equal("t1", (await patient).AccessToken);
    }

    [Fact]
    public async Task An_invalidated_token_is_replaced_on_the_next_call()
    {
        var issued = 0;
        var provider = new CasTokenProvider(_ => Task.FromResult(new CasAccessToken("t" + ++issued, Cas, T0.AddHours(1))), () => T0);
        var first = await provider.GetTokenAsync(CancellationToken.None);
        provider.Invalidate(first);
        Assert.Equal("t2", (await provider.GetTokenAsync(CancellationToken.None)).AccessToken);
    }

    [Fact]
    public void A_token_record_never_prints_its_secret()
    {
        var token = new CasAccessToken("secret-xet-token", Cas, T0);
        Assert.DoesNotContain("secret-xet-token", token.ToString());
    }
}
