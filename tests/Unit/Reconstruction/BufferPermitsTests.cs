using System;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class BufferPermitsTests
{
    [Fact]
    public void Grants_immediately_what_fits_and_records_the_peak()
    {
        var permits = new BufferPermits(100);

        Assert.True(permits.TryAcquire(60));
        Assert.True(permits.TryAcquire(40));
        Assert.False(permits.TryAcquire(1));
        permits.Release(70);

        Assert.Equal(30, permits.Held);
        Assert.Equal(100, permits.HighWater);
    }

    [Fact]
    public async Task Waiters_are_served_first_come_first_served_so_a_large_request_is_not_starved()
    {
        var permits = new BufferPermits(100);
        Assert.True(permits.TryAcquire(90));
        var large = permits.AcquireAsync(80, CancellationToken.None);
        var small = permits.AcquireAsync(5, CancellationToken.None);

        Assert.False(small.IsCompleted); // 10 bytes are free, but the large waiter came first
        Assert.False(permits.TryAcquire(5));
        permits.Release(90);
        await large;
        await Task.Yield();

        Assert.True(small.IsCompleted);
        Assert.Equal(85, permits.Held);
    }

    [Fact]
    public async Task A_request_larger_than_the_buffer_is_clamped_and_proceeds_once_the_buffer_is_empty()
    {
        var permits = new BufferPermits(100);
        var request = permits.Clamp(1_000_000);
        Assert.True(permits.TryAcquire(10));

        var wait = permits.AcquireAsync(request, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        permits.Release(10);
        await wait;

        Assert.Equal(100, permits.Held);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => permits.AcquireAsync(101, CancellationToken.None));
    }

    [Fact]
    public async Task A_cancelled_waiter_leaves_the_queue_and_lets_the_next_one_in()
    {
        var permits = new BufferPermits(100);
        Assert.True(permits.TryAcquire(50));
        using var cts = new CancellationTokenSource();
        var blocked = permits.AcquireAsync(100, cts.Token);
        var next = permits.AcquireAsync(50, CancellationToken.None);
        Assert.False(next.IsCompleted);

        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        await next;
        Assert.Equal(100, permits.Held);
        Assert.False(permits.HasWaiters);
    }

    [Fact]
    public void A_double_release_is_an_error_not_silent_extra_capacity()
    {
        var permits = new BufferPermits(100);
        Assert.True(permits.TryAcquire(10));
        permits.Release(10);

        Assert.Throws<InvalidOperationException>(() => permits.Release(1));
    }

    [Fact]
    public async Task The_starved_callback_runs_when_a_waiter_is_queued()
    {
        BufferPermits? permits = null;
        var calls = 0;
        permits = new BufferPermits(100, () =>
        {
            calls++;
            if (permits!.Shortfall > 0 && calls == 1) permits.Release(60); // the owner of idle data frees some
        });
        Assert.True(permits.TryAcquire(60));

        await permits.AcquireAsync(80, CancellationToken.None);

        Assert.True(calls >= 1);
        Assert.Equal(80, permits.Held);
    }

    [Fact]
    public async Task A_lease_returns_its_bytes_once_however_often_it_is_disposed()
    {
        var permits = new BufferPermits(100);
        var lease = await permits.LeaseAsync(60, CancellationToken.None);
        Assert.True(permits.TryAcquire(40));

        lease.Dispose();
        lease.Dispose(); // a second owner's cleanup path must not hand out the bytes twice

        Assert.Equal(40, permits.Held);
        Assert.Equal(0, lease.Bytes);
        Assert.Throws<ObjectDisposedException>(() => lease.Split(0));
    }

    [Fact]
    public async Task A_split_hands_part_of_a_lease_to_a_new_owner_and_each_returns_its_own()
    {
        var permits = new BufferPermits(100);
        using var load = await permits.LeaseAsync(70, CancellationToken.None);

        using (var block = load.Split(50))
        {
            Assert.Equal(20, load.Bytes);
            load.Dispose(); // the load's rest
            Assert.Equal(50, permits.Held);
        }

        Assert.Equal(0, permits.Held);
        using var small = await permits.LeaseAsync(5, CancellationToken.None);
        Assert.Throws<ArgumentOutOfRangeException>(() => small.Split(6)); // no lease gives more than it holds
    }

    [Fact]
    public async Task A_lease_grows_only_into_free_bytes_nobody_waits_for_unless_forced()
    {
        var permits = new BufferPermits(100);
        using var lease = await permits.LeaseAsync(60, CancellationToken.None);
        Assert.True(lease.TryGrow(20));
        var waiter = permits.AcquireAsync(30, CancellationToken.None); // 20 are free, not 30: it waits

        Assert.False(lease.TryGrow(10)); // free, but a waiter came first
        lease.ForceGrow(50); // bytes already in memory: accounted past the capacity

        Assert.Equal(130, lease.Bytes);
        Assert.Equal(130, permits.Held);
        lease.Dispose();
        await waiter;
        Assert.Equal(30, permits.Held);
    }

    [Fact]
    public async Task Absorbed_leases_are_returned_together_by_the_one_that_took_them()
    {
        var permits = new BufferPermits(100);
        var first = await permits.LeaseAsync(30, CancellationToken.None);
        var second = await permits.LeaseAsync(40, CancellationToken.None);

        var both = first.Absorb(second).Absorb(null);
        second.Dispose(); // holds nothing now

        Assert.Same(first, both);
        Assert.Equal(70, permits.Held);
        both.Dispose();
        Assert.Equal(0, permits.Held);
    }
}
