using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// The pipeline of one file against a deterministic in-memory CAS: byte-exactness, the no-stall property under
/// tiny buffers and many schedules, buffer accounting, verification, hostile metadata, cancellation and resume.
/// </summary>
public class FileReconstructorTests
{
    /// <summary>Bounds a run that must finish: a safety net against a hang, not a speed threshold.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Download_is_byte_exact_and_verified()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 7);
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 4 << 20, cas: 4));
        var destination = f.Destination();

        var outcome = await f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(destination));
        Assert.False(outcome.Resumed);
        Assert.False(File.Exists(ResumeJournal.PartialPathFor(destination, "model.bin")));
        Assert.False(File.Exists(ResumeJournal.JournalPathFor(destination, "model.bin")));
        Assert.Equal(0, session.Registry.BlockCount);
        Assert.Equal(0, session.Registry.Permits.Held);
    }

    [Theory]
    [InlineData(16L << 20)]
    [InlineData(64L << 20)]
    [InlineData(512L << 20)]
    [InlineData(2L << 30)]
    public void Segments_are_sized_so_that_four_loads_of_their_largest_blocks_fit_in_the_buffer(long buffer)
    {
        var segment = FileReconstructor.SegmentSizeFor(buffer, segmentSize: 8L << 30);

        // The largest block of a segment: a whole chunk more at each end, every other chunk of the minimum size.
        var decoded = segment + 2L * XorbChunkHeader.MaxUncompressedLength;
        var chunks = decoded / GearChunker.MinChunk + 2;
        var footprint = XorbRegistry.LoadFootprint(decoded + chunks * XorbChunkHeader.Size, decoded, chunks);
        Assert.True(FileReconstructor.LoadsInFlight * footprint <= buffer,
            $"{FileReconstructor.LoadsInFlight} loads of {footprint} bytes exceed the {buffer}-byte buffer");
        // ...and no smaller than those margins make it (fewer, larger requests cost less CPU on both ends): a quarter
        // of the buffer, less two chunks and the slack, less the headers' share.
        var quarter = buffer / FileReconstructor.LoadsInFlight;
        Assert.True(segment >= quarter - quarter / 512 - (512 << 10), $"segment {segment} of a {buffer}-byte buffer");
    }

    [Fact]
    public void A_configured_segment_size_smaller_than_the_buffer_allows_is_kept_and_a_tiny_buffer_gets_64_KiB()
    {
        Assert.Equal(1L << 20, FileReconstructor.SegmentSizeFor(64L << 20, segmentSize: 1L << 20));
        Assert.Equal(64 * 1024, FileReconstructor.SegmentSizeFor(1L << 20, segmentSize: 256L << 20));
    }

    [Fact]
    public async Task Seed_shape_completes_byte_exact_with_a_tiny_buffer_and_one_cas_permit()
    {
        using var f = new ReconstructionFixture(seed: 3);
        var (id, bytes, _) = f.SeedShape(seed: 2366, xorbs: 31, chunksPerXorb: 16, terms: 240, compress: true);
        f.Cas.MaxFetchDelayMs = 2; // a throttled server
        var options = ReconstructionFixture.Options(buffer: 64 * 1024, cas: 1, segment: 128 * 1024);
        var session = ReconstructionFixture.Session(options);
        var destination = f.Destination();

        await f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(destination));
        Assert.True(session.Registry.Permits.HighWater <= options.BufferSize,
            $"peak {session.Registry.Permits.HighWater} > buffer {options.BufferSize}");
    }

    [Fact]
    public async Task Float_like_bg4_data_completes_byte_exact_and_the_buffer_peak_stays_within_its_size()
    {
        using var f = new ReconstructionFixture(seed: 5);
        var random = new Random(44);
        var xorbs = new List<XetHash>();
        for (var x = 0; x < 6; x++)
        {
            var chunks = new List<byte[]>();
            for (var c = 0; c < 12; c++)
            {
                // float32 values of one magnitude: the exponent bytes repeat, so BG4 shrinks them.
                var chunk = new byte[4 * random.Next(2048, 6144)];
                for (var i = 0; i < chunk.Length; i += 4)
                    BitConverter.TryWriteBytes(chunk.AsSpan(i), (float)(random.NextDouble() * 2 - 1));
                chunks.Add(chunk);
            }
            xorbs.Add(f.Cas.AddXorb(chunks, CompressionScheme.ByteGrouping4Lz4));
        }
        var terms = new List<(XetHash, ChunkRange)>();
        for (var t = 0; t < 40; t++)
        {
            var start = random.Next(0, 10);
            terms.Add((xorbs[t % xorbs.Count], new ChunkRange(start, start + random.Next(1, 3))));
        }
        var (id, bytes) = f.Cas.AddFile(terms);
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 2, segment: 128 * 1024);
        var session = ReconstructionFixture.Session(options);
        var destination = f.Destination();

        await f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(destination));
        Assert.True(session.Registry.Permits.HighWater <= options.BufferSize,
            $"peak {session.Registry.Permits.HighWater} > buffer {options.BufferSize}");
        Assert.Equal(0, session.Registry.Permits.Held);
        Assert.Equal(0, session.Registry.Buffers.InUse);
        Assert.True(session.Registry.Buffers.Reserved <= session.Registry.Buffers.Limit);
    }

    [Fact]
    public async Task No_schedule_stalls_over_many_seeds_and_the_buffer_peak_stays_within_its_size()
    {
        // XETPS_STRESS_SEEDS runs a deeper sweep by hand (the suite keeps 40 seeds to stay fast).
        var seeds = int.TryParse(Environment.GetEnvironmentVariable("XETPS_STRESS_SEEDS"), out var n) && n > 0 ? n : 40;
        for (var seed = 1; seed <= seeds; seed++)
        {
            var random = new Random(seed);
            using var f = new ReconstructionFixture(seed);
            var (id, bytes, _) = f.SeedShape(seed, xorbs: random.Next(1, 20), chunksPerXorb: random.Next(4, 20),
                terms: random.Next(1, 120), minChunk: 512, maxChunk: random.Next(1024, 20000), compress: random.Next(2) == 0);
            f.Cas.MaxFetchDelayMs = random.Next(0, 4);
            var options = ReconstructionFixture.Options(buffer: random.Next(64, 1024) * 1024L, cas: random.Next(1, 4),
                segment: random.Next(64, 512) * 1024L);
            options.MaxFilesInFlight = 2;
            var session = ReconstructionFixture.Session(options);

            // Two files at once share the session (and, when seeds collide, ranges).
            var second = f.SeedShape(seed + 1000, xorbs: 3, chunksPerXorb: 8, terms: 20);
            var a = f.RunAsync(session, id, bytes.Length, f.Destination("a.bin"));
            var b = f.RunAsync(session, second.FileId, second.Bytes.Length, f.Destination("b.bin"));
            var all = Task.WhenAll(a, b);
            if (await Task.WhenAny(all, Task.Delay(Bound)) != all)
                Assert.Fail($"seed {seed}: no completion within {Bound.TotalSeconds} s; {session.Registry.Describe()}");
            await all;

            Assert.Equal(bytes, File.ReadAllBytes(f.Destination("a.bin")));
            Assert.Equal(second.Bytes, File.ReadAllBytes(f.Destination("b.bin")));
            Assert.True(session.Registry.Permits.HighWater <= options.BufferSize, $"seed {seed}: peak {session.Registry.Permits.HighWater} > {options.BufferSize}");
            Assert.Equal(0, session.Registry.Permits.Held);
            Assert.Equal(0, session.Registry.BlockCount);
            Assert.Equal(0, session.Registry.LoadsRunning);
            Assert.Equal(0, session.Registry.Buffers.InUse); // every load's memory went back to the slabs
        }
    }

    [Fact]
    public async Task A_server_that_does_not_trim_trailing_chunks_still_yields_a_verified_file()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 19, terms: 60);
        f.Cas.KeepWholeTerms = true;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(segment: 64 * 1024));

        await f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination()));
    }

    /// <summary>A file of three terms over two uncompressed xorbs: the first xorb's chunks 0-4, all of the second's,
    /// then the first's 0-4 again.</summary>
    private static (XetHash Id, byte[] Bytes) ARangeUsedTwice(ReconstructionFixture f, int seed)
    {
        var random = new Random(seed);
        var chunks = Enumerable.Range(0, 6).Select(_ => { var c = new byte[4000]; random.NextBytes(c); return c; }).ToList();
        var x0 = f.Cas.AddXorb(chunks, compress: false);
        var x1 = f.Cas.AddXorb(chunks.Select(c => c.Reverse().ToArray()).ToList(), compress: false);
        return f.Cas.AddFile(new[] { (x0, new ChunkRange(0, 4)), (x1, new ChunkRange(0, 6)), (x0, new ChunkRange(0, 4)) });
    }

    [Fact]
    public async Task A_range_used_twice_in_one_file_is_fetched_once()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes) = ARangeUsedTwice(f, seed: 5);
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 1 << 20, segment: 1 << 20));

        await f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination()));
        Assert.Equal(2, f.Cas.Fetches);
    }

    [Fact]
    public async Task Progress_moves_with_the_bytes_of_a_range_still_arriving()
    {
        // One term over a whole xorb: before, nothing moved between the report of 0 and the one after the whole range
        // had arrived and was written, however long it took (a range can be a 64 MiB xorb).
        using var f = new ReconstructionFixture();
        var random = new Random(5);
        var chunks = Enumerable.Range(0, 8).Select(_ => { var c = new byte[16 << 10]; random.NextBytes(c); return c; }).ToList();
        var xorb = f.Cas.AddXorb(chunks, compress: false);
        var (id, bytes) = f.Cas.AddFile(new[] { (xorb, new ChunkRange(0, 8)) });
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.HalfwayGate = halfway.Task;
        var reports = new System.Collections.Concurrent.ConcurrentQueue<FileProgress>();
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 4 << 20, cas: 2));

        var run = FileReconstructor.RunAsync(session, f.Cas, id, bytes.Length, "model.bin", f.Destination(), new Recorder(reports.Enqueue), default);
        for (var i = 0; i < 2000 && !reports.Any(r => r.BytesArrived > 0); i++) await Task.Delay(5);
        var partway = reports.First(r => r.BytesArrived > 0);
        halfway.SetResult();
        await run.WaitAsync(Bound);

        Assert.Equal(0, partway.BytesWritten); // what is written is never overstated
        Assert.Equal(bytes.Length / 2, partway.BytesArrived, tolerance: 2 * chunks.Count * XorbChunkHeader.Size);
        var last = reports.Last();
        Assert.Equal((bytes.Length, bytes.Length), (last.BytesWritten, last.BytesArrived));
    }

    private sealed class Recorder(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }

    [Fact]
    public async Task Two_files_of_a_session_share_a_xorb_range_being_downloaded()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 9, xorbs: 4, chunksPerXorb: 8, terms: 12);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.FetchGate = gate.Task;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 8 << 20, cas: 8, segment: 1 << 20));

        var a = f.RunAsync(session, id, bytes.Length, f.Destination("a.bin"));
        var b = f.RunAsync(session, id, bytes.Length, f.Destination("b.bin"));
        // Both files claim every term before any byte arrives: then every load must be shared.
        for (var i = 0; i < 2000 && session.Registry.ClaimCount < 24; i++) await Task.Delay(5);
        Assert.Equal(24, session.Registry.ClaimCount);
        gate.SetResult();
        await Task.WhenAll(a, b).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination("a.bin")));
        Assert.Equal(bytes, File.ReadAllBytes(f.Destination("b.bin")));
        Assert.Equal(session.Registry.LoadsStarted, f.Cas.Fetches);
        Assert.True(f.Cas.Fetches <= 4, $"{f.Cas.Fetches} fetches for 4 xorbs");
    }

    [Fact]
    public async Task A_corrupted_chunk_is_caught_by_verification_and_nothing_reaches_the_destination()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, xorbs) = f.SeedShape(seed: 4, xorbs: 3, terms: 9);
        for (var chunk = 0; chunk < 24; chunk++) f.Cas.CorruptChunk(xorbs[1], chunk); // every term of xorb 1 is hit
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options());
        var destination = f.Destination();
        File.WriteAllText(destination, "previous content");

        var error = await Assert.ThrowsAsync<XetHashMismatchException>(() => f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound));

        Assert.Contains("model.bin", error.Message);
        Assert.Equal("previous content", File.ReadAllText(destination));
        Assert.False(File.Exists(ResumeJournal.PartialPathFor(destination, "model.bin")));
    }

    [Fact]
    public async Task A_lying_unpacked_length_is_caught_before_any_xorb_byte_is_fetched()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 5);
        f.Cas.ReconstructionRewrite = r => r with
        {
            Terms = r.Terms.Select((t, i) => i == 1 ? t with { UnpackedLength = t.Chunks.Count * 131072 + 1 } : t).ToList(),
        };
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options());

        var error = await Assert.ThrowsAsync<XetProtocolException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Contains("unpacked_length", error.Message);
        Assert.Equal(0, f.Cas.Fetches);
        Assert.False(File.Exists(f.Destination()));
    }

    [Fact]
    public async Task A_plausible_but_wrong_unpacked_length_is_caught_before_the_range_is_decoded()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 6);
        f.Cas.ReconstructionRewrite = r => r with
        {
            Terms = r.Terms.Select((t, i) => i == 0 ? t with { UnpackedLength = t.UnpackedLength + 1 } : t).ToList(),
        };
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options());

        var error = await Assert.ThrowsAsync<XetProtocolException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Contains("unpacked_length", error.Message);
        Assert.False(File.Exists(f.Destination()));
        Assert.Equal(0, session.Registry.LoadsRunning);
    }

    [Fact]
    public async Task A_range_given_two_lengths_fails_the_file_and_leaves_no_planned_use_of_its_block_behind()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes) = ARangeUsedTwice(f, seed: 25);
        // The third term repeats the first one's chunks with a length one byte longer: the registry refuses it when
        // planning it onto the block the first term already planned.
        f.Cas.ReconstructionRewrite = r => r with
        {
            Terms = r.Terms.Select((t, i) => i == 2 ? t with { UnpackedLength = t.UnpackedLength + 1 } : t).ToList(),
        };
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 1 << 20, segment: 1 << 20));

        var error = await Assert.ThrowsAsync<XetProtocolException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Contains("two lengths", error.Message);
        Assert.Equal(0, session.Registry.BlockCount); // every block the segment planned was dropped with it
        Assert.Equal(0, session.Registry.Permits.Held);
        Assert.Equal(0, f.Cas.Fetches);
    }

    /// <summary>
    /// A server that ignores the requested range: every segment's answer names one fetch of all chunks of each xorb
    /// the file uses (the answer for the whole file), while the terms stay those of the segment.
    /// </summary>
    private static void ServeWholeXorbFetches(ReconstructionFixture f, XetHash id, int size)
    {
        var whole = f.Cas.GetReconstructionAsync(id, 0, size - 1, CancellationToken.None).GetAwaiter().GetResult();
        f.Cas.ReconstructionRewrite = r => r with { Xorbs = whole.Xorbs };
    }

    [Fact]
    public async Task A_fetch_whose_bytes_exceed_the_buffer_is_refused_before_a_byte_is_fetched()
    {
        // Ten stored 128 KiB chunks: the whole xorb's fetch is 1.25 MiB of bytes, more than the 1 MiB buffer. Its URL
        // signs exactly those bytes, so it cannot be fetched in parts; clamping its permits to the buffer would still
        // put an array of its full size in memory.
        using var f = new ReconstructionFixture();
        var random = new Random(31);
        var chunks = Enumerable.Range(0, 10).Select(_ => { var c = new byte[XorbChunkHeader.MaxUncompressedLength]; random.NextBytes(c); return c; }).ToList();
        var xorb = f.Cas.AddXorb(chunks, compress: false);
        var (id, bytes) = f.Cas.AddFile(new[] { (xorb, new ChunkRange(0, 10)) });
        ServeWholeXorbFetches(f, id, bytes.Length);
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 1 << 20));

        var error = await Assert.ThrowsAsync<XetProtocolException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Contains("does not fit the 1048576-byte buffer", error.Message);
        Assert.Equal(0, f.Cas.Fetches);
        Assert.Equal(0, session.Registry.Buffers.Reserved); // nothing was allocated for it
        Assert.False(File.Exists(f.Destination()));
    }

    [Fact]
    public async Task A_fetch_decoding_past_the_buffer_is_refused_before_its_decoded_memory_is_taken()
    {
        // 64 chunks of 128 KiB that compress to almost nothing: the whole xorb's fetch is a few KiB of bytes but 8 MiB
        // decoded, while each segment's terms name only the chunk they use. Only the chunk headers tell.
        using var f = new ReconstructionFixture();
        var chunks = Enumerable.Range(0, 64).Select(i => Enumerable.Repeat((byte)i, XorbChunkHeader.MaxUncompressedLength).ToArray()).ToList();
        var xorb = f.Cas.AddXorb(chunks, compress: true);
        var (id, bytes) = f.Cas.AddFile(new[] { (xorb, new ChunkRange(0, 64)) });
        ServeWholeXorbFetches(f, id, bytes.Length);
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 1 << 20));

        var error = await Assert.ThrowsAsync<XetProtocolException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Contains("decodes to 8388608 bytes, more than the 1048576 bytes one load may hold", error.Message);
        Assert.Equal(0, session.Registry.Buffers.OwnArrays); // no array of its own was taken for the decoded ranges
        Assert.Equal(0, session.Registry.Buffers.InUse);
        Assert.Equal(0, session.Registry.Permits.Held);
        Assert.False(File.Exists(f.Destination()));
    }

    [Fact]
    public async Task A_fetch_error_reaches_the_caller_as_the_very_same_object()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 8);
        var fault = new IOException("disk on fire");
        f.Cas.FetchFault = _ => fault;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options());

        var error = await Assert.ThrowsAsync<IOException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Same(fault, error);
        Assert.False(File.Exists(f.Destination()));
        Assert.Equal(0, session.Registry.LoadsRunning);
        Assert.Equal(0, session.Registry.Permits.Held);
    }

    [Fact]
    public async Task A_journal_that_cannot_be_flushed_as_a_failed_download_closes_neither_hides_its_error_nor_leaves_a_handle_open()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 24, xorbs: 10, chunksPerXorb: 20, terms: 400);
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        var destination = f.Destination();
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        var journal = ResumeJournal.JournalPathFor(destination, "model.bin");
        var fault = new HttpRequestException("connection refused");
        var failFetches = false;
        f.Cas.FetchFault = _ => Volatile.Read(ref failFetches) ? fault : null;

        // A first run stops after 1 MiB, leaving a partial file and its journal.
        options.JournalCommitInterval = 64 * 1024;
        var stopAfterOneMiB = new SyncProgress(p => { if (p.BytesWritten > 0) Volatile.Write(ref failFetches, true); });
        await Assert.ThrowsAsync<HttpRequestException>(() =>
            FileReconstructor.RunAsync(ReconstructionFixture.Session(options), f.Cas, id, bytes.Length, "model.bin", destination, stopAfterOneMiB, CancellationToken.None)
                .WaitAsync(Bound));
        Assert.True(File.Exists(journal), "the first run left no journal");

        // The rerun continues that journal, its handle open from the start, and commits only as it closes. Once the
        // writer is open, the journal's descriptor leads to /dev/full: the commit on close fails as on a full disk
        // (ENOSPC) while the partial file is fine. Once 1 MiB more is written, every later fetch fails with `fault`.
        options.JournalCommitInterval = 1L << 40;
        Volatile.Write(ref failFetches, false);
        long resumedFrom = -1;
        var progress = new SyncProgress(p =>
        {
            if (resumedFrom < 0)
            {
                resumedFrom = p.BytesWritten;
                Assert.Equal(1, FullDisk.Fill(journal));
            }
            else if (p.BytesWritten > resumedFrom) Volatile.Write(ref failFetches, true);
        });
        Assert.True(bytes.Length > (3 << 20) + options.BufferSize, "the file should outlast both runs' faults by more than a buffer");

        var error = await Record.ExceptionAsync(() =>
            FileReconstructor.RunAsync(ReconstructionFixture.Session(options), f.Cas, id, bytes.Length, "model.bin", destination, progress, CancellationToken.None)
                .WaitAsync(Bound));

        Assert.True(resumedFrom > 0, "the rerun did not resume");
        Assert.Same(fault, error);
        Assert.DoesNotContain(OpenFiles(), target => target == partial || target == journal || target == "/dev/full");
        Assert.False(File.Exists(destination));
    }

    /// <summary>What the process's open file descriptors point at (Linux).</summary>
    private static List<string> OpenFiles() =>
        Directory.GetFiles("/proc/self/fd").Select(fd => new FileInfo(fd).LinkTarget).OfType<string>().ToList();

    [Fact]
    public async Task A_reconstruction_error_while_loads_are_in_flight_reaches_the_caller_as_the_same_object()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 17, terms: 120);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.FetchGate = gate.Task; // the first segment's loads stay in flight
        var fault = new HttpRequestException("reconstruction refused");
        var calls = 0;
        f.Cas.ReconstructionRewrite = r => Interlocked.Increment(ref calls) == 2 ? throw fault : r;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(segment: 64 * 1024));

        var error = await Record.ExceptionAsync(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));
        gate.SetResult();

        Assert.Same(fault, error);
        Assert.Equal(0, session.Registry.LoadsRunning);
        Assert.Equal(0, session.Registry.BlockCount);
        Assert.False(File.Exists(f.Destination()));
    }

    [Fact]
    public async Task Cancelling_one_file_leaves_a_file_sharing_its_loads_to_finish()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 18, xorbs: 4, chunksPerXorb: 8, terms: 12);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.FetchGate = gate.Task;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 8 << 20, cas: 8, segment: 1 << 20));
        using var cancelA = new CancellationTokenSource();

        var a = FileReconstructor.RunAsync(session, f.Cas, id, bytes.Length, "a.bin", f.Destination("a.bin"), null, cancelA.Token);
        var b = f.RunAsync(session, id, bytes.Length, f.Destination("b.bin"));
        for (var i = 0; i < 2000 && session.Registry.ClaimCount < 24; i++) await Task.Delay(5);
        cancelA.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.WaitAsync(Bound));
        gate.SetResult();
        await b.WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination("b.bin")));
        Assert.False(File.Exists(f.Destination("a.bin")));
        Assert.Equal(0, session.Registry.LoadsRunning);
    }

    [Fact]
    public async Task Expired_urls_of_a_load_shared_with_a_cancelled_file_are_refreshed_for_the_file_still_reading_it()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 18, xorbs: 4, chunksPerXorb: 8, terms: 12);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.FetchGate = gate.Task;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 8 << 20, cas: 8, segment: 1 << 20));
        using var cancelA = new CancellationTokenSource();
        var (a, b) = await StartSharedLoadsAsync(f, session, id, bytes.Length, cancelA.Token);

        cancelA.Cancel(); // A planned and started every load; B only joined them
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.WaitAsync(Bound));
        f.Cas.ExpireUrlsBefore = f.Cas.Reconstructions + 1; // every URL handed out so far is refused
        gate.SetResult();
        await b.WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination("b.bin")));
        Assert.Equal(3, f.Cas.Reconstructions); // A's, B's, and B's one refresh for all four loads
        Assert.Equal(0, session.Registry.LoadsRunning);
    }

    [Fact]
    public async Task The_last_file_to_let_go_of_a_shared_load_waits_for_the_load_it_cancelled_to_end()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 18, xorbs: 4, chunksPerXorb: 8, terms: 12);
        f.Cas.FetchGate = new TaskCompletionSource().Task; // never opens: the loads end only by cancellation
        var lag = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.CancellationLag = lag.Task; // ...and a cancelled load ends only when the lag is lifted
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logger = new CallbackLogger((_, line) =>
        {
            if (line.StartsWith("Waiting for", StringComparison.Ordinal)) waiting.TrySetResult();
        }, XetLogLevel.Trace);
        var session = new SessionResources(ReconstructionFixture.Options(buffer: 8 << 20, cas: 8, segment: 1 << 20), logger, CancellationToken.None);
        using var cancelA = new CancellationTokenSource();
        using var cancelB = new CancellationTokenSource();
        var (a, b) = await StartSharedLoadsAsync(f, session, id, bytes.Length, cancelA.Token, cancelB.Token);
        var loadsRunningWhenBEnded = b.ContinueWith(_ => session.Registry.LoadsRunning, TaskContinuationOptions.ExecuteSynchronously);

        cancelA.Cancel(); // B still reads A's loads: A leaves them running
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.WaitAsync(Bound));
        Assert.Equal(4, session.Registry.LoadsRunning);
        cancelB.Cancel(); // nobody reads them now: B's release cancels them, and B must not return before they end
        await Task.WhenAny(b, waiting.Task).WaitAsync(Bound);
        lag.SetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.WaitAsync(Bound));

        Assert.Equal(0, await loadsRunningWhenBEnded);
        Assert.Equal(0, f.Cas.FetchesInFlight);
        Assert.Equal(0, session.Registry.Permits.Held);
    }

    /// <summary>Starts file A and waits until it has started all four loads of the seed-18 file (held at the CAS), then
    /// file B of the same content and waits until it has joined every one of them.</summary>
    private static async Task<(Task A, Task B)> StartSharedLoadsAsync(ReconstructionFixture f, SessionResources session, XetHash id, int length,
        CancellationToken cancelA, CancellationToken cancelB = default)
    {
        var a = FileReconstructor.RunAsync(session, f.Cas, id, length, "a.bin", f.Destination("a.bin"), null, cancelA);
        for (var i = 0; i < 2000 && (f.Cas.FetchesInFlight < 4 || session.Registry.ClaimCount < 12); i++) await Task.Delay(5);
        Assert.Equal(12, session.Registry.ClaimCount);
        Assert.Equal(4, f.Cas.FetchesInFlight);
        var b = FileReconstructor.RunAsync(session, f.Cas, id, length, "b.bin", f.Destination("b.bin"), null, cancelB);
        for (var i = 0; i < 2000 && session.Registry.ClaimCount < 24; i++) await Task.Delay(5);
        Assert.Equal(24, session.Registry.ClaimCount);
        Assert.Equal(4, session.Registry.LoadsStarted); // B joined A's loads, it started none
        return (a, b);
    }

    [Fact]
    public async Task Expired_urls_are_refreshed_once_per_segment_and_the_download_completes()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 12, xorbs: 6, terms: 30);
        f.Cas.ExpireUrlsBefore = 2; // the first answer's URLs are all refused
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 8 << 20, cas: 8, segment: 8 << 20));

        await f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination()));
        Assert.Equal(2, f.Cas.Reconstructions);
    }

    [Fact]
    public async Task Cancellation_leaves_no_task_running_and_a_rerun_resumes_with_fewer_bytes()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 13, xorbs: 10, chunksPerXorb: 20, terms: 200);
        f.Cas.MaxFetchDelayMs = 3;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 2, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        var session = ReconstructionFixture.Session(options);
        var destination = f.Destination();

        await CancelHalfwayAsync(f, session, id, bytes.Length, "model.bin", destination);

        Assert.Equal(0, session.Registry.LoadsRunning);
        Assert.Equal(0, f.Cas.FetchesInFlight);
        Assert.Equal(0, session.Registry.Permits.Held);
        Assert.False(File.Exists(destination));
        Assert.True(File.Exists(ResumeJournal.PartialPathFor(destination, "model.bin")));

        var servedBefore = f.Cas.BytesServed;
        var fresh = ReconstructionFixture.Session(options);
        var outcome = await f.RunAsync(fresh, id, bytes.Length, destination).WaitAsync(Bound);
        var resumedBytes = f.Cas.BytesServed - servedBefore;

        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
        var full = ReconstructionFixture.Session(options);
        var servedBeforeFull = f.Cas.BytesServed;
        await f.RunAsync(full, id, bytes.Length, f.Destination("full.bin")).WaitAsync(Bound);
        Assert.True(resumedBytes < f.Cas.BytesServed - servedBeforeFull, $"resumed run fetched {resumedBytes} bytes, a full run {f.Cas.BytesServed - servedBeforeFull}");
    }

    [Fact]
    public async Task An_unverified_download_cancelled_halfway_resumes_from_its_journal_not_from_its_preallocated_length()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 31, xorbs: 6, chunksPerXorb: 20, terms: 120);
        f.Cas.MaxFetchDelayMs = 2;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        options.Verify = false; // no chunk hashes to re-check the prefix: only the journal's committed length is trusted
        var destination = f.Destination();
        await CancelHalfwayAsync(f, options, id, bytes.Length, "model.bin", destination);

        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        var state = ResumeJournal.TryRead(ResumeJournal.JournalPathFor(destination, "model.bin"), id, bytes.Length);
        Assert.NotNull(state);
        if (OperatingSystem.IsLinux()) Assert.Equal(bytes.Length, new FileInfo(partial).Length); // preallocated
        Assert.InRange(state!.CommittedLength, 1, bytes.Length - 1);

        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);

        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task An_unverified_download_interrupted_before_the_machine_restarted_starts_afresh_its_bytes_may_never_have_reached_the_disk()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 32, xorbs: 6, chunksPerXorb: 20, terms: 120);
        f.Cas.MaxFetchDelayMs = 2;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        options.Verify = false;
        var destination = f.Destination();
        await CancelHalfwayAsync(f, options, id, bytes.Length, "model.bin", destination);
        var journal = ResumeJournal.JournalPathFor(destination, "model.bin");
        Assert.NotNull(ResumeJournal.TryRead(journal, id, bytes.Length));
        // The journal as a run before the restart left it; the bytes it vouches for are gone, as in a power loss.
        File.SetLastWriteTimeUtc(journal, BootSession.StartedAtUtc.AddMinutes(-1));
        using (var partial = new FileStream(ResumeJournal.PartialPathFor(destination, "model.bin"), FileMode.Open, FileAccess.Write))
            partial.Write(new byte[4096], 0, 4096);

        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);

        Assert.False(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task An_interrupted_download_keeps_its_partial_and_journal_under_the_cache_folder_not_beside_the_destination()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 16, xorbs: 6, chunksPerXorb: 20, terms: 120);
        f.Cas.MaxFetchDelayMs = 2;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        const string repoPath = "weights/model.bin";
        var destination = Path.Combine(f.Root, "weights", "model.bin");
        await CancelHalfwayAsync(f, options, id, bytes.Length, repoPath, destination);

        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(f.Root, "weights")));
        var partial = ResumeJournal.PartialPathFor(destination, repoPath);
        var journal = ResumeJournal.JournalPathFor(destination, repoPath);
        Assert.Equal(new[] { journal, partial }.OrderBy(p => p, StringComparer.Ordinal),
            Directory.GetFiles(Path.Combine(f.Root, ".cache", "xetps")).OrderBy(p => p, StringComparer.Ordinal));
        Assert.True(new FileInfo(partial).Length > 0);
        Assert.Matches("^[0-9a-f]{32}\\.incomplete$", Path.GetFileName(partial));
    }

    [Fact]
    public async Task A_download_cancelled_before_its_first_periodic_commit_still_leaves_a_journal_and_resumes()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 23, xorbs: 6, chunksPerXorb: 20, terms: 120);
        f.Cas.MaxFetchDelayMs = 2;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        options.JournalCommitInterval = 1L << 40; // no commit while running: only the one made when the run stops
        var destination = f.Destination();
        await CancelHalfwayAsync(f, options, id, bytes.Length, "model.bin", destination);
        var state = ResumeJournal.TryRead(ResumeJournal.JournalPathFor(destination, "model.bin"), id, bytes.Length);
        Assert.True(state is not null && state.CommittedLength > 0, "the stopped run should have journaled what it wrote");

        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);

        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
        Assert.Empty(Directory.GetFiles(Path.Combine(f.Root, ".cache", "xetps"), "*.journal"));
    }

    [Fact]
    public async Task A_damaged_partial_file_resumes_from_its_last_good_chunk_and_is_still_verified()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, options, destination) = await InterruptedHalfwayAsync(f, seed: 14);
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        var damaged = File.ReadAllBytes(partial);
        Assert.True(damaged.Length > 1000);
        damaged[100] ^= 0xFF;
        File.WriteAllBytes(partial, damaged);

        await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task The_stall_watchdog_fails_a_pipeline_that_stops_moving_and_says_what_waits()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 15, terms: 120);
        var options = ReconstructionFixture.Options(segment: 64 * 1024);
        options.StallTimeout = TimeSpan.FromMilliseconds(300);
        var session = ReconstructionFixture.Session(options);
        // The whole buffer is held by something that never lets go: the first term waits for permits with no request
        // in flight, and nothing moves.
        Assert.True(session.Registry.Permits.TryAcquire(options.BufferSize));

        var error = await Assert.ThrowsAsync<XetStallException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Contains("CAS permits held 0", error.Message);
        Assert.Contains("terms pending", error.Message);
        Assert.Contains("buffer", error.Message);
        Assert.Equal(0, session.Registry.LoadsRunning);
        Assert.False(File.Exists(f.Destination()));
    }

    [Fact]
    public async Task A_xorb_request_that_brings_no_byte_for_the_stall_timeout_is_a_stall()
    {
        // Progress means bytes. A request in flight once counted as progress by itself, so a server that held a
        // fetch open without sending kept the file waiting whatever the stall timeout said.
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 16, xorbs: 2, terms: 4);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Cas.FetchGate = gate.Task; // a fetch that never brings its bytes
        var options = ReconstructionFixture.Options();
        options.StallTimeout = TimeSpan.FromMilliseconds(300);
        var session = ReconstructionFixture.Session(options);

        var error = await Assert.ThrowsAsync<XetStallException>(() => f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound));

        Assert.Matches(@"CAS permits held [1-9]", error.Message);
        Assert.Matches(@"\([1-9]\d* loading", error.Message);
        gate.SetResult();
        Assert.False(File.Exists(f.Destination()));
    }

    [Fact]
    public async Task An_empty_file_is_written_and_checked_against_the_empty_file_id()
    {
        using var f = new ReconstructionFixture();
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options());

        await f.RunAsync(session, XetHashing.FileHash(ReadOnlySpan<MerkleNode>.Empty), 0, f.Destination()).WaitAsync(Bound);

        Assert.Empty(File.ReadAllBytes(f.Destination()));
        Assert.Equal(0, f.Cas.Reconstructions);
    }

    [Fact]
    public async Task A_file_written_past_the_page_cache_is_byte_exact_and_says_so_in_the_log()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 21, xorbs: 10, chunksPerXorb: 20, terms: 200);
        var options = ReconstructionFixture.Options(buffer: 1 << 20, cas: 2, segment: 256 * 1024);
        options.DirectWriteMinimum = 0;
        options.DirectWriteStageSize = 64 * 1024;
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var session = new SessionResources(options, new CallbackLogger((_, line) => lines.Enqueue(line)), CancellationToken.None);
        var destination = f.Destination();

        await f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound);

        Assert.True(bytes.Length > 3 * options.DirectWriteStageSize, $"the file ({bytes.Length} bytes) should span several stages");
        Assert.Contains(lines, line => line.Contains("with direct I/O", StringComparison.Ordinal));
        Assert.Equal(bytes, File.ReadAllBytes(destination));
        Assert.Equal(0, session.Registry.Permits.Held);
        Assert.Equal(0, session.DirectWriteStages.Rented);
    }

    [Fact]
    public async Task A_cancelled_direct_write_journals_only_what_reached_the_file_and_the_rerun_resumes_byte_exact()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 22, xorbs: 10, chunksPerXorb: 20, terms: 200);
        f.Cas.MaxFetchDelayMs = 3;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 2, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        options.DirectWriteMinimum = 0;
        options.DirectWriteStageSize = 64 * 1024;
        var destination = f.Destination();
        await CancelHalfwayAsync(f, options, id, bytes.Length, "model.bin", destination);
        Assert.False(File.Exists(destination));
        var state = ResumeJournal.TryRead(ResumeJournal.JournalPathFor(destination, "model.bin"), id, bytes.Length);
        var partialLength = new FileInfo(ResumeJournal.PartialPathFor(destination, "model.bin")).Length;
        Assert.True(state is not null && state.CommittedLength > 0 && state.CommittedLength <= partialLength,
            $"journal commits {state?.CommittedLength} bytes, the partial file holds {partialLength}");

        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);

        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task A_partial_file_damaged_in_its_middle_keeps_the_chunks_before_the_damage_and_its_journal_continues()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, options, destination) = await InterruptedHalfwayAsync(f, seed: 16);
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        var journal = ResumeJournal.JournalPathFor(destination, "model.bin");
        var first = ResumeJournal.TryRead(journal, id, bytes.Length)!;
        var damaged = File.ReadAllBytes(partial);
        var at = (int)(first.CommittedLength / 2);
        damaged[at] ^= 0xFF;
        File.WriteAllBytes(partial, damaged);

        // The second run keeps the chunks before the damaged one and continues the journal from there: the records
        // after the damage are cut, so the journal never describes more bytes than the file has, and what it commits
        // is exactly its first records.
        await CancelHalfwayAsync(f, options, id, bytes.Length, "model.bin", destination);
        var second = ResumeJournal.TryRead(journal, id, bytes.Length);
        Assert.NotNull(second);
        long recorded = 0, committedRecords = 0;
        var records = 0;
        ResumeJournal.ForEachChunk(journal, int.MaxValue, (_, size, _) =>
        {
            recorded += size;
            if (++records <= second!.CommittedChunks) committedRecords += size;
            return true;
        });
        Assert.True(recorded <= bytes.Length, $"the journal records {recorded} bytes of a {bytes.Length}-byte file");
        Assert.Equal(second!.CommittedLength, committedRecords);

        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);

        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    [Fact]
    public async Task A_rerun_cancelled_while_it_rereads_its_kept_prefix_stops_there_and_keeps_the_partial_file_and_journal()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, options, destination) = await InterruptedHalfwayAsync(f, seed: 17);
        options.PrefixCheckInterval = 64 * 1024; // the rerun's prefix check reports every 64 KiB
        var partial = ResumeJournal.PartialPathFor(destination, "model.bin");
        var journal = ResumeJournal.JournalPathFor(destination, "model.bin");
        var (partialBefore, journalBefore) = (File.ReadAllBytes(partial), File.ReadAllBytes(journal));
        var served = f.Cas.BytesServed;

        // Re-reading the kept prefix reports its progress; the caller cancels at the first report.
        using var cts = new CancellationTokenSource();
        var reported = new List<long>();
        var progress = new SyncProgress(p => { reported.Add(p.BytesWritten); cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            FileReconstructor.RunAsync(ReconstructionFixture.Session(options), f.Cas, id, bytes.Length, "model.bin", destination, progress, cts.Token)
                .WaitAsync(Bound));

        Assert.Single(reported);
        Assert.InRange(reported[0], 64 * 1024, partialBefore.Length);
        Assert.Equal(served, f.Cas.BytesServed); // it stopped before asking CAS for anything
        Assert.Equal(partialBefore, File.ReadAllBytes(partial));
        Assert.Equal(journalBefore, File.ReadAllBytes(journal));
        var outcome = await f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound);
        Assert.True(outcome.Resumed);
        Assert.Equal(bytes, File.ReadAllBytes(destination));
    }

    /// <summary>What the resume specs start from: a seed-shape file saved with a small journal commit interval into a new
    /// destination, cancelled once half of it is written.</summary>
    private static async Task<(XetHash Id, byte[] Bytes, XetSessionOptions Options, string Destination)> InterruptedHalfwayAsync(
        ReconstructionFixture f, int seed)
    {
        var (id, bytes, _) = f.SeedShape(seed: seed, xorbs: 6, chunksPerXorb: 20, terms: 120);
        f.Cas.MaxFetchDelayMs = 2;
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 128 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        var destination = f.Destination();
        await CancelHalfwayAsync(f, options, id, bytes.Length, "model.bin", destination);
        return (id, bytes, options, destination);
    }

    /// <summary>Runs the file in a fresh session and cancels it once half its bytes are written; the run must end cancelled.</summary>
    private static Task CancelHalfwayAsync(ReconstructionFixture f, XetSessionOptions options, XetHash id, int length, string repoPath, string destination) =>
        CancelHalfwayAsync(f, ReconstructionFixture.Session(options), id, length, repoPath, destination);

    /// <summary>Runs the file in <paramref name="session"/> and cancels it once half its bytes are written; the run must end cancelled.</summary>
    private static async Task CancelHalfwayAsync(ReconstructionFixture f, SessionResources session, XetHash id, int length, string repoPath, string destination)
    {
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.BytesWritten >= length / 2) cts.Cancel(); });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            FileReconstructor.RunAsync(session, f.Cas, id, length, repoPath, destination, progress, cts.Token).WaitAsync(Bound));
    }

    /// <summary>Reports synchronously on the reporting thread (Progress&lt;T&gt; would post to the pool).</summary>
    private sealed class SyncProgress(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }
}
