using System;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Emulator;
using XetPs.Format;
using XetPs.Hub;
using XetPs.Tests.Hub;

namespace XetPs.Tests.Cas;

/// <summary>The CAS reader against the emulator over loopback (§2): reconstruction, fetches, faults, secrets.</summary>
public class CasClientTests : IClassFixture<HubCasEmulatorFixture>
{
    private readonly HubCasEmulatorFixture _emulator;

    public CasClientTests(HubCasEmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    private async Task<XetHash> FileIdAsync(XetHttpTransport http, string path)
    {
        var info = await _emulator.Hub(http).ResolveAsync(HubCasEmulatorFixture.Repo, "main", path);
        return XetHash.Parse(info.Entry.XetHash!);
    }

    [Fact]
    public async Task A_whole_file_is_rebuilt_byte_exact_from_v2()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var cas = _emulator.Cas(http);
        var id = await FileIdAsync(http, "weights/a.bin");

        var (bytes, _) = await HubCasEmulatorFixture.RebuildAsync(cas, id, 0, _emulator.A.Length - 1);

        Assert.Equal(_emulator.A, bytes);
        Assert.Equal(2, cas.ApiVersion);
    }

    [Fact]
    public async Task A_compressed_text_file_is_rebuilt_byte_exact()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "data/deep/corpus.txt");
        var (bytes, _) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, _emulator.Text.Length - 1);
        Assert.Equal(_emulator.Text, bytes);
    }

    [Fact]
    public async Task A_byte_range_is_rebuilt_exactly_with_the_offset_into_the_first_range()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/a.bin");

        var (bytes, plan) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 123_457, 654_320);

        Assert.True(plan.OffsetIntoFirstRange > 0);
        Assert.Equal(_emulator.A.AsSpan(123_457, 654_320 - 123_457 + 1).ToArray(), bytes);
        var request = Assert.Single(await _emulator.LogAsync(EmulatorRoute.Reconstruction, 1));
        Assert.Equal("bytes=123457-654320", request.Range);
    }

    [Fact]
    public async Task Several_ranges_of_one_url_come_in_one_multipart_request()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/b.bin");

        var (bytes, plan) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, _emulator.B.Length - 1);

        Assert.Equal(_emulator.B, bytes);
        var multi = plan.Xorbs.Values.SelectMany(f => f).Where(f => f.Ranges.Count > 1).ToList();
        Assert.NotEmpty(multi);
        var xorbRequests = await _emulator.LogAsync(EmulatorRoute.Xorb, plan.Xorbs.Values.Sum(f => f.Count));
        Assert.Equal(plan.Xorbs.Values.Sum(f => f.Count), xorbRequests.Count);
        Assert.Contains(xorbRequests, r => r.Range!.Contains(','));
    }

    [Theory]
    [InlineData(404)]
    [InlineData(501)]
    public async Task Without_v2_the_client_falls_back_to_v1_once_and_remembers(int status)
    {
        _emulator.Server.Faults.Add(new XetPs.Emulator.Faults.FaultRule { Route = EmulatorRoute.Reconstruction, Status = status, PathContains = "/v2/" });
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var cas = _emulator.Cas(http);
        var id = await FileIdAsync(http, "weights/b.bin");

        var (first, plan) = await HubCasEmulatorFixture.RebuildAsync(cas, id, 0, _emulator.B.Length - 1);
        var (second, _) = await HubCasEmulatorFixture.RebuildAsync(cas, id, 1000, 2000);

        Assert.Equal(_emulator.B, first);
        Assert.Equal(_emulator.B.AsSpan(1000, 1001).ToArray(), second);
        Assert.Equal(1, cas.ApiVersion);
        Assert.All(plan.Xorbs.Values.SelectMany(f => f), f => Assert.Single(f.Ranges));
        var paths = (await _emulator.LogAsync(EmulatorRoute.Reconstruction, 3)).Select(r => r.Path).ToList();
        Assert.Single(paths, p => p.Contains("/v2/"));
        Assert.Equal(2, paths.Count(p => p.Contains("/v1/")));
    }

    [Theory]
    [InlineData("xorb:status=503,times=1")]
    [InlineData("xorb:status=500,times=1")]
    [InlineData("xorb:status=502,times=1")]
    [InlineData("xorb:status=408,times=1")]
    [InlineData("xorb:status=429,times=1")]
    [InlineData("xorb:reset-after=1000,times=1")]
    [InlineData("xorb:truncate-after=1000,times=1")]
    [InlineData("xorb:reset-after=0,times=1")]
    public async Task A_transient_xorb_failure_is_retried_and_the_bytes_are_exact(string fault)
    {
        _emulator.Server.Faults.Add(fault);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/a.bin");

        var (bytes, plan) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, _emulator.A.Length - 1);

        Assert.Equal(_emulator.A, bytes);
        var expected = plan.Xorbs.Values.Sum(f => f.Count) + 1;
        Assert.Equal(expected, await _emulator.RequestsAsync(EmulatorRoute.Xorb, expected));
    }

    [Theory]
    [InlineData("reconstruction:status=503,times=1")]
    [InlineData("reconstruction:status=429,times=1")]
    [InlineData("reconstruction:reset-after=20,times=1")]
    [InlineData("reconstruction:truncate-after=100,times=1")]
    [InlineData("token:status=500,times=1")]
    public async Task A_transient_metadata_failure_is_retried(string fault)
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/a.bin");
        _emulator.Server.Faults.Add(fault);

        var (bytes, _) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, _emulator.A.Length - 1);

        Assert.Equal(_emulator.A, bytes);
        var route = fault.StartsWith("token", StringComparison.Ordinal) ? EmulatorRoute.Token : EmulatorRoute.Reconstruction;
        Assert.Equal(2, await _emulator.RequestsAsync(route, 2));
    }

    [Fact]
    public async Task Retry_after_replaces_the_backoff_delay()
    {
        _emulator.Server.Faults.Add("xorb:status=429,retry-after=1,times=1");
        var logger = new CapturingLogger();
        var options = HubCasEmulatorFixture.FastRetries();
        options.MaxRetryDelay = TimeSpan.FromSeconds(5);
        using var http = new XetHttpTransport(options, logger);
        var id = await FileIdAsync(http, "weights/a.bin");

        await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, 1000);

        var retry = Assert.Single(logger.States);
        Assert.Equal(1000L, retry.Single(kv => kv.Key == "DelayMs").Value);
        Assert.Equal(2, await _emulator.RequestsAsync(EmulatorRoute.Xorb, 2));
    }

    [Fact]
    public async Task Retry_after_is_capped_by_the_longest_delay_allowed()
    {
        _emulator.Server.Faults.Add("xorb:status=503,retry-after=3600,times=1");
        var logger = new CapturingLogger();
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries(), logger);
        var id = await FileIdAsync(http, "weights/a.bin");

        await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, 1000);

        var retry = Assert.Single(logger.States);
        Assert.Equal(20L, retry.Single(kv => kv.Key == "DelayMs").Value);
    }

    [Fact]
    public async Task A_status_that_is_not_transient_fails_at_once_with_that_status()
    {
        _emulator.Server.Faults.Add("xorb:status=404");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/a.bin");

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, 1000));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal(1, await _emulator.RequestsAsync(EmulatorRoute.Xorb, 1));
    }

    [Fact]
    public async Task An_expired_url_is_a_url_expired_error_and_is_not_retried()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var cas = _emulator.Cas(http);
        var id = await FileIdAsync(http, "weights/a.bin");
        var plan = await cas.GetReconstructionAsync(id, 0, 1000, CancellationToken.None);
        var fetch = plan.Xorbs.Values.First().First();
        _emulator.Server.Clock = new ShiftedClock(TimeSpan.FromHours(2));

        var ex = await Assert.ThrowsAsync<XetUrlExpiredException>(() => cas.FetchXorbRangesAsync(fetch, new byte[fetch.TotalLength], CancellationToken.None));

        Assert.Equal(fetch.Xorb.ToString(), ex.Xorb);
        Assert.DoesNotContain("Signature", ex.Message);
        Assert.Equal(1, await _emulator.RequestsAsync(EmulatorRoute.Xorb, 1));
    }

    [Fact]
    public async Task An_expired_cas_token_is_refreshed_before_use()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);
        var now = DateTimeOffset.UtcNow;
        var tokens = new CasTokenProvider(ct => hub.GetXetReadTokenAsync(HubCasEmulatorFixture.Repo, "main", ct), () => now);
        var cas = new CasClient(http, tokens);
        var id = await FileIdAsync(http, "weights/a.bin");

        await cas.GetReconstructionAsync(id, 0, 10, CancellationToken.None);
        now += TimeSpan.FromHours(2);
        _emulator.Server.Clock = new ShiftedClock(TimeSpan.FromHours(2));
        await cas.GetReconstructionAsync(id, 0, 10, CancellationToken.None);

        Assert.Equal(2, tokens.RefreshCount);
        Assert.All(await _emulator.LogAsync(EmulatorRoute.Reconstruction, 2), r => Assert.Equal(200, r.Status));
    }

    [Fact]
    public async Task A_cas_token_rejected_by_cas_is_replaced_once()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);
        // The provider believes its token is fresh while CAS already considers it expired.
        var tokens = new CasTokenProvider(ct => hub.GetXetReadTokenAsync(HubCasEmulatorFixture.Repo, "main", ct), () => DateTimeOffset.UtcNow);
        var cas = new CasClient(http, tokens);
        var id = await FileIdAsync(http, "weights/a.bin");
        await tokens.GetTokenAsync(CancellationToken.None);
        _emulator.Server.Clock = new ShiftedClock(TimeSpan.FromHours(2));
        _emulator.Server.Options.CasTokenLifetime = TimeSpan.FromHours(3);
        try
        {
            await cas.GetReconstructionAsync(id, 0, 10, CancellationToken.None);
        }
        finally
        {
            _emulator.Server.Options.CasTokenLifetime = TimeSpan.FromHours(1);
        }

        Assert.Equal(new[] { 401, 200 }, (await _emulator.LogAsync(EmulatorRoute.Reconstruction, 2)).Select(r => r.Status));
        Assert.Equal(2, tokens.RefreshCount);
    }

    [Fact]
    public async Task A_stall_longer_than_the_read_timeout_fails_the_attempt_which_is_retried()
    {
        _emulator.Server.Faults.Add("xorb:stall=30s,stall-after=2000,times=1");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries(readTimeout: TimeSpan.FromMilliseconds(1500)));
        var id = await FileIdAsync(http, "weights/a.bin");

        var (bytes, _) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, _emulator.A.Length - 1);

        Assert.Equal(_emulator.A, bytes);
        Assert.Equal(2, await _emulator.RequestsAsync(EmulatorRoute.Xorb, 2));
    }

    [Fact]
    public async Task A_stall_before_the_headers_fails_the_attempt_which_is_retried()
    {
        var options = HubCasEmulatorFixture.FastRetries(readTimeout: TimeSpan.FromMilliseconds(1500)); // no headers within it fails the attempt
        using var http = new XetHttpTransport(options);
        var id = await FileIdAsync(http, "weights/a.bin");
        _emulator.Server.Faults.Add("reconstruction:stall=30s,times=1");

        var plan = await _emulator.Cas(http).GetReconstructionAsync(id, 0, 1000, CancellationToken.None);

        Assert.NotEmpty(plan.Terms);
        Assert.Equal(2, await _emulator.RequestsAsync(EmulatorRoute.Reconstruction, 2));
    }

    [Theory]
    [InlineData("reconstruction:status=503")]
    [InlineData("reconstruction:status=429")]
    [InlineData("reconstruction:reset-after=10")]
    [InlineData("reconstruction:stall=30s")]
    public async Task Server_errors_resets_and_timeouts_keep_the_whole_retry_policy(string fault)
    {
        // Only a refused connection or a host name that does not resolve is retried briefly (three times); these may
        // pass with the next attempt and get every retry of the policy.
        var options = HubCasEmulatorFixture.FastRetries(readTimeout: TimeSpan.FromMilliseconds(300));
        options.MaxRetries = 5;
        using var http = new XetHttpTransport(options);
        var id = await FileIdAsync(http, "weights/a.bin");
        _emulator.Server.Faults.Add(fault);

        var error = await Record.ExceptionAsync(() => _emulator.Cas(http).GetReconstructionAsync(id, 0, 1000, CancellationToken.None));

        Assert.True(error is HttpRequestException or System.IO.IOException, $"{error?.GetType().Name}: {error?.Message}");
        Assert.Equal(6, await _emulator.RequestsAsync(EmulatorRoute.Reconstruction, 6));
    }

    [Fact]
    public async Task A_stall_that_never_ends_fails_with_a_read_timeout_after_the_retries()
    {
        _emulator.Server.Faults.Add("xorb:stall=30s,stall-after=100");
        var options = HubCasEmulatorFixture.FastRetries(readTimeout: TimeSpan.FromMilliseconds(1500));
        options.MaxRetries = 1;
        using var http = new XetHttpTransport(options);
        var id = await FileIdAsync(http, "weights/a.bin");

        await Assert.ThrowsAsync<XetReadTimeoutException>(() => HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, 10_000));
        Assert.Equal(2, await _emulator.RequestsAsync(EmulatorRoute.Xorb, 2));
    }

    [Fact]
    public async Task Cancellation_during_a_stalled_fetch_surfaces_as_the_callers_cancellation()
    {
        _emulator.Server.Faults.Add("xorb:stall=30s,stall-after=100");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var cas = _emulator.Cas(http);
        var id = await FileIdAsync(http, "weights/a.bin");
        var plan = await cas.GetReconstructionAsync(id, 0, 10_000, CancellationToken.None);
        var fetch = plan.Xorbs.Values.First().First();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cas.FetchXorbRangesAsync(fetch, new byte[fetch.TotalLength], cts.Token));

        Assert.Equal(cts.Token, ex.CancellationToken);
    }

    [Fact]
    public async Task An_enormous_reconstruction_answer_is_refused_as_a_protocol_error()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/a.bin");
        _emulator.Server.Faults.Add("reconstruction:hostile=huge-json");

        var ex = await Assert.ThrowsAsync<XetProtocolException>(() => _emulator.Cas(http).GetReconstructionAsync(id, 0, 1000, CancellationToken.None));

        Assert.Contains("accepted", ex.Message);
        Assert.Equal(1, await _emulator.RequestsAsync(EmulatorRoute.Reconstruction, 1));
    }

    [Fact]
    public async Task A_range_past_the_end_of_the_file_is_a_protocol_error()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/a.bin");

        var ex = await Assert.ThrowsAsync<XetProtocolException>(() =>
            _emulator.Cas(http).GetReconstructionAsync(id, _emulator.A.Length + 10, _emulator.A.Length + 20, CancellationToken.None));

        Assert.Contains("416", ex.Message);
    }

    [Fact]
    public async Task A_fetch_whose_destination_size_is_wrong_is_refused_before_any_request()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var cas = _emulator.Cas(http);
        var id = await FileIdAsync(http, "weights/a.bin");
        var fetch = (await cas.GetReconstructionAsync(id, 0, 1000, CancellationToken.None)).Xorbs.Values.First().First();

        await Assert.ThrowsAsync<ArgumentException>(() => cas.FetchXorbRangesAsync(fetch, new byte[fetch.TotalLength - 1], CancellationToken.None));
        Assert.Empty(_emulator.Server.Log.For(EmulatorRoute.Xorb));
    }

    [Fact]
    public async Task No_token_is_ever_sent_to_a_presigned_xorb_url()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var id = await FileIdAsync(http, "weights/b.bin");

        var (_, plan) = await HubCasEmulatorFixture.RebuildAsync(_emulator.Cas(http), id, 0, _emulator.B.Length - 1);

        var xorbs = await _emulator.LogAsync(EmulatorRoute.Xorb, plan.Xorbs.Values.Sum(f => f.Count));
        Assert.NotEmpty(xorbs);
        Assert.All(xorbs, r => Assert.False(r.HadAuthorization));
        Assert.All(await _emulator.LogAsync(EmulatorRoute.Reconstruction, 1), r => Assert.True(r.HadAuthorization));
    }

    [Fact]
    public async Task Errors_and_logs_never_hold_the_cas_token()
    {
        var logger = new CapturingLogger();
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries(), logger);
        var hub = _emulator.Hub(http);
        var token = await hub.GetXetReadTokenAsync(HubCasEmulatorFixture.Repo, "main");
        var cas = new CasClient(http, new CasTokenProvider(_ => Task.FromResult(token)));
        var id = await FileIdAsync(http, "weights/a.bin");
        _emulator.Server.Faults.Add("reconstruction:status=503");
        _emulator.Server.Faults.Add("xorb:status=403");

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => cas.GetReconstructionAsync(id, 0, 10, CancellationToken.None));
        _emulator.Server.Clock = new ShiftedClock(TimeSpan.FromHours(2));
        var auth = await Assert.ThrowsAsync<XetAuthenticationException>(() =>
        {
            _emulator.Server.Faults.Clear();
            return cas.GetReconstructionAsync(id, 0, 10, CancellationToken.None);
        });

        foreach (var error in new Exception[] { ex, auth })
            for (Exception? e = error; e is not null; e = e.InnerException) Assert.DoesNotContain(token.AccessToken, e.ToString());
        Assert.NotEmpty(logger.Lines);
        Assert.All(logger.Lines, l => Assert.DoesNotContain(token.AccessToken, l));
    }
}
