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
    public XorbBlock(XorbFetch fetch, long decodedEstimate, ICasReader reader, Func<XorbFetch, CancellationToken, Task<XorbFetch>> refresh)
    {
        Fetch = fetch;
        Xorb = fetch.Xorb;
        CompressedLength = fetch.TotalLength;
        DecodedEstimate = decodedEstimate;
        Reader = reader;
        Refresh = refresh;
    }

    public XetHash Xorb { get; }

    public long CompressedLength { get; }

    /// <summary>Decoded bytes expected from the planned terms (an upper bound when terms overlap).</summary>
    public long DecodedEstimate { get; set; }

    // ---- guarded by the registry lock ----
    public XorbFetch Fetch { get; set; }

    public ICasReader Reader { get; set; }

    /// <summary>Fetches fresh URLs for this block's fetch (the planning segment's reconstruction, single-flight).</summary>
    public Func<XorbFetch, CancellationToken, Task<XorbFetch>> Refresh { get; set; }

    public int Planned { get; set; }

    /// <summary>Plan sequence numbers of the terms still to read this block: the smallest is its next use.</summary>
    public SortedSet<long> PendingUses { get; } = new();

    public int Claims { get; set; }

    public XorbBlockState State { get; set; }

    /// <summary>The current load (Loading or Ready); null when Empty.</summary>
    public Task<DecodedXorbRange[]>? Load { get; set; }

    public CancellationTokenSource? LoadCancellation { get; set; }

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

internal enum XorbBlockState
{
    Empty,
    Loading,
    Ready,
}
