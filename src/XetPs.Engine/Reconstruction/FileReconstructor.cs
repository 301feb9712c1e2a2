using System;
using System.Collections.Generic;
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
/// joined by bounded channels. Invariants:
/// all four tasks share one <see cref="RunState"/> (the first error wins and stops the others; channels are
/// completed with it); every task of the file, and every load the file started that no other file reads, has
/// finished before <see cref="RunAsync"/> returns or throws; every planned term is consumed or released, so the
/// registry's counts balance; the destination is replaced only by a complete, verified file.
/// </summary>
internal static class FileReconstructor
{
    internal sealed record Outcome(long BytesReceived, bool Resumed);

    public static async Task<Outcome> RunAsync(SessionResources session, ICasReader reader, XetHash fileId, long size,
        string repoPath, string destinationPath, IProgress<FileProgress>? progress, CancellationToken cancellationToken)
    {
        var options = session.Options;
        var registry = session.Registry;
        var logger = session.Logger;
        var directory = Path.GetDirectoryName(destinationPath);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);

        using var run = new RunState(cancellationToken, session.SessionToken);
        // Off the caller's thread: resuming re-reads and re-hashes the kept prefix first, minutes at hundreds of GB,
        // cancellable and reported as progress meanwhile.
        var writer = await Task.Run(() => SequentialWriter.Open(destinationPath, repoPath, fileId, size, options.Verify, options.JournalCommitInterval,
            logger, options.DirectWrites ? options.DirectWriteMinimum : -1, session.DirectWriteStages, run.Token,
            verified => progress?.Report(new FileProgress(repoPath, verified, size)), options.PrefixCheckInterval)).ConfigureAwait(false);
        var resumed = writer.ResumedFrom > 0;
        var segments = new List<ReconstructionSegment>();
        var startedLoads = new List<XorbRegistry.StartedLoad>();
        long bytesReceived = 0;
        var termsPending = 0;
        var finished = false;
        try
        {
            progress?.Report(new FileProgress(repoPath, writer.Written, size));
            if (writer.Written < size)
            {
                var segmentChannel = Channel.CreateBounded<ReconstructionSegment>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
                var termChannel = Channel.CreateBounded<PlannedTerm>(new BoundedChannelOptions(4096) { SingleReader = true, SingleWriter = true });
                var segmentSize = SegmentSizeFor(options.BufferSize, options.SegmentSize);
                var token = run.Token;

                async Task FetchSegmentsAsync()
                {
                    try
                    {
                        for (var start = writer.Written; start < size; start += segmentSize)
                        {
                            var end = Math.Min(start + segmentSize, size) - 1;
                            var segment = await ReconstructionSegment.PlanAsync(reader, fileId, start, end, registry, session.Activity, token).ConfigureAwait(false);
                            lock (segments) segments.Add(segment);
                            Interlocked.Add(ref termsPending, segment.Terms.Count);
                            await segmentChannel.Writer.WriteAsync(segment, token).ConfigureAwait(false);
                        }
                        segmentChannel.Writer.TryComplete();
                    }
                    catch (Exception ex)
                    {
                        run.Fail(ex);
                        segmentChannel.Writer.TryComplete(run.Error ?? ex);
                    }
                }

                async Task ScheduleAsync()
                {
                    try
                    {
                        await TermScheduler.RunAsync(segmentChannel.Reader, termChannel.Writer, registry, startedLoads,
                            bytes => Interlocked.Add(ref bytesReceived, bytes), token).ConfigureAwait(false);
                        termChannel.Writer.TryComplete();
                    }
                    catch (Exception ex)
                    {
                        run.Fail(ex);
                        termChannel.Writer.TryComplete(run.Error ?? ex);
                    }
                }

                async Task WriteAsync()
                {
                    try
                    {
                        long lastReport = writer.Written;
                        // Where the writer's time goes (logged at the end): waiting for terms, for loads, or writing.
                        var clock = System.Diagnostics.Stopwatch.StartNew();
                        TimeSpan waitingForLoads = default, writing = default;
                        while (await termChannel.Reader.WaitToReadAsync(token).ConfigureAwait(false))
                        {
                            while (termChannel.Reader.TryRead(out var term))
                            {
                                var mark = clock.Elapsed;
                                var ranges = await AsyncWait.WaitAsync(term.Load!, token).ConfigureAwait(false);
                                var loaded = clock.Elapsed;
                                waitingForLoads += loaded - mark;
                                await writer.WriteTermAsync(term, ranges, token).ConfigureAwait(false);
                                writing += clock.Elapsed - loaded;
                                term.Done = true;
                                term.Load = null;
                                registry.Consumed(term.Block, term.Sequence);
                                if (ReferenceEquals(term, term.Segment.Terms[term.Segment.Terms.Count - 1]))
                                    lock (segments) segments.Remove(term.Segment); // fully written: nothing to release later
                                Interlocked.Decrement(ref termsPending);
                                session.Activity.Written(term.KeepEnd - term.KeepStart);
                                if (progress is not null && (writer.Written - lastReport >= (1 << 20) || writer.Written == size))
                                {
                                    lastReport = writer.Written;
                                    progress.Report(new FileProgress(repoPath, writer.Written, size));
                                }
                            }
                        }
                        logger?.LogDebug("Writer of {Path}: {Total:0} ms, of which {Loads:0} ms waiting for loads and {Writing:0} ms writing",
                            repoPath, clock.Elapsed.TotalMilliseconds, waitingForLoads.TotalMilliseconds, writing.TotalMilliseconds);
                    }
                    catch (Exception ex)
                    {
                        run.Fail(ex);
                    }
                }

                using var stopWatchdog = CancellationTokenSource.CreateLinkedTokenSource(token);
                var watchdog = StallWatchdog.RunAsync(session, run, repoPath,
                    () => $"{Volatile.Read(ref termsPending)} terms pending, {writer.Written} of {size} bytes written", stopWatchdog.Token);
                var stages = Task.WhenAll(Task.Run(FetchSegmentsAsync), Task.Run(ScheduleAsync), Task.Run(WriteAsync));
                await stages.ConfigureAwait(false);
                stopWatchdog.Cancel();
                await watchdog.ConfigureAwait(false);
            }

            run.ThrowIfFailed();
            await writer.FinishAsync(run.Token).ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            try
            {
                await ReleaseAsync(registry, segments, startedLoads, logger).ConfigureAwait(false);
            }
            finally
            {
                // Closes every handle and never throws for the journal's sake, so the file's own error stays the
                // one the caller sees (first error wins, see RunState).
                writer.Dispose();
                if (writer.Discarded) DeletePartial(destinationPath, repoPath);
            }
        }

