using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>Whole downloads through <see cref="XetSession"/> against the emulator over loopback.</summary>
public class XetSessionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string Path1 = "weights/model.bin";

    private static RepoFile Model(int size = 1 << 20, int seed = 11) => ScenarioData.IncompressibleFile(Path1, size, seed);

    [Fact]
    public async Task Save_downloads_a_xet_file_byte_exact_from_the_emulator()
    {
        var file = Model(3 << 20);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());

        var result = await session.DownloadAsync(emulator.Request(Path1)).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.False(result.Skipped);
        Assert.NotNull(result.XetHash);
        Assert.True(result.BytesReceived > 0);
        Assert.All(emulator.Server.Log.For(EmulatorRoute.Xorb), e => Assert.False(e.HadAuthorization));
    }

    [Fact]
    public async Task A_session_has_the_hashing_loops_compiled_in_the_background_once_per_process()
    {
        // Before any request: the warm-up overlaps the first requests, and a second session starts no other.
        await using var first = new XetSession(new XetSessionOptions());
        var warmUp = HotLoopWarmUp.Completion;
        Assert.NotNull(warmUp);
        await using var second = new XetSession(new XetSessionOptions());

        await warmUp!.WaitAsync(Bound); // a fault in the kernels would surface here
        Assert.Same(warmUp, HotLoopWarmUp.Completion);
    }

    [Fact]
    public async Task Save_downloads_a_compressible_file_split_over_segments_with_a_small_buffer()
    {
        var file = ScenarioData.TextFile("notes/corpus.txt", 3 << 20, seed: 5);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        var options = emulator.Options(buffer: 1 << 20, cas: 2);
        options.SegmentSize = 256 * 1024;
        await using var session = new XetSession(options);

        var result = await session.DownloadAsync(emulator.Request("notes/corpus.txt")).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.True(session.Resources.Registry.Permits.HighWater <= options.BufferSize);
        Assert.True(emulator.Server.Log.For(EmulatorRoute.Reconstruction).Count >= 12);
    }

    [Fact]
    public async Task The_seed_incident_shape_completes_byte_exact_with_a_1_MiB_buffer_2_cas_permits_and_a_throttled_server()
    {
        var shape = new SeedIncident { FileSize = 4L << 20 }; // 2366 terms over 932 xorbs, ranges reused far apart
        var file = ScenarioData.SeedIncidentFile("seed/model.bin", shape);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:throughput=16M,latency=1ms");
        var options = emulator.Options(buffer: 1 << 20, cas: 2);
        options.SegmentSize = 1 << 20;
        await using var session = new XetSession(options);

        var result = await session.DownloadAsync(emulator.Request("seed/model.bin")).WaitAsync(Bound);

        var stored = emulator.Server.Store.Resolve(EmulatorFixture.Repo, "main")!.Files.Single(f => f.Path == "seed/model.bin");
        using var expected = new MemoryStream();
        await emulator.Server.Store.CopyContentAsync(stored, expected, 0, stored.Size);
        Assert.Equal(expected.ToArray(), File.ReadAllBytes(result.DestinationPath));
        Assert.Equal(shape.ActualFileSize, result.Size);
        Assert.True(session.Resources.Registry.Permits.HighWater <= options.BufferSize);
    }

    [Theory]
    [InlineData("xorb:status=503,times=3")]
    [InlineData("xorb:status=500,rate=0.3")]
    [InlineData("xorb:status=429,retry-after=1,times=2")]
    [InlineData("xorb:reset-after=3000,times=2")]
    [InlineData("xorb:truncate-after=5000,times=2")]
    [InlineData("xorb:stall=3s,stall-after=100,times=1")]
    [InlineData("xorb:status=403,times=2")]
    [InlineData("xorb:latency=30ms,throughput=4M")]
    [InlineData("reconstruction:status=503,times=2")]
    [InlineData("reconstruction:reset-after=10,times=1")]
    [InlineData("token:status=500,times=1")]
    [InlineData("resolve:status=502,times=1")]
    public async Task Save_completes_byte_exact_through_a_transient_fault(string fault)
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add(fault);
        var options = emulator.Options(buffer: 2 << 20, cas: 4);
        options.ReadTimeout = TimeSpan.FromMilliseconds(700);
        options.SegmentSize = 512 * 1024;
        await using var session = new XetSession(options);

        var result = await session.DownloadAsync(emulator.Request(Path1)).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.True(emulator.Server.Faults.AppliedCount(emulator.Server.Faults.Rules[0]) > 0, "the fault never fired");
    }

    [Theory]
    [InlineData("xorb:status=404", typeof(HttpRequestException))]
    [InlineData("xorb:status=503", typeof(HttpRequestException))]
    [InlineData("xorb:status=403", typeof(XetUrlExpiredException))]
    [InlineData("reconstruction:hostile=lying-length", typeof(XetProtocolException))]
    [InlineData("xorb:hostile=chunk-header", typeof(XorbFormatException))]
    [InlineData("xorb:corrupt-at=20", typeof(XetHashMismatchException))]
    [InlineData("token:status=401", typeof(XetAuthenticationException))]
    public async Task Save_fails_with_the_originating_error_and_leaves_the_destination_untouched(string fault, Type expected)
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add(fault);
        var options = emulator.Options();
        options.MaxRetries = 2;
        await using var session = new XetSession(options);
        var request = emulator.Request(Path1, overwrite: true);
        Directory.CreateDirectory(Path.GetDirectoryName(request.DestinationPath)!);
        File.WriteAllText(request.DestinationPath, "the previous version");

        var error = await Record.ExceptionAsync(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.NotNull(error);
        Assert.IsAssignableFrom(expected, error);
        Assert.IsNotType<AggregateException>(error);
        Assert.Equal("the previous version", File.ReadAllText(request.DestinationPath));
        Assert.Equal(0, session.Resources.Registry.LoadsRunning);
    }

    [Fact]
    public async Task A_reconstruction_request_retried_for_longer_than_the_stall_timeout_fails_with_its_own_error_not_a_stall()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("reconstruction:status=503,retry-after=1");
        var options = emulator.Options();
        options.MaxRetries = 2;
        options.RetryBaseDelay = options.MaxRetryDelay = TimeSpan.FromSeconds(1); // each retry waits the second asked for
        options.StallTimeout = TimeSpan.FromMilliseconds(200); // a tenth of what the retries wait: no byte moves meanwhile
        await using var session = new XetSession(options);
        var request = emulator.Request(Path1);

        var error = await Record.ExceptionAsync(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.IsType<HttpRequestException>(error); // the server's refusal, after the retries ran out
        Assert.Equal(3, emulator.Server.Log.For(EmulatorRoute.Reconstruction).Count());
        Assert.False(File.Exists(request.DestinationPath));
    }

    [Fact]
    public async Task Save_resumes_after_cancellation_and_fetches_fewer_bytes_the_second_time()
    {
        var file = Model(4 << 20, seed: 21);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:throughput=8M");
        var options = emulator.Options(buffer: 1 << 20, cas: 1);
        options.SegmentSize = 256 * 1024;
        options.JournalCommitInterval = 64 * 1024;
        var request = emulator.Request(Path1);
        using var cts = new CancellationTokenSource();
        await using (var first = new XetSession(options))
        {
            var progress = new SyncProgress(p => { if (p.BytesWritten >= (2 << 20)) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.DownloadAsync(request, progress, cts.Token).WaitAsync(Bound));
            Assert.Equal(0, first.Resources.Registry.LoadsRunning);
            Assert.Equal(0, first.Resources.Registry.Permits.Held);
        }
        Assert.False(File.Exists(request.DestinationPath));
        var sentBefore = emulator.Server.Log.For(EmulatorRoute.Xorb).Sum(e => e.BytesSent);

        await using var second = new XetSession(options);
        var result = await second.DownloadAsync(request).WaitAsync(Bound);
        var sentSecond = emulator.Server.Log.For(EmulatorRoute.Xorb).Sum(e => e.BytesSent) - sentBefore;

        Assert.True(result.Resumed, $"not resumed; second run fetched {sentSecond} bytes");
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));

        // The same download from scratch, for comparison.
        await using var third = new XetSession(options);
        var sentBeforeFull = emulator.Server.Log.For(EmulatorRoute.Xorb).Sum(e => e.BytesSent);
        await third.DownloadAsync(request with { DestinationPath = Path.Combine(emulator.Root, "full.bin") }).WaitAsync(Bound);
        var sentFull = emulator.Server.Log.For(EmulatorRoute.Xorb).Sum(e => e.BytesSent) - sentBeforeFull;
        Assert.True(sentSecond < sentFull, $"the resumed run fetched {sentSecond} xorb bytes, a full run {sentFull}");
    }

    [Fact]
    public async Task Disposing_the_session_stops_a_download_in_flight_and_leaves_the_destination_untouched()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:stall=60s,stall-after=10");
        var options = emulator.Options();
        options.ReadTimeout = TimeSpan.FromSeconds(30);
        var session = new XetSession(options);
        var request = emulator.Request(Path1);

        var download = session.DownloadAsync(request);
        for (var i = 0; i < 1000 && session.Resources.Registry.CasPermitsHeld == 0; i++) await Task.Delay(10);
        Assert.True(session.Resources.Registry.CasPermitsHeld > 0, "no xorb request got under way");
        await session.DisposeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => download.WaitAsync(Bound));
        Assert.Equal(0, session.Resources.Registry.LoadsRunning);
        Assert.False(File.Exists(request.DestinationPath));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => session.DownloadAsync(request));
    }

    [Fact]
    public async Task Disposing_the_session_ends_queued_and_running_downloads_before_closing_the_transport()
    {
        // Two Xet files take both slots and stall on their xorbs; three plain files wait for a slot. Before the fix
        // the queued ones ignored the disposal, took a slot once one freed and ran against the closed transport.
        var running = new[] { Model(1 << 20, seed: 31), ScenarioData.IncompressibleFile("weights/other.bin", 1 << 20, 32) };
        var queued = Enumerable.Range(0, 3).Select(i => RepoFile.FromText($"configs/c{i}.json", $"{{\"layer\": {i}}}")).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(running.Concat(queued).ToArray());
        emulator.Server.Faults.Add("xorb:stall=60s,stall-after=10");
        var options = emulator.Options();
        options.MaxFilesInFlight = 2;
        options.ReadTimeout = TimeSpan.FromSeconds(30);
        var session = new XetSession(options);

        var downloads = running.Concat(queued).Select(f => session.DownloadAsync(emulator.Request(f.Path))).ToArray();
        for (var i = 0; i < 1000 && session.Resources.Registry.CasPermitsHeld == 0; i++) await Task.Delay(10);
        Assert.True(session.Resources.Registry.CasPermitsHeld > 0, "no xorb request got under way");
        Assert.Equal(5, session.RunningDownloads);
        await session.DisposeAsync();

        // DisposeAsync returned only once every download had ended.
        Assert.All(downloads, d => Assert.True(d.IsCompleted));
        Assert.Equal(0, session.RunningDownloads);
        Assert.Equal(0, session.Resources.Registry.LoadsRunning);
        Assert.Equal(0, session.Resources.Registry.CasPermitsHeld);
        foreach (var download in downloads)
        {
            var error = await Record.ExceptionAsync(() => download);
            Assert.True(error is OperationCanceledException || error is ObjectDisposedException { ObjectName: nameof(XetSession) },
                $"expected a cancellation, got {error?.GetType().Name ?? "success"}: {error?.Message}");
        }
        Assert.All(running.Concat(queued), f => Assert.False(File.Exists(emulator.Request(f.Path).DestinationPath)));
        Assert.DoesNotContain(emulator.Server.Log.For(EmulatorRoute.Resolve), e => e.Path.Contains("configs/"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Save_downloads_a_file_whose_name_is_250_characters_long(bool xet)
    {
        // The partial file's name once was the destination's name plus 21 characters: past the 255-byte limit.
        var path = "weights/" + new string('m', 246) + ".bin";
        var file = ScenarioData.IncompressibleFile(path, 300_000, seed: 41);
        await using var emulator = await EmulatorFixture.StartAsync(new CommitOptions { XetMinSize = xet ? 1024 : long.MaxValue }, file);
        await using var session = new XetSession(emulator.Options());

        var result = await session.DownloadAsync(emulator.Request(path)).WaitAsync(Bound);

        Assert.Equal(xet, result.XetHash is not null);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.Equal(new[] { result.DestinationPath }, Directory.GetFiles(Path.GetDirectoryName(result.DestinationPath)!));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(emulator.Root, ".cache", "xetps")),
            f => f.EndsWith(".incomplete", StringComparison.Ordinal) || f.EndsWith(".journal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Save_skips_a_file_already_up_to_date_with_or_without_its_metadata_record()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        var xorbRequests = emulator.Server.Log.For(EmulatorRoute.Xorb).Count;

        var again = await session.DownloadAsync(request).WaitAsync(Bound);
        Directory.Delete(Path.Combine(emulator.Root, ".cache"), recursive: true);
        var withoutRecord = await session.DownloadAsync(request).WaitAsync(Bound);

        Assert.True(again.Skipped);
        Assert.True(withoutRecord.Skipped);
        Assert.Equal(xorbRequests, emulator.Server.Log.For(EmulatorRoute.Xorb).Count);
        Assert.True(File.Exists(LocalFileRecord.PathFor(request.DestinationPath, Path1)));
    }

    private const string AnotherBoot = "id:00000000-0000-0000-0000-000000000000";

    /// <summary>The record of a file as a run before a restart left it: its boot line names <see cref="AnotherBoot"/>.</summary>
    private static void RecordAsFromAnotherBoot(string recordPath)
    {
        var lines = File.ReadAllLines(recordPath).Where(l => !l.StartsWith("boot=", StringComparison.Ordinal));
        File.WriteAllLines(recordPath, lines.Append("boot=" + AnotherBoot));
    }

    /// <summary>What a power loss can leave: the record, from another boot, and a file of the right size and time whose
    /// bytes never reached the disk (zeros in its preallocated blocks).</summary>
    private static void LoseTheBytesAsInAPowerLoss(string destination, string recordPath)
    {
        var written = File.GetLastWriteTimeUtc(destination);
        File.WriteAllBytes(destination, new byte[new FileInfo(destination).Length]);
        File.SetLastWriteTimeUtc(destination, written);
        RecordAsFromAnotherBoot(recordPath);
    }

    /// <summary>Downloads <see cref="Path1"/> once; returns its request and the path of its record.</summary>
    private static async Task<(FileDownloadRequest Request, string RecordPath)> DownloadOnceAsync(EmulatorFixture emulator, XetSession session)
    {
        var request = emulator.Request(Path1);
        await session.DownloadAsync(request).WaitAsync(Bound);
        return (request, LocalFileRecord.PathFor(request.DestinationPath, Path1));
    }

    [Fact]
    public async Task A_record_written_before_the_machine_restarted_is_not_trusted_the_file_is_hashed_again()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());
        var (request, recordPath) = await DownloadOnceAsync(emulator, session);
        Assert.Contains("synced=0", File.ReadAllLines(recordPath)); // moved into place without an fsync

        LoseTheBytesAsInAPowerLoss(request.DestinationPath, recordPath);

        // Hashed again, found different: nothing reports the zeros as the file. The record still describes the file
        // (our own download's, unchanged since), so it is downloaded again without needing Overwrite.
        var repaired = await session.DownloadAsync(request).WaitAsync(Bound);
        Assert.False(repaired.Skipped);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(request.DestinationPath));
    }

    [Fact]
    public async Task A_record_of_this_boot_is_trusted_and_one_hashed_after_a_restart_is_forced_to_disk_and_trusted_from_then_on()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());
        var (request, recordPath) = await DownloadOnceAsync(emulator, session);

        // From another boot, bytes intact: hashed once, then recorded as forced to the device.
        RecordAsFromAnotherBoot(recordPath);
        var rehashed = await session.DownloadAsync(request).WaitAsync(Bound);
        Assert.True(rehashed.Skipped);
        Assert.Contains("synced=1", File.ReadAllLines(recordPath));

        // A synced record survives a restart: even bytes changed behind its back (same size and time) are not hashed.
        LoseTheBytesAsInAPowerLoss(request.DestinationPath, recordPath);
        Assert.True((await session.DownloadAsync(request).WaitAsync(Bound)).Skipped);
    }

    [Fact]
    public async Task Save_refuses_to_replace_a_different_file_unless_asked_to()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        Directory.CreateDirectory(Path.GetDirectoryName(request.DestinationPath)!);
        File.WriteAllText(request.DestinationPath, "mine");

        await Assert.ThrowsAsync<XetDestinationExistsException>(() => session.DownloadAsync(request).WaitAsync(Bound));
        Assert.Equal("mine", File.ReadAllText(request.DestinationPath));

        var result = await session.DownloadAsync(request with { Overwrite = true }).WaitAsync(Bound);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
    }

    [Fact]
    public async Task A_file_larger_than_the_free_space_fails_before_its_first_transfer_and_leaves_nothing_behind()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());
        var listed = await session.GetFileAsync(EmulatorFixture.Repo, "main", Path1).WaitAsync(Bound);
        // The listing's own entry, but a petabyte long: no disk on a test machine holds that.
        var request = emulator.Request(Path1) with { Entry = listed with { Size = 1L << 50 } };
        emulator.Server.Log.Clear();

        var error = await Assert.ThrowsAsync<XetInsufficientDiskSpaceException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Equal(1L << 50, error.BytesNeeded);
        Assert.InRange(error.BytesAvailable, 1, (1L << 50) - 1);
        Assert.Contains(request.DestinationPath, error.Message);
        Assert.Contains("1,125,899,906,842,624 bytes (1.0 PiB)", error.Message);
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Reconstruction));
        Assert.Empty(emulator.Server.Log.For(EmulatorRoute.Xorb));
        Assert.False(File.Exists(request.DestinationPath));
        Assert.False(File.Exists(ResumeJournal.PartialPathFor(request.DestinationPath, Path1)));
    }

    [Fact]
    public async Task A_file_that_fits_alone_but_not_beside_one_under_way_is_refused_until_that_one_ends()
    {
        const string Path2 = "weights/second.bin";
        await using var emulator = await EmulatorFixture.StartAsync(Model(), ScenarioData.IncompressibleFile(Path2, 1 << 20, 12));
        await using var session = new XetSession(emulator.Options());
        var share = DiskSpaceLedger.AvailableBytes(emulator.Root)!.Value / 5 * 3; // either fits alone, both do not
        var first = emulator.Request(Path1) with { Entry = (await session.GetFileAsync(EmulatorFixture.Repo, "main", Path1)) with { Size = share } };
        var second = emulator.Request(Path2) with { Entry = (await session.GetFileAsync(EmulatorFixture.Repo, "main", Path2)) with { Size = share } };
        emulator.Server.Faults.Add("reconstruction:stall=60s"); // a download that got its room stays under way

        using var stopFirst = new CancellationTokenSource();
        var firstStarted = new Started();
        var running = session.DownloadAsync(first, firstStarted, stopFirst.Token);
        await firstStarted.Task.WaitAsync(Bound);
        var refused = await Assert.ThrowsAsync<XetInsufficientDiskSpaceException>(() => session.DownloadAsync(second).WaitAsync(Bound));
        stopFirst.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Bound));

        using var stopSecond = new CancellationTokenSource();
        var secondStarted = new Started();
        var admitted = session.DownloadAsync(second, secondStarted, stopSecond.Token);
        await secondStarted.Task.WaitAsync(Bound); // its room was granted once the first had ended
        stopSecond.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => admitted.WaitAsync(Bound));

        Assert.Equal(share, refused.BytesNeeded);
        Assert.Equal(share, refused.BytesPromised);
    }

    [Fact]
    public async Task Two_sessions_saving_the_same_file_at_once_take_turns_and_the_later_one_finds_it_up_to_date()
    {
        // Two runs of a nightly job that overlap, as two sessions (two processes alike): the second waits for the
        // first to finish the file instead of writing the same partial file beside it, then skips it.
        var file = Model(4 << 20, seed: 21);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:throughput=8M,latency=1ms"); // half a second of transfer: the second starts meanwhile
        await using var earlier = new XetSession(emulator.Options());
        var warnings = new ConcurrentQueue<string>();
        await using var later = new XetSession(emulator.Options(), (level, text) => { if (level == XetLogLevel.Warning) warnings.Enqueue(text); });
        var started = new Started();
        var running = earlier.DownloadAsync(emulator.Request(Path1), started);
        await started.Task.WaitAsync(Bound);

        var waited = await later.DownloadAsync(emulator.Request(Path1)).WaitAsync(Bound);
        var finished = await running.WaitAsync(Bound);

        Assert.False(finished.Skipped);
        Assert.True(waited.Skipped);
        Assert.Equal(0, waited.BytesReceived);
        Assert.Contains(warnings, w => w.StartsWith("Waiting for another download of " + finished.DestinationPath, StringComparison.Ordinal));
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(finished.DestinationPath));
    }

    [Fact]
    public async Task A_download_waiting_for_another_of_the_same_file_stops_at_once_when_cancelled()
    {
        await using var emulator = await EmulatorFixture.StartAsync(Model());
        emulator.Server.Faults.Add("reconstruction:stall=60s");
        await using var earlier = new XetSession(emulator.Options());
        await using var later = new XetSession(emulator.Options());
        using var stopEarlier = new CancellationTokenSource();
        var started = new Started();
        var running = earlier.DownloadAsync(emulator.Request(Path1), started, stopEarlier.Token);
        await started.Task.WaitAsync(Bound);
        using var stopLater = new CancellationTokenSource();
        var waiting = later.DownloadAsync(emulator.Request(Path1), null, stopLater.Token);
        await Task.Delay(200);
        var resolves = emulator.Server.Log.For(EmulatorRoute.Resolve).Count;

        stopLater.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Bound));
        stopEarlier.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Bound));

        Assert.Equal(1, resolves); // the earlier one's: the later one, waiting, asked the Hub nothing
        Assert.False(File.Exists(emulator.Request(Path1).DestinationPath));
    }

    [Fact]
    public async Task A_disk_that_fills_during_the_download_fails_the_file_with_the_disks_own_error_and_a_rerun_completes()
    {
        var file = Model(2 << 20, seed: 23);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var session = new XetSession(emulator.Options());
        var request = emulator.Request(Path1);
        // The partial file is where the bytes go before the move; once it is open (the first progress report), its
        // descriptor leads to /dev/full and every write to it fails as on a full disk (ENOSPC), whatever free space the
        // check before the download saw.
        var partial = ResumeJournal.PartialPathFor(request.DestinationPath, Path1);
        var filled = 0;
        var progress = new SyncProgress(_ => { if (filled == 0) filled = FullDisk.Fill(partial); });

        var error = await Assert.ThrowsAsync<IOException>(() => session.DownloadAsync(request, progress).WaitAsync(Bound));

        Assert.Equal(1, filled);
        Assert.Contains("No space left on device", error.Message);
        Assert.False(File.Exists(request.DestinationPath));
        // Room again: the rerun's descriptors are its own.
        var result = await session.DownloadAsync(request).WaitAsync(Bound);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
    }

    /// <summary>Completes at a download's first progress report: it has its room and is under way.</summary>
    private sealed class Started : TaskCompletionSource, IProgress<FileProgress>
    {
        public Started() : base(TaskCreationOptions.RunContinuationsAsynchronously) { }

        public void Report(FileProgress value) => TrySetResult();
    }

    [Fact]
    public async Task Save_downloads_a_plain_file_over_http_and_checks_its_sha256()
    {
        var plain = RepoFile.FromText("config.json", "{\"hidden_size\": 768}"); // below XetMinSize: stored as a plain file
        await using var emulator = await EmulatorFixture.StartAsync(plain, Model());
        await using var session = new XetSession(emulator.Options());

        var entry = await session.GetFileAsync(EmulatorFixture.Repo, "main", "config.json");
        var result = await session.DownloadAsync(emulator.Request("config.json")).WaitAsync(Bound);

        Assert.False(entry.IsXet);
        Assert.Equal("{\"hidden_size\": 768}", File.ReadAllText(result.DestinationPath));
        Assert.Null(result.XetHash);
    }

    [Fact]
    public async Task A_plain_file_whose_body_breaks_off_is_resumed_with_a_range_request()
    {
        var file = ScenarioData.IncompressibleFile("data/table.parquet", 300_000, seed: 8);
        await using var emulator = await EmulatorFixture.StartAsync(new CommitOptions { XetMinSize = long.MaxValue }, file);
        await using var session = new XetSession(emulator.Options());
        var entry = await session.GetFileAsync(EmulatorFixture.Repo, "main", "data/table.parquet");
        emulator.Server.Faults.Add("resolve:truncate-after=100000,times=1");

        var result = await session.DownloadAsync(emulator.Request("data/table.parquet") with { Entry = entry }).WaitAsync(Bound);

        Assert.False(entry.IsXet);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.Contains(emulator.Server.Log.For(EmulatorRoute.Resolve), e => e.Range is not null && e.Range.StartsWith("bytes=100000-"));
    }

    [Fact]
    public async Task A_small_plain_file_that_fails_part_way_is_continued_by_the_next_run_from_where_it_stopped()
    {
        var file = ScenarioData.IncompressibleFile("data/table.parquet", 300_000, seed: 9);
        await using var emulator = await EmulatorFixture.StartAsync(new CommitOptions { XetMinSize = long.MaxValue }, file);
        var failing = emulator.Options();
        failing.MaxRetries = 0;
        await using (var session = new XetSession(failing))
        {
            var entry = await session.GetFileAsync(EmulatorFixture.Repo, "main", "data/table.parquet");
            emulator.Server.Faults.Add("resolve:truncate-after=100000,times=1");
            await Assert.ThrowsAnyAsync<IOException>(() => session.DownloadAsync(emulator.Request("data/table.parquet") with { Entry = entry }).WaitAsync(Bound));
        }

        await using var rerun = new XetSession(emulator.Options());
        var result = await rerun.DownloadAsync(emulator.Request("data/table.parquet")).WaitAsync(Bound);

        Assert.True(result.Resumed);
        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.Contains(emulator.Server.Log.For(EmulatorRoute.Resolve), e => e.Range is not null && e.Range.StartsWith("bytes=100000-"));
        Assert.Empty(Directory.GetFiles(Path.Combine(emulator.Root, ".cache", "xetps"), "*.journal")); // the marker went with the partial
    }

    [Fact]
    public async Task A_plain_file_that_does_not_match_its_git_blob_id_is_refused()
    {
        var file = ScenarioData.IncompressibleFile("data/table.parquet", 50_000, seed: 9);
        await using var emulator = await EmulatorFixture.StartAsync(new CommitOptions { XetMinSize = long.MaxValue }, file);
        await using var session = new XetSession(emulator.Options());
        var entry = await session.GetFileAsync(EmulatorFixture.Repo, "main", "data/table.parquet");
        Assert.NotNull(entry.GitOid);
        var lying = entry with { GitOid = new string('0', 40) };

        await Assert.ThrowsAsync<XetHashMismatchException>(() => session.DownloadAsync(emulator.Request("data/table.parquet") with { Entry = lying }).WaitAsync(Bound));

        Assert.False(File.Exists(emulator.Request("data/table.parquet").DestinationPath));
    }

    [Fact]
    public async Task Listing_then_saving_every_file_works_through_one_session()
    {
        var files = ScenarioData.ManySmallFiles("shards", 6, 10_000, 300_000, seed: 3).ToArray();
        await using var emulator = await EmulatorFixture.StartAsync(files);
        await using var session = new XetSession(emulator.Options(buffer: 1 << 20, cas: 3));

        var entries = await session.ListFilesAsync(EmulatorFixture.Repo, "main", null, recursive: true).ToListAsync();
        var results = await Task.WhenAll(entries.Select(e =>
            session.DownloadAsync(new FileDownloadRequest(e.Repo, e.Revision, e.Path, SafePath.Combine(emulator.Root, e.Path)) { Entry = e })));

        Assert.Equal(files.Length, results.Length);
        foreach (var file in files)
            Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(SafePath.Combine(emulator.Root, file.Path)));
    }

    [Fact]
    public async Task Logs_reach_the_callback_and_never_contain_the_token()
    {
        var file = Model();
        await using var emulator = await EmulatorFixture.StartAsync(file);
        emulator.Server.Faults.Add("xorb:status=403,times=1");
        var lines = new ConcurrentQueue<string>();
        await using var session = new XetSession(emulator.Options(), (level, message) => lines.Enqueue(level + " " + message));

        await session.DownloadAsync(emulator.Request(Path1)).WaitAsync(Bound);

        Assert.NotEmpty(lines);
        Assert.Contains(lines, l => l.Contains(Path1));
        Assert.DoesNotContain(lines, l => l.Contains(EmulatorOptions.DefaultHubToken));
        Assert.DoesNotContain(lines, l => l.Contains("Signature=") || l.Contains("sig="));
    }

    private sealed class SyncProgress(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }
}
