using System;
using System.Collections.Generic;
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
/// downloading again. The first claimant of an empty block pays its buffer permits and starts its load; every other
/// claimant awaits the same task, holding no CAS permit and no buffer permit of its own.
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
/// every waiter is granted in turn. No lock is held across an await anywhere here.
/// </summary>
internal sealed class XorbRegistry
{
    /// <summary>A load a file started: the file waits for it before returning unless another file still reads it.</summary>
    internal readonly record struct StartedLoad(XorbBlock Block, int Generation, Task Completion);

    /// <summary>Fresh URLs asked for per load before a 403 is final (a refreshed URL can itself expire in flight).</summary>
    private const int MaxUrlRefreshes = 2;

    private readonly object _gate = new();
    private readonly Dictionary<XetHash, List<XorbBlock>> _blocks = new();
    private readonly LinkedList<XorbBlock> _idle = new();
    private readonly SemaphoreSlim _casPermits;
    private readonly TransferActivity _activity;
    private readonly bool _verify;
    private readonly ILogger? _logger;
    private readonly CancellationToken _sessionToken;
    private long _planSequence;
    private int _loadsRunning;
    private int _casPermitsHeld;
    private long _loadsStarted;

    public XorbRegistry(long bufferSize, int casConcurrency, bool verify, TransferActivity activity, ILogger? logger,
        CancellationToken sessionToken)
    {
        Permits = new BufferPermits(bufferSize, EvictIdle);
        // Slabs for the buffer plus a half: loads in use are charged to the permits, so the buffer's worth of slabs
        // holds them all; the half (two segments) is room for fragmentation. With only a quarter, loads of 4 GiB of
        // random data at a 64 MiB buffer missed the slabs three times and left 48 MiB of large-object garbage (peak
        // RSS 236 MiB); with a half none missed (157 MiB). Slab pages never written cost no resident memory. Slots of
        // a quarter of the buffer (a load's largest block, FileReconstructor.SegmentSizeFor) keep the small pieces
        // held between loads from cutting the free space into holes no load fits (XorbBufferPool).
        Buffers = new XorbBufferPool(bufferSize + bufferSize / 2, slotBytes: bufferSize / FileReconstructor.LoadsInFlight);
        _casPermits = new SemaphoreSlim(casConcurrency, casConcurrency);
        _verify = verify;
        _activity = activity;
        _logger = logger;
        _sessionToken = sessionToken;
    }

    public BufferPermits Permits { get; }

    /// <summary>The memory loads download and decode into, reused by later loads.</summary>
    public XorbBufferPool Buffers { get; }

    /// <summary>Loads started since the session began (each is one xorb fetch request, retries aside).</summary>
    public long LoadsStarted => Interlocked.Read(ref _loadsStarted);

    /// <summary>Loads whose task has not finished yet.</summary>
    public int LoadsRunning => Volatile.Read(ref _loadsRunning);

