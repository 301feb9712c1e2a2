using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Rebuilds one Xet file: a segment fetcher (reconstruction requests, one segment planned ahead), the
/// <see cref="TermScheduler"/> (admits terms in file order, claiming their registry blocks), a writer loop that
/// consumes terms in the same order through the <see cref="SequentialWriter"/>, and a <see cref="StallWatchdog"/>,
/// joined by bounded channels. One instance per file run; its fields are the run's state, its methods the stages.
/// Invariants: all four tasks share one <see cref="RunState"/> (the first error wins and stops the others; channels
/// are completed with it); every task of the file, and every load the file started that no other file reads, has
/// finished before <see cref="RunAsync"/> returns or throws; every planned term is consumed or released, so the
/// registry's counts balance; the destination is replaced only by a complete, verified file.
/// </summary>
internal sealed class FileReconstructor
{
    /// <summary>How a run ended well: bytes fetched, whether it continued an earlier run, bytes taken from the earlier
    /// copy, and where the file's chunks now sit (null when not verifying: such a file is no source for the next).</summary>
    internal sealed record Outcome(long BytesReceived, bool Resumed, long BytesReused = 0, WrittenTerms? Terms = null);

    /// <summary>Loads a segment's blocks must leave room for in the buffer, so that downloads overlap decoding and writing.</summary>
    internal const int LoadsInFlight = 4;

    /// <summary>How often progress is reported while the writer waits for a term whose range is still arriving.</summary>
    internal static readonly TimeSpan ArrivalReportInterval = TimeSpan.FromMilliseconds(250);

    private readonly SessionResources _session;
    private readonly ICasReader _reader;
    private readonly XetHash _fileId;
    private readonly long _size;
    private readonly string _repoPath;
    private readonly string _destinationPath;
    private readonly WorkFiles _work;
    private readonly IProgress<FileProgress>? _progress;
    private readonly RunState _run;
    private readonly EarlierCopy? _earlier;
    private readonly List<ReconstructionSegment> _segments = new(); // planned and not yet fully written; guarded by itself
    private readonly List<XorbRegistry.StartedLoad> _startedLoads = new(); // the scheduler's only
    private readonly Channel<ReconstructionSegment> _segmentChannel =
        Channel.CreateBounded<ReconstructionSegment>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
    private readonly Channel<PlannedTerm> _termChannel =
        Channel.CreateBounded<PlannedTerm>(new BoundedChannelOptions(4096) { SingleReader = true, SingleWriter = true });
    private SequentialWriter _writer = null!;
    private long _bytesReceived;
    private int _termsPending;

    private FileReconstructor(SessionResources session, ICasReader reader, XetHash fileId, long size, string repoPath,
        string destinationPath, WorkFiles work, IProgress<FileProgress>? progress, RunState run, EarlierCopy? earlier)
    {
        _work = work;
        _earlier = earlier;
        _session = session;
        _reader = reader;
        _fileId = fileId;
        _size = size;
        _repoPath = repoPath;
        _destinationPath = destinationPath;
        _progress = progress;
        _run = run;
    }

    /// <summary>
    /// Rebuilds the file into its partial file and moves it onto <paramref name="destinationPath"/> once verified.
    /// Terms whose chunks <paramref name="earlier"/> holds are read from it rather than fetched; the run owns it and
    /// closes it before the move.
    /// </summary>
    public static Task<Outcome> RunAsync(SessionResources session, ICasReader reader, XetHash fileId, long size,
        string repoPath, string destinationPath, IProgress<FileProgress>? progress, CancellationToken cancellationToken,
        EarlierCopy? earlier = null) =>
        RunAsync(session, reader, fileId, size, repoPath, destinationPath, WorkFiles.Beside(destinationPath, repoPath), progress,
            cancellationToken, earlier);

