using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Cas;

namespace XetPs.Reconstruction;

/// <summary>
/// Runs the loads of one <see cref="XorbRegistry"/>. A load is one HTTP request for all ranges of a block's fetch,
/// made under a CAS permit (on a 403, fresh URLs are asked through a file that still reads the block, outside the
/// permit), then the decode (<see cref="XorbDecoder"/>) into one pooled buffer, then publication on the block through
/// the registry. Contract: a load owns its buffer lease and its pooled buffers until it publishes, and gives back
/// whatever it did not hand to the block when it ends; it never waits for buffer permits, only for a CAS permit, itself
/// held only by loads in flight, so every load ends (read timeouts and bounded retries bound it).
/// </summary>
internal sealed class XorbLoader
{
    /// <summary>Fresh URLs asked for per load before a 403 is final (a refreshed URL can itself expire in flight).</summary>
    private const int MaxUrlRefreshes = 2;

    /// <summary>Fetches per load, with fresh URLs, after bytes that do not decode, before the error is final.</summary>
    internal const int MaxRefetches = 2;

    private readonly XorbRegistry _registry;
    private readonly XorbBufferPool _buffers;
    private readonly SemaphoreSlim _casPermits;
    private readonly TransferActivity _activity;
    private readonly bool _verify;
    private readonly ILogger? _logger;
    private int _running;
    private int _casPermitsHeld;
    private long _started;

    public XorbLoader(XorbRegistry registry, XorbBufferPool buffers, int casConcurrency, bool verify, TransferActivity activity, ILogger? logger)
    {
        _registry = registry;
        _buffers = buffers;
        CasConcurrency = casConcurrency;
        _casPermits = new SemaphoreSlim(casConcurrency, casConcurrency);
        _verify = verify;
        _activity = activity;
        _logger = logger;
    }

    /// <summary>Loads started since the session began (each is one xorb fetch request, retries aside).</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Loads whose task has not finished yet.</summary>
    public int Running => Volatile.Read(ref _running);

    public int CasPermitsHeld => Volatile.Read(ref _casPermitsHeld);

    /// <summary>Xorb requests in flight at most (the CAS permits).</summary>
    public int CasConcurrency { get; }

    /// <summary>
    /// Starts the load of <paramref name="block"/>, generation <paramref name="generation"/>, which owns
    /// <paramref name="lease"/> and <paramref name="cancellation"/> from now on; <paramref name="completion"/> is set
    /// when it has ended, its lease returned. Called under the registry's lock: the load runs on the thread pool.
    /// </summary>
    public Task<DecodedXorbRange[]> Start(XorbBlock block, int generation, XorbFetch fetch, BufferLease lease,
        CancellationTokenSource cancellation, TaskCompletionSource<bool> completion)
    {
        Interlocked.Increment(ref _running);
        Interlocked.Increment(ref _started);
        var arrival = new LoadArrival();
        block.Arrival = arrival; // a detached earlier load keeps reporting into its own, which nobody reads any more
        return Task.Run(() => RunAsync(block, generation, fetch, lease, cancellation, completion, arrival));
    }

    private async Task<DecodedXorbRange[]> RunAsync(XorbBlock block, int generation, XorbFetch fetch, BufferLease lease,
        CancellationTokenSource cancellation, TaskCompletionSource<bool> completion, LoadArrival arrival)
    {
        XorbBuffer[]? owned = null; // pool memory of this load, until the block takes it
        try
        {
            var (expected, estimate) = _registry.LoadInputs(block);
            // One buffer for the whole load: the compressed bytes land at its tail and are decoded in place towards
            // its start, so a load holds max(compressed, decoded) bytes, not both (see XorbDecoder). The registry
            // planned only fetches whose footprint fits the buffer (XorbRegistry.MaxLoadBytes).
            var footprint = XorbRegistry.LoadFootprint(fetch.TotalLength, estimate, XorbBlock.ChunkCount(fetch));
            var buffer = _buffers.Rent(footprint);
            owned = new[] { buffer };
            var (ranges, rangeBuffers) = await FetchAndDecodeAsync(block, generation, fetch, buffer, expected, arrival, cancellation.Token).ConfigureAwait(false);
            // Bytes the block keeps for its readers: the load's buffer itself when its ranges were decoded in place
            // (as charged), else the ranges' own buffers (the load's buffer is free again). The pool's rounding
            // (under one 4 KiB granule) is not charged.
            long kept = footprint;
            if (rangeBuffers is not null || ranges.Length == 0)
            {
                _buffers.Return(buffer);
                owned = rangeBuffers ?? Array.Empty<XorbBuffer>();
                kept = 0;
                foreach (var range in ranges) kept += range.Length;
            }
            var release = _registry.Publish(block, generation, ranges, owned, kept, lease, cancellation.Token);
            owned = null;
            _registry.ReleaseAndEvict(release);
            return ranges;
        }
        catch (Exception ex)
        {
            _registry.LoadFailed(block, generation);
            if (ex is not OperationCanceledException)
                _logger?.LogDebug("Load of xorb {Xorb} failed: {Error}", fetch.Xorb.ToString(), ex.Message);
            throw;
        }
        finally
        {
            if (owned is not null)
                foreach (var buffer in owned) _buffers.Return(buffer); // nobody else has seen them
            cancellation.Dispose(); // unregisters from the session token
            lease.Dispose(); // what the block did not take
            Interlocked.Decrement(ref _running);
            completion.TrySetResult(true);
        }
    }

