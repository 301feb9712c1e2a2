using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// One entry of the <see cref="XorbRegistry"/>: the bytes of one presigned xorb fetch (all its ranges, one request),
/// downloaded once and decoded once, shared by every term (of any file of the session) whose chunks it contains.
///
/// Life cycle, one method per transition, each called under the registry's lock (and asserting it):
/// Empty -<see cref="BeginLoad"/>-> Loading -<see cref="Publish"/>-> Ready; Loading -<see cref="EndFailedLoad"/> or
/// <see cref="Unload"/>-> Empty; Ready -<see cref="Unload"/>-> Empty; Empty -<see cref="Drop"/>-> dropped, for good.
/// Single flight: a block has at most one load; a load that was detached (its <see cref="Generation"/> is past)
/// can neither publish nor change the block. Uses and claims: every planned term is one use
/// (<see cref="AddUse"/>/<see cref="RemoveUse"/>), every admitted one also a claim; claims never outnumber uses.
/// Invariants per state are in <see cref="AssertInvariants"/>.
/// </summary>
internal sealed class XorbBlock
{
    private readonly object _registryGate;
    private readonly SortedSet<long> _pendingUses = new();
    private readonly Dictionary<long, XorbUrlSource> _urlSources = new();
    private readonly Dictionary<ChunkRange, int> _expectedTerms = new();

    /// <param name="registryGate">The registry's lock, which guards every mutable field.</param>
    public XorbBlock(XorbFetch fetch, long decodedEstimate, ICasReader reader, object registryGate)
    {
        _registryGate = registryGate;
        Fetch = fetch;
        Xorb = fetch.Xorb;
        CompressedLength = fetch.TotalLength;
        DecodedEstimate = decodedEstimate;
        Reader = reader;
    }

    public XetHash Xorb { get; }

    public long CompressedLength { get; }

    /// <summary>
    /// The bytes the latest load's request has received (null before the first load): set by the loader when the
    /// load starts, read without the lock by the files waiting for the block, for progress only.
    /// </summary>
    public LoadArrival? Arrival
    {
        get => Volatile.Read(ref _arrival);
        set => Volatile.Write(ref _arrival, value);
    }

    private LoadArrival? _arrival;

    // ---- guarded by the registry's lock ----

    /// <summary>Decoded bytes expected from the planned terms (an upper bound when terms overlap); frozen once a load starts.</summary>
    public long DecodedEstimate { get; private set; }

    /// <summary>The ranges and the freshest URL known for them.</summary>
    public XorbFetch Fetch { get; private set; }

    public ICasReader Reader { get; private set; }

    /// <summary>Planned terms not yet consumed or abandoned.</summary>
    public int Planned => _pendingUses.Count;

    /// <summary>Plan sequence number of the earliest pending use (long.MaxValue when none): the block's next use.</summary>
    public long NextUse => _pendingUses.Count == 0 ? long.MaxValue : _pendingUses.Min;

    /// <summary>Admitted terms that have not yet taken their bytes.</summary>
    public int Claims { get; private set; }

    public XorbBlockState State { get; private set; }

    /// <summary>The current load (Loading or Ready); null when Empty.</summary>
    public Task<DecodedXorbRange[]>? Load { get; private set; }

    /// <summary>Completes (never faults) when the task of <see cref="Load"/> has ended, its finally included.</summary>
    public Task? LoadEnded { get; private set; }

    /// <summary>Incremented each time a load starts or the block is unloaded, so a detached load cannot publish.</summary>
    public int Generation { get; private set; }

    public DecodedXorbRange[]? Data { get; private set; }

    /// <summary>The pool buffers <see cref="Data"/> lives in (Ready only), returned to the pool when the block is unloaded.</summary>
    public XorbBuffer[]? Buffers { get; private set; }

    /// <summary>The buffer permits the block's decoded memory holds (Ready only).</summary>
    public BufferLease? Charge { get; private set; }

    /// <summary>The lease of the load in flight (Loading only): owned and returned by the load, seen here for accounting.</summary>
    public BufferLease? LoadCharge { get; private set; }

    /// <summary>Its node in the registry's idle list: set exactly while the block is Ready with no claims.</summary>
    public LinkedListNode<XorbBlock>? IdleNode { get; set; }

    public bool Dropped { get; private set; }

    private CancellationTokenSource? LoadCancellation { get; set; }

    /// <summary>Index of the range of <see cref="Fetch"/> whose chunks contain <paramref name="chunks"/>, or -1.</summary>
    public int FindRange(ChunkRange chunks)
    {
        var ranges = Fetch.Ranges;
        for (var i = 0; i < ranges.Count; i++)
            if (ranges[i].Chunks.Contains(chunks)) return i;
        return -1;
    }

