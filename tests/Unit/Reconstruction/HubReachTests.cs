using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>How a download reaches the Hub: under an id the Hub redirects (resolve, read token, reconstruction,
/// xorbs all through the redirects), or not at all when offline.</summary>
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
}
