using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;
using XetPs.Tests.Reconstruction;

namespace XetPs.Tests.Cache;

/// <summary>
/// A newer revision of a file saved into the Hugging Face cache reads the chunks it shares with the file's blob in an
/// older snapshot, and leaves that blob, and the older snapshot, as they were.
/// </summary>
public sealed class CacheUpdateTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin";

    private static byte[] Random(int size, int seed)
    {
        using var stream = ScenarioData.Incompressible(size, seed);
        var bytes = new byte[size];
        stream.ReadExactly(bytes);
        return bytes;
    }

    [Fact]
    public async Task A_newer_revision_reuses_the_chunks_of_the_older_snapshots_blob()
    {
        var first = Random(16 << 20, seed: 41);
        var second = first.Concat(Random(1 << 20, seed: 42)).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(ModelPath, first).AsXet());
        var cache = new HubCache(Path.Combine(emulator.Root, "hub"));
        await using var session = new XetSession(emulator.Options());
        var old = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(ModelPath, second).AsXet() });
        emulator.Server.Log.Clear();

        var updated = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);

        var fetched = emulator.Server.Log.For(EmulatorRoute.Xorb).Sum(e => e.BytesSent);
        Assert.InRange(fetched, 1 << 20, (1 << 20) + (512 << 10)); // the appended MiB and the old last chunk
        Assert.True(updated.BytesReused >= (16 << 20) - (128 << 10), $"reused {updated.BytesReused}");
        Assert.Equal(second, File.ReadAllBytes(updated.DestinationPath));
        Assert.Equal(first, File.ReadAllBytes(old.DestinationPath)); // the older snapshot still reads its own version
        Assert.NotEqual(old.DestinationPath, updated.DestinationPath);
    }

    [Fact]
    public async Task The_plan_of_a_newer_revision_counts_the_bytes_the_older_blob_holds()
    {
        var first = Random(8 << 20, seed: 43);
        var second = first.Concat(Random(1 << 20, seed: 44)).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(ModelPath, first).AsXet());
        var cache = new HubCache(Path.Combine(emulator.Root, "hub"));
        await using var session = new XetSession(emulator.Options());
        await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(ModelPath, second).AsXet() });

        var plan = await session.PlanAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);

        Assert.Equal(FileState.Missing, plan.State);
        Assert.InRange(plan.BytesNeeded!.Value, 1 << 20, (1 << 20) + (256 << 10));
    }
}