    /// <summary>Refuses a term whose chunks were planned before with another unpacked length; changes nothing.</summary>
    public void CheckTermLength(ReconstructionTerm term)
    {
        AssertLocked();
        if (_expectedTerms.TryGetValue(term.Chunks, out var expectedLength) && expectedLength != term.UnpackedLength)
            throw new XetProtocolException(
                $"The reconstruction gives two lengths ({expectedLength} and {term.UnpackedLength}) for chunks {term.Chunks} of xorb {term.Xorb}.");
    }

    /// <summary>One more planned term, <paramref name="sequence"/>, whose fresh URLs come from <paramref name="urls"/>.
    /// A block not loaded yet takes the newest plan's URL and reader (the freshest) and the larger estimate.</summary>
    public void AddUse(ReconstructionTerm term, long sequence, XorbFetch fetch, long decodedEstimate, ICasReader reader, XorbUrlSource urls)
    {
        AssertLocked();
        if (State == XorbBlockState.Empty && SameRanges(Fetch, fetch))
        {
            Fetch = fetch;
            Reader = reader;
            DecodedEstimate = Math.Max(DecodedEstimate, decodedEstimate);
        }
        _pendingUses.Add(sequence);
        _urlSources[sequence] = urls;
        _expectedTerms[term.Chunks] = term.UnpackedLength;
    }

    /// <summary>A planned term was consumed or abandoned.</summary>
    public void RemoveUse(long sequence)
    {
        AssertLocked();
        _pendingUses.Remove(sequence);
        _urlSources.Remove(sequence);
    }

    public void Claim()
    {
        AssertLocked();
        Claims++;
    }

    public void Unclaim()
    {
        AssertLocked();
        Debug.Assert(Claims > 0, "a claim was released that was never taken");
        Claims--;
    }

    /// <summary>(chunks, unpacked length) of every distinct term planned, for the decoder's check (a copy).</summary>
    public Dictionary<ChunkRange, int> CopyExpectedTerms()
    {
        AssertLocked();
        return new Dictionary<ChunkRange, int>(_expectedTerms);
    }

    /// <summary>The URL source of the newest pending use whose file still runs, or null. A shared block's first
    /// planner may have ended long before its load is refused: its refresh would be cancelled.</summary>
    public XorbUrlSource? LiveUrlSource()
    {
        AssertLocked();
        foreach (var sequence in _pendingUses.Reverse())
            if (_urlSources.TryGetValue(sequence, out var urls) && !urls.FileToken.IsCancellationRequested) return urls;
        return null;
    }

    /// <summary>Empty -> Loading: the load <paramref name="load"/> of generation <see cref="Generation"/> + 1 owns
    /// <paramref name="charge"/> and is stopped through <paramref name="cancellation"/>. Freezes the estimate.</summary>
    public void BeginLoad(int generation, Task<DecodedXorbRange[]> load, Task ended, CancellationTokenSource cancellation, BufferLease charge)
    {
        AssertLocked();
        Debug.Assert(State == XorbBlockState.Empty && !Dropped && Claims > 0, $"a load began on {this} with {Claims} claims");
        Debug.Assert(generation == Generation + 1, "a load began with a stale generation");
        Generation = generation;
        State = XorbBlockState.Loading;
        Load = load;
        LoadEnded = ended;
        LoadCancellation = cancellation;
        LoadCharge = charge;
    }

    /// <summary>The load of <paramref name="generation"/> was refused and asked for fresh URLs: later plans and loads use them.</summary>
    public void UpdateFetch(int generation, XorbFetch fresh)
    {
        AssertLocked();
        if (Generation == generation) Fetch = fresh;
    }

    /// <summary>Loading -> Ready: the load's decoded ranges, the pool buffers they live in and the lease they hold.</summary>
    public void Publish(int generation, DecodedXorbRange[] data, XorbBuffer[] buffers, BufferLease charge)
    {
        AssertLocked();
        Debug.Assert(State == XorbBlockState.Loading && Generation == generation, $"a detached load published on {this}");
        State = XorbBlockState.Ready;
        Data = data;
        Buffers = buffers;
        Charge = charge;
        LoadCharge = null; // the load returns what it did not hand over
        LoadCancellation = null; // nothing left to cancel; the load disposes it
    }

