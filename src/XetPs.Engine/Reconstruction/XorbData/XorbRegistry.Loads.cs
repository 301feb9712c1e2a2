using System;
using System.Collections.Generic;
using System.Threading;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>What a load (<see cref="XorbLoader"/>) asks of the registry: each call takes the lock once, reads or
/// changes one block, and checks the invariants on its way out.</summary>
internal sealed partial class XorbRegistry
{
    /// <summary>The planned terms' lengths (a copy, for the decoder's check) and the decoded estimate the load's
    /// buffer is sized from (frozen since the load began).</summary>
    internal (Dictionary<ChunkRange, int> Expected, long Estimate) LoadInputs(XorbBlock block)
    {
        lock (_gate) return (block.CopyExpectedTerms(), block.DecodedEstimate);
    }

    internal ICasReader ReaderOf(XorbBlock block)
    {
        lock (_gate) return block.Reader;
    }

    /// <summary>Where a refused load asks for fresh URLs: a file that still reads the block, or null.</summary>
    internal XorbUrlSource? LiveUrlSource(XorbBlock block)
    {
        lock (_gate) return block.LiveUrlSource();
    }

    internal void UpdateFetch(XorbBlock block, int generation, XorbFetch fresh)
    {
        lock (_gate)
        {
            block.UpdateFetch(generation, fresh);
            AssertInvariants();
        }
    }

    /// <summary>
    /// Loading -> Ready for the load of <paramref name="generation"/>: the block takes the decoded ranges, the pool
    /// buffers they live in and, from the load's lease, the permits for the <paramref name="keptBytes"/> it keeps
    /// (clamped to the buffer); the load returns the rest (compressed bytes, over-estimate) when it ends. When the
    /// terms under-described the ranges (chunks no term uses), the bytes are already in memory, so the lease grows
    /// past what is free rather than pretend. Throws, taking nothing, when the load was detached (cancelled or
    /// evicted) meanwhile: nobody will read it. Returns what the caller gives to <see cref="ReleaseAndEvict"/> once
    /// it has let go of the buffers (permits of a block that turned idle at once).
    /// </summary>
    internal BufferLease? Publish(XorbBlock block, int generation, DecodedXorbRange[] ranges, XorbBuffer[] buffers, long keptBytes,
        BufferLease loadLease, CancellationToken cancellationToken)
    {
        BufferLease? release = null;
        lock (_gate)
        {
            if (block.Generation != generation || block.State != XorbBlockState.Loading)
            {
                cancellationToken.ThrowIfCancellationRequested();
                throw new OperationCanceledException("The xorb load was abandoned by every reader.");
            }
            var keep = Permits.Clamp(keptBytes);
            if (keep > loadLease.Bytes) loadLease.ForceGrow(keep - loadLease.Bytes);
            block.Publish(generation, ranges, buffers, loadLease.Split(keep));
            if (block.Claims == 0) AfterClaimReleased(block, out release, out _); // ready now: no load to cancel
            AssertInvariants();
        }
        return release;
    }

    /// <summary>The load of <paramref name="generation"/> ended without publishing: its block is Empty again (a later
    /// claimant starts a fresh load), unless it was detached already.</summary>
    internal void LoadFailed(XorbBlock block, int generation)
    {
        lock (_gate)
        {
            block.EndFailedLoad(generation);
            AssertInvariants();
        }
    }
}
