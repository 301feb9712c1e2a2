using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// One entry of the <see cref="XorbRegistry"/>: the bytes of one presigned xorb fetch (all its ranges, one request),
/// downloaded once and decoded once, shared by every term (of any file of the session) whose chunks it contains.
/// All mutable fields are guarded by the registry's lock. Invariants: <see cref="Charge"/> is the buffer permits
/// the block's memory holds (0 unless Ready); a block is dropped, its memory returned, when no planned term still
/// needs it (<see cref="Planned"/> = 0) and nobody reads it (<see cref="Claims"/> = 0); a Ready block with no
/// claims is idle and may be evicted (and reloaded later) when a buffer waiter lacks bytes.
/// </summary>
internal sealed class XorbBlock
{
    public XorbBlock(XorbFetch fetch, long decodedEstimate, ICasReader reader)
    {
        Fetch = fetch;
        Xorb = fetch.Xorb;
        CompressedLength = fetch.TotalLength;
        DecodedEstimate = decodedEstimate;
        Reader = reader;
    }

    public XetHash Xorb { get; }

    public long CompressedLength { get; }

    /// <summary>Decoded bytes expected from the planned terms (an upper bound when terms overlap).</summary>
    public long DecodedEstimate { get; set; }

    // ---- guarded by the registry lock ----
    public XorbFetch Fetch { get; set; }

    public ICasReader Reader { get; set; }

    public int Planned { get; set; }

    /// <summary>Plan sequence numbers of the terms still to read this block: the smallest is its next use.</summary>
    public SortedSet<long> PendingUses { get; } = new();

    /// <summary>Where fresh URLs come from, per pending use: the segment that planned it. A use leaves with its file
    /// (consumed or abandoned), so a refresh never goes through a file that has ended.</summary>
    public Dictionary<long, XorbUrlSource> UrlSources { get; } = new();

    public int Claims { get; set; }

    public XorbBlockState State { get; set; }

    /// <summary>The current load (Loading or Ready); null when Empty.</summary>
    public Task<DecodedXorbRange[]>? Load { get; set; }

    public CancellationTokenSource? LoadCancellation { get; set; }

    /// <summary>Completes (never faults) when the task of <see cref="Load"/> has ended, its finally included.</summary>
    public Task? LoadEnded { get; set; }

    /// <summary>Incremented each time a load starts, so a detached (cancelled or evicted) load cannot publish.</summary>
    public int Generation { get; set; }

    public DecodedXorbRange[]? Data { get; set; }

    /// <summary>The pool buffers <see cref="Data"/> lives in (Ready only), returned to the pool when the block is unloaded.</summary>
    public XorbBuffer[]? Buffers { get; set; }

    public long Charge { get; set; }

    public LinkedListNode<XorbBlock>? IdleNode { get; set; }

    public bool Dropped { get; set; }

    /// <summary>(chunks, unpacked length) of every distinct term planned on the block: checked against the chunk
    /// headers before decoded memory is allocated, so a lying unpacked_length is caught early.</summary>
    public Dictionary<ChunkRange, int> ExpectedTerms { get; } = new();

    /// <summary>Index of the range of <see cref="Fetch"/> whose chunks contain <paramref name="chunks"/>, or -1.</summary>
    public int FindRange(ChunkRange chunks)
    {
        var ranges = Fetch.Ranges;
        for (var i = 0; i < ranges.Count; i++)
            if (ranges[i].Chunks.Contains(chunks)) return i;
        return -1;
    }

    public override string ToString() => $"xorb {Xorb} ({Fetch.Ranges.Count} ranges, {CompressedLength} bytes) {State}";
}

/// <summary>
/// Fresh URLs for a block's fetch: <paramref name="Refresh"/> asks the reconstruction of the segment that planned a use
/// again (single-flight per segment); it is tied to that segment's file, whose token is <paramref name="FileToken"/>
/// (cancelled when the file fails or is cancelled; a file that completed has no pending use left).
/// </summary>
internal sealed record XorbUrlSource(Func<XorbFetch, CancellationToken, Task<XorbFetch>> Refresh, CancellationToken FileToken);

internal enum XorbBlockState
{
    Empty,
    Loading,
    Ready,
}
