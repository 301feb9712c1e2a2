using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// Single-flight registry of xorb data, shared by all files of a session: a term whose chunks lie in a block that
/// is loading or loaded (for this file or another, this segment or an earlier one) uses that block instead of
/// downloading again. The first claimant of an empty block pays its buffer permits and starts its load
/// (<see cref="XorbLoader"/>); every other claimant awaits the same task, holding no CAS permit and no buffer permit
/// of its own. Here: plan, claim, consume, abandon and eviction; the blocks' transitions are <see cref="XorbBlock"/>'s.
///
/// Memory accounting: a load downloads into the tail of one pooled array and decodes in place towards its start, so
/// it holds max(compressed, expected decoded) bytes plus a little slack (<see cref="LoadFootprint"/>), and is charged
/// exactly that, before its download starts (clamped to the buffer); the block keeps that array, and that charge,
/// until it is dropped or evicted. Only when the terms under-described the ranges is a range decoded into an array
/// of its own, and the block is then charged what it keeps. A load never waits for more permits, so it can always
/// finish. CAS permits are taken only inside a load, around its HTTP request.
///
/// Why no wait is endless (the no-stall argument): permits are held only by (a) loads in flight, which finish or
/// fail in bounded time (read timeouts, bounded retries) needing nothing but a CAS permit, itself held only by
/// loads in flight; (b) ready blocks with claims, i.e. blocks read by terms a scheduler has already admitted;
/// each file's writer consumes its admitted terms in file order, waiting only for their loads (a), so every claim
/// is eventually released; (c) idle blocks (ready, unclaimed), which are evicted as soon as a buffer waiter lacks
/// bytes (the permits call <see cref="EvictIdle"/> when a waiter is queued or stays queued after a release, and a
/// block that turns idle while someone waits is evicted at once). So while a scheduler waits, the held bytes fall
/// to zero, and since requests are clamped to the capacity the first waiter is then granted; waiters are FIFO, so
/// every waiter is granted in turn. No lock is held across an await anywhere here, and no lease is returned under
/// the lock (a release runs eviction, which takes it). <see cref="AssertInvariants"/> checks the states this
/// argument relies on at every exit of the lock (debug builds).
/// </summary>
internal sealed partial class XorbRegistry
{
    /// <summary>A load a file started: the file waits for it before returning unless another file still reads it.</summary>
    internal readonly record struct StartedLoad(XorbBlock Block, int Generation, Task Completion);

    /// <summary>
    /// Room a load's one array needs beyond max(compressed, decoded): an LZ4 chunk must not be decoded over its own
    /// compressed bytes, so the decoded front may have to stay up to one chunk's frame behind the compressed tail.
    /// </summary>
    internal const int InPlaceSlack = XorbChunkHeader.MaxUncompressedLength + 4096;

    /// <summary>
    /// The least <see cref="MaxLoadBytes"/> of any buffer: the fetch of a smallest segment (64 KiB, see
    /// FileReconstructor.SegmentSizeFor) with a largest chunk at each end, its headers and the in-place slack fits,
    /// so a tiny buffer still downloads honest files (each such load is charged the whole buffer and runs alone).
    /// </summary>
    internal const long MinimumLoadLimit = 1L << 20;

    private readonly object _gate = new();
    private readonly Dictionary<XetHash, List<XorbBlock>> _blocks = new();
    private readonly LinkedList<XorbBlock> _idle = new();
    private readonly XorbLoader _loader;
    private readonly ILogger? _logger;
    private readonly CancellationToken _sessionToken;
    private long _planSequence;

