using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>The Hub API against the emulator over loopback (§1): listing, resolve, token, plain downloads, errors.</summary>
public class HubClientTests : IClassFixture<HubCasEmulatorFixture>
{
    private readonly HubCasEmulatorFixture _emulator;

    public HubClientTests(HubCasEmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    private static RepoId Repo => HubCasEmulatorFixture.Repo;

    [Fact]
    public async Task Listing_pages_through_every_file_and_stamps_the_resolved_commit()
    {
        _emulator.Server.Options.TreePageSize = 2;
        try
        {
            using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
            var entries = await _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync();

            Assert.Equal(new[] { "README.md", "config.json", "data/deep/corpus.txt", "data/tiny.csv", "weights/a.bin", "weights/b.bin" },
                entries.Select(e => e.Path).OrderBy(p => p, StringComparer.Ordinal));
            Assert.All(entries, e => Assert.Equal(_emulator.Commit, e.Revision));
            Assert.True(await _emulator.RequestsAsync(EmulatorRoute.Tree, 3) >= 3, _emulator.Server.Log.ToString());
        }
        finally
        {
            _emulator.Server.Options.TreePageSize = 1000;
        }
    }

    [Fact]
    public async Task A_push_between_two_pages_does_not_mix_snapshots_the_listing_stays_at_the_commit_it_began_at()
    {
        var pushed = new RepoId(RepoType.Model, "test/pushed-while-listing");
        await _emulator.Server.Store.CommitAsync(pushed, "main", Enumerable.Range(0, 6).Select(i => RepoFile.FromText($"f{i}.txt", $"first {i}\n")));
        var first = _emulator.Server.Store.Resolve(pushed, "main")!.Id;
        _emulator.Server.Options.TreePageSize = 2;
        try
        {
            using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
            var listed = new List<RepoEntry>();
            await foreach (var entry in _emulator.Hub(http).ListTreeAsync(pushed, "main", null, recursive: true))
            {
                listed.Add(entry);
                if (listed.Count == 1) // between the first and the second page, main moves on: f0 deleted, f9 added
                    await _emulator.Server.Store.CommitAsync(pushed, "main", Enumerable.Range(1, 5).Select(i => RepoFile.FromText($"f{i}.txt", $"first {i}\n"))
                        .Append(RepoFile.FromText("f9.txt", "second\n")), new CommitOptions { ReplaceAll = true });
            }

            Assert.NotEqual(first, _emulator.Server.Store.Resolve(pushed, "main")!.Id);
            Assert.Equal(Enumerable.Range(0, 6).Select(i => $"f{i}.txt"), listed.Select(e => e.Path).OrderBy(p => p, StringComparer.Ordinal));
            Assert.All(listed, e => Assert.Equal(first, e.Revision));
        }
        finally
        {
            _emulator.Server.Options.TreePageSize = 1000;
        }
    }

    [Fact]
    public async Task Listing_a_folder_yields_its_files_with_repo_relative_paths()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var entries = await _emulator.Hub(http).ListTreeAsync(Repo, null, "data", recursive: true).ToListAsync();
        Assert.Equal(new[] { "data/deep/corpus.txt", "data/tiny.csv" }, entries.Select(e => e.Path).OrderBy(p => p, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Listing_without_recursion_skips_folders()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var entries = await _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: false).ToListAsync();
        Assert.Equal(new[] { "README.md", "config.json" }, entries.Select(e => e.Path).OrderBy(p => p, StringComparer.Ordinal));
    }

    [Fact]
    public async Task Listing_tells_xet_files_from_plain_files()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var entries = (await _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync()).ToDictionary(e => e.Path);

        var a = entries["weights/a.bin"];
        Assert.True(a.IsXet);
        Assert.True(XetHash.TryParse(a.XetHash, out _));
        Assert.Equal(_emulator.A.Length, a.Size);
        Assert.Equal(64, a.Sha256!.Length);
        var readme = entries["README.md"];
        Assert.False(readme.IsXet);
        Assert.Null(readme.XetHash);
        Assert.Equal(HubCasEmulatorFixture.Readme.Length, readme.Size);
    }