    public int CasPermitsHeld => Volatile.Read(ref _casPermitsHeld);

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
            _blocks.TryGetValue(term.Xorb, out var list);
            XorbBlock? chosen = null;
            var chosenIndex = -1;
            foreach (var block in list ?? Enumerable.Empty<XorbBlock>())
            {
                var index = block.FindRange(term.Chunks);
                if (index < 0) continue;
                var better = chosen is null || (block.State != XorbBlockState.Empty && chosen.State == XorbBlockState.Empty);
                if (better)
                {
                    chosen = block;
                    chosenIndex = index;
                }
            }
            if (chosen is null)
            {
                chosen = new XorbBlock(fetch, decodedEstimate, reader);
                chosenIndex = chosen.FindRange(term.Chunks);
                if (chosenIndex < 0)
                    throw new XetProtocolException($"The reconstruction gives no range of xorb {term.Xorb} holding chunks {term.Chunks}.");
                if (list is null) _blocks[term.Xorb] = list = new List<XorbBlock>();
                list.Add(chosen);
            }
            // Checked before anything is counted: a plan that throws here leaves no use on the block (its segment
            // abandons only the terms planned before it, and a leaked use would keep the block, and its memory, forever).
            if (chosen.ExpectedTerms.TryGetValue(term.Chunks, out var expectedLength) && expectedLength != term.UnpackedLength)
                throw new XetProtocolException(
                    $"The reconstruction gives two lengths ({expectedLength} and {term.UnpackedLength}) for chunks {term.Chunks} of xorb {term.Xorb}.");
            if (chosen.State == XorbBlockState.Empty && SameRanges(chosen.Fetch, fetch))
            {
                // Not loaded yet: the newest plan's URL is the freshest.
                chosen.Fetch = fetch;
                chosen.Reader = reader;
                chosen.DecodedEstimate = Math.Max(chosen.DecodedEstimate, decodedEstimate);
            }
            chosen.Planned++;
            sequence = ++_planSequence;
            chosen.PendingUses.Add(sequence);
            chosen.UrlSources[sequence] = urls;
            chosen.ExpectedTerms[term.Chunks] = term.UnpackedLength;
            rangeIndex = chosenIndex;
            return chosen;
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
            block.Claims++;
            if (block.IdleNode is not null)
            {
                _idle.Remove(block.IdleNode);
                block.IdleNode = null;
            }
            if (block.Load is not null) return block.Load;
            charge = ChargeOf(block);
        }

        var acquired = false;
        try
        {
            while (true)
            {
                await Permits.AcquireAsync(charge, cancellationToken).ConfigureAwait(false);
                acquired = true;
                long needed;
                lock (_gate)
                {
                    if (block.Load is not null) return block.Load; // another claimant started it meanwhile
                    // While this claim waited, a later plan of the same ranges may have raised the block's estimate
                    // (terms of another segment or file): the load rents and keeps a buffer sized from the estimate
                    // it starts with, so it must be charged for that one. Top up only if the bytes are free at once;
                    // otherwise give everything back and queue again for the whole amount (waiting while holding
                    // permits is the stall this registry exists to avoid).
                    needed = ChargeOf(block);
                    if (needed > charge && Permits.TryAcquire(needed - charge)) charge = needed;
                    if (needed <= charge)
                    {
                        var generation = ++block.Generation;
                        var cts = CancellationTokenSource.CreateLinkedTokenSource(_sessionToken);
                        block.LoadCancellation = cts;
                        block.State = XorbBlockState.Loading; // freezes the estimate (see Plan)
                        Interlocked.Increment(ref _loadsRunning);
                        Interlocked.Increment(ref _loadsStarted);
                        // Task.Run: the load must not start running under this lock.
                        var fetch = block.Fetch;
                        // The completion signal holds no reference to the bytes, so the file's list of started loads
                        // never keeps a finished block's memory alive.
                        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                        var chargeOfLoad = charge;
                        var load = Task.Run(() => LoadAsync(block, generation, fetch, chargeOfLoad, cts, completion));
                        block.Load = load;
                        block.LoadEnded = completion.Task;
                        startedLoads.Add(new StartedLoad(block, generation, completion.Task));
                        acquired = false; // the load owns the charge now
                        return load;
                    }
                }
                acquired = false;
                Permits.Release(charge);
                charge = needed;
            }
        }
        catch
        {
            if (acquired)
            {
                Permits.Release(charge); // before the wait below: nothing is held across it
                acquired = false;
            }
            long release;
            Task? cancelledLoad;
            lock (_gate)
            {
                block.Claims--;
                AfterClaimReleased(block, out release, out cancelledLoad);
            }
            ReleaseAndEvict(release);
            if (cancelledLoad is not null) await cancelledLoad.ConfigureAwait(false); // see Abandon
            throw;
        }
        finally
        {
            if (acquired) Permits.Release(charge);
        }
    }

    /// <summary>What a load of <paramref name="block"/> holds, and is charged, from its current estimate (under the lock).</summary>
    private long ChargeOf(XorbBlock block) =>
        Permits.Clamp(LoadFootprint(block.CompressedLength, block.DecodedEstimate, ChunkCount(block.Fetch)));

    /// <summary>One planned and claimed term has taken its bytes.</summary>
    public void Consumed(XorbBlock block, long sequence)
    {
        long release;
        lock (_gate)
        {
            block.Claims--;
            block.Planned--;
            block.PendingUses.Remove(sequence);
            block.UrlSources.Remove(sequence);
            AfterClaimReleased(block, out release, out _); // its load has ended: the term read it
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
        long release;
        Task? cancelledLoad;
        lock (_gate)
        {
            if (claimed) block.Claims--;
            block.Planned--;
            block.PendingUses.Remove(sequence);
            block.UrlSources.Remove(sequence);
            AfterClaimReleased(block, out release, out cancelledLoad);
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
        long freed = 0;
        lock (_gate)
        {
            var need = Permits.Shortfall;
            while (need > freed && _idle.Count > 0)
            {
                var victim = _idle.First!;
                for (var node = victim.Next; node is not null; node = node.Next)
                    if (NextUse(node.Value) > NextUse(victim.Value)) victim = node;
                var block = victim.Value;
                _idle.Remove(victim);
                block.IdleNode = null;
                freed += Unload(block, out _); // idle: ready, no load in flight
                _logger?.LogTrace("Evicted idle xorb block {Block} to admit a waiting term", block.ToString());
            }
        }
        Permits.Release(freed);
    }

    /// <summary>Returns permits, then evicts idle blocks if a waiter still lacks bytes (a block may just have turned idle).</summary>
    private void ReleaseAndEvict(long release)
    {
        Permits.Release(release);
        if (Permits.HasWaiters) EvictIdle();
    }

    private static long NextUse(XorbBlock block) => block.PendingUses.Count == 0 ? long.MaxValue : block.PendingUses.Min;

    // ---- lock held by callers ----

    private void AfterClaimReleased(XorbBlock block, out long release, out Task? cancelledLoad)
    {
        release = 0;
        cancelledLoad = null;
        if (block.Claims > 0 || block.Dropped) return;
        if (block.Planned <= 0)
        {
            release = Unload(block, out cancelledLoad);
            block.Dropped = true;
            if (_blocks.TryGetValue(block.Xorb, out var list))
            {
                list.Remove(block);
                if (list.Count == 0) _blocks.Remove(block.Xorb);
            }
            return;
        }
        switch (block.State)
        {
            case XorbBlockState.Ready:
                block.IdleNode = _idle.AddLast(block);
                // A waiter lacking bytes has it evicted (farthest next use first) by the caller, after the lock.
                break;
            case XorbBlockState.Loading:
                // Nobody waits for this load any more (its claimants' files ended): stop it, so no task outlives
                // them; a later claimant starts a fresh load.
                release = Unload(block, out cancelledLoad);
                break;
        }
    }

    /// <summary>Returns the block to Empty; cancels a load in flight, whose end is <paramref name="cancelledLoad"/>.
    /// Returns the permits to release.</summary>
    private long Unload(XorbBlock block, out Task? cancelledLoad)
    {
        cancelledLoad = block.State == XorbBlockState.Loading ? block.LoadEnded : null;
        if (block.IdleNode is not null)
        {
            _idle.Remove(block.IdleNode);
            block.IdleNode = null;
        }
        var release = block.State == XorbBlockState.Ready ? block.Charge : 0; // a loading block's load owns its charge
        if (block.State == XorbBlockState.Loading)
        {
            try
            {
                block.LoadCancellation?.Cancel();
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
        ReturnBuffers(block.Buffers); // no claims: no writer reads them any more
        block.Buffers = null;
        block.Generation++;
        block.State = XorbBlockState.Empty;
        block.Load = null;
        block.LoadEnded = null;
        block.LoadCancellation = null;
        block.Data = null;
        block.Charge = 0;
        return release;
    }

    private void ReturnBuffers(XorbBuffer[]? buffers)
    {
        if (buffers is null) return;
        foreach (var buffer in buffers) Buffers.Return(buffer);
    }

    private static long ChunkCount(XorbFetch fetch)
    {
        long chunks = 0;
        foreach (var range in fetch.Ranges) chunks += range.Chunks.Count;
        return chunks;
    }

    private static bool SameRanges(XorbFetch a, XorbFetch b)
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

    // ---- the load: one HTTP request (plus one URL refresh on 403), then decode and hash ----

    private async Task<DecodedXorbRange[]> LoadAsync(XorbBlock block, int generation, XorbFetch fetch, long charge,
        CancellationTokenSource cancellation, TaskCompletionSource<bool> completion)
    {
        var cancellationToken = cancellation.Token;
        var ownedCharge = charge;
        XorbBuffer? raw = null;
        XorbBuffer[]? kept = null; // what the decoded ranges live in, until published on the block
        DecodedXorbRange[]? decoded = null;
        var published = false;
        try
        {
            if (fetch.TotalLength > int.MaxValue - 64)
                throw new XetProtocolException($"The fetch of xorb {fetch.Xorb} asks for {fetch.TotalLength} bytes in one request.");
            Dictionary<ChunkRange, int> expected;
            long estimate;
            lock (_gate)
            {
                expected = new Dictionary<ChunkRange, int>(block.ExpectedTerms);
                estimate = block.DecodedEstimate;
            }
            // One buffer for the whole load: the compressed bytes land at its tail and are decoded in place towards
            // its start, so a load holds max(compressed, decoded) bytes, not both (see Decode).
            var footprint = LoadFootprint(fetch.TotalLength, estimate, ChunkCount(fetch));
            var buffer = Buffers.Rent(footprint);
            raw = buffer;
            var rawOffset = (int)(buffer.End - fetch.TotalLength);

            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan fetched = default;
            for (var attempt = 0; ; attempt++)
            {
                fetch = await FetchAsync(block, generation, fetch, buffer.Array, rawOffset, cancellationToken).ConfigureAwait(false);
                fetched = clock.Elapsed;
                try
                {
                    decoded = Decode(fetch, buffer.Array, expected, _verify, Buffers, rawOffset, buffer.Offset, out var rangeBuffers);
                    kept = rangeBuffers;
                    _logger?.LogTrace("Loaded xorb {Xorb} ({Bytes} bytes): fetched in {Fetch:0.0} ms, decoded{Hashed} in {Decode:0.0} ms",
                        fetch.Xorb.ToString(), fetch.TotalLength, fetched.TotalMilliseconds, _verify ? " and hashed" : "",
                        (clock.Elapsed - fetched).TotalMilliseconds);
                    break;
                }
                catch (XorbFormatException ex) when (attempt == 0)
                {
                    // Bytes damaged in transit decode badly: fetch them once more before blaming the xorb.
                    _logger?.LogDebug("Xorb {Xorb} did not decode ({Error}); fetching it again", fetch.Xorb.ToString(), ex.Message);
                }
            }
            // Bytes the block keeps for its readers: the load's buffer itself when its ranges were decoded in place
            // (as charged), else the ranges' own buffers (the load's buffer is free again). The pool's rounding
            // (under one 4 KiB granule) is not charged.
            long decodedBytes = 0;
            if (kept is null && decoded.Length > 0)
            {
                kept = new[] { buffer };
                decodedBytes = footprint;
            }
            else
            {
                kept ??= Array.Empty<XorbBuffer>();
                foreach (var range in decoded) decodedBytes += range.Length;
                Buffers.Return(buffer);
            }
            raw = null;

            long release = 0;
            lock (_gate)
            {
                if (block.Generation != generation)
                {
                    // Detached (cancelled or dropped) while downloading: nobody will read it.
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new OperationCanceledException("The xorb load was abandoned by every reader.");
                }
                var keep = Permits.Clamp(decodedBytes);
                published = true;
                block.Data = decoded;
                block.Buffers = kept;
                block.State = XorbBlockState.Ready;
                block.Charge = keep;
                if (keep > ownedCharge)
                {
                    // The server's terms under-described the ranges (chunks no term uses): the bytes are already in
                    // memory, so account for them rather than pretend.
                    Permits.ForceAcquire(keep - ownedCharge);
                    ownedCharge = 0;
                }
                else
                {
                    ownedCharge -= keep; // the rest (compressed bytes, over-estimate) is returned in finally
                }
                if (block.Claims == 0) AfterClaimReleased(block, out release, out _); // ready now: no load to cancel
            }
            ReleaseAndEvict(release);
            return decoded;
        }
        catch (Exception ex)
        {
            lock (_gate)
            {
                if (block.Generation == generation)
                {
                    block.Generation++;
                    block.State = XorbBlockState.Empty;
                    block.Load = null;
                    block.LoadEnded = null;
                    block.LoadCancellation = null;
                }
            }
            if (ex is not OperationCanceledException)
                _logger?.LogDebug("Load of xorb {Xorb} failed: {Error}", fetch.Xorb.ToString(), ex.Message);
            throw;
        }
        finally
        {
            // A load that did not publish owns its buffers; nobody else has seen them.
            if (raw is { } unused) Buffers.Return(unused);
            if (!published) ReturnBuffers(kept);
            lock (_gate)
            {
                if (ReferenceEquals(block.LoadCancellation, cancellation)) block.LoadCancellation = null;
            }
            cancellation.Dispose(); // unregisters from the session token
            Permits.Release(ownedCharge);
            Interlocked.Decrement(ref _loadsRunning);
            completion.TrySetResult(true);
        }
    }

    /// <summary>
    /// One HTTP request for all ranges of <paramref name="fetch"/> under a CAS permit; on a 403 (expired URL) the
    /// permit is returned, fresh URLs are fetched through the segment of a file that still reads the block
    /// (single-flight there; see <see cref="LiveUrlSource"/>) and the request is made once more. Returns the fetch
    /// actually used.
    /// </summary>
    private async Task<XorbFetch> FetchAsync(XorbBlock block, int generation, XorbFetch fetch, byte[] raw, int rawOffset,
        CancellationToken cancellationToken)
    {
        XetUrlExpiredException? expired = null;
        for (var attempt = 0; ; attempt++)
        {
            ICasReader reader;
            lock (_gate) reader = block.Reader;
            await _casPermits.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _casPermitsHeld);
            try
            {
                await reader.FetchXorbRangesAsync(fetch, raw.AsMemory(rawOffset, (int)fetch.TotalLength), cancellationToken).ConfigureAwait(false);
                _activity.Received(fetch.TotalLength);
                return fetch;
            }
            catch (XetUrlExpiredException ex) when (attempt < MaxUrlRefreshes)
            {
                expired = ex; // refreshed below, outside the CAS permit
            }
            finally
            {
                Interlocked.Decrement(ref _casPermitsHeld);
                _casPermits.Release();
            }
            _logger?.LogDebug("Presigned URL of xorb {Xorb} refused (expired); fetching fresh URLs", fetch.Xorb.ToString());
            XorbFetch fresh;
            while (true)
            {
                XorbUrlSource? urls;
                lock (_gate) urls = LiveUrlSource(block);
                // No file still running reads the block: its load is being cancelled; the refused URL is the cause.
                if (urls is null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(expired!).Throw();
                try
                {
                    fresh = await urls!.Refresh(fetch, cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && urls!.FileToken.IsCancellationRequested)
                {
                    // That file ended while it was asked (its refresh ends with it): ask a file still reading the block.
                }
            }
            if (!SameRanges(fresh, fetch))
                throw new XetProtocolException($"Fresh URLs for xorb {fetch.Xorb} describe different byte ranges than before.");
            fetch = fresh;
            lock (_gate)
            {
                if (block.Generation == generation) block.Fetch = fresh;
            }
        }
    }

    /// <summary>The URL source of the newest pending use whose file still runs, or null (under the lock). A shared
    /// block's first planner may have ended long before its load is refused: its refresh would be cancelled.</summary>
    private static XorbUrlSource? LiveUrlSource(XorbBlock block)
    {
        foreach (var sequence in block.PendingUses.Reverse())
            if (block.UrlSources.TryGetValue(sequence, out var urls) && !urls.FileToken.IsCancellationRequested) return urls;
        return null;
    }

    /// <summary>
    /// Room a load's one array needs beyond max(compressed, decoded): an LZ4 chunk must not be decoded over its own
    /// compressed bytes, so the decoded front may have to stay up to one chunk's frame behind the compressed tail.
    /// </summary>
    internal const int InPlaceSlack = XorbChunkHeader.MaxUncompressedLength + 4096;

    /// <summary>
    /// Bytes of the single array a load downloads into and decodes in place in: the larger of the compressed bytes
    /// and the expected decoded bytes, plus <see cref="InPlaceSlack"/>. The estimate comes from the terms, so it is
    /// trusted only up to what the fetch's chunks can hold at most (<paramref name="chunks"/> x 128 KiB): lying
    /// metadata cannot make a load reserve more than its chunks could decode to. The load's buffer permits are
    /// charged for this (clamped to the buffer): it is the memory the load really holds.
    /// </summary>
    internal static long LoadFootprint(long compressed, long decodedEstimate, long chunks)
    {
        var bound = chunks * (long)XorbChunkHeader.MaxUncompressedLength;
        var footprint = Math.Max(compressed, Math.Min(Math.Max(decodedEstimate, 0), bound)) + InPlaceSlack;
        return footprint > int.MaxValue - 65536 ? compressed : footprint;
    }

    /// <summary>
    /// Decodes the raw bytes of every range of <paramref name="fetch"/>, which lie in <paramref name="raw"/> from
    /// <paramref name="rawOffset"/> on. Walks the chunk headers first and checks them against the descriptor (chunk
    /// count, exact byte length) and against the planned terms' unpacked lengths, so lying metadata fails before any
    /// chunk is decoded. Then decodes in place: the compressed bytes sit at the tail of the load's buffer and the
    /// decoded ranges are written back to back from its start (<paramref name="outputOffset"/>), front to back, which
    /// is safe whenever no chunk's output reaches compressed bytes not yet read (checked for every chunk during the
    /// header walk; stored chunks always pass, so incompressible data is compacted with no second buffer); then
    /// <paramref name="rangeBuffers"/> is null. Only when that check fails (the terms under-described the ranges) is
    /// each range decoded into a buffer of its own from <paramref name="pool"/>, handed to the caller in
    /// <paramref name="rangeBuffers"/> (returned to the pool here if decoding fails).
    /// </summary>
    internal static DecodedXorbRange[] Decode(XorbFetch fetch, byte[] raw, IReadOnlyDictionary<ChunkRange, int> expected, bool hash,
        XorbBufferPool? pool, int rawOffset, int outputOffset, out XorbBuffer[]? rangeBuffers)
    {
        var count = fetch.Ranges.Count;
        var ends = new int[count][];
        var totals = new long[count];
        var inPlace = true;
        long read = rawOffset;    // absolute position of the next chunk header in raw
        long write = outputOffset; // absolute end of the decoded output if decoded in place
        long offset = rawOffset;
        for (var r = 0; r < count; r++)
        {
            var descriptor = fetch.Ranges[r];
            var source = new ReadOnlySpan<byte>(raw, (int)offset, (int)descriptor.Length);
            offset += descriptor.Length;
            var chunkCount = descriptor.Chunks.Count;
            var rangeEnds = ends[r] = new int[chunkCount];
            var position = 0;
            long total = 0;
            for (var i = 0; i < chunkCount; i++)
            {
                if (position >= source.Length)
                    throw new XetProtocolException(
                        $"Range {descriptor.Chunks} of xorb {fetch.Xorb} holds {i} chunks in {descriptor.Length} bytes; {chunkCount} were promised.");
                var header = XorbChunkHeader.Read(source.Slice(position));
                position += XorbChunkHeader.Size + header.CompressedLength;
                if (position > source.Length)
                    throw new XorbFormatException(
                        $"Chunk {descriptor.Chunks.Start + i} of xorb {fetch.Xorb} runs past the end of its range ({descriptor.Length} bytes).");
                if (header.Scheme == CompressionScheme.None && header.CompressedLength != header.UncompressedLength)
                    throw new XorbFormatException(
                        $"Chunk {descriptor.Chunks.Start + i} of xorb {fetch.Xorb} is stored uncompressed but its header gives {header.CompressedLength} and {header.UncompressedLength} bytes.");
                // In place: the chunk's output must end before the next chunk's header; an LZ4 frame decodes
                // straight into its output, so that output must also end before the frame's own bytes (BG4 and
                // stored chunks are read whole before their output is written).
                var limit = header.Scheme == CompressionScheme.Lz4 ? read + XorbChunkHeader.Size : read + XorbChunkHeader.Size + header.CompressedLength;
                write += header.UncompressedLength;
                read += XorbChunkHeader.Size + header.CompressedLength;
                if (write > limit) inPlace = false;
                total += header.UncompressedLength;
                rangeEnds[i] = (int)total;
            }
            if (position != source.Length)
                throw new XetProtocolException(
                    $"Range {descriptor.Chunks} of xorb {fetch.Xorb} has {source.Length - position} bytes after its last chunk.");
            foreach (var pair in expected)
            {
                if (!descriptor.Chunks.Contains(pair.Key)) continue;
                var start = pair.Key.Start == descriptor.Chunks.Start ? 0 : rangeEnds[pair.Key.Start - descriptor.Chunks.Start - 1];
                var length = rangeEnds[pair.Key.End - descriptor.Chunks.Start - 1] - start;
                if (length != pair.Value)
                    throw new XetProtocolException(
                        $"A term of xorb {fetch.Xorb}, chunks {pair.Key}, claims unpacked_length {pair.Value} but its chunks hold {length} bytes.");
            }
            totals[r] = total;
        }

        var result = new DecodedXorbRange[count];
        var owned = inPlace ? null : new XorbBuffer[count];
        var rented = 0;
        offset = rawOffset;
        var compacted = outputOffset; // in-place write position in raw
        try
        {
            for (var r = 0; r < count; r++)
            {
                var descriptor = fetch.Ranges[r];
                var rangeEnds = ends[r];
                var hashes = hash ? new XetHash[rangeEnds.Length] : null;
                var source = (int)offset;
                offset += descriptor.Length;
                byte[] data;
                int dataStart;
                if (inPlace)
                {
                    data = raw;
                    dataStart = compacted;
                }
                else
                {
                    var own = pool?.Rent(totals[r]) ?? XorbBuffer.Of(new byte[totals[r]]);
                    owned![rented++] = own;
                    data = own.Array;
                    dataStart = own.Offset;
                }
                var at = source;
                var written = 0;
                for (var i = 0; i < rangeEnds.Length; i++)
                {
                    var expectedLength = rangeEnds[i] - written;
                    // Source and output may overlap in place; XorbChunkCodec reads a stored or BG4 chunk whole before
                    // writing, and the header walk above kept every LZ4 output clear of its frame.
                    var length = XorbChunkCodec.Decode(new ReadOnlySpan<byte>(raw, at, (int)(offset - at)),
                        data.AsSpan(dataStart + written, expectedLength), out var consumed);
                    if (length != expectedLength)
                        throw new XorbFormatException($"Chunk {descriptor.Chunks.Start + i} of xorb {fetch.Xorb} decoded to {length} bytes, its header says {expectedLength}.");
                    if (hashes is not null) hashes[i] = XetHashing.ChunkHash(data.AsSpan(dataStart + written, length));
                    at += consumed;
                    written += length;
                }
                if (inPlace) compacted += written;
                result[r] = new DecodedXorbRange(descriptor.Chunks, data, dataStart, rangeEnds, hashes);
            }
        }
        catch
        {
            if (pool is not null)
                for (var r = 0; r < rented; r++) pool.Return(owned![r]);
            throw;
        }
        rangeBuffers = owned;
        return result;
    }
}
