using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>How a download reaches the Hub: under an id the Hub redirects (resolve, read token, reconstruction,
/// xorbs all through the redirects), not at all when offline, and how soon it says so when the Hub is not there.</summary>
public class HubReachTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin";

    [Theory]
    [InlineData("engine-specs")]           // a legacy id without a namespace
    [InlineData("xetps-old/engine-specs")] // a renamed repository's old id
    [InlineData("XetPs/Engine-Specs")]     // the current id in the wrong case
    public async Task A_file_downloads_byte_exact_under_an_id_the_hub_redirects(string askedFor)
    {
        var file = ScenarioData.IncompressibleFile(ModelPath, 2 << 20, seed: 11);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        var asked = RepoId.Parse(askedFor);
        if (!askedFor.Equals(EmulatorFixture.Repo.Name, StringComparison.OrdinalIgnoreCase))
            emulator.Server.AddRepoRedirect(asked, EmulatorFixture.Repo);
        await using var session = new XetSession(emulator.Options());

        var result = await session.DownloadAsync(emulator.Request(ModelPath) with { Repo = asked }).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.Contains(emulator.Server.Log.For(EmulatorRoute.Resolve), e => e.Status == 307);
        Assert.Contains(emulator.Server.Log.For(EmulatorRoute.Xorb), e => e.Status is 200 or 206);
    }

    [Fact]
    public async Task An_offline_session_refuses_at_once_and_sends_nothing()
    {
        var file = ScenarioData.IncompressibleFile(ModelPath, 1 << 20, seed: 12);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        var options = emulator.Options();
        options.Offline = true;
        await using var session = new XetSession(options);

        var download = await Assert.ThrowsAsync<XetOfflineException>(() => session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound));
        var listing = await Assert.ThrowsAsync<XetOfflineException>(() => session.ListFilesAsync(EmulatorFixture.Repo, "main", null, recursive: true).ToListAsync().AsTask());

        // Offline, a download is answered from disk; a file that is not there is named.
        Assert.Contains("Offline (HF_HUB_OFFLINE or -Offline)", download.Message);
        Assert.Contains(ModelPath, download.Message);
        Assert.Contains("HF_HUB_OFFLINE is set", listing.Message);
        Assert.Null(XetHttpTransport.DescribeGivingUp(download)); // refused once, not retried
        Assert.Empty(emulator.Server.Log.Entries);
        Assert.False(File.Exists(emulator.Request(ModelPath).DestinationPath));
    }

    [Fact]
    public async Task An_unreachable_hub_fails_after_four_quick_attempts_saying_it_cannot_connect()
    {
        // A loopback port nobody listens on, under the default retry settings (5 retries from 1 s): a refused
        // connection was retried like a server error, and the user waited 11-21 s to learn the Hub was not there.
        // Three quick retries (250, 500, 1000 ms) now: counted, not timed.
        var port = LoopbackPort.Unused();
        await using var session = new XetSession(new XetSessionOptions { Endpoint = new Uri($"http://127.0.0.1:{port}/"), NoProxy = true });
        var request = Unreachable();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.StartsWith($"Cannot connect to 127.0.0.1:{port}: ", error.Message);
        Assert.IsType<SocketException>(error.InnerException?.InnerException);
        Assert.Matches(@"^gave up on the resolve of weights/model\.bin after 4 attempts in \d+\.\d s$", XetHttpTransport.DescribeGivingUp(error));
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Fact]
    public async Task A_hub_whose_name_does_not_resolve_fails_after_four_quick_attempts_saying_so()
    {
        // The real handler, whose connect step says what a resolver says of a name that does not exist: no lookup
        // leaves the machine, and every attempt is counted where it happens.
        var attempts = 0;
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = (_, _) =>
            {
                Interlocked.Increment(ref attempts);
                throw new SocketException((int)SocketError.HostNotFound);
            },
        };
        await using var session = new XetSession(new XetSessionOptions { Endpoint = new Uri("https://hub.invalid/"), Handler = handler });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => session.DownloadAsync(Unreachable()).WaitAsync(Bound));

        Assert.Equal(1 + XetHttpTransport.ConnectRetries, attempts);
        Assert.StartsWith("Cannot connect to hub.invalid:443: ", error.Message);
        Assert.True(XetHttpTransport.IsConnectFailure(error));
    }

    [Theory]
    [InlineData(SocketError.ConnectionRefused, true)]
    [InlineData(SocketError.HostNotFound, true)]
    [InlineData(SocketError.TryAgain, true)]
    [InlineData(SocketError.NetworkUnreachable, true)]
    [InlineData(SocketError.TimedOut, false)]
    [InlineData(SocketError.ConnectionReset, false)]
    public void Only_a_refused_connection_or_an_unknown_or_unreachable_host_is_retried_briefly(SocketError code, bool brief)
    {
        // A timeout or a reset may pass with the next attempt: they keep the whole retry policy.
        var error = new HttpRequestException("as the handler throws it", new SocketException((int)code));

        Assert.Equal(brief, XetHttpTransport.IsConnectFailure(error));
        Assert.True(XetHttpTransport.IsTransient(error));
    }

    private static FileDownloadRequest Unreachable() =>
        new(EmulatorFixture.Repo, "main", ModelPath, Path.Combine(Path.GetTempPath(), "xetps-unreachable-" + Guid.NewGuid().ToString("N"), "model.bin"));
}
