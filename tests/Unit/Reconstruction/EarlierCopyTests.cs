using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Xunit.Abstractions;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// A nightly job fetches only what changed: when a newer version of a file is saved over the copy an earlier verified
/// download left, every chunk the two share is read from the old copy, and only the rest is fetched. The result is
/// verified end to end as always; a damaged old copy only costs a full download.
/// </summary>
public sealed class EarlierCopyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string Path1 = "weights/model.bin";
    private readonly ITestOutputHelper _output;

    public EarlierCopyTests(ITestOutputHelper output) => _output = output;

    private static byte[] Random(int size, int seed)
    {
        using var stream = ScenarioData.Incompressible(size, seed);
        var bytes = new byte[size];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Saves <paramref name="first"/>, commits <paramref name="second"/> over it on the Hub, and saves again,
    /// counting the xorb bytes the second download fetched.</summary>
    private async Task<(FileDownloadResult Result, long Fetched, string Destination)> UpdateAsync(byte[] first, byte[] second,
        Action<string>? betweenDownloads = null, XetSessionOptions? options = null, ConcurrentQueue<string>? log = null)
    {
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(Path1, first).AsXet());
        await using var session = new XetSession(options ?? emulator.Options(), (_, line) => log?.Enqueue(line));
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(Path1, second).AsXet() });
        betweenDownloads?.Invoke(request.DestinationPath);
        emulator.Server.Log.Clear();

        var result = await session.DownloadAsync(request).WaitAsync(Bound);

        var fetched = emulator.Server.Log.For(EmulatorRoute.Xorb).Sum(e => e.BytesSent);
        Assert.Equal(second, File.ReadAllBytes(request.DestinationPath));
        return (result, fetched, request.DestinationPath);
    }

    [Fact]
    public async Task A_new_version_with_4_MiB_appended_fetches_about_the_appended_bytes()
    {
        var first = Random(64 << 20, seed: 1);
        var second = first.Concat(Random(4 << 20, seed: 2)).ToArray();

        var (result, fetched, _) = await UpdateAsync(first, second);

        // What changed: the 4 MiB, and the old last chunk, which end of file had cut short (at most 128 KiB).
        _output.WriteLine($"fetched {fetched} of {second.Length} bytes: {(double)fetched / second.Length:0.000}");
        Assert.InRange(fetched, 4 << 20, (4 << 20) + (512 << 10));
        Assert.True(result.BytesReused >= (64 << 20) - (128 << 10), $"reused {result.BytesReused}");
    }

    [Fact]
    public async Task A_new_version_with_1_MiB_changed_in_the_middle_fetches_about_the_changed_bytes()
    {
        var first = Random(64 << 20, seed: 3);
        var second = (byte[])first.Clone();
        Random(1 << 20, seed: 4).CopyTo(second, 32 << 20);

        var (result, fetched, _) = await UpdateAsync(first, second);

        // What changed: the 1 MiB, and the chunks it cuts at either end (at most 128 KiB each).
        _output.WriteLine($"fetched {fetched} of {second.Length} bytes: {(double)fetched / second.Length:0.000}");
        Assert.InRange(fetched, 1 << 20, (1 << 20) + (512 << 10));
        Assert.True(result.BytesReused >= (63 << 20) - (256 << 10), $"reused {result.BytesReused}");
    }

    [Fact]
    public async Task An_old_copy_damaged_behind_its_record_fails_the_hash_and_the_file_is_fetched_whole()
    {
        // Bit rot under an unchanged size and time: the record still vouches for the copy, so its chunks are read, the new
        // file's hash does not match, and the refetch does without the copy.
        var first = Random(8 << 20, seed: 5);
        var second = first.Concat(Random(1 << 20, seed: 6)).ToArray();
        var log = new ConcurrentQueue<string>();

        var (result, fetched, _) = await UpdateAsync(first, second, betweenDownloads: destination =>
        {
            var written = File.GetLastWriteTimeUtc(destination);
            using (var file = new FileStream(destination, FileMode.Open, FileAccess.ReadWrite))
            {
                file.Position = 1 << 20;
                var b = file.ReadByte();
                file.Position = 1 << 20;
                file.WriteByte((byte)(b ^ 0xFF));
            }
            File.SetLastWriteTimeUtc(destination, written);
        }, log: log);

        Assert.Contains(log, line => line.Contains("Downloading it again", StringComparison.Ordinal));
        Assert.Equal(0, result.BytesReused);
        Assert.True(fetched >= second.Length, $"the refetch fetched {fetched} of {second.Length} bytes");
    }

    [Fact]
    public async Task An_old_copy_changed_since_its_download_is_not_used_and_needs_overwrite()
    {
        var first = Random(4 << 20, seed: 7);
        var second = first.Concat(Random(1 << 20, seed: 8)).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(Path1, first).AsXet());
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(Path1, second).AsXet() });
        File.SetLastWriteTimeUtc(request.DestinationPath, DateTime.UtcNow.AddMinutes(-1)); // touched by someone else

        await Assert.ThrowsAsync<XetDestinationExistsException>(() => session.DownloadAsync(request).WaitAsync(Bound));
        var result = await session.DownloadAsync(request with { Overwrite = true }).WaitAsync(Bound);

        Assert.Equal(0, result.BytesReused);
        Assert.Equal(second, File.ReadAllBytes(request.DestinationPath));
    }

    [Fact]
    public async Task An_unverified_download_leaves_no_chunk_map_and_its_next_version_is_fetched_whole()
    {
        var first = Random(4 << 20, seed: 9);
        var second = first.Concat(Random(1 << 20, seed: 10)).ToArray();
        string? map = null;
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(Path1, first).AsXet());
        var unverified = emulator.Options();
        unverified.Verify = false;
        await using (var session = new XetSession(unverified))
            await session.DownloadAsync(emulator.Request(Path1)).WaitAsync(Bound);
        map = WrittenTerms.PathFor(emulator.Request(Path1).DestinationPath, Path1);
        Assert.False(File.Exists(map));
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(Path1, second).AsXet() });

        await using var verifying = new XetSession(emulator.Options());
        var result = await verifying.DownloadAsync(emulator.Request(Path1)).WaitAsync(Bound);

        Assert.Equal(0, result.BytesReused);
        Assert.Equal(second, File.ReadAllBytes(result.DestinationPath));
        Assert.True(File.Exists(map));
    }

    [Fact]
    public async Task The_old_copy_stays_whole_when_the_new_version_fails()
    {
        var first = Random(4 << 20, seed: 11);
        var second = first.Concat(Random(1 << 20, seed: 12)).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(Path1, first).AsXet());
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(Path1, second).AsXet() });
        emulator.Server.Faults.Add("xorb:status=404");

        await Assert.ThrowsAnyAsync<Exception>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Equal(first, File.ReadAllBytes(request.DestinationPath));
    }

    [Fact]
    public async Task The_plan_of_a_newer_version_counts_only_the_bytes_it_would_fetch()
    {
        // Test-XetFile and -WhatIf report what a nightly update costs after reuse, not the whole file.
        var first = Random(8 << 20, seed: 13);
        var second = first.Concat(Random(1 << 20, seed: 14)).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(RepoFile.FromBytes(Path1, first).AsXet());
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        await emulator.Server.Store.CommitAsync(EmulatorFixture.Repo, "main", new[] { RepoFile.FromBytes(Path1, second).AsXet() });
        emulator.Server.Log.Clear();

        var plan = await session.PlanAsync(request).WaitAsync(Bound);

        Assert.Equal(FileState.Changed, plan.State);
        Assert.InRange(plan.BytesNeeded!.Value, 1 << 20, (1 << 20) + (256 << 10)); // the appended MiB and the old last chunk
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Xorb)); // planned from the reconstruction alone
        Assert.Equal(first, File.ReadAllBytes(request.DestinationPath));
    }
}
