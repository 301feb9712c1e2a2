using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;
using XetPs.Tests.Reconstruction;

namespace XetPs.Tests.Cache;

/// <summary>
/// The cache read and pruned as huggingface_hub's <c>scan_cache_dir</c> and <c>delete_revisions</c> do
/// (utils/_cache_manager.py): sizes count each blob once; a blob goes only when no remaining snapshot links it; a
/// repository all of whose revisions go is deleted whole.
/// </summary>
public sealed class CacheScanTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Two commits of one repo in the cache: the first (now detached) with shared.bin and old.bin, the second (refs/main)
    /// with shared.bin (the same blob) and new.bin.
    /// </summary>
    private static async Task<(EmulatorFixture Emulator, HubCache Cache, string First, string Second)> TwoRevisionsAsync()
    {
        var shared = ScenarioData.IncompressibleFile("shared.bin", 300_000, 61);
        var emulator = await EmulatorFixture.StartAsync(shared, RepoFile.FromText("old.bin", new string('o', 5000)));
        var first = emulator.Revision;
        var cache = new HubCache(Path.Combine(emulator.Root, "hub"));
        await using (var session = new XetSession(emulator.Options()))
        {
            foreach (var path in new[] { "shared.bin", "old.bin" })
                await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", path, cache)).WaitAsync(Bound);
            var second = (await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromText("new.bin", new string('n', 7000)) },
                new CommitOptions { Delete = { "old.bin" } })).Id;
            foreach (var path in new[] { "shared.bin", "new.bin" })
                await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", path, cache)).WaitAsync(Bound);
            return (emulator, cache, first, second);
        }
    }

    [Fact]
    public async Task A_scan_reports_revisions_refs_files_and_each_blob_once()
    {
        var (emulator, cache, first, second) = await TwoRevisionsAsync();
        await using var _ = emulator;

        var scan = CacheScan.Scan(cache);

        var repo = Assert.Single(scan.Repos);
        Assert.Equal(EmulatorFixture.Repo, repo.Repo);
        Assert.Equal(3, repo.FileCount);
        Assert.Equal(300_000 + 5000 + 7000, repo.Size);
        Assert.Equal(new[] { "main" }, repo.Refs);
        var detached = repo.Revisions.Single(r => r.Commit == first);
        var head = repo.Revisions.Single(r => r.Commit == second);
        Assert.Empty(detached.Refs);
        Assert.Equal(new[] { "main" }, head.Refs);
        Assert.Equal(new[] { "new.bin", "shared.bin" }, head.Files.Select(f => f.Path));
        Assert.Equal(300_000 + 7000, head.Size);
        Assert.Empty(scan.Warnings);
        Assert.Empty(scan.Incomplete);
    }

    [Fact]
    public async Task Removing_a_revision_keeps_the_blobs_another_revision_links()
    {
        var (emulator, cache, first, second) = await TwoRevisionsAsync();
        await using var _ = emulator;

        var plan = CacheDeletion.Plan(CacheScan.Scan(cache), new[] { (EmulatorFixture.Repo, first) });
        plan.Execute();

        Assert.Equal(5000, plan.FreedBytes);
        var repo = Assert.Single(CacheScan.Scan(cache).Repos);
        Assert.Equal(second, Assert.Single(repo.Revisions).Commit);
        Assert.Equal(2, repo.FileCount);
        Assert.Equal(new string('n', 7000), File.ReadAllText(cache.SnapshotPath(EmulatorFixture.Repo, second, "new.bin")));
        Assert.Equal(300_000, File.ReadAllBytes(cache.SnapshotPath(EmulatorFixture.Repo, second, "shared.bin")).Length);
    }

    [Fact]
    public async Task Removing_every_revision_removes_the_repository_folder()
    {
        var (emulator, cache, first, second) = await TwoRevisionsAsync();
        await using var _ = emulator;

        var plan = CacheDeletion.Plan(CacheScan.Scan(cache), new[] { (EmulatorFixture.Repo, first), (EmulatorFixture.Repo, second) });
        plan.Execute();

        Assert.Equal(312_000, plan.FreedBytes);
        Assert.False(Directory.Exists(cache.RepoFolder(EmulatorFixture.Repo)));
        Assert.Empty(CacheScan.Scan(cache).Repos);
    }

    [Fact]
    public async Task Partial_blobs_and_stray_folders_are_reported_not_fatal()
    {
        var (emulator, cache, _, _) = await TwoRevisionsAsync();
        await using var __ = emulator;
        var partial = Path.Combine(cache.RepoFolder(EmulatorFixture.Repo), "blobs", new string('a', 64) + ".incomplete");
        File.WriteAllBytes(partial, new byte[1234]);
        Directory.CreateDirectory(Path.Combine(cache.Root, "not-a-repo"));

        var scan = CacheScan.Scan(cache);

        Assert.Single(scan.Repos);
        var found = Assert.Single(scan.Incomplete);
        Assert.Equal(partial, found.FilePath);
        Assert.Equal(1234, found.Size);
        Assert.Contains(scan.Warnings, w => w.Contains("not-a-repo", StringComparison.Ordinal));
    }
}
