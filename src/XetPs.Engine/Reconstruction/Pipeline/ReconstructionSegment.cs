using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// One reconstruction request's worth of a file: the file bytes [Start, EndInclusive], its terms placed in the file
/// and registered with the registry, and the single-flight refresh of its presigned URLs (a 403 on any of its
/// fetches re-asks the reconstruction for this segment once; every load that hit the 403 awaits the same answer).
/// </summary>
internal sealed class ReconstructionSegment
{
    private readonly object _gate = new();
    private readonly ICasReader _reader;
    private readonly XetHash _fileId;
    private readonly TransferActivity _activity;
    private readonly CancellationToken _fileToken;
    private readonly XorbUrlSource _urls;
    private Task<FileReconstruction>? _refresh;

    private ReconstructionSegment(ICasReader reader, XetHash fileId, long start, long endInclusive, TransferActivity activity, CancellationToken fileToken)
    {
        _fileToken = fileToken;
        _urls = new XorbUrlSource(RefreshAsync, fileToken);
        _reader = reader;
        _fileId = fileId;
        Start = start;
        EndInclusive = endInclusive;
        _activity = activity;
    }

    public long Start { get; }

    public long EndInclusive { get; }

    public List<PlannedTerm> Terms { get; } = new();

    /// <summary>
    /// Asks CAS for the segment, checks that its terms cover it, and plans every term: with the registry, or, when
    /// <paramref name="earlier"/> holds all of a term's chunks, from that copy (no block, no fetch; a fetch that only
    /// such terms use is never made). If planning fails half-way, the terms already planned are released before the
    /// error propagates.
    /// </summary>
    public static async Task<ReconstructionSegment> PlanAsync(ICasReader reader, XetHash fileId, long start, long endInclusive,
        XorbRegistry registry, TransferActivity activity, EarlierCopy? earlier, CancellationToken cancellationToken)
    {
        var segment = new ReconstructionSegment(reader, fileId, start, endInclusive, activity, cancellationToken);
        var reconstruction = await reader.GetReconstructionAsync(fileId, start, endInclusive, cancellationToken).ConfigureAwait(false);
        activity.Touch();
        segment.Plan(reconstruction, registry, earlier);
        return segment;
    }

    private void Plan(FileReconstruction reconstruction, XorbRegistry registry, EarlierCopy? earlier)
    {
        var terms = reconstruction.Terms;
        var offset = reconstruction.OffsetIntoFirstRange;
        CheckCoverage(terms, offset);
        var fromEarlier = new EarlierChunks?[terms.Count];
        if (earlier is not null)
            for (var i = 0; i < terms.Count; i++) fromEarlier[i] = earlier.Locate(terms[i]);

        // Expected decoded bytes per fetch: the distinct term ranges that use it (an upper bound when they overlap).
        var fetchOf = new XorbFetch[terms.Count];
        var estimates = new Dictionary<XorbFetch, long>();
        var seen = new HashSet<(XorbFetch, ChunkRange)>();
        for (var i = 0; i < terms.Count; i++)
        {
            var term = terms[i];
            if (fromEarlier[i] is not null) continue;
            fetchOf[i] = FindFetch(reconstruction, term)
                ?? throw new XetProtocolException($"The reconstruction gives no URL for chunks {term.Chunks} of xorb {term.Xorb}.");
            if (seen.Add((fetchOf[i], term.Chunks)))
                estimates[fetchOf[i]] = (estimates.TryGetValue(fetchOf[i], out var e) ? e : 0) + term.UnpackedLength;
        }

        try
        {
            var fileOffset = Start - offset;
            for (var i = 0; i < terms.Count; i++)
            {
                var term = terms[i];
                if (fileOffset > EndInclusive) break; // whole trailing terms past the range: nothing to keep
                if (fromEarlier[i] is { } local)
                {
                    Terms.Add(new PlannedTerm(this, term, fileOffset, local));
                    fileOffset += term.UnpackedLength;
                    continue;
                }
                var fetch = fetchOf[i];
                var block = registry.Plan(term, fetch, estimates[fetch], _reader, _urls, out var rangeIndex, out var sequence);
                Terms.Add(new PlannedTerm(this, term, block, rangeIndex, sequence, fileOffset));
                fileOffset += term.UnpackedLength;
            }
        }
        catch
        {
            foreach (var planned in Terms)
                if (planned.Block is { } block) registry.Abandon(block, claimed: false, planned.Sequence);
            Terms.Clear();
            throw;
        }
    }