    /// <summary>Loading -> Empty when the load of <paramref name="generation"/> failed (nothing to cancel); a detached
    /// load's failure changes nothing.</summary>
    public void EndFailedLoad(int generation)
    {
        AssertLocked();
        if (Generation != generation || State != XorbBlockState.Loading) return;
        Generation++;
        ToEmpty();
    }

    /// <summary>
    /// Ready or Loading -> Empty: a load in flight is cancelled (its end is <paramref name="cancelledLoad"/>; it owns
    /// and returns its lease). Returns what the caller gives back: the charge of a Ready block's memory (to dispose
    /// after the lock) and the pool buffers it lived in (no claims: no writer reads them any more).
    /// </summary>
    public (BufferLease? Charge, XorbBuffer[]? Buffers) Unload(out Task? cancelledLoad)
    {
        AssertLocked();
        Debug.Assert(IdleNode is null, "an idle block is unloaded only after it leaves the idle list");
        cancelledLoad = State == XorbBlockState.Loading ? LoadEnded : null;
        if (State == XorbBlockState.Loading) CancelLoad();
        var released = (Charge, Buffers);
        Generation++;
        ToEmpty();
        return released;
    }

    /// <summary>Empty -> dropped: no planned use and no claim is left; the registry forgets the block.</summary>
    public void Drop()
    {
        AssertLocked();
        Debug.Assert(State == XorbBlockState.Empty && Claims == 0 && Planned == 0, $"{this} dropped while still in use");
        Dropped = true;
    }

    /// <summary>The invariants of each state (the registry calls this under its lock, at every lock exit).</summary>
    [Conditional("DEBUG")]
    public void AssertInvariants()
    {
        AssertLocked();
        Debug.Assert(Claims >= 0 && Claims <= Planned, $"{this}: {Claims} claims for {Planned} planned uses");
        Debug.Assert(_urlSources.Count == _pendingUses.Count, $"{this}: a pending use without its URL source");
        Debug.Assert(!Dropped || (State == XorbBlockState.Empty && Planned == 0), $"{this}: dropped while in use");
        switch (State)
        {
            case XorbBlockState.Empty:
                Debug.Assert(Load is null && LoadEnded is null && LoadCancellation is null && LoadCharge is null, $"{this}: a load left behind");
                Debug.Assert(Data is null && Buffers is null && Charge is null && IdleNode is null, $"{this}: memory left behind");
                break;
            case XorbBlockState.Loading:
                Debug.Assert(Load is not null && LoadEnded is not null && LoadCancellation is not null, $"{this}: no load in flight");
                Debug.Assert(LoadCharge is { IsDisposed: false }, $"{this}: its load holds no buffer permits");
                Debug.Assert(Claims > 0, $"{this}: a load nobody awaits was not cancelled");
                Debug.Assert(Data is null && Buffers is null && Charge is null && IdleNode is null, $"{this}: data before its load ended");
                break;
            case XorbBlockState.Ready:
                Debug.Assert(Load is not null && Data is not null && Buffers is not null, $"{this}: ready without data");
                Debug.Assert(Charge is { IsDisposed: false } && LoadCharge is null, $"{this}: its memory holds no buffer permits");
                break;
        }
    }

    public override string ToString() => $"xorb {Xorb} ({Fetch.Ranges.Count} ranges, {CompressedLength} bytes) {State}";

    internal static long ChunkCount(XorbFetch fetch)
    {
        long chunks = 0;
        foreach (var range in fetch.Ranges) chunks += range.Chunks.Count;
        return chunks;
    }

    internal static bool SameRanges(XorbFetch a, XorbFetch b)
    {
        if (a.Ranges.Count != b.Ranges.Count) return false;
        for (var i = 0; i < a.Ranges.Count; i++)
        {
            var x = a.Ranges[i];
            var y = b.Ranges[i];
            if (x.ByteStart != y.ByteStart || x.ByteEndInclusive != y.ByteEndInclusive || x.Chunks != y.Chunks) return false;
        }
        return true;
    }

    private void ToEmpty()
    {
        State = XorbBlockState.Empty;
        Load = null;
        LoadEnded = null;
        LoadCancellation = null;
        LoadCharge = null;
        Data = null;
        Buffers = null;
        Charge = null;
    }

    private void CancelLoad()
    {
        try
        {
            LoadCancellation?.Cancel();
        }
        catch (AggregateException)
        {
            // Callbacks of an HTTP request being cancelled; the load is ending anyway.
        }
        catch (ObjectDisposedException)
        {
            // The load finished meanwhile.
        }
    }

    private void AssertLocked() => Debug.Assert(Monitor.IsEntered(_registryGate), "a xorb block changed outside the registry's lock");
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
