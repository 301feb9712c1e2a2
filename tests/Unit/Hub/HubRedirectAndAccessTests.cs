using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>
/// Repository ids that are not the repository's current one (renamed, legacy without a namespace, wrong case), which
/// the Hub answers with a 307 to a path; gated repositories; and the Hub's own words in its errors.
/// </summary>
public class HubRedirectAndAccessTests : IClassFixture<HubCasEmulatorFixture>, IDisposable
{
    private const string GrantedToken = "hf_granted_on_the_gate", OtherToken = "hf_not_granted";
    private readonly HubCasEmulatorFixture _emulator;

    public HubRedirectAndAccessTests(HubCasEmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
        emulator.Server.Options.HubTokens.Add(GrantedToken);
        emulator.Server.Options.HubTokens.Add(OtherToken);
    }

    public void Dispose() => _emulator.Server.ClearRepoRedirectsAndGates();

    private static RepoId Repo => HubCasEmulatorFixture.Repo;

    [Fact]
    public async Task A_renamed_repository_is_listed_resolved_and_read_under_its_old_id()
    {
        var old = new RepoId(RepoType.Model, "former-org/old-name");
        _emulator.Server.AddRepoRedirect(old, Repo);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);

        var entries = await hub.ListTreeAsync(old, "main", null, recursive: true).ToListAsync();
        var weights = await hub.ResolveAsync(old, "main", "weights/a.bin");
        var readme = await hub.ResolveAsync(old, "main", "README.md");
        var token = await hub.GetXetReadTokenAsync(old, "main");
        var commit = await hub.ResolveRevisionAsync(old, "main");