    public XorbRegistry(long bufferSize, int casConcurrency, bool verify, TransferActivity activity, ILogger? logger,
        CancellationToken sessionToken)
    {
        Permits = new BufferPermits(bufferSize, EvictIdle);
        // Slabs for the buffer plus a half: loads in use are charged to the permits, so the buffer's worth of slabs
        // holds them all; the half (two segments) is room for fragmentation, which with a quarter still sent some
        // loads to arrays of their own (large-object garbage). Slab pages never written cost no resident memory. Slots
        // of a quarter of the buffer (a load's largest block, FileReconstructor.SegmentSizeFor) keep the small pieces
        // held between loads from cutting the free space into holes no load fits (XorbBufferPool).
        Buffers = new XorbBufferPool(bufferSize + bufferSize / 2, slotBytes: bufferSize / FileReconstructor.LoadsInFlight);
        MaxLoadBytes = Math.Min(Math.Max(bufferSize, MinimumLoadLimit), int.MaxValue - 65536);
        _loader = new XorbLoader(this, Buffers, casConcurrency, verify, activity, logger);
        _logger = logger;
        _sessionToken = sessionToken;
    }

    public BufferPermits Permits { get; }

    /// <summary>The memory loads download and decode into, reused by later loads.</summary>
    public XorbBufferPool Buffers { get; }

    /// <summary>
    /// The most bytes one load may hold, compressed or decoded: the buffer (at least <see cref="MinimumLoadLimit"/>,
    /// at most what one array holds). A fetch that cannot fit is refused with <see cref="XetProtocolException"/>
    /// before anything is allocated for it: when planned, from its byte ranges and the terms' lengths, and when
    /// decoded, from its chunk headers (the terms may under-describe its ranges). Refused, not split: a presigned URL
    /// signs exactly its set of byte ranges (X-Xet-Signed-Range; PROTOCOL.md 2.4: the Range header must match it,
    /// other bytes get a 403), so neither a fetch nor a range can be asked for in parts. An honest CAS never names
    /// such a fetch: a segment's fetch covers only its terms' chunks, at most the segment and a chunk at each end,
    /// and segments are sized so that four such loads fit the buffer. So only a lying or broken server meets it.
    /// </summary>
    public long MaxLoadBytes { get; }

    /// <summary>Loads started since the session began (each is one xorb fetch request, retries aside).</summary>
    public long LoadsStarted => _loader.Started;

    /// <summary>Loads whose task has not finished yet.</summary>
    public int LoadsRunning => _loader.Running;

    public int CasPermitsHeld => _loader.CasPermitsHeld;

    /// <summary>Blocks currently registered (planned, loading, ready or idle).</summary>
    public int BlockCount
    {
        get { lock (_gate) return _blocks.Values.Sum(l => l.Count); }
    }

    /// <summary>Claims held by admitted terms over all blocks (specifications observe sharing with it).</summary>
    public int ClaimCount
    {
        get { lock (_gate) return _blocks.Values.Sum(l => l.Sum(b => b.Claims)); }
    }

    /// <summary>One line for the stall watchdog: what holds the buffer and the connections.</summary>
    public string Describe()
    {
        int blocks = 0, loading = 0, ready = 0, idle;
        lock (_gate)
        {
            foreach (var list in _blocks.Values)
            {
                foreach (var b in list)
                {
                    blocks++;
                    if (b.State == XorbBlockState.Loading) loading++;
                    else if (b.State == XorbBlockState.Ready) ready++;
                }
            }
            idle = _idle.Count;
        }
        return $"buffer {Permits.Held} of {Permits.Capacity} bytes held (waiters: {(Permits.HasWaiters ? "yes" : "no")}), " +
               $"CAS permits held {CasPermitsHeld}, registry entries {blocks} ({loading} loading, {ready} ready, {idle} idle), loads running {LoadsRunning}";
    }