    /// <summary>
    /// Downloads the fetch into the tail of <paramref name="buffer"/> and decodes it. Bytes that do not decode (a
    /// chunk header or compressed frame that does not check, a frame checksum that fails, a chunk of the wrong length:
    /// <see cref="XorbFormatException"/>) are taken as damaged in transit, by a flaky CDN edge or proxy: they are
    /// fetched again with fresh URLs, through the same refresh as a 403, up to <see cref="MaxRefetches"/> times,
    /// each reported at Warning (what -Verbose shows), before the error is final. Lying metadata
    /// (<see cref="XetProtocolException"/>) is not fetched again: the same answer would come back.
    /// </summary>
    private async Task<(DecodedXorbRange[] Ranges, XorbBuffer[]? RangeBuffers)> FetchAndDecodeAsync(XorbBlock block, int generation,
        XorbFetch fetch, XorbBuffer buffer, IReadOnlyDictionary<ChunkRange, int> expected, LoadArrival arrival, CancellationToken cancellationToken)
    {
        var rawOffset = (int)(buffer.End - fetch.TotalLength);
        var clock = Stopwatch.StartNew();
        for (var refetches = 0; ; refetches++)
        {
            fetch = await FetchAsync(block, generation, fetch, buffer.Array, rawOffset, arrival, cancellationToken).ConfigureAwait(false);
            var fetched = clock.Elapsed;
            try
            {
                var ranges = XorbDecoder.Decode(fetch, buffer.Array, expected, _verify, _buffers, rawOffset, buffer.Offset,
                    out var rangeBuffers, _registry.MaxLoadBytes);
                _logger?.LogTrace("Loaded xorb {Xorb} ({Bytes} bytes): fetched in {Fetch:0.0} ms, decoded{Hashed} in {Decode:0.0} ms",
                    fetch.Xorb.ToString(), fetch.TotalLength, fetched.TotalMilliseconds, _verify ? " and hashed" : "",
                    (clock.Elapsed - fetched).TotalMilliseconds);
                return (ranges, rangeBuffers);
            }
            catch (XorbFormatException ex) when (refetches < MaxRefetches)
            {
                _logger?.LogWarning("Xorb {Xorb} did not decode ({Error}); fetching it again with fresh URLs ({Refetch} of {Max})",
                    fetch.Xorb.ToString(), ex.Message, refetches + 1, MaxRefetches);
                fetch = await RefreshAsync(block, generation, fetch, ex, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// One HTTP request for all ranges of <paramref name="fetch"/>; on a 403 (expired URL), fresh URLs (see
    /// <see cref="RefreshAsync"/>) and the request once more. Returns the fetch actually used.
    /// </summary>
    private async Task<XorbFetch> FetchAsync(XorbBlock block, int generation, XorbFetch fetch, byte[] raw, int rawOffset,
        LoadArrival arrival, CancellationToken cancellationToken)
    {
        for (var refreshes = 0; ; refreshes++)
        {
            try
            {
                await RequestAsync(block, fetch, raw, rawOffset, arrival, cancellationToken).ConfigureAwait(false);
                return fetch;
            }
            catch (XetUrlExpiredException ex) when (refreshes < MaxUrlRefreshes)
            {
                _logger?.LogDebug("Presigned URL of xorb {Xorb} refused (expired); fetching fresh URLs", fetch.Xorb.ToString());
                fetch = await RefreshAsync(block, generation, fetch, ex, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The request itself, under a CAS permit (the only place one is held).</summary>
    private async Task RequestAsync(XorbBlock block, XorbFetch fetch, byte[] raw, int rawOffset, LoadArrival arrival, CancellationToken cancellationToken)
    {
        var reader = _registry.ReaderOf(block);
        await _casPermits.WaitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _casPermitsHeld);
        try
        {
            await reader.FetchXorbRangesAsync(fetch, raw.AsMemory(rawOffset, (int)fetch.TotalLength), cancellationToken, arrival).ConfigureAwait(false);
            _activity.Received(fetch.TotalLength);
        }
        finally
        {
            Interlocked.Decrement(ref _casPermitsHeld);
            _casPermits.Release();
        }
    }

    /// <summary>
    /// Fresh URLs for <paramref name="stale"/>'s ranges, asked through the segment of a file that still reads the
    /// block (single-flight there); the block keeps them for later loads. With no such file the block's load is being
    /// cancelled, and <paramref name="cause"/> is rethrown.
    /// </summary>
    private async Task<XorbFetch> RefreshAsync(XorbBlock block, int generation, XorbFetch stale, Exception cause, CancellationToken cancellationToken)
    {
        XorbFetch fresh;
        while (true)
        {
            var urls = _registry.LiveUrlSource(block);
            if (urls is null) ExceptionDispatchInfo.Capture(cause).Throw();
            try
            {
                fresh = await urls!.Refresh(stale, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && urls!.FileToken.IsCancellationRequested)
            {
                // That file ended while it was asked (its refresh ends with it): ask a file still reading the block.
            }
        }
        if (!XorbBlock.SameRanges(fresh, stale))
            throw new XetProtocolException($"Fresh URLs for xorb {stale.Xorb} describe different byte ranges than before.");
        _registry.UpdateFetch(block, generation, fresh);
        return fresh;
    }
}