        Assert.Equal(6, entries.Count);
        Assert.All(entries, e => Assert.Equal(_emulator.Commit, e.Revision));
        Assert.True(weights.Entry.IsXet);
        Assert.Equal(_emulator.A.Length, weights.Entry.Size);
        Assert.Equal(HubCasEmulatorFixture.Readme.Length, readme.Entry.Size);
        Assert.False(string.IsNullOrEmpty(token.AccessToken));
        Assert.Equal(_emulator.Commit, commit);
        // Each route was first answered with the Hub's redirect, then served under the current id.
        Assert.Contains(await _emulator.LogAsync(EmulatorRoute.Tree, 2), e => e.Status == 307 && e.Path.Contains("former-org/old-name"));
        Assert.Contains(await _emulator.LogAsync(EmulatorRoute.Token, 2), e => e.Status == 307);
        Assert.All((await _emulator.LogAsync(EmulatorRoute.Tree, 2)).Where(e => e.Status == 200), e => Assert.Contains("test/hubcas", e.Path));
    }

    [Fact]
    public async Task A_legacy_id_without_a_namespace_reaches_the_repository_it_now_names()
    {
        _emulator.Server.AddRepoRedirect(RepoId.Parse("hubcas"), Repo);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);

        var entries = await hub.ListTreeAsync(RepoId.Parse("hubcas"), null, "data", recursive: true).ToListAsync();
        var info = await hub.ResolveAsync(RepoId.Parse("hubcas"), null, "weights/b.bin");
        using var download = await hub.OpenDownloadAsync(RepoId.Parse("hubcas"), "main", "README.md", 0);

        Assert.Equal(new[] { "data/deep/corpus.txt", "data/tiny.csv" }, entries.Select(e => e.Path).OrderBy(p => p, StringComparer.Ordinal));
        Assert.Equal(_emulator.B.Length, info.Entry.Size);
        Assert.Equal(HubCasEmulatorFixture.Readme, await new StreamReader(download.Body).ReadToEndAsync());
    }

    [Fact]
    public async Task An_id_in_the_wrong_case_is_redirected_to_the_repository()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var info = await _emulator.Hub(http).ResolveAsync(RepoId.Parse("Test/HubCas"), "main", "weights/a.bin");
        Assert.Equal(_emulator.A.Length, info.Entry.Size);
    }

    [Fact]
    public async Task A_redirect_never_reveals_a_private_repository_to_a_client_without_a_token()
    {
        var wrongCase = RepoId.Parse("datasets/TEST/Private");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());

        var ex = await Assert.ThrowsAsync<XetFileNotFoundException>(() => _emulator.Hub(http, token: null).ResolveAsync(wrongCase, "main", "secret.txt"));
        Assert.Contains("pass a Hub token", ex.Message);
        Assert.DoesNotContain(await _emulator.LogAsync(EmulatorRoute.Resolve, 1), e => e.Status == 307);

        var info = await _emulator.Hub(http).ResolveAsync(wrongCase, "main", "secret.txt");
        Assert.Equal("hidden\n".Length, info.Entry.Size);
    }

    [Fact]
    public async Task A_gated_repository_without_a_token_says_to_request_access_and_pass_one()
    {
        _emulator.Server.GateRepo(Repo, GrantedToken);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());

        var ex = await Assert.ThrowsAsync<XetAuthenticationException>(() => _emulator.Hub(http, token: null).ResolveAsync(Repo, "main", "weights/a.bin"));

        Assert.Equal(401, ex.StatusCode);
        Assert.Contains("gated repository", ex.Message);
        Assert.Contains("Request access on the repository's page", ex.Message);
        Assert.Contains("The Hub says: Access to model test/hubcas is restricted", ex.Message);
    }

    [Fact]
    public async Task A_gated_repository_tells_a_token_not_granted_from_one_granted()
    {
        _emulator.Server.GateRepo(Repo, GrantedToken);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());

        var refused = await Assert.ThrowsAsync<XetAuthenticationException>(() => _emulator.Hub(http, OtherToken).GetXetReadTokenAsync(Repo, "main"));
        var granted = await _emulator.Hub(http, GrantedToken).GetXetReadTokenAsync(Repo, "main");

        Assert.Equal(403, refused.StatusCode);
        Assert.Contains("has not been granted access", refused.Message);
        Assert.DoesNotContain(OtherToken, refused.Message);
        Assert.False(string.IsNullOrEmpty(granted.AccessToken));
    }

    [Fact]
    public async Task A_missing_repository_with_a_token_given_asks_to_check_the_name_not_to_pass_a_token()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<XetFileNotFoundException>(() => _emulator.Hub(http).ResolveAsync(RepoId.Parse("nobody/nothing"), "main", "a.bin"));
        Assert.Contains("Check the name", ex.Message);
        Assert.DoesNotContain("pass a Hub token", ex.Message);
    }

    [Fact]
    public async Task A_server_error_carries_the_hubs_own_explanation()
    {
        _emulator.Server.Faults.Add("token:status=500");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => _emulator.Hub(http).GetXetReadTokenAsync(Repo, "main"));
        Assert.Contains("answered 500", ex.Message);
        Assert.Contains("The Hub says: Injected fault", ex.Message);
        Assert.Equal(500, XetHttpTransport.StatusOf(ex));
    }

    [Fact]
    public async Task A_rate_limited_answer_waits_for_the_quota_reset_the_hub_announces()
    {
        _emulator.Server.Faults.Add("tree:status=429,ratelimit-reset=1,times=1");
        var logger = new CapturingLogger();
        var options = HubCasEmulatorFixture.FastRetries();
        options.MaxRetryDelay = TimeSpan.FromSeconds(5);
        using var http = new XetHttpTransport(options, logger);

        var entries = await _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync();

        Assert.Equal(6, entries.Count);
        var retry = Assert.Single(logger.States);
        Assert.Equal(1000L, retry.Single(kv => kv.Key == "DelayMs").Value);
    }

    [Fact]
    public async Task A_rate_limit_that_outlasts_the_retries_says_when_the_quota_resets()
    {
        _emulator.Server.Faults.Add("tree:status=429,ratelimit-reset=55");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync().AsTask());

        Assert.Contains("Rate limit reached: the quota resets in 55 s.", ex.Message);
        Assert.Equal(429, XetHttpTransport.StatusOf(ex));
    }

    [Fact]
    public async Task A_next_page_link_on_another_origin_is_followed_on_the_endpoint_with_the_token_kept_there()
    {
        // The emulator writes its links on 127.0.0.1; a client whose endpoint is "localhost" sees them as another
        // origin (a mirror that writes the upstream's links).
        _emulator.Server.Options.TreePageSize = 2;
        try
        {
            var endpoint = new Uri($"http://localhost:{_emulator.Server.BaseUrl.Port}/");
            using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
            var hub = new HubClient(http, endpoint, EmulatorOptions.DefaultHubToken);

            var entries = await hub.ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync();

            Assert.Equal(6, entries.Count);
            Assert.All(await _emulator.LogAsync(EmulatorRoute.Tree, 3), e => Assert.True(e.HadAuthorization));
        }
        finally
        {
            _emulator.Server.Options.TreePageSize = 1000;
        }
    }
}