    /// <summary>
    /// Registers one planned term: finds a block of the same xorb whose ranges contain the term's chunks (reusing a
    /// loaded or loading one first), else the block of <paramref name="fetch"/>, creating it. The caller must later
    /// call <see cref="Consumed"/> or <see cref="Abandon"/> exactly once for the returned block.
    /// </summary>
    public XorbBlock Plan(ReconstructionTerm term, XorbFetch fetch, long decodedEstimate, ICasReader reader,
        XorbUrlSource urls, out int rangeIndex, out long sequence)
    {
        lock (_gate)
        {
            CheckFits(fetch, decodedEstimate);
            var (block, index) = FindBlock(term);
            var created = block is null;
            if (block is null)
            {
                block = new XorbBlock(fetch, decodedEstimate, reader, _gate);
                index = block.FindRange(term.Chunks);
                if (index < 0)
                    throw new XetProtocolException($"The reconstruction gives no range of xorb {term.Xorb} holding chunks {term.Chunks}.");
            }
            // Checked before anything is counted: a plan that throws here leaves no use on the block (its segment
            // abandons only the terms planned before it, and a leaked use would keep the block, and its memory, forever).
            block.CheckTermLength(term);
            if (created)
            {
                if (!_blocks.TryGetValue(term.Xorb, out var list)) _blocks[term.Xorb] = list = new List<XorbBlock>();
                list.Add(block);
            }
            sequence = ++_planSequence;
            block.AddUse(term, sequence, fetch, decodedEstimate, reader, urls);
            rangeIndex = index;
            AssertInvariants();
            return block;
        }
    }

    /// <summary>
    /// Claims <paramref name="block"/> for one admitted term and returns the task that yields its decoded ranges.
    /// If the block is empty, waits for its buffer permits (the only wait here) and starts its load; the load is
    /// recorded in <paramref name="startedLoads"/> so the file can await it before returning. On exception the claim
    /// is not counted (and if it was a loading block's last claim, the load is cancelled and waited for, as in
    /// <see cref="Abandon"/>).
    /// </summary>
    public async Task<Task<DecodedXorbRange[]>> ClaimAsync(XorbBlock block, List<StartedLoad> startedLoads, CancellationToken cancellationToken)
    {
        long charge;
        lock (_gate)
        {
            if (block.Dropped) throw new InvalidOperationException("A dropped xorb block was claimed: a planned term was released twice.");
            block.Claim();
            LeaveIdle(block);
            var load = block.Load;
            charge = load is null ? ChargeOf(block) : 0;
            AssertInvariants();
            if (load is not null) return load;
        }

        try
        {
            return await StartLoadAsync(block, charge, startedLoads, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            BufferLease? release;
            Task? cancelledLoad;
            lock (_gate)
            {
                block.Unclaim();
                AfterClaimReleased(block, out release, out cancelledLoad);
                AssertInvariants();
            }
            ReleaseAndEvict(release);
            if (cancelledLoad is not null) await cancelledLoad.ConfigureAwait(false); // see Abandon
            throw;
        }
    }

    /// <summary>
    /// Waits for <paramref name="charge"/> bytes and starts the block's load with them, unless another claimant
    /// started it meanwhile. While this claim waited, a later plan of the same ranges may have raised the block's
    /// estimate (terms of another segment or file): the load rents and keeps a buffer sized from the estimate it
    /// starts with, so it must be charged for that one. It tops up only if the bytes are free at once; otherwise it
    /// gives everything back and queues again for the whole amount (waiting while holding permits is the stall this
    /// registry exists to avoid). The lease returns its bytes on every path that does not hand it to the load.
    /// </summary>
    private async Task<Task<DecodedXorbRange[]>> StartLoadAsync(XorbBlock block, long charge, List<StartedLoad> startedLoads,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            using var lease = await Permits.LeaseAsync(charge, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                var load = block.Load; // another claimant started it meanwhile
                charge = ChargeOf(block);
                if (load is null && (charge <= lease.Bytes || lease.TryGrow(charge - lease.Bytes)))
                    load = StartLoad(block, lease.Split(lease.Bytes), startedLoads);
                AssertInvariants();
                if (load is not null) return load;
            }
        }
    }

