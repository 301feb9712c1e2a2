using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// The plan a scheduled job reads before it downloads (<see cref="XetSession.PlanAsync(FileDownloadRequest, CancellationToken)"/>):
/// each file's state against the Hub's revision and the bytes a download would need, found without transferring
/// file bytes and without writing anything.
/// </summary>
public sealed class FilePlanTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin", ReadmePath = "README.md";

    private static RepoFile Model(int size = 1 << 20) => ScenarioData.IncompressibleFile(ModelPath, size, 71);

    private static RepoFile Readme() => RepoFile.FromText(ReadmePath, "# plan\n");

    [Fact]
    public async Task A_folder_plan_tells_missing_up_to_date_unverified_and_changed_files_apart()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model, Readme());
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(ModelPath);

        var missing = await session.PlanAsync(request).WaitAsync(Bound);
        Assert.False(Directory.Exists(Path.Combine(emulator.Root, ".cache"))); // planning writes nothing
        await session.DownloadAsync(request).WaitAsync(Bound);
        await session.DownloadAsync(emulator.Request(ReadmePath)).WaitAsync(Bound);
        emulator.Server.Log.Clear();
        var upToDate = await session.PlanAsync(request).WaitAsync(Bound);
        File.SetLastWriteTimeUtc(request.DestinationPath, DateTime.UtcNow.AddMinutes(-5)); // same size, no longer what the record saw
        var unverified = await session.PlanAsync(request).WaitAsync(Bound);
        File.WriteAllText(emulator.Request(ReadmePath).DestinationPath, "edited");
        var changed = await session.PlanAsync(emulator.Request(ReadmePath)).WaitAsync(Bound);

        Assert.Equal((FileState.Missing, 1L << 20), (missing.State, missing.BytesNeeded!.Value));
        Assert.Equal((FileState.UpToDate, 0L), (upToDate.State, upToDate.BytesNeeded!.Value));
        Assert.Equal(FileState.Unverified, unverified.State);
        Assert.Equal(FileState.Changed, changed.State);
        Assert.Equal(request.DestinationPath, upToDate.LocalPath);
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Reconstruction));
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Xorb));
    }

    [Fact]
    public async Task A_plan_counts_the_bytes_an_interrupted_download_left_for_its_resume()
    {
        var model = Model(4 << 20);
        await using var emulator = await EmulatorFixture.StartAsync(model);
        emulator.Server.Faults.Add("xorb:throughput=8M");
        var options = emulator.Options(buffer: 1 << 20, cas: 1);
        options.SegmentSize = 256 * 1024;
        options.JournalCommitInterval = 64 * 1024;
        var request = emulator.Request(ModelPath);
        using var cts = new CancellationTokenSource();
        await using (var first = new XetSession(options))
        {
            var progress = new SyncProgress(p => { if (p.BytesWritten >= (2 << 20)) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.DownloadAsync(request, progress, cts.Token).WaitAsync(Bound));
        }
        await using var session = new XetSession(options);

        var plan = await session.PlanAsync(request).WaitAsync(Bound);
        var resumed = await session.DownloadAsync(request).WaitAsync(Bound);

        Assert.Equal(FileState.Partial, plan.State);
        Assert.InRange(plan.BytesPresent, 1, (4 << 20) - 1);
        Assert.Equal((4L << 20) - plan.BytesPresent, plan.BytesNeeded);
        Assert.True(resumed.Resumed);
    }

    [Fact]
    public async Task A_cache_plan_follows_the_snapshot_entry_then_the_blob()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model(), Readme());
        var cache = new HubCache(Path.Combine(emulator.Root, "hub"));
        await using var session = new XetSession(emulator.Options());
        var request = new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache);

        var missing = await session.PlanAsync(request).WaitAsync(Bound);
        Assert.False(Directory.Exists(cache.Root));
        var saved = await session.DownloadToCacheAsync(request).WaitAsync(Bound);
        var upToDate = await session.PlanAsync(request).WaitAsync(Bound);
        File.Delete(saved.DestinationPath); // the blob stays: a download would only link it
        var blobOnly = await session.PlanAsync(request).WaitAsync(Bound);

        Assert.Equal(FileState.Missing, missing.State);
        Assert.Equal(saved.DestinationPath, missing.LocalPath);
        Assert.Equal(FileState.UpToDate, upToDate.State);
        Assert.Equal(FileState.UpToDate, blobOnly.State);
    }

    [Fact]
    public async Task Offline_a_plan_answers_from_disk_and_sends_nothing()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model(), Readme());
        var cache = new HubCache(Path.Combine(emulator.Root, "hub"));
        await using (var online = new XetSession(emulator.Options()))
            await online.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ReadmePath, cache)).WaitAsync(Bound);
        emulator.Server.Log.Clear();
        var options = emulator.Options();
        options.Offline = true;
        await using var session = new XetSession(options);

        var there = await session.PlanAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ReadmePath, cache)).WaitAsync(Bound);
        var absent = await session.PlanAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);

        Assert.Equal(FileState.UpToDate, there.State);
        Assert.Equal(FileState.Missing, absent.State);
        Assert.Null(absent.BytesNeeded);
        Assert.Empty(emulator.Server.Log.Entries);
    }

    private sealed class SyncProgress(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }
}