    /// <summary>As above, with the partial file and journal where <paramref name="work"/> says.</summary>
    public static async Task<Outcome> RunAsync(SessionResources session, ICasReader reader, XetHash fileId, long size,
        string repoPath, string destinationPath, WorkFiles work, IProgress<FileProgress>? progress, CancellationToken cancellationToken,
        EarlierCopy? earlier = null)
    {
        using var run = new RunState(cancellationToken, session.SessionToken);
        try
        {
            var directory = Path.GetDirectoryName(destinationPath);
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            var file = new FileReconstructor(session, reader, fileId, size, repoPath, destinationPath, work, progress, run, earlier);
            return await file.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            earlier?.Dispose(); // idempotent: the run closed it before the move already
        }
    }

    /// <summary>Open the partial file, run the stages, finish (verify), then move the file into place.</summary>
    private async Task<Outcome> RunAsync()
    {
        await OpenWriterAsync().ConfigureAwait(false);
        var finished = false;
        try
        {
            Report(_writer.Written);
            if (_writer.Written < _size) await RunStagesAsync().ConfigureAwait(false);
            _run.ThrowIfFailed();
            await _writer.FinishAsync(_run.Token).ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
        if (finished)
        {
            MoveIntoPlace(_work.Partial, _destinationPath);
            WorkFiles.TryDelete(_work.Journal);
            Report(_size);
        }
        return new Outcome(Interlocked.Read(ref _bytesReceived), _writer.ResumedFrom > 0, _writer.BytesReused, _writer.Terms);
    }

    /// <summary>
    /// Opens the partial file off the caller's thread: resuming re-reads and re-hashes the kept prefix first, minutes at
    /// hundreds of GB, cancellable and reported as progress meanwhile.
    /// </summary>
    private async Task OpenWriterAsync()
    {
        var options = _session.Options;
        _writer = await Task.Run(() => SequentialWriter.Open(_work, _repoPath, _fileId, _size, options.Verify,
            options.JournalCommitInterval, _session.Logger, options.DirectWrites ? options.DirectWriteMinimum : -1, _session.DirectWriteStages,
            _run.Token, Report, options.PrefixCheckInterval)).ConfigureAwait(false);
    }

    /// <summary>Runs the segment fetcher, the scheduler and the writer to their end, under the stall watchdog.</summary>
    private async Task RunStagesAsync()
    {
        using var stopWatchdog = CancellationTokenSource.CreateLinkedTokenSource(_run.Token);
        var watchdog = StallWatchdog.RunAsync(_session, _run, _repoPath,
            () => $"{Volatile.Read(ref _termsPending)} terms pending, {_writer.Written} of {_size} bytes written", stopWatchdog.Token);
        await Task.WhenAll(Task.Run(FetchSegmentsAsync), Task.Run(ScheduleAsync), Task.Run(WriteAsync)).ConfigureAwait(false);
        stopWatchdog.Cancel();
        await watchdog.ConfigureAwait(false);
    }

    /// <summary>Asks CAS for the file a segment at a time, from the first byte not yet written, and plans each segment.</summary>
    private async Task FetchSegmentsAsync()
    {
        try
        {
            var segmentSize = SegmentSizeFor(_session.Options.BufferSize, _session.Options.SegmentSize);
            for (var start = _writer.Written; start < _size; start += segmentSize)
            {
                var end = Math.Min(start + segmentSize, _size) - 1;
                var segment = await ReconstructionSegment.PlanAsync(_reader, _fileId, start, end, _session.Registry, _session.Activity, _earlier,
                    _run.Token)
                    .ConfigureAwait(false);
                lock (_segments) _segments.Add(segment);
                Interlocked.Add(ref _termsPending, segment.Terms.Count);
                await _segmentChannel.Writer.WriteAsync(segment, _run.Token).ConfigureAwait(false);
            }
            _segmentChannel.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _run.Fail(ex);
            _segmentChannel.Writer.TryComplete(_run.Error ?? ex);
        }
    }

    private async Task ScheduleAsync()
    {
        try
        {
            await TermScheduler.RunAsync(_segmentChannel.Reader, _termChannel.Writer, _session.Registry, _startedLoads,
                bytes => Interlocked.Add(ref _bytesReceived, bytes), _run.Token).ConfigureAwait(false);
            _termChannel.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            _run.Fail(ex);
            _termChannel.Writer.TryComplete(_run.Error ?? ex);
        }
    }

    /// <summary>Consumes the admitted terms in file order: waits for each one's load, writes it, releases its claim.</summary>
    private async Task WriteAsync()
    {
        try
        {
            var token = _run.Token;
            var lastReport = _writer.Written;
            // Where the writer's time goes (logged at the end): waiting for terms, for loads, or writing.
            var clock = Stopwatch.StartNew();
            TimeSpan waitingForLoads = default, writing = default;
            while (await _termChannel.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (_termChannel.Reader.TryRead(out var term))
                {
                    var mark = clock.Elapsed;
                    long written;
                    if (term.Earlier is { } local)
                    {
                        written = await _writer.WriteEarlierTermAsync(term, local, _earlier!, token).ConfigureAwait(false);
                        writing += clock.Elapsed - mark;
                    }
                    else
                    {
                        var load = term.Load!;
                        // A range can be a whole xorb (64 MiB): while it arrives, progress follows its bytes.
                        while (!load.IsCompleted && _progress is not null)
                        {
                            await Task.WhenAny(load, Task.Delay(ArrivalReportInterval, token)).ConfigureAwait(false);
                            token.ThrowIfCancellationRequested();
                            Report(_writer.Written);
                        }
                        var ranges = await AsyncWait.WaitAsync(load, token).ConfigureAwait(false);
                        var loaded = clock.Elapsed;
                        waitingForLoads += loaded - mark;
                        written = await _writer.WriteTermAsync(term, ranges, token).ConfigureAwait(false);
                        writing += clock.Elapsed - loaded;
                    }
                    Consumed(term, written);
                    if (_writer.Written - lastReport >= (1 << 20) || _writer.Written == _size)
                    {
                        lastReport = _writer.Written;
                        Report(_writer.Written);
                    }
                }
            }
            _session.Logger?.LogDebug("Writer of {Path}: {Total:0} ms, of which {Loads:0} ms waiting for loads and {Writing:0} ms writing",
                _repoPath, clock.Elapsed.TotalMilliseconds, waitingForLoads.TotalMilliseconds, writing.TotalMilliseconds);
        }
        catch (Exception ex)
        {
            _run.Fail(ex);
        }
    }

    /// <summary>A term is written: its claim goes back to the registry, and a fully written segment is forgotten.</summary>
    private void Consumed(PlannedTerm term, long written)
    {
        term.Done = true;
        term.Load = null;
        if (term.Block is { } block) _session.Registry.Consumed(block, term.Sequence);
        if (ReferenceEquals(term, term.Segment.Terms[term.Segment.Terms.Count - 1]))
            lock (_segments) _segments.Remove(term.Segment); // nothing to release later
        Interlocked.Decrement(ref _termsPending);
        _session.Activity.Written(written);
    }

    /// <summary>
    /// Releases what the run holds, whatever ended it, then closes the writer (which never throws for the journal's
    /// sake, so the file's own error stays the one the caller sees; see <see cref="RunState"/>), deleting the partial
    /// file when the writer discarded it.
    /// </summary>
    private async Task CloseAsync()
    {
        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        finally
        {
            _writer.Dispose();
            _earlier?.Dispose(); // before the move over its name
            if (_writer.Discarded) _work.Delete();
        }
    }

    /// <summary>
    /// Releases every planned term the file did not consume, then waits for the loads the file started that no
    /// other file still reads, and for the loads of other files whose last reader it was (the release cancelled
    /// both), so no task of the file outlives it and no load outlives the last file that read it.
    /// </summary>
    private async Task ReleaseAsync()
    {
        var registry = _session.Registry;
        List<Task>? cancelledLoads = null;
        foreach (var segment in _segments)
            foreach (var term in segment.Terms)
                if (!term.Done)
                {
                    term.Done = true;
                    if (term.Block is { } block && registry.Abandon(block, term.Claimed, term.Sequence) is { } cancelled)
                        (cancelledLoads ??= new()).Add(cancelled);
                }
        foreach (var load in _startedLoads)
        {
            if (load.Completion.IsCompleted || registry.IsSharedLoad(load)) continue;
            // Completes (never faults) when the load's task ends: its error, if any, reached the readers that awaited it.
            await load.Completion.ConfigureAwait(false);
        }
        if (cancelledLoads is not null)
        {
            _session.Logger?.LogTrace("Waiting for {Count} cancelled loads this file was the last to read", cancelledLoads.Count);
            foreach (var ended in cancelledLoads) await ended.ConfigureAwait(false); // never faults, as above
        }
        _session.Logger?.LogTrace("Released {Count} started loads", _startedLoads.Count);
    }

    private void Report(long written)
    {
        if (_progress is null) return;
        _progress.Report(new FileProgress(_repoPath, written, _size) { BytesArrived = Arrived(written) });
    }

    /// <summary>
    /// <paramref name="written"/> plus what the terms not yet written hold: all their bytes when they come from the
    /// earlier copy on the disk or their range is in memory, else the share their load's request has received
    /// (<see cref="LoadArrival"/>). An estimate for progress (a range's bytes are compressed, a block may serve several
    /// terms), capped at the file's size.
    /// </summary>
    private long Arrived(long written)
    {
        var arrived = written;
        lock (_segments)
        {
            foreach (var segment in _segments)
                foreach (var term in segment.Terms)
                {
                    if (term.Done) continue;
                    var length = term.FileOffset + term.Term.UnpackedLength - Math.Max(term.FileOffset, written);
                    if (length <= 0) continue;
                    // A term of the earlier copy is on the disk already; a fetched one counts once admitted.
                    if (term.Earlier is not null || term.Load is { IsCompleted: true })
                    {
                        if (term.Earlier is not null || term.Claimed) arrived += length;
                        continue;
                    }
                    if (term.Claimed && term.Block is { Arrival: { } arrival, CompressedLength: > 0 } block)
                        arrived += (long)(length * Math.Min(1.0, arrival.Bytes / (double)block.CompressedLength));
                }
        }
        return Math.Min(arrived, _size);
    }

    /// <summary>
    /// The file bytes asked for per reconstruction request. A segment's fetch of one xorb covers only that segment's
    /// chunks, so the segment size bounds the size of a block, and with it how many loads the buffer admits at once.
    /// The segment is sized so that <see cref="LoadsInFlight"/> blocks of segments fit in the buffer whole: a block
    /// can hold a chunk more at each end than its segment (terms are trimmed to whole chunks), 8 header bytes per
    /// chunk of at least <see cref="GearChunker.MinChunk"/> bytes, and the load's in-place slack. A plain quarter of
    /// the buffer admitted only three, and the writer then waited on every fourth load.
    /// </summary>
    internal static long SegmentSizeFor(long bufferSize, long segmentSize)
    {
        // Room for a block's stored bytes (decoded bytes plus their headers; the two end chunks may be short).
        var room = bufferSize / LoadsInFlight - XorbRegistry.InPlaceSlack - 2 * XorbChunkHeader.Size;
        var decoded = room / (GearChunker.MinChunk + XorbChunkHeader.Size) * GearChunker.MinChunk;
        return Math.Min(segmentSize, Math.Max(decoded - 2L * XorbChunkHeader.MaxUncompressedLength, 64 * 1024));
    }

    internal static void MoveIntoPlace(string partialPath, string destinationPath)
    {
#if NET8_0_OR_GREATER
        File.Move(partialPath, destinationPath, overwrite: true);
#else
        // A link at the destination is replaced, never written through: File.Move (rename) replaces the name itself,
        // and here, where File.Replace is the only overwriting move, a link is removed first (its target untouched).
        if (WorkFolder.IsLink(destinationPath)) File.Delete(destinationPath);
        if (File.Exists(destinationPath)) File.Replace(partialPath, destinationPath, null, ignoreMetadataErrors: true);
        else File.Move(partialPath, destinationPath);
#endif
    }

    internal static void DeletePartial(string destinationPath, string repoPath) => WorkFiles.Beside(destinationPath, repoPath).Delete();
}
