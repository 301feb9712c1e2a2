using System;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Emulator;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>
/// Where the Hub token may go and where a server can lead the client: only under the endpoint (its origin and its path,
/// for a mirror mounted at a path of a shared origin), and never round a loop for ever.
/// </summary>
public class HubTokenScopeTests : IClassFixture<HubCasEmulatorFixture>, IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly HubCasEmulatorFixture _emulator;

    public HubTokenScopeTests(HubCasEmulatorFixture emulator)
    {
        _emulator = emulator;
        emulator.Reset();
    }

    public void Dispose()
    {
        _emulator.Server.ClearRepoRedirectsAndGates();
        _emulator.Server.Options.TreePageSize = 1000;
    }

    private static RepoId Repo => HubCasEmulatorFixture.Repo;

    [Fact]
    public async Task The_hub_token_never_leaves_a_mirrors_path_through_a_next_link()
    {
        // The mirror writes the emulator's next links on its own origin without /hf: the token went to /api/... of
        // that origin, a path the mirror does not own. Now a link off the endpoint is moved under it, as one on another
        // origin already was, and the listing completes with the token kept under /hf/.
        _emulator.Server.Options.TreePageSize = 2;
        await using var mirror = await PrefixMirror.StartAsync(_emulator.Server.BaseUrl);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = new HubClient(http, mirror.Endpoint, EmulatorOptions.DefaultHubToken);

        var entries = await hub.ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync().AsTask().WaitAsync(Bound);

        Assert.Equal(6, entries.Count);
        Assert.DoesNotContain(mirror.Requests, seen => seen.HadAuthorization && !seen.Target.StartsWith(PrefixMirror.Prefix, StringComparison.Ordinal));
        Assert.True(mirror.Requests.Count(seen => seen.Target.Contains("/tree/", StringComparison.Ordinal)) >= 3, "the listing took fewer than 3 pages");
    }

    [Fact]
    public async Task The_hub_token_never_leaves_a_mirrors_path_through_a_redirect()
    {
        // A renamed repository is answered with a 307 to a path: through the mirror, a path off /hf/. It was followed
        // with the token as "same origin"; now a redirect off the endpoint is not followed, and fails as its status.
        var old = new RepoId(RepoType.Model, "former-org/old-name");
        _emulator.Server.AddRepoRedirect(old, Repo);
        await using var mirror = await PrefixMirror.StartAsync(_emulator.Server.BaseUrl);
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = new HubClient(http, mirror.Endpoint, EmulatorOptions.DefaultHubToken);

        var error = await Record.ExceptionAsync(() => hub.ResolveRevisionAsync(old, "main").WaitAsync(Bound));

        Assert.Equal(307, XetHttpTransport.StatusOf(Assert.IsType<System.Net.Http.HttpRequestException>(error)));
        Assert.DoesNotContain(mirror.Requests, seen => seen.HadAuthorization && !seen.Target.StartsWith(PrefixMirror.Prefix, StringComparison.Ordinal));
        Assert.Contains(mirror.Requests, seen => seen.HadAuthorization); // the token did go, under /hf/
    }

    [Fact]
    public async Task A_tree_whose_next_link_repeats_ends_with_a_clear_error()
    {
        // A listing whose next page is a page already read would never end.
        _emulator.Server.Faults.Add("tree:hostile=next-loop");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());

        var error = await Assert.ThrowsAsync<XetProtocolException>(() =>
            _emulator.Hub(http).ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync().AsTask().WaitAsync(Bound));

        Assert.Contains("does not end", error.Message);
        Assert.Contains("a next link repeats", error.Message);
        Assert.Single(_emulator.Server.Log.For(EmulatorRoute.Tree));
    }

    [Theory]
    [InlineData("tree")]
    [InlineData("resolve")]
    [InlineData("download")]
    public async Task A_redirect_loop_ends_with_a_clear_error(string call)
    {
        // Each Hub call follows redirects by hand (the token goes only where we decide): a redirect to itself must end
        // after a bounded number of hops, each call with its own loop.
        _emulator.Server.Faults.Add(call == "tree" ? "tree:hostile=redirect-loop" : "resolve:hostile=redirect-loop");
        using var http = new XetHttpTransport(HubCasEmulatorFixture.FastRetries());
        var hub = _emulator.Hub(http);

        Task run = call switch
        {
            "tree" => hub.ListTreeAsync(Repo, "main", null, recursive: true).ToListAsync().AsTask(),
            "resolve" => hub.ResolveAsync(Repo, "main", "README.md"),
            _ => hub.OpenDownloadAsync(Repo, "main", "README.md", 0),
        };
        var error = await Assert.ThrowsAsync<XetProtocolException>(() => run.WaitAsync(Bound));

        Assert.Contains("redirected more than 10 times", error.Message);
        var route = call == "tree" ? EmulatorRoute.Tree : EmulatorRoute.Resolve;
        Assert.Equal(11, _emulator.Server.Log.For(route).Count);
    }
}
