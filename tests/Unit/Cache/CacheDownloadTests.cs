using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cache;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;
using XetPs.Tests.Reconstruction;

namespace XetPs.Tests.Cache;

/// <summary>
/// Saving into the Hugging Face cache through <see cref="XetSession.DownloadToCacheAsync"/>, against the emulator. The
/// layout asserted is huggingface_hub's (file_download.py: <c>_hf_hub_download_to_cache_dir</c>, <c>_create_symlink</c>,
/// <c>_cache_commit_hash_for_specific_revision</c>), read there since Python cannot run here.
/// </summary>
public sealed class CacheDownloadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin", ReadmePath = "README.md";

    private static RepoFile Model(int size = 1 << 20, int seed = 31) => ScenarioData.IncompressibleFile(ModelPath, size, seed);

    private static RepoFile Readme() => RepoFile.FromText(ReadmePath, "# engine specs\n"); // under XetMinSize: a plain git file

    private static HubCache CacheOf(EmulatorFixture emulator, bool? symlinks = null) => new(Path.Combine(emulator.Root, "hub"), symlinks);

    private static StoredFile Stored(EmulatorFixture emulator, string path) =>
        emulator.Server.Store.Resolve(EmulatorFixture.Repo, "main")!.Files.Single(f => f.Path == path);

    private static string RepoFolder(HubCache cache) => Path.Combine(cache.Root, "models--xetps--engine-specs");

    [Fact]
    public async Task Save_into_the_cache_lays_out_blobs_snapshots_and_refs_as_huggingface_hub_does()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model, Readme());
        var cache = CacheOf(emulator);
        await using var session = new XetSession(emulator.Options());

        var saved = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);
        var readme = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, null, ReadmePath, cache)).WaitAsync(Bound);

        // Blobs are named by the etag: the sha256 (X-Linked-Etag, not the redirect's own ETag) of a Xet file, the git
        // blob id of a plain one; snapshot entries are relative symlinks to them; refs/main holds the bare commit.
        var folder = RepoFolder(cache);
        var sha256 = Stored(emulator, ModelPath).Sha256;
        var gitOid = Stored(emulator, ReadmePath).GitOid;
        Assert.Equal(Path.Combine(folder, "snapshots", emulator.Revision, "weights", "model.bin"), saved.DestinationPath);
        Assert.Equal(Path.Combine("..", "..", "..", "blobs", sha256), new FileInfo(saved.DestinationPath).LinkTarget);
        Assert.Equal(Path.Combine("..", "..", "blobs", gitOid), new FileInfo(readme.DestinationPath).LinkTarget);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(Path.Combine(folder, "blobs", sha256)));
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(saved.DestinationPath));
        Assert.Equal(new[] { gitOid, sha256 }.OrderBy(n => n), Directory.GetFiles(Path.Combine(folder, "blobs")).Select(Path.GetFileName).OrderBy(n => n));
        Assert.Equal(emulator.Revision, File.ReadAllText(Path.Combine(folder, "refs", "main")));
        Assert.True(File.Exists(Path.Combine(cache.Root, ".locks", "models--xetps--engine-specs", sha256 + ".lock")));
        // Nothing of XetPs's where a cache scan looks: the repo folder, .locks and huggingface_hub's CACHEDIR.TAG only.
        Assert.Equal(new[] { ".locks", "CACHEDIR.TAG", "models--xetps--engine-specs" },
            Directory.EnumerateFileSystemEntries(cache.Root).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(new[] { "blobs", "refs", "snapshots" }, Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).OrderBy(n => n));
    }

    [Fact]
    public async Task A_blob_already_in_the_cache_is_linked_without_any_transfer()
    {
        // As huggingface_hub or huggingface.js left it: the blob, named by its sha256, and no record of XetPs's.
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model);
        var cache = CacheOf(emulator);
        var blob = Path.Combine(RepoFolder(cache), "blobs", Stored(emulator, ModelPath).Sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        File.WriteAllBytes(blob, EmulatorFixture.Content(model));
        await using var session = new XetSession(emulator.Options());

        var saved = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);

        Assert.True(saved.Skipped);
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Reconstruction));
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Xorb));
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(saved.DestinationPath));
        Assert.True(SnapshotLink.IsLink(saved.DestinationPath));
    }

    [Fact]
    public async Task A_blob_that_does_not_hash_to_its_name_is_downloaded_again()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model);
        var cache = CacheOf(emulator);
        var blob = Path.Combine(RepoFolder(cache), "blobs", Stored(emulator, ModelPath).Sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var damaged = EmulatorFixture.Content(model);
        damaged[12345] ^= 0xFF;
        File.WriteAllBytes(blob, damaged);
        var log = new ConcurrentQueue<string>();
        await using var session = new XetSession(emulator.Options(), (_, line) => log.Enqueue(line));

        var saved = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);

        Assert.False(saved.Skipped);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(blob));
        Assert.Contains(log, l => l.Contains("does not match its hash", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_symlinks_the_snapshot_holds_the_file_itself_and_says_so_once()
    {
        // huggingface_hub's fallback (Windows without Developer Mode): a new blob is moved into the snapshot, an existing
        // blob is copied (other snapshots may need it). Forced here as HF_HUB_DISABLE_SYMLINKS forces it.
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model, Readme());
        var cache = CacheOf(emulator, symlinks: false);
        var readmeBlob = Path.Combine(RepoFolder(cache), "blobs", Stored(emulator, ReadmePath).GitOid);
        Directory.CreateDirectory(Path.GetDirectoryName(readmeBlob)!);
        File.WriteAllText(readmeBlob, "# engine specs\n");
        var log = new ConcurrentQueue<(XetLogLevel Level, string Line)>();
        await using var session = new XetSession(emulator.Options(), (level, line) => log.Enqueue((level, line)));

        var saved = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache)).WaitAsync(Bound);
        var readme = await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ReadmePath, cache)).WaitAsync(Bound);

        Assert.False(SnapshotLink.IsLink(saved.DestinationPath));
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(saved.DestinationPath));
        Assert.False(File.Exists(Path.Combine(RepoFolder(cache), "blobs", Stored(emulator, ModelPath).Sha256)));
        Assert.False(SnapshotLink.IsLink(readme.DestinationPath));
        Assert.Equal("# engine specs\n", File.ReadAllText(readme.DestinationPath));
        Assert.True(File.Exists(readmeBlob));
        Assert.Single(log, l => l.Level == XetLogLevel.Warning && l.Line.Contains("Symlinks cannot be made", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(RepoFolder(cache), "blobs"), "*.incomplete"));
    }

    [Fact]
    public async Task A_blob_another_process_is_downloading_is_waited_for_then_reused()
    {
        // Python holds the blob's lock while it downloads; XetPs waits, then finds the blob Python moved into place, and
        // downloads nothing: one blob is never downloaded twice at the same time.
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model);
        var cache = CacheOf(emulator);
        var sha256 = Stored(emulator, ModelPath).Sha256;
        var python = PythonFileLock.TryAcquire(Path.Combine(cache.Root, ".locks", "models--xetps--engine-specs", sha256 + ".lock"));
        Assert.NotNull(python);
        await using var session = new XetSession(emulator.Options());

        var saving = session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache));
        await emulator.Server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Resolve, Bound);
        await Task.Delay(300);
        Assert.False(saving.IsCompleted);
        var blob = Path.Combine(RepoFolder(cache), "blobs", sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        File.WriteAllBytes(blob, EmulatorFixture.Content(model));
        python!.Dispose();
        var saved = await saving.WaitAsync(Bound);

        Assert.True(saved.Skipped);
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Xorb));
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(saved.DestinationPath));
    }

    [Fact]
    public async Task An_interrupted_save_into_the_cache_resumes_from_its_incomplete_blob()
    {
        var model = Model(4 << 20, seed: 32);
        await using var emulator = await EmulatorFixture.StartAsync(model);
        emulator.Server.Faults.Add("xorb:throughput=8M");
        var cache = CacheOf(emulator);
        var options = emulator.Options(buffer: 1 << 20, cas: 1);
        options.SegmentSize = 256 * 1024;
        options.JournalCommitInterval = 64 * 1024;
        var request = new CacheDownloadRequest(EmulatorFixture.Repo, "main", ModelPath, cache);
        var sha256 = Stored(emulator, ModelPath).Sha256;
        var incomplete = Path.Combine(RepoFolder(cache), "blobs", sha256 + ".incomplete");
        using var cts = new CancellationTokenSource();
        await using (var first = new XetSession(options))
        {
            var progress = new SyncProgress(p => { if (p.BytesWritten >= (2 << 20)) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.DownloadToCacheAsync(request, progress, cts.Token).WaitAsync(Bound));
        }

        // huggingface_hub's partial name, holding only bytes written (older huggingface_hub resumes from its length);
        // the journal where no cache scan looks.
        Assert.InRange(new FileInfo(incomplete).Length, 1, (4 << 20) - 1);
        Assert.True(File.Exists(Path.Combine(cache.Root, ".locks", "models--xetps--engine-specs", sha256 + ".xetps-journal")));
        Assert.False(File.Exists(Path.Combine(RepoFolder(cache), "snapshots", emulator.Revision, "weights", "model.bin")));

        await using var second = new XetSession(options);
        var saved = await second.DownloadToCacheAsync(request).WaitAsync(Bound);

        Assert.True(saved.Resumed);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(saved.DestinationPath));
        Assert.False(File.Exists(incomplete));
    }

    [Fact]
    public async Task A_branch_revision_records_its_ref_and_a_commit_revision_records_none()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Readme());
        emulator.Server.Store.CreateBranch(EmulatorFixture.Repo, "dev", "main");
        var cache = CacheOf(emulator);
        await using var session = new XetSession(emulator.Options());

        await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, emulator.Revision, ReadmePath, cache)).WaitAsync(Bound);
        Assert.False(Directory.Exists(Path.Combine(RepoFolder(cache), "refs")));
        await session.DownloadToCacheAsync(new CacheDownloadRequest(EmulatorFixture.Repo, "dev", ReadmePath, cache)).WaitAsync(Bound);

        Assert.Equal(new[] { "dev" }, Directory.GetFiles(Path.Combine(RepoFolder(cache), "refs")).Select(Path.GetFileName));
        Assert.Equal(emulator.Revision, File.ReadAllText(Path.Combine(RepoFolder(cache), "refs", "dev")));
    }

    private sealed class SyncProgress(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }
}
