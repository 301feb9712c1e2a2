using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Reconstruction;
using Xunit;

namespace XetPs.Tests.Reconstruction;

/// <summary>
/// The registry's state machine and its accounting of buffer permits, driven step by step over the in-memory CAS
/// (the pipeline specs drive it by schedule): plan, claim, consume, abandon, eviction, failed and cancelled loads.
/// </summary>
public class XorbRegistryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly XorbUrlSource SameUrls = new((f, _) => Task.FromResult(f), CancellationToken.None);

    /// <summary>Xorbs of eight compressible 16 KiB chunks and one file whose terms use chunks [0,4) and [4,8) of
    /// each in turn, then [0,4) again: one fetch per xorb, three uses of its block.</summary>
    private sealed class Scene
    {
        public Scene(int xorbs = 1, long capacity = 1 << 20)
        {
            for (var x = 0; x < xorbs; x++)
                Xorbs.Add(Cas.AddXorb(Enumerable.Range(0, 8).Select(i => Enumerable.Repeat((byte)(i + 16 * x), 16 * 1024).ToArray()).ToList(), compress: true));
            var terms = new List<(XetHash, ChunkRange)>();
            foreach (var range in new[] { new ChunkRange(0, 4), new ChunkRange(4, 8), new ChunkRange(0, 4) })
                terms.AddRange(Xorbs.Select(x => (x, range)));
            (FileId, Bytes) = Cas.AddFile(terms);
            Reconstruction = Cas.GetReconstructionAsync(FileId, 0, Bytes.Length - 1, CancellationToken.None).GetAwaiter().GetResult();
            Registry = new XorbRegistry(capacity, casConcurrency: 2, verify: true, new TransferActivity(), logger: null, CancellationToken.None);
        }

        public InMemoryCas Cas { get; } = new();

        public List<XetHash> Xorbs { get; } = new();

        public XetHash FileId { get; }

        public byte[] Bytes { get; }

        public FileReconstruction Reconstruction { get; }

        public XorbRegistry Registry { get; }

        public List<XorbRegistry.StartedLoad> Started { get; } = new();

        /// <summary>Plans term <paramref name="index"/> of the file; returns its block and the use's sequence number.</summary>
        public (XorbBlock Block, long Use) Plan(int index)
        {
            var term = Reconstruction.Terms[index];
            var fetch = Reconstruction.Xorbs[term.Xorb].Single();
            var block = Registry.Plan(term, fetch, term.UnpackedLength, Cas, SameUrls, out _, out var use);
            return (block, use);
        }

        public async Task<DecodedXorbRange[]> ClaimAndLoadAsync(XorbBlock block) =>
            await (await Registry.ClaimAsync(block, Started, CancellationToken.None).WaitAsync(Bound)).WaitAsync(Bound);
    }

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

    [Fact]
    public void Terms_in_one_fetch_share_one_block_and_each_plan_counts_one_use()
    {
        var scene = new Scene();

        var uses = Enumerable.Range(0, 3).Select(scene.Plan).ToList();

        Assert.All(uses, u => Assert.Same(uses[0].Block, u.Block));
        Assert.Equal(3, uses[0].Block.Planned);
        Assert.Equal(XorbBlockState.Empty, uses[0].Block.State); // planning loads nothing
        Assert.Equal(1, scene.Registry.BlockCount);
        Assert.Equal(0, scene.Registry.ClaimCount);
        Assert.Equal(0, scene.Registry.LoadsStarted);
        Assert.Equal(0, scene.Registry.Permits.Held);
    }

    [Fact]
    public void A_second_length_for_the_same_chunks_is_refused_and_counts_no_use()
    {
        var scene = new Scene();
        var (block, _) = scene.Plan(0);
        var term = scene.Reconstruction.Terms[0];
        var lying = term with { UnpackedLength = term.UnpackedLength + 1 };

        var error = Assert.Throws<XetProtocolException>(() =>
            scene.Registry.Plan(lying, block.Fetch, lying.UnpackedLength, scene.Cas, SameUrls, out _, out _));

        Assert.Contains("two lengths", error.Message);
        Assert.Equal(1, block.Planned);
    }

    [Fact]
    public async Task Claims_of_one_block_share_one_load_and_the_last_use_returns_its_memory()
    {
        var scene = new Scene();
        var (block, first) = scene.Plan(0);
        var (_, second) = scene.Plan(1);

        var a = await scene.Registry.ClaimAsync(block, scene.Started, CancellationToken.None).WaitAsync(Bound);
        var b = await scene.Registry.ClaimAsync(block, scene.Started, CancellationToken.None).WaitAsync(Bound);
        var ranges = await a.WaitAsync(Bound);

        Assert.Same(a, b); // single flight: the second claim joined the first one's load
        Assert.Equal(1, scene.Registry.LoadsStarted);
        Assert.Equal(1, scene.Cas.Fetches);
        Assert.Single(scene.Started);
        Assert.Equal(scene.Bytes.Take(8 * 16 * 1024), ranges.SelectMany(r => r.Data.Skip(r.DataOffset).Take(r.Length))); // chunks 0-7
        Assert.Equal(XorbBlockState.Ready, block.State);
        Assert.True(scene.Registry.Permits.Held > 0);
        scene.Registry.Consumed(block, first);
        scene.Registry.Consumed(block, second);
        Assert.True(block.Dropped);
        Assert.Equal(0, scene.Registry.BlockCount);
        Assert.Equal(0, scene.Registry.Permits.Held);
        await scene.Started[0].Completion.WaitAsync(Bound);
        Assert.Equal(0, scene.Registry.Buffers.InUse);
    }

    [Fact]
    public async Task A_ready_block_with_no_claim_is_idle_evicted_for_a_waiter_and_reloaded()
    {
        const long capacity = 1 << 20;
        var scene = new Scene(capacity: capacity);
        var (block, first) = scene.Plan(0);
        var (_, second) = scene.Plan(1);
        await scene.ClaimAndLoadAsync(block);
        scene.Registry.Consumed(block, first); // a planned use is left: the block is kept, idle

        Assert.Equal(XorbBlockState.Ready, block.State);
        Assert.NotNull(block.IdleNode);
        var waiter = scene.Registry.Permits.AcquireAsync(capacity, CancellationToken.None); // needs every byte

        await waiter.WaitAsync(Bound); // the idle block was evicted for it
        Assert.Equal(XorbBlockState.Empty, block.State);
        Assert.Null(block.IdleNode);
        scene.Registry.Permits.Release(capacity);
        await scene.ClaimAndLoadAsync(block);
        Assert.Equal(2, scene.Registry.LoadsStarted);
        scene.Registry.Consumed(block, second);
        Assert.Equal(0, scene.Registry.Permits.Held);
    }

    [Fact]
    public async Task Eviction_takes_the_idle_block_whose_next_use_is_farthest()
    {
        // Terms in file order: A[0,4) B[0,4) A[4,8) B[4,8): once both first uses are consumed, A is needed next.
        const long capacity = 1 << 20;
        var scene = new Scene(xorbs: 2, capacity: capacity);
        var (a, a1) = scene.Plan(0);
        var (b, b1) = scene.Plan(1);
        var (_, a2) = scene.Plan(2);
        var (_, b2) = scene.Plan(3);
        await scene.ClaimAndLoadAsync(a);
        await scene.ClaimAndLoadAsync(b);
        scene.Registry.Consumed(a, a1);
        scene.Registry.Consumed(b, b1);
        var kept = a.Charge!.Bytes;

        // Room for everything but A's memory: evicting B alone covers the shortfall.
        var waiter = scene.Registry.Permits.AcquireAsync(capacity - kept, CancellationToken.None);
        await waiter.WaitAsync(Bound);

        Assert.Equal(XorbBlockState.Empty, b.State);
        Assert.Equal(XorbBlockState.Ready, a.State);
        scene.Registry.Permits.Release(capacity - kept);
        Assert.Null(scene.Registry.Abandon(a, claimed: false, a2));
        Assert.Null(scene.Registry.Abandon(b, claimed: false, b2));
        Assert.Equal(0, scene.Registry.Permits.Held);
    }

    [Fact]
    public async Task An_idle_block_is_listed_once_however_many_unclaimed_uses_leave_it()
    {
        // A file read the block and went on; another file, which planned two uses and claimed neither, failed.
        var scene = new Scene();
        var (block, first) = scene.Plan(0);
        var (_, second) = scene.Plan(1);
        var (_, third) = scene.Plan(2);
        await scene.ClaimAndLoadAsync(block);
        scene.Registry.Consumed(block, first);

        Assert.Null(scene.Registry.Abandon(block, claimed: false, second));

        Assert.Contains("(0 loading, 1 ready, 1 idle)", scene.Registry.Describe());
        Assert.Null(scene.Registry.Abandon(block, claimed: false, third));
        Assert.Contains("registry entries 0 (0 loading, 0 ready, 0 idle)", scene.Registry.Describe());
        Assert.Equal(0, scene.Registry.Permits.Held);
    }

    [Fact]
    public async Task Abandoning_the_last_claim_of_a_loading_block_cancels_its_load()
    {
        var scene = new Scene();
        scene.Cas.Hang = true; // the load never ends on its own
        var (block, use) = scene.Plan(0);
        var load = await scene.Registry.ClaimAsync(block, scene.Started, CancellationToken.None).WaitAsync(Bound);
        for (var i = 0; i < 2000 && scene.Cas.FetchesInFlight == 0; i++) await Task.Delay(5);
        Assert.Equal(XorbBlockState.Loading, block.State);

        var ended = scene.Registry.Abandon(block, claimed: true, use);

        Assert.NotNull(ended);
        await ended!.WaitAsync(Bound);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => load);
        Assert.True(block.Dropped);
        Assert.Equal(0, scene.Registry.LoadsRunning);
        Assert.Equal(0, scene.Registry.Permits.Held);
        Assert.Equal(0, scene.Registry.Buffers.InUse);
    }

    [Fact]
    public async Task A_failed_load_faults_its_claimants_and_leaves_the_block_empty_for_a_new_load()
    {
        var scene = new Scene();
        scene.Cas.FetchFault = _ => new System.IO.IOException("connection reset by the spec");
        var (block, first) = scene.Plan(0);
        var (_, second) = scene.Plan(1);

        var error = await Assert.ThrowsAsync<System.IO.IOException>(() => scene.ClaimAndLoadAsync(block));
        await scene.Started[0].Completion.WaitAsync(Bound);

        Assert.Equal("connection reset by the spec", error.Message);
        Assert.Equal(XorbBlockState.Empty, block.State);
        Assert.Equal(0, scene.Registry.Permits.Held); // the failed load returned its lease
        Assert.Equal(0, scene.Registry.Buffers.InUse);
        Assert.Null(scene.Registry.Abandon(block, claimed: true, first)); // the failed claimant's file gives up
        scene.Cas.FetchFault = null;
        await scene.ClaimAndLoadAsync(block); // a later claimant starts a fresh load
        Assert.Equal(2, scene.Registry.LoadsStarted);
        scene.Registry.Consumed(block, second);
        Assert.Equal(0, scene.Registry.BlockCount);
    }

    [Fact]
    public async Task A_claim_cancelled_while_waiting_for_permits_counts_no_claim_and_starts_no_load()
    {
        const long capacity = 1 << 20;
        var scene = new Scene(capacity: capacity);
        var (block, use) = scene.Plan(0);
        Assert.True(scene.Registry.Permits.TryAcquire(capacity)); // the buffer is full: the claim waits
        using var cancel = new CancellationTokenSource();

        var claim = scene.Registry.ClaimAsync(block, scene.Started, cancel.Token);
        Assert.True(scene.Registry.Permits.HasWaiters);
        Assert.Equal(1, scene.Registry.ClaimCount);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => claim.WaitAsync(Bound));
        Assert.Equal(0, scene.Registry.ClaimCount);
        Assert.Equal(0, scene.Registry.LoadsStarted);
        Assert.Equal(XorbBlockState.Empty, block.State);
        Assert.False(scene.Registry.Permits.HasWaiters);
        scene.Registry.Permits.Release(capacity);
        Assert.Null(scene.Registry.Abandon(block, claimed: false, use));
        Assert.Equal(0, scene.Registry.BlockCount);
        Assert.Equal(0, scene.Registry.Permits.Held);
    }

    [Fact]
    public async Task A_released_block_cannot_be_claimed_again()
    {
        var scene = new Scene();
        var (block, use) = scene.Plan(0);
        Assert.Null(scene.Registry.Abandon(block, claimed: false, use));

        await Assert.ThrowsAsync<InvalidOperationException>(() => scene.Registry.ClaimAsync(block, scene.Started, CancellationToken.None));
    }

    [Theory]
    [InlineData(64 * 1024)]
    [InlineData(1 << 20)]
    [InlineData(64L << 20)]
    public void The_largest_honest_fetch_of_a_segment_fits_what_one_load_may_hold(long buffer)
    {
        // A segment's fetch holds its terms' chunks: the segment plus a whole chunk at each end, every other chunk of
        // the minimum size (its headers). Fetches past the load limit are refused, so no honest one may be.
        var registry = new XorbRegistry(buffer, casConcurrency: 1, verify: false, new TransferActivity(), logger: null, CancellationToken.None);
        var segment = FileReconstructor.SegmentSizeFor(buffer, segmentSize: 8L << 30);
        var decoded = segment + 2L * XorbChunkHeader.MaxUncompressedLength;
        var chunks = decoded / GearChunker.MinChunk + 2;

        var footprint = XorbRegistry.LoadFootprint(decoded + chunks * XorbChunkHeader.Size, decoded, chunks);

        Assert.True(footprint <= registry.MaxLoadBytes, $"a {footprint}-byte load, {registry.MaxLoadBytes} allowed");
        Assert.Equal(Math.Max(buffer, XorbRegistry.MinimumLoadLimit), registry.MaxLoadBytes);
    }
}
