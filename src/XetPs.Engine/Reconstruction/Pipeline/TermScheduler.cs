using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// Admits one file's terms, in file order, into the writer's channel: for each term it claims the term's registry
/// block, which either joins a load already under way or waits for the block's buffer permits and starts its load.
/// That wait is the only one here, and it holds nothing: no CAS permit, no lock, no permit for another term.
/// Invariant (half of the no-stall argument, the other half is in <see cref="XorbRegistry"/>): terms are admitted in
/// the order the writer consumes them, so every term the writer waits for has already been admitted and its load
/// started; the writer never waits for a term the scheduler cannot admit.
/// </summary>
internal static class TermScheduler
{
    public static async Task RunAsync(ChannelReader<ReconstructionSegment> segments, ChannelWriter<PlannedTerm> admitted,
        XorbRegistry registry, List<XorbRegistry.StartedLoad> startedLoads, Action<long> loadStarted, CancellationToken cancellationToken)
    {
        var pruneAt = 1024;
        while (await segments.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (segments.TryRead(out var segment))
            {
                foreach (var term in segment.Terms)
                {
                    if (term.Block is not { } block)
                    {
                        // Read from the earlier copy by the writer itself: nothing to claim, nothing to wait for.
                        await admitted.WriteAsync(term, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                    // Finished loads need no awaiting when the file ends (amortized pruning keeps the list short).
                    if (startedLoads.Count >= pruneAt)
                    {
                        startedLoads.RemoveAll(l => l.Completion.IsCompleted);
                        pruneAt = Math.Max(1024, startedLoads.Count * 2);
                    }
                    var before = startedLoads.Count;
                    term.Load = await registry.ClaimAsync(block, startedLoads, cancellationToken).ConfigureAwait(false);
                    term.Claimed = true;
                    if (startedLoads.Count != before) loadStarted(block.CompressedLength);
                    await admitted.WriteAsync(term, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