    /// <summary>Checks the answer's lengths before anything is sized from them, and that its terms cover the segment.</summary>
    private void CheckCoverage(IReadOnlyList<ReconstructionTerm> terms, long offset)
    {
        var requested = EndInclusive - Start + 1;
        if (terms.Count == 0)
            throw new XetProtocolException($"The reconstruction of file {_fileId} for bytes {Start}-{EndInclusive} has no terms.");
        long total = 0;
        foreach (var term in terms)
        {
            // Checked again here (the parser checks too): the pipeline sizes memory from these lengths.
            if (term.UnpackedLength <= 0 || term.Chunks.Start < 0 || term.Chunks.End <= term.Chunks.Start ||
                term.UnpackedLength > (long)term.Chunks.Count * XorbChunkHeader.MaxUncompressedLength)
                throw new XetProtocolException(
                    $"A term of file {_fileId} (xorb {term.Xorb}, chunks {term.Chunks}) claims an impossible unpacked_length {term.UnpackedLength}.");
            total += term.UnpackedLength;
        }
        if (offset < 0 || offset >= terms[0].UnpackedLength)
            throw new XetProtocolException($"The reconstruction of file {_fileId} skips {offset} bytes of a first term of {terms[0].UnpackedLength}.");
        if (total - offset < requested)
            throw new XetProtocolException(
                $"The reconstruction of file {_fileId} for bytes {Start}-{EndInclusive} covers only {total - offset} of {requested} bytes.");

    }

    /// <summary>The fetch of <paramref name="answer"/> with exactly the ranges of <paramref name="stale"/>, if any.</summary>
    private static XorbFetch? Match(FileReconstruction answer, XorbFetch stale)
    {
        if (!answer.Xorbs.TryGetValue(stale.Xorb, out var fetches)) return null;
        foreach (var fetch in fetches)
        {
            if (fetch.Ranges.Count != stale.Ranges.Count) continue;
            var same = true;
            for (var i = 0; i < fetch.Ranges.Count && same; i++) same = fetch.Ranges[i] == stale.Ranges[i];
            if (same) return fetch;
        }
        return null;
    }

    private static XorbFetch? FindFetch(FileReconstruction reconstruction, ReconstructionTerm term)
    {
        if (!reconstruction.Xorbs.TryGetValue(term.Xorb, out var fetches)) return null;
        foreach (var fetch in fetches)
            foreach (var range in fetch.Ranges)
                if (range.Chunks.Contains(term.Chunks)) return fetch;
        return null;
    }

    /// <summary>
    /// Fresh URLs for <paramref name="stale"/>'s ranges. Single-flight: loads refused at the same time await one
    /// reconstruction request; a new request is made only when the last answer is no newer than what was refused
    /// (it still hands out the refused URL) or it failed.
    /// </summary>
    public async Task<XorbFetch> RefreshAsync(XorbFetch stale, CancellationToken cancellationToken)
    {
        Task<FileReconstruction> refresh;
        lock (_gate)
        {
            var reusable = _refresh is not null &&
                (!_refresh.IsCompleted || (_refresh.Status == TaskStatus.RanToCompletion && Match(_refresh.Result, stale) is { } m && m.Url != stale.Url));
            if (!reusable)
            {
                // Tied to the file, not to the first caller: other loads of the file await the same answer.
                _refresh = _reader.GetReconstructionAsync(_fileId, Start, EndInclusive, _fileToken);
            }
            refresh = _refresh!;
        }
        var fresh = await AsyncWait.WaitAsync(refresh, cancellationToken).ConfigureAwait(false);
        _activity.Touch();
        if (Match(fresh, stale) is { } match) return match;
        throw new XetProtocolException($"Fresh URLs for file {_fileId} no longer include the ranges of xorb {stale.Xorb} asked before.");
    }
}
