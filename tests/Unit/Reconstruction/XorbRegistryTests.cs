using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Reconstruction;
using Xunit;

namespace XetPs.Tests.Reconstruction;

/// <summary>The registry's accounting of buffer permits, driven step by step (the pipeline specs drive it by schedule).</summary>
public class XorbRegistryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_claim_that_waited_is_charged_for_the_estimate_a_later_plan_raised_before_its_load_starts()
    {
        // One xorb range of eight well-compressing chunks, used by two terms: [0,2) planned first with a small
        // estimate, [2,8) planned while the first claim waits for permits, raising the block's estimate.
        var cas = new InMemoryCas();
        var chunks = Enumerable.Range(0, 8).Select(i => Enumerable.Repeat((byte)i, 16 * 1024).ToArray()).ToList();
        var xorb = cas.AddXorb(chunks, compress: true);
        var (fileId, bytes) = cas.AddFile(new[] { (xorb, new ChunkRange(0, 2)), (xorb, new ChunkRange(2, 8)) });
        var reconstruction = await cas.GetReconstructionAsync(fileId, 0, bytes.Length - 1, CancellationToken.None);
        var fetch = Assert.Single(reconstruction.Xorbs[xorb]);
        var first = reconstruction.Terms[0];
        var second = reconstruction.Terms[1];

        const long capacity = 1 << 20;
        var registry = new XorbRegistry(capacity, casConcurrency: 1, verify: true, new TransferActivity(), logger: null, CancellationToken.None);
        var permits = registry.Permits;
        var refresh = new XorbUrlSource((f, _) => Task.FromResult(f), CancellationToken.None);
        var small = permits.Clamp(XorbRegistry.LoadFootprint(fetch.TotalLength, first.UnpackedLength, 8));
        var big = permits.Clamp(XorbRegistry.LoadFootprint(fetch.TotalLength, first.UnpackedLength + second.UnpackedLength, 8));
        Assert.True(small < big && big < capacity);

        Assert.True(permits.TryAcquire(capacity)); // the buffer is full: the claim below waits
        var block = registry.Plan(first, fetch, first.UnpackedLength, cas, refresh, out _, out var firstUse);
        var claim = registry.ClaimAsync(block, new List<XorbRegistry.StartedLoad>(), CancellationToken.None);
        Assert.Same(block, registry.Plan(second, fetch, first.UnpackedLength + second.UnpackedLength, cas, refresh, out _, out var secondUse));
        var other = permits.AcquireAsync(capacity - small, CancellationToken.None); // queued behind the claim
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cas.FetchGate = gate.Task;

        permits.Release(capacity); // grants the claim its old charge and the other waiter the rest
        await other.WaitAsync(Bound);
        var clock = Stopwatch.StartNew();
        while (registry.LoadsRunning == 0 && !permits.HasWaiters && clock.Elapsed < Bound) await Task.Delay(5);
        gate.SetResult();
        // Charged the old estimate, the load would now overdraw the buffer while the other waiter holds the rest.
        if (registry.LoadsRunning > 0) await (await claim.WaitAsync(Bound)).WaitAsync(Bound);
        permits.Release(capacity - small);
        var ranges = await (await claim.WaitAsync(Bound)).WaitAsync(Bound);

        Assert.Equal(bytes, ranges.SelectMany(r => r.Data.Skip(r.DataOffset).Take(r.Length)).ToArray());
        Assert.True(permits.HighWater <= capacity, $"peak {permits.HighWater} bytes of a {capacity}-byte buffer");
        registry.Consumed(block, firstUse);
        Assert.Null(registry.Abandon(block, claimed: false, secondUse)); // no load was cancelled: it had ended
        Assert.Equal(0, permits.Held);
    }
}
