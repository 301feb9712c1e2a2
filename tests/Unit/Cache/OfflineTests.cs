using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Hub;
using XetPs.Reconstruction;
using XetPs.Tests.Reconstruction;

namespace XetPs.Tests.Cache;

/// <summary>
/// Offline (HF_HUB_OFFLINE, -Offline): answers from what is on disk, as huggingface_hub's
/// <c>_hf_hub_download_to_cache_dir</c> does when it cannot reach the Hub (revision through refs/, or a commit as is,
/// then the snapshot entry), with nothing sent: every spec checks the emulator saw no request.
/// </summary>
public sealed class OfflineTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin", ReadmePath = "README.md";

    private static RepoFile Model() => ScenarioData.IncompressibleFile(ModelPath, 1 << 20, 41);

    private static RepoFile Readme() => RepoFile.FromText(ReadmePath, "# offline\n");

    private static HubCache CacheOf(EmulatorFixture emulator) => new(Path.Combine(emulator.Root, "hub"));

    private static XetSessionOptions Offline(EmulatorFixture emulator)
    {
        var options = emulator.Options();
        options.Offline = true;
        return options;
    }

    /// <summary>The sample files saved into the cache online (by branch, so refs/main exists), then the request log cleared.</summary>
    private static async Task FillAsync(EmulatorFixture emulator, HubCache cache, params string[] paths)
    {
        await using var online = new XetSession(emulator.Options());
        foreach (var path in paths)
            await online.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", path, cache)).WaitAsync(Bound);
        emulator.Server.Log.Clear();
    }

    [Fact]
    public async Task Offline_a_branch_is_resolved_through_refs_and_the_file_answered_from_the_cache()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model, Readme());
        var cache = CacheOf(emulator);
        await FillAsync(emulator, cache, ModelPath);
        await using var session = new XetSession(Offline(emulator));

        var answered = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);
        var byCommit = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, emulator.Revision, ModelPath, cache)).WaitAsync(Bound);

        Assert.True(answered.Skipped);
        Assert.Equal(cache.SnapshotPath(EmulatorFixture.Repo, emulator.Revision, ModelPath), answered.DestinationPath);
        Assert.Equal(answered.DestinationPath, byCommit.DestinationPath);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(answered.DestinationPath));
        Assert.Empty(emulator.Server.Log.Entries);
    }

    [Fact]
    public async Task Offline_a_file_the_cache_lacks_fails_with_XetOffline_naming_it()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model(), Readme());
        var cache = CacheOf(emulator);
        await FillAsync(emulator, cache, ReadmePath);
        await using var session = new XetSession(Offline(emulator));

        var missing = await Assert.ThrowsAsync<XetOfflineException>(() =>
            session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound));
        var noRef = await Assert.ThrowsAsync<XetOfflineException>(() =>
            session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "dev", ReadmePath, cache)).WaitAsync(Bound));

        Assert.Equal(ModelPath, missing.Path);
        Assert.Contains(ModelPath, missing.Message, StringComparison.Ordinal);
        Assert.Contains("no ref 'dev'", noRef.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Server.Log.Entries);
    }

    [Fact]
    public async Task Offline_a_blob_changed_since_it_was_saved_fails_its_hash_check()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model());
        var cache = CacheOf(emulator);
        await FillAsync(emulator, cache, ModelPath);
        var sha256 = emulator.Server.Store.Resolve(EmulatorFixture.Repo, "main")!.Files.Single(f => f.Path == ModelPath).Sha256;
        using (var blob = new FileStream(cache.BlobPath(EmulatorFixture.Repo, sha256), FileMode.Open, FileAccess.Write))
        {
            blob.Position = 1000;
            blob.WriteByte(0x5A);
        }
        await using var session = new XetSession(Offline(emulator));

        var error = await Assert.ThrowsAsync<XetOfflineException>(() =>
            session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound));

        Assert.Contains("does not match its hash", error.Message, StringComparison.Ordinal);
        Assert.Empty(emulator.Server.Log.Entries);
    }

    [Fact]
    public async Task A_cached_snapshot_lists_offline_with_sizes_etags_and_the_recorded_xet_hash()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model, Readme());
        var cache = CacheOf(emulator);
        await FillAsync(emulator, cache, ModelPath, ReadmePath);
        var stored = emulator.Server.Store.Resolve(EmulatorFixture.Repo, "main")!.Files;

        var listed = CachedSnapshot.List(cache, EmulatorFixture.Repo, "main", null, recursive: true);
        var top = CachedSnapshot.List(cache, EmulatorFixture.Repo, emulator.Revision, null, recursive: false);

        Assert.Equal(new[] { ReadmePath, ModelPath }, listed.Select(e => e.Path));
        var weights = listed.Single(e => e.Path == ModelPath);
        Assert.Equal(emulator.Revision, weights.Revision);
        Assert.Equal(model.Open().Length, weights.Size);
        Assert.Equal(stored.Single(f => f.Path == ModelPath).Sha256, weights.Sha256);
        Assert.Equal(stored.Single(f => f.Path == ModelPath).XetHash, weights.XetHash);
        Assert.Equal(stored.Single(f => f.Path == ReadmePath).GitOid, listed.Single(e => e.Path == ReadmePath).GitOid);
        Assert.Equal(new[] { ReadmePath }, top.Select(e => e.Path));
        Assert.Throws<XetOfflineException>(() => CachedSnapshot.List(cache, EmulatorFixture.Repo, "dev", null, true));
    }

    [Fact]
    public async Task Offline_a_folder_answers_the_file_it_holds_and_names_the_one_it_lacks()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model, Readme());
        await using (var online = new XetSession(emulator.Options()))
            await online.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);
        emulator.Server.Log.Clear();
        await using var session = new XetSession(Offline(emulator));

        var answered = await session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);
        var missing = await Assert.ThrowsAsync<XetOfflineException>(() => session.DownloadAsync(emulator.Request(ReadmePath)).WaitAsync(Bound));

        Assert.True(answered.Skipped);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(answered.DestinationPath));
        Assert.Equal(ReadmePath, missing.Path);
        Assert.False(File.Exists(Path.Combine(emulator.Root, ".cache", "xetps", ReadmePath + ".meta")));
        Assert.Empty(emulator.Server.Log.Entries);
    }

    [Fact]
    public async Task Offline_a_folder_whose_huggingface_metadata_names_another_commit_does_not_answer_a_pinned_one()
    {
        // As `hf download --local-dir` leaves it: the file and .cache/huggingface/download/<path>.metadata.
        await using var emulator = await EmulatorFixture.StartAsync(Readme());
        File.WriteAllText(Path.Combine(emulator.Root, ReadmePath), "# offline\n");
        var other = new string('c', 40);
        Directory.CreateDirectory(Path.Combine(emulator.Root, ".cache", "huggingface", "download"));
        File.WriteAllText(Path.Combine(emulator.Root, ".cache", "huggingface", "download", ReadmePath + ".metadata"),
            $"{other}\n{new string('d', 40)}\n1712656091.123\n");
        await using var session = new XetSession(Offline(emulator));

        var error = await Assert.ThrowsAsync<XetOfflineException>(() =>
            session.DownloadAsync(emulator.Request(ReadmePath) with { Revision = emulator.Revision }).WaitAsync(Bound));
        var byBranch = await session.DownloadAsync(emulator.Request(ReadmePath)).WaitAsync(Bound);

        Assert.Contains(other, error.Message, StringComparison.Ordinal);
        Assert.True(byBranch.Skipped);
        Assert.Empty(emulator.Server.Log.Entries);
    }
}
