using System;
using System.IO;
using System.Threading.Tasks;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// What a download does with the file already at its destination: the repo file itself is skipped, a copy one of our
/// downloads left there and nobody changed since is ours to replace, and anything else is replaced only when asked.
/// </summary>
public sealed class LocalCopyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private const string Path1 = "weights/model.bin";

    [Fact]
    public async Task A_copy_of_an_older_revision_left_by_our_download_is_replaced_without_overwrite()
    {
        // A nightly job: the repo file changed on the Hub, the local copy is the one our previous run saved.
        await using var emulator = await EmulatorFixture.StartAsync(ScenarioData.IncompressibleFile(Path1, 1 << 20, seed: 1));
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        var newer = ScenarioData.IncompressibleFile(Path1, 1 << 20, seed: 2);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { newer });

        var result = await session.DownloadAsync(request).WaitAsync(Bound);

        Assert.False(result.Skipped);
        Assert.Equal(EmulatorFixture.Content(newer), File.ReadAllBytes(request.DestinationPath));
    }

    [Fact]
    public async Task A_copy_changed_locally_since_our_download_needs_overwrite()
    {
        await using var emulator = await EmulatorFixture.StartAsync(ScenarioData.IncompressibleFile(Path1, 1 << 20, seed: 1));
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        File.WriteAllText(request.DestinationPath, "edited by hand");

        await Assert.ThrowsAsync<XetDestinationExistsException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Equal("edited by hand", File.ReadAllText(request.DestinationPath));
    }
}
