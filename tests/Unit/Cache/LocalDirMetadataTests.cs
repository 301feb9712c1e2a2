using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;
using XetPs.Tests.Reconstruction;

namespace XetPs.Tests.Cache;

/// <summary>
/// huggingface_hub's local-dir metadata (<c>_local_folder.py</c>: <c>&lt;dir&gt;/.cache/huggingface/download/&lt;path&gt;.metadata</c>,
/// three lines: commit, etag, <c>time.time()</c>; trusted while the file's mtime is at most a second past it), written
/// when XetPs saves into a folder and read when it finds a file there.
/// </summary>
public sealed class LocalDirMetadataTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin", ReadmePath = "README.md";

    private static RepoFile Model() => ScenarioData.IncompressibleFile(ModelPath, 1 << 20, 51);

    private static RepoFile Readme() => RepoFile.FromText(ReadmePath, "# local dir\n");

    private static string MetadataPath(EmulatorFixture emulator, string repoPath) =>
        Path.Combine(emulator.Root, ".cache", "huggingface", "download", repoPath.Replace('/', Path.DirectorySeparatorChar) + ".metadata");

    private static StoredFile Stored(EmulatorFixture emulator, string path) =>
        emulator.Server.Store.Resolve(EmulatorFixture.Repo, "main")!.Files.Single(f => f.Path == path);

    /// <summary>What `hf download --local-dir` leaves: the file and its metadata, written after it.</summary>
    private static void AsHuggingFaceLeftIt(EmulatorFixture emulator, string repoPath, byte[] content, string commit, string etag)
    {
        var file = Path.Combine(emulator.Root, repoPath.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, content);
        Directory.CreateDirectory(Path.GetDirectoryName(MetadataPath(emulator, repoPath))!);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 1;
        File.WriteAllText(MetadataPath(emulator, repoPath), $"{commit}\n{etag}\n{now.ToString("R", CultureInfo.InvariantCulture)}\n");
    }

    [Fact]
    public async Task A_file_saved_into_a_folder_gets_huggingface_hub_local_dir_metadata()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model(), Readme());
        await using var session = new XetSession(emulator.Options());

        var model = await session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);
        await session.DownloadAsync(emulator.Request(ReadmePath)).WaitAsync(Bound);

        // The etag is the sha256 of a Xet file, the git blob id of a plain one; the time is not before the file's mtime.
        var lines = File.ReadAllText(MetadataPath(emulator, ModelPath)).Split('\n');
        Assert.Equal(emulator.Revision, lines[0]);
        Assert.Equal(Stored(emulator, ModelPath).Sha256, lines[1]);
        var seconds = double.Parse(lines[2], CultureInfo.InvariantCulture);
        Assert.True(File.GetLastWriteTimeUtc(model.DestinationPath) <= DateTime.UnixEpoch.AddSeconds(seconds + 1));
        Assert.Equal("", lines[3]);
        Assert.Equal(Stored(emulator, ReadmePath).GitOid, File.ReadAllText(MetadataPath(emulator, ReadmePath)).Split('\n')[1]);
        Assert.Equal("*", File.ReadAllText(Path.Combine(emulator.Root, ".cache", "huggingface", ".gitignore")));
        Assert.True(File.Exists(Path.Combine(emulator.Root, ".cache", "huggingface", "CACHEDIR.TAG")));
    }

    [Fact]
    public async Task A_folder_hf_download_filled_is_up_to_date_without_a_transfer()
    {
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model);
        AsHuggingFaceLeftIt(emulator, ModelPath, EmulatorFixture.Content(model), emulator.Revision, Stored(emulator, ModelPath).Sha256);
        await using var session = new XetSession(emulator.Options());

        var result = await session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);

        Assert.True(result.Skipped);
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Reconstruction));
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Xorb));
    }

    [Fact]
    public async Task Huggingface_metadata_is_trusted_unhashed_only_without_verification()
    {
        // huggingface_hub trusts its metadata (etag and mtime) without hashing; so does -SkipVerification. A verifying
        // run hashes the file once, and here finds it damaged: same size, one byte changed before the metadata was written.
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model);
        var damaged = EmulatorFixture.Content(model);
        damaged[777] ^= 0x01;
        AsHuggingFaceLeftIt(emulator, ModelPath, damaged, emulator.Revision, Stored(emulator, ModelPath).Sha256);
        var unverified = emulator.Options();
        unverified.Verify = false;

        await using (var trusting = new XetSession(unverified))
            Assert.True((await trusting.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound)).Skipped);
        await using var verifying = new XetSession(emulator.Options());
        var result = await verifying.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);

        Assert.False(result.Skipped);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(result.DestinationPath));
    }

    [Fact]
    public async Task An_older_version_hf_download_left_is_replaced_without_Force()
    {
        // Without the metadata such a file is someone else's (XetDestinationExists unless -Force); with it, it is what a
        // Hugging Face download of another version left, as huggingface_hub would replace it.
        var model = Model();
        await using var emulator = await EmulatorFixture.StartAsync(model);
        AsHuggingFaceLeftIt(emulator, ModelPath, new byte[] { 1, 2, 3 }, new string('e', 40), new string('f', 64));
        await using var session = new XetSession(emulator.Options());

        var result = await session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);

        Assert.False(result.Skipped);
        Assert.Equal(EmulatorFixture.Content(model), File.ReadAllBytes(result.DestinationPath));
        Assert.Equal(emulator.Revision, File.ReadAllText(MetadataPath(emulator, ModelPath)).Split('\n')[0]);
    }

    [Fact]
    public async Task A_file_without_huggingface_metadata_is_still_someone_elses()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model());
        var file = Path.Combine(emulator.Root, "weights", "model.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, new byte[] { 1, 2, 3 });
        await using var session = new XetSession(emulator.Options());

        await Assert.ThrowsAsync<XetDestinationExistsException>(() => session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound));
    }
}