    [Fact]
    public async Task Resolve_of_a_xet_file_gives_its_hash_size_sha256_commit_and_token_route()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);
        var listed = (await hub.ListTreeAsync(Repo, "main", "weights", recursive: true).ToListAsync()).Single(e => e.Path == "weights/a.bin");

        var info = await hub.ResolveAsync(Repo, "main", "weights/a.bin");

        Assert.Equal(listed with { GitOid = null }, info.Entry with { GitOid = null });
        Assert.NotNull(info.XetAuthUrl);
        Assert.Equal(_emulator.Server.BaseUrl.Authority, info.XetAuthUrl!.Authority);
        Assert.Contains("/xet-read-token/", info.XetAuthUrl.AbsolutePath);
        Assert.Null(info.DownloadUrl);
        // The redirect to the bridge was not followed.
        Assert.Empty(_emulator.Server.Log.For(EmulatorRoute.Bridge));
    }

    [Fact]
    public async Task Resolve_of_a_plain_file_gives_its_size_and_git_blob_id()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var info = await _emulator.Hub(http).ResolveAsync(Repo, "main", "README.md");

        Assert.False(info.Entry.IsXet);
        Assert.Equal(HubCasEmulatorFixture.Readme.Length, info.Entry.Size);
        Assert.Equal(40, info.Entry.GitOid!.Length);
        Assert.Equal(_emulator.Commit, info.Entry.Revision);
        Assert.NotNull(info.DownloadUrl);
    }

    [Fact]
    public async Task The_emulator_compresses_a_plain_file_for_a_client_that_offers_gzip_and_its_head_then_has_no_length()
    {
        // The premise of the next specs: a server that compresses hides the size a plain file's resolve reports.
        using var raw = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(_emulator.Server.BaseUrl, $"{Repo.ResolvePrefix}/resolve/main/README.md"));
        head.Headers.AcceptEncoding.ParseAdd("identity, gzip, deflate");
        using var response = await raw.SendAsync(head);

        Assert.Equal("gzip", string.Join(",", response.Content.Headers.ContentEncoding));
        Assert.Null(response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Resolve_of_a_plain_file_asks_for_identity_so_a_compressing_server_still_gives_its_size()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var info = await _emulator.Hub(http).ResolveAsync(Repo, "main", "README.md");

        Assert.Equal(HubCasEmulatorFixture.Readme.Length, info.Entry.Size);
        var resolve = Assert.Single(await _emulator.LogAsync(EmulatorRoute.Resolve, 1));
        Assert.Null(resolve.ContentEncoding);
    }

    [Fact]
    public async Task A_plain_file_download_asks_for_its_own_bytes_not_a_compressed_form()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        using (var whole = await _emulator.Hub(http).OpenDownloadAsync(Repo, _emulator.Commit, "README.md", 0))
        {
            Assert.Equal(HubCasEmulatorFixture.Readme.Length, whole.TotalSize);
            Assert.Equal(HubCasEmulatorFixture.Readme, await new StreamReader(whole.Body).ReadToEndAsync());
        }
        var download = Assert.Single(await _emulator.LogAsync(EmulatorRoute.Resolve, 1));
        Assert.Null(download.ContentEncoding);
    }

    [Fact]
    public async Task Tree_pages_and_read_tokens_travel_gzip_compressed_and_are_decoded()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);
        var entries = await hub.ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync();
        var token = await hub.GetXetReadTokenAsync(Repo, "main");

        Assert.Equal(6, entries.Count);
        Assert.False(string.IsNullOrEmpty(token.AccessToken));
        Assert.Equal("gzip", Assert.Single(await _emulator.LogAsync(EmulatorRoute.Tree, 1)).ContentEncoding);
        Assert.Equal("gzip", Assert.Single(await _emulator.LogAsync(EmulatorRoute.Token, 1)).ContentEncoding);
    }

    [Fact]
    public async Task A_missing_path_names_repo_revision_and_path()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<XetFileNotFoundException>(() => _emulator.Hub(http).ResolveAsync(Repo, "main", "nope/missing.bin"));
        Assert.Equal("EntryNotFound", ex.ErrorCode);
        Assert.Contains("nope/missing.bin", ex.Message);
        Assert.Contains("test/hubcas", ex.Message);
        Assert.Contains("main", ex.Message);
        Assert.Single(await _emulator.LogAsync(EmulatorRoute.Resolve, 1)); // not retried
    }

    [Fact]
    public async Task A_missing_revision_is_reported_as_such()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<XetFileNotFoundException>(() =>
            _emulator.Hub(http).ListTreeAsync(Repo, "no-such-branch", null, recursive: true).ToListAsync().AsTask());
        Assert.Equal("RevisionNotFound", ex.ErrorCode);
        Assert.Contains("no-such-branch", ex.Message);
    }

    [Fact]
    public async Task A_private_repo_without_a_token_looks_missing_and_says_a_token_may_help()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<XetFileNotFoundException>(() =>
            _emulator.Hub(http, token: null).ResolveAsync(HubCasEmulatorFixture.PrivateRepo, "main", "secret.txt"));
        Assert.Equal("RepoNotFound", ex.ErrorCode);
        Assert.Contains("token", ex.Message);
    }

    [Fact]
    public async Task A_refused_token_is_an_authentication_error_whose_message_never_holds_the_token()
    {
        const string secret = "hf_this_is_a_secret_token_value";
        var logger = new CapturingLogger();
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries(), logger);
        var ex = await Assert.ThrowsAsync<XetAuthenticationException>(() =>
            _emulator.Hub(http, token: secret).ResolveAsync(Repo, "main", "README.md"));

        Assert.Equal(401, ex.StatusCode);
        for (Exception? e = ex; e is not null; e = e.InnerException) Assert.DoesNotContain(secret, e.Message + e.ToString());
        Assert.All(logger.Lines, l => Assert.DoesNotContain(secret, l));
    }

    [Fact]
    public async Task The_read_token_route_issues_a_cas_token_with_expiry_and_cas_url()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var token = await _emulator.Hub(http).GetXetReadTokenAsync(Repo, "main");
        Assert.False(string.IsNullOrEmpty(token.AccessToken));
        Assert.Equal(_emulator.Server.CasUrl.AbsoluteUri.TrimEnd('/'), token.CasUrl.AbsoluteUri.TrimEnd('/'));
        Assert.True(token.Expires > DateTimeOffset.UtcNow.AddMinutes(30));
        Assert.DoesNotContain(token.AccessToken, token.ToString());
    }

    [Fact]
    public async Task A_plain_file_downloads_whole_or_from_an_offset()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);
        using (var whole = await hub.OpenDownloadAsync(Repo, _emulator.Commit, "README.md", 0))
        {
            Assert.Equal(0, whole.Offset);
            Assert.Equal(HubCasEmulatorFixture.Readme, await new StreamReader(whole.Body).ReadToEndAsync());
        }
        using var rest = await hub.OpenDownloadAsync(Repo, _emulator.Commit, "README.md", 9);
        Assert.Equal(9, rest.Offset);
        Assert.Equal(HubCasEmulatorFixture.Readme.Length, rest.TotalSize);
        Assert.Equal(HubCasEmulatorFixture.Readme.Substring(9), await new StreamReader(rest.Body).ReadToEndAsync());
    }

    [Theory]
    [InlineData("tree:status=503,times=1")]
    [InlineData("tree:status=429,times=1")]
    [InlineData("tree:reset-after=10,times=1")]
    [InlineData("tree:truncate-after=30,times=1")]
    public async Task A_transient_tree_failure_is_retried_and_the_listing_completes(string fault)
    {
        _emulator.Server.Faults.Add(fault);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var entries = await _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync();
        Assert.Equal(6, entries.Count);
        Assert.Equal(2, await _emulator.RequestsAsync(EmulatorRoute.Tree, 2));
    }

    [Fact]
    public async Task A_transient_token_failure_is_retried()
    {
        _emulator.Server.Faults.Add("token:status=502,times=1");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        await _emulator.Hub(http).GetXetReadTokenAsync(Repo, "main");
        Assert.Equal(2, await _emulator.RequestsAsync(EmulatorRoute.Token, 2));
    }

    [Fact]
    public async Task A_hub_error_that_persists_surfaces_with_its_status_after_the_retries()
    {
        _emulator.Server.Faults.Add("resolve:status=500");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => _emulator.Hub(http).ResolveAsync(Repo, "main", "README.md"));
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, ex.StatusCode);
        Assert.Equal(1 + 3, await _emulator.RequestsAsync(EmulatorRoute.Resolve, 4));
    }

    [Fact]
    public async Task An_error_that_ends_the_retries_says_what_gave_up_after_how_many_attempts()
    {
        _emulator.Server.Faults.Add("resolve:status=500");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => _emulator.Hub(http).ResolveAsync(Repo, "main", "README.md"));

        // The message already names the resolve: only the giving up is added, and the exception is the server's 500.
        Assert.Matches(@"^gave up after 4 attempts in \d+\.\d s$", XetHttpTransport.DescribeGivingUp(ex));
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, ex.StatusCode);
    }

    [Fact]
    public async Task A_refused_connection_after_the_retries_names_the_operation_it_ended()
    {
        // A loopback port nobody listens on: every attempt is refused, and the socket's message names only the address.
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = new HubClient(http, new Uri($"http://127.0.0.1:{LoopbackPort.Unused()}/"), hubToken: null);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => hub.ResolveAsync(Repo, "main", "README.md"));

        Assert.DoesNotContain("README.md", ex.Message);
        Assert.Matches(@"^gave up on the resolve of README\.md after 4 attempts in \d+\.\d s$", XetHttpTransport.DescribeGivingUp(ex));
    }

    [Fact]
    public async Task An_error_at_the_first_attempt_needs_no_note_of_giving_up()
    {
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<XetFileNotFoundException>(() => _emulator.Hub(http).ResolveAsync(Repo, "main", "nope/missing.bin"));

        Assert.Null(XetHttpTransport.DescribeGivingUp(ex));
    }

    [Fact]
    public async Task An_enormous_tree_page_is_refused_as_a_protocol_error()
    {
        _emulator.Server.Faults.Add("tree:hostile=huge-json");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var ex = await Assert.ThrowsAsync<XetProtocolException>(() =>
            _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync().AsTask());
        Assert.Contains("accepted", ex.Message);
    }

    [Fact]
    public async Task The_hub_token_does_not_follow_a_redirect_to_another_origin()
    {
        // The same server under another name: "localhost" is the Hub, the redirect goes to 127.0.0.1 (another origin).
        var alias = new UriBuilder(_emulator.Server.BaseUrl) { Host = "localhost" }.Uri;
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = new HubClient(http, alias, EmulatorOptions.DefaultHubToken);

        using var download = await hub.OpenDownloadAsync(Repo, _emulator.Commit, "weights/a.bin", 0);
        var copy = new MemoryStream();
        await download.Body.CopyToAsync(copy);

        Assert.Equal(_emulator.A, copy.ToArray());
        Assert.True(Assert.Single(await _emulator.LogAsync(EmulatorRoute.Resolve, 1)).HadAuthorization);
        Assert.False(Assert.Single(await _emulator.LogAsync(EmulatorRoute.Bridge, 1)).HadAuthorization);
    }

    [Fact]
    public async Task A_token_route_on_another_origin_is_moved_onto_the_hub_endpoint()
    {
        // The emulator names itself 127.0.0.1 in its links; a client configured with "localhost" keeps its token there.
        var alias = new UriBuilder(_emulator.Server.BaseUrl) { Host = "localhost" }.Uri;
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = new HubClient(http, alias, EmulatorOptions.DefaultHubToken);

        var info = await hub.ResolveAsync(Repo, "main", "weights/a.bin");
        var token = await hub.GetXetTokenAsync(info.XetAuthUrl!, Repo, "main");

        Assert.Equal("localhost", info.XetAuthUrl!.Host);
        Assert.Contains(_emulator.Commit, info.XetAuthUrl.AbsolutePath);
        Assert.False(string.IsNullOrEmpty(token.AccessToken));
        Assert.True(Assert.Single(await _emulator.LogAsync(EmulatorRoute.Token, 1)).HadAuthorization);
    }
}