    /// <summary>Empty -> Loading, under the lock: the load owns <paramref name="lease"/> from now on.</summary>
    private Task<DecodedXorbRange[]> StartLoad(XorbBlock block, BufferLease lease, List<StartedLoad> startedLoads)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        var generation = block.Generation + 1;
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_sessionToken);
        // The completion signal holds no reference to the bytes, so the file's list of started loads never keeps a
        // finished block's memory alive.
        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var load = _loader.Start(block, generation, block.Fetch, lease, cancellation, completion);
        block.BeginLoad(generation, load, completion.Task, cancellation, lease);
        startedLoads.Add(new StartedLoad(block, generation, completion.Task));
        return load;
    }

    /// <summary>What a load of <paramref name="block"/> holds, and is charged, from its current estimate (under the lock).</summary>
    private long ChargeOf(XorbBlock block)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        return Permits.Clamp(LoadFootprint(block.CompressedLength, block.DecodedEstimate, XorbBlock.ChunkCount(block.Fetch)));
    }

    /// <summary>One planned and claimed term has taken its bytes.</summary>
    public void Consumed(XorbBlock block, long sequence)
    {
        BufferLease? release;
        lock (_gate)
        {
            block.Unclaim();
            block.RemoveUse(sequence);
            AfterClaimReleased(block, out release, out _); // its load has ended: the term read it
            AssertInvariants();
        }
        ReleaseAndEvict(release);
    }

    /// <summary>
    /// A planned term will never be consumed (its file failed or was cancelled). Returns the end of the block's load
    /// when this was its last claim: the load was cancelled (nobody reads it any more) and the caller waits for it,
    /// so no load outlives the last file that read it.
    /// </summary>
    public Task? Abandon(XorbBlock block, bool claimed, long sequence)
    {
        BufferLease? release;
        Task? cancelledLoad;
        lock (_gate)
        {
            if (claimed) block.Unclaim();
            block.RemoveUse(sequence);
            AfterClaimReleased(block, out release, out cancelledLoad);
            AssertInvariants();
        }
        ReleaseAndEvict(release);
        return cancelledLoad;
    }

    /// <summary>True when another file still reads the block of <paramref name="load"/>, so its starter must not wait for it.</summary>
    public bool IsSharedLoad(StartedLoad load)
    {
        lock (_gate) return load.Block.Generation == load.Generation && load.Block.Claims > 0;
    }

    /// <summary>
    /// Evicts idle blocks until the first buffer waiter's shortfall is covered, the one whose next use is farthest
    /// first (Belady's choice: the plan tells the future). Terms that use a xorb range far apart, the seed incident's
    /// shape, make least-recently-used the worst choice: it would evict exactly the block needed next.
    /// </summary>
    public void EvictIdle()
    {
        BufferLease? freed = null;
        lock (_gate)
        {
            var need = Permits.Shortfall;
            while (need > (freed?.Bytes ?? 0) && _idle.Count > 0)
            {
                var victim = _idle.First!;
                for (var node = victim.Next; node is not null; node = node.Next)
                    if (node.Value.NextUse > victim.Value.NextUse) victim = node;
                var block = victim.Value;
                LeaveIdle(block);
                freed = Gather(freed, Unload(block, out _)); // idle: ready, no load in flight
                _logger?.LogTrace("Evicted idle xorb block {Block} to admit a waiting term", block.ToString());
            }
            AssertInvariants();
        }
        freed?.Dispose();
    }

    /// <summary>Returns a lease taken from a block under the lock, then evicts idle blocks if a waiter still lacks
    /// bytes (a block may just have turned idle, with nothing returned).</summary>
    internal void ReleaseAndEvict(BufferLease? release)
    {
        Debug.Assert(!Monitor.IsEntered(_gate), "a lease returned under the registry's lock would run eviction inside it");
        release?.Dispose();
        if (Permits.HasWaiters) EvictIdle();
    }

    // ---- lock held by callers ----

    /// <summary>Refuses a fetch whose compressed bytes or expected decoded bytes (trusted up to 128 KiB a chunk),
    /// with the slack decoding in place needs, exceed <see cref="MaxLoadBytes"/>.</summary>
    private void CheckFits(XorbFetch fetch, long decodedEstimate)
    {
        var chunks = XorbBlock.ChunkCount(fetch);
        var decoded = Math.Min(Math.Max(decodedEstimate, 0), chunks * (long)XorbChunkHeader.MaxUncompressedLength);
        if (Math.Max(fetch.TotalLength, decoded) + InPlaceSlack <= MaxLoadBytes) return;
        throw new XetProtocolException(
            $"The reconstruction names a fetch of xorb {fetch.Xorb} ({chunks} chunks, {fetch.TotalLength} bytes, up to {decoded} bytes " +
            $"decoded) that does not fit the {MaxLoadBytes}-byte buffer; its URL signs exactly these ranges, so it cannot be fetched in parts.");
    }

    /// <summary>A loaded or loading block whose ranges hold the term's chunks (a loaded one first), or none.</summary>
    private (XorbBlock? Block, int Range) FindBlock(ReconstructionTerm term)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (!_blocks.TryGetValue(term.Xorb, out var list)) return (null, -1);
        XorbBlock? chosen = null;
        var chosenIndex = -1;
        foreach (var block in list)
        {
            var index = block.FindRange(term.Chunks);
            if (index < 0) continue;
            if (chosen is null || (block.State != XorbBlockState.Empty && chosen.State == XorbBlockState.Empty))
            {
                chosen = block;
                chosenIndex = index;
            }
        }
        return (chosen, chosenIndex);
    }

    /// <summary>
    /// After a claim or a use left <paramref name="block"/>: with no claim left, a block with no planned use either is
    /// dropped, a ready one turns idle (a waiter lacking bytes has it evicted, farthest next use first, by the
    /// caller after the lock), and a loading one is unloaded: nobody waits for its load any more (its claimants'
    /// files ended), so it is stopped and no task outlives them; a later claimant starts a fresh load.
    /// </summary>
    private void AfterClaimReleased(XorbBlock block, out BufferLease? release, out Task? cancelledLoad)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        release = null;
        cancelledLoad = null;
        if (block.Claims > 0 || block.Dropped) return;
        if (block.Planned <= 0)
        {
            LeaveIdle(block);
            release = Unload(block, out cancelledLoad);
            block.Drop();
            if (_blocks.TryGetValue(block.Xorb, out var list))
            {
                list.Remove(block);
                if (list.Count == 0) _blocks.Remove(block.Xorb);
            }
            return;
        }
        if (block.State == XorbBlockState.Ready) EnterIdle(block);
        else if (block.State == XorbBlockState.Loading) release = Unload(block, out cancelledLoad);
    }

    /// <summary>Returns the block to Empty (see <see cref="XorbBlock.Unload"/>) and its buffers to the pool; returns
    /// the lease of its memory, to dispose after the lock.</summary>
    private BufferLease? Unload(XorbBlock block, out Task? cancelledLoad)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        var (charge, buffers) = block.Unload(out cancelledLoad);
        if (buffers is not null)
            foreach (var buffer in buffers) Buffers.Return(buffer);
        return charge;
    }

    /// <summary>Ready with no claims: evictable. A block that is idle already stays where it is, once (an unclaimed
    /// use leaving an idle block must not list it twice).</summary>
    private void EnterIdle(XorbBlock block)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        block.IdleNode ??= _idle.AddLast(block);
    }

    private void LeaveIdle(XorbBlock block)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        if (block.IdleNode is null) return;
        _idle.Remove(block.IdleNode);
        block.IdleNode = null;
    }

    private static BufferLease? Gather(BufferLease? into, BufferLease? more) => into is null ? more : into.Absorb(more);

    /// <summary>
    /// Bytes of the single array a load downloads into and decodes in place in: the larger of the compressed bytes
    /// and the expected decoded bytes, plus <see cref="InPlaceSlack"/>. The estimate comes from the terms, so it is
    /// trusted only up to what the fetch's chunks can hold at most (<paramref name="chunks"/> x 128 KiB): lying
    /// metadata cannot make a load reserve more than its chunks could decode to. The load's buffer permits are
    /// charged for this (clamped to the buffer): it is the memory the load really holds. A planned fetch's footprint
    /// is at most <see cref="MaxLoadBytes"/> (see <see cref="CheckFits"/>), so one array always holds it.
    /// </summary>
    internal static long LoadFootprint(long compressed, long decodedEstimate, long chunks)
    {
        var bound = chunks * (long)XorbChunkHeader.MaxUncompressedLength;
        return Math.Max(compressed, Math.Min(Math.Max(decodedEstimate, 0), bound)) + InPlaceSlack;
    }
}