        if (finished)
        {
            MoveIntoPlace(ResumeJournal.PartialPathFor(destinationPath, repoPath), destinationPath);
            TryDelete(ResumeJournal.JournalPathFor(destinationPath, repoPath));
            progress?.Report(new FileProgress(repoPath, size, size));
        }
        return new Outcome(Interlocked.Read(ref bytesReceived), resumed);
    }

    /// <summary>Loads a segment's blocks must leave room for in the buffer, so that downloads overlap decoding and writing.</summary>
    internal const int LoadsInFlight = 4;

    /// <summary>
    /// The file bytes asked for per reconstruction request. A segment's fetch of one xorb covers only that segment's
    /// chunks, so the segment size bounds the size of a block, and with it how many loads the buffer admits at once.
    /// The segment is sized so that <see cref="LoadsInFlight"/> blocks of segments fit in the buffer whole: a block
    /// can hold a chunk more at each end than its segment (terms are trimmed to whole chunks), 8 header bytes per
    /// chunk of at least <see cref="GearChunker.MinChunk"/> bytes, and the load's in-place slack. A plain quarter of
    /// the buffer admitted only three, and the writer then waited on every fourth load (the 64 MiB buffer ran 10-15%
    /// slower than at 15.6 MiB segments, 2026-12-03).
    /// </summary>
    internal static long SegmentSizeFor(long bufferSize, long segmentSize)
    {
        // Room for a block's stored bytes (decoded bytes plus their headers; the two end chunks may be short).
        var room = bufferSize / LoadsInFlight - XorbRegistry.InPlaceSlack - 2 * XorbChunkHeader.Size;
        var decoded = room / (GearChunker.MinChunk + XorbChunkHeader.Size) * GearChunker.MinChunk;
        return Math.Min(segmentSize, Math.Max(decoded - 2L * XorbChunkHeader.MaxUncompressedLength, 64 * 1024));
    }

    /// <summary>
    /// Releases every planned term the file did not consume, then waits for the loads the file started that no
    /// other file still reads, and for the loads of other files whose last reader it was (the release cancelled
    /// both), so no task of the file outlives it and no load outlives the last file that read it.
    /// </summary>
    private static async Task ReleaseAsync(XorbRegistry registry, List<ReconstructionSegment> segments, List<XorbRegistry.StartedLoad> startedLoads, ILogger? logger)
    {
        List<Task>? cancelledLoads = null;
        foreach (var segment in segments)
            foreach (var term in segment.Terms)
                if (!term.Done)
                {
                    term.Done = true;
                    if (registry.Abandon(term.Block, term.Claimed, term.Sequence) is { } cancelled) (cancelledLoads ??= new()).Add(cancelled);
                }
        foreach (var load in startedLoads)
        {
            if (load.Completion.IsCompleted || registry.IsSharedLoad(load)) continue;
            // Completes (never faults) when the load's task ends: its error, if any, reached the readers that awaited it.
            await load.Completion.ConfigureAwait(false);
        }
        if (cancelledLoads is not null)
        {
            logger?.LogTrace("Waiting for {Count} cancelled loads this file was the last to read", cancelledLoads.Count);
            foreach (var ended in cancelledLoads) await ended.ConfigureAwait(false); // never faults, as above
        }
        logger?.LogTrace("Released {Count} started loads", startedLoads.Count);
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

    internal static void DeletePartial(string destinationPath, string repoPath)
    {
        TryDelete(ResumeJournal.PartialPathFor(destinationPath, repoPath));
        TryDelete(ResumeJournal.JournalPathFor(destinationPath, repoPath));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // A leftover partial or journal is harmless: the next run checks it against the file id.
        }
        catch (UnauthorizedAccessException)
        {
            // Same: harmless leftover.
        }
    }
}
