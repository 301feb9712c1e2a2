using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace XetPs.Reconstruction;

/// <summary>
/// A byte-weighted async semaphore shared by every file of a session: the bound on memory held for xorb data
/// (compressed bytes in flight and decoded ranges kept alive). Invariants: waiters are served strictly first come,
/// first served (a large request is not starved by a stream of small ones); no lock is held across an await or
/// while a waiter's continuation runs (continuations run asynchronously); a request larger than the capacity is
/// clamped to the capacity (<see cref="Clamp"/>), so any request can be granted once the buffer is empty.
/// </summary>
internal sealed class BufferPermits
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private long _available;
    private long _highWater;
    private int _waiterCount;

    private readonly Action? _onStarved;

    /// <param name="capacity">Bytes of buffer.</param>
    /// <param name="onStarved">
    /// Called (outside the lock) whenever a waiter is queued or remains queued after a release: the owner of idle,
    /// evictable data (the xorb registry) frees what the first waiter lacks. This is what makes every wait finite.
    /// </param>
    public BufferPermits(long capacity, Action? onStarved = null)
    {
        _onStarved = onStarved;
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The buffer must hold at least one byte.");
        Capacity = capacity;
        _available = capacity;
    }

    public long Capacity { get; }

    /// <summary>Bytes currently granted.</summary>
    public long Held
    {
        get { lock (_gate) return Capacity - _available; }
    }

    /// <summary>The most bytes ever granted at once (tests assert it never exceeds <see cref="Capacity"/>).</summary>
    public long HighWater
    {
        get { lock (_gate) return _highWater; }
    }

    public bool HasWaiters => Volatile.Read(ref _waiterCount) > 0;

    /// <summary>Bytes the first waiter still lacks (0 when nobody waits): what evicting idle data should free.</summary>
    public long Shortfall
    {
        get
        {
            lock (_gate)
                return _waiters.First is { } first ? Math.Max(0, first.Value.Bytes - _available) : 0;
        }
    }

    /// <summary>The amount actually requested for <paramref name="bytes"/>: at least 0, at most the capacity.</summary>
    public long Clamp(long bytes) => Math.Min(Math.Max(bytes, 0), Capacity);

    /// <summary>Takes <paramref name="bytes"/> (clamped by the caller) now if nobody waits and they fit.</summary>
    public bool TryAcquire(long bytes)
    {
        lock (_gate)
        {
            if (_waiters.Count != 0 || bytes > _available) return false;
            Take(bytes);
            return true;
        }
    }

    /// <summary>
    /// Waits for <paramref name="bytes"/> (clamped by the caller). The waiter is queued before this method returns,
    /// so <see cref="HasWaiters"/> is already true for code that runs after the call (eviction relies on it).
    /// On cancellation the waiter leaves the queue and the task is cancelled; a grant that won the race stands
    /// (the task completes and the caller owns the bytes).
    /// </summary>
    public Task AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes > Capacity) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "Clamp the request to the capacity first.");
        Waiter waiter;
        lock (_gate)
        {
            if (_waiters.Count == 0 && bytes <= _available)
            {
                Take(bytes);
                return Task.CompletedTask;
            }
            cancellationToken.ThrowIfCancellationRequested();
            waiter = new Waiter(bytes);
            waiter.Node = _waiters.AddLast(waiter);
            _waiterCount++;
        }
        if (cancellationToken.CanBeCanceled)
            waiter.Registration = cancellationToken.Register(static state =>
            {
                var (w, p) = ((Waiter, BufferPermits))state!;
                p.Cancel(w);
            }, (waiter, this));
        _onStarved?.Invoke();
        return waiter.Completion.Task;
    }

    /// <summary>
    /// Waits for <paramref name="bytes"/> (clamped by the caller), as <see cref="AcquireAsync"/>, and hands them over
    /// as a lease that returns them when disposed.
    /// </summary>
    public async Task<BufferLease> LeaseAsync(long bytes, CancellationToken cancellationToken)
    {
        await AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
        return new BufferLease(this, bytes);
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> even past the capacity. Only for data that is already in memory and was
    /// under-estimated by the server's metadata (chunks no term uses); the overdraft is repaid on release.
    /// </summary>
    public void ForceAcquire(long bytes)
    {
        lock (_gate) Take(bytes);
    }

    public void Release(long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes));
        if (bytes == 0) return;
        List<Waiter>? granted = null;
        lock (_gate)
        {
            _available += bytes;
            if (_available > Capacity)
                throw new InvalidOperationException($"Buffer permits released twice: {_available - Capacity} bytes more than were held.");
            GrantFromHead(ref granted);
        }
        Complete(granted);
        if (HasWaiters) _onStarved?.Invoke();
    }

    private bool Cancel(Waiter waiter)
    {
        List<Waiter>? granted = null;
        bool removed;
        lock (_gate)
        {
            removed = waiter.Node is { List: not null };
            if (removed)
            {
                _waiters.Remove(waiter.Node!);
                _waiterCount--;
                // The cancelled waiter may have been the head that blocked smaller requests behind it.
                GrantFromHead(ref granted);
            }
        }
        if (removed) waiter.Completion.TrySetCanceled();
        Complete(granted);
        if (removed && HasWaiters) _onStarved?.Invoke();
        return removed;
    }

    private void GrantFromHead(ref List<Waiter>? granted)
    {
        while (_waiters.First is { } first && first.Value.Bytes <= _available)
        {
            _waiters.RemoveFirst();
            _waiterCount--;
            Take(first.Value.Bytes);
            (granted ??= new List<Waiter>()).Add(first.Value);
        }
    }

    private void Take(long bytes)
    {
        _available -= bytes;
        var held = Capacity - _available;
        if (held > _highWater) _highWater = held;
    }

    private static void Complete(List<Waiter>? granted)
    {
        if (granted is null) return;
        foreach (var waiter in granted)
        {
            waiter.Registration.Dispose();
            waiter.Completion.TrySetResult(true);
        }
    }

    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;
        public TaskCompletionSource<bool> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
        public CancellationTokenRegistration Registration { get; set; }
    }
}
