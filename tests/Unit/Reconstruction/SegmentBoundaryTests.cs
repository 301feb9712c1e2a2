using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// The bytes hashed are the bytes written. A file is asked for in segments, and a segment boundary usually cuts a
/// chunk: the chunk is served by both segments' answers. The file must hold exactly the copy whose hash entered the
/// file hash; a CAS that serves that chunk differently the second time (another xorb, a CDN, anyone on an http://
/// presigned URL) must not get its bytes into the file, and is caught.
/// </summary>
public class SegmentBoundaryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(100 * 1024)]
    [InlineData(128 * 1024)]
    [InlineData(1 << 20)]
    public async Task A_straddling_chunk_served_differently_ends_in_a_hash_mismatch(long segment)
    {
        // Every segment size the options accept starts at 64 KiB; chunks here are 2-12 KiB, so most boundaries cut one.
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 31, xorbs: 6, chunksPerXorb: 24, terms: 300);
        f.Cas.ReconstructionRewrite = f.Cas.ServeStraddlingChunkDifferently;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(buffer: 4 << 20, segment: segment));
        var destination = f.Destination();
        Assert.True(bytes.Length > 2 * segment, $"the file ({bytes.Length} bytes) needs several segments of {segment}");

        var error = await Assert.ThrowsAsync<XetHashMismatchException>(() => f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound));

        Assert.Contains("two different chunks", error.Message);
        Assert.False(File.Exists(destination));
        Assert.False(File.Exists(ResumeJournal.PartialPathFor(destination, "model.bin")));
        Assert.Equal(0, session.Registry.Permits.Held);
    }

    [Fact]
    public async Task A_straddling_chunk_served_differently_is_caught_with_direct_writes_too()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 32, xorbs: 6, chunksPerXorb: 24, terms: 300);
        f.Cas.ReconstructionRewrite = f.Cas.ServeStraddlingChunkDifferently;
        var options = ReconstructionFixture.Options(buffer: 4 << 20, segment: 128 * 1024);
        options.DirectWriteMinimum = 0;
        options.DirectWriteStageSize = 64 * 1024;
        var session = ReconstructionFixture.Session(options);
        var destination = f.Destination();

        await Assert.ThrowsAsync<XetHashMismatchException>(() => f.RunAsync(session, id, bytes.Length, destination).WaitAsync(Bound));

        Assert.False(File.Exists(destination));
        Assert.Equal(0, session.DirectWriteStages.Rented);
    }

    [Fact]
    public async Task A_resumed_download_catches_a_straddling_chunk_served_differently()
    {
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 33, xorbs: 6, chunksPerXorb: 24, terms: 300);
        var options = ReconstructionFixture.Options(buffer: 256 * 1024, cas: 1, segment: 64 * 1024);
        options.JournalCommitInterval = 16 * 1024;
        var destination = f.Destination();
        using (var cts = new CancellationTokenSource())
        {
            var progress = new SyncProgress(p => { if (p.BytesWritten >= bytes.Length / 2) cts.Cancel(); });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FileReconstructor.RunAsync(ReconstructionFixture.Session(options), f.Cas,
                id, bytes.Length, "model.bin", destination, progress, cts.Token).WaitAsync(Bound));
        }
        f.Cas.ReconstructionRewrite = f.Cas.ServeStraddlingChunkDifferently;

        await Assert.ThrowsAsync<XetHashMismatchException>(() =>
            f.RunAsync(ReconstructionFixture.Session(options), id, bytes.Length, destination).WaitAsync(Bound));

        Assert.False(File.Exists(destination));
    }

    [Fact]
    public async Task Chunks_served_again_by_a_server_that_keeps_whole_terms_are_written_once()
    {
        // A server that does not trim trailing chunks serves many chunks past a segment's end, which the next segments
        // serve again: all of them are checked against the chunks written and none is written twice.
        using var f = new ReconstructionFixture();
        var (id, bytes, _) = f.SeedShape(seed: 34, xorbs: 6, chunksPerXorb: 24, terms: 200);
        f.Cas.KeepWholeTerms = true;
        var session = ReconstructionFixture.Session(ReconstructionFixture.Options(segment: 64 * 1024));

        await f.RunAsync(session, id, bytes.Length, f.Destination()).WaitAsync(Bound);

        Assert.Equal(bytes, File.ReadAllBytes(f.Destination()));
        Assert.Equal(bytes.Length, session.Activity.BytesWritten);
    }

    /// <summary>Reports synchronously on the reporting thread (Progress&lt;T&gt; would post to the pool).</summary>
    private sealed class SyncProgress(Action<FileProgress> report) : IProgress<FileProgress>
    {
        public void Report(FileProgress value) => report(value);
    }
}
