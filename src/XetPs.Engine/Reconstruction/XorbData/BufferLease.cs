using System;

namespace XetPs.Reconstruction;

/// <summary>
/// Bytes of a <see cref="BufferPermits"/> owned by one holder (a claim deciding to start a load, a load, a ready
/// block), returned by <see cref="Dispose"/>, exactly once however often it is called. Ownership moves with the
/// object, or in part with <see cref="Split"/>; <see cref="Absorb"/> gathers several leases to return them at once.
/// Not thread-safe: one owner at a time. A release can run the permits' starved callback (the registry's eviction,
/// which takes the registry's lock), so the registry moves leases under its lock and disposes them after it.
/// </summary>
internal sealed class BufferLease : IDisposable
{
    private readonly BufferPermits _permits;
    private long _bytes;

    internal BufferLease(BufferPermits permits, long bytes)
    {
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "A lease holds 0 or more bytes.");
        _permits = permits;
        _bytes = bytes;
    }

    /// <summary>Bytes held (0 once disposed).</summary>
    public long Bytes => _bytes;

    public bool IsDisposed { get; private set; }

    /// <summary>Takes <paramref name="bytes"/> more if they are free now and nobody waits; never waits.</summary>
    public bool TryGrow(long bytes)
    {
        ThrowIfDisposed();
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "Grow by 0 or more bytes.");
        if (!_permits.TryAcquire(bytes)) return false;
        _bytes += bytes;
        return true;
    }

    /// <summary>Takes <paramref name="bytes"/> more even past the capacity: only for data already in memory (see
    /// <see cref="BufferPermits.ForceAcquire"/>).</summary>
    public void ForceGrow(long bytes)
    {
        ThrowIfDisposed();
        if (bytes < 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "Grow by 0 or more bytes.");
        _permits.ForceAcquire(bytes);
        _bytes += bytes;
    }

    /// <summary>Moves <paramref name="bytes"/> of this lease into a new lease, for a new owner.</summary>
    public BufferLease Split(long bytes)
    {
        ThrowIfDisposed();
        if (bytes < 0 || bytes > _bytes)
            throw new ArgumentOutOfRangeException(nameof(bytes), bytes, $"A lease of {_bytes} bytes cannot give {bytes}.");
        _bytes -= bytes;
        return new BufferLease(_permits, bytes);
    }

    /// <summary>Moves every byte of <paramref name="other"/> (if any) into this lease; <paramref name="other"/> then
    /// holds nothing. Returns this lease.</summary>
    public BufferLease Absorb(BufferLease? other)
    {
        ThrowIfDisposed();
        if (other is null || ReferenceEquals(other, this)) return this;
        if (!ReferenceEquals(other._permits, _permits)) throw new ArgumentException("Leases of two buffers cannot merge.", nameof(other));
        _bytes += other._bytes;
        other._bytes = 0;
        return this;
    }

    /// <summary>Returns the bytes held to the permits (the first call only).</summary>
    public void Dispose()
    {
        if (IsDisposed) return;
        IsDisposed = true;
        var bytes = _bytes;
        _bytes = 0;
        _permits.Release(bytes);
    }

    public override string ToString() => IsDisposed ? "buffer lease (returned)" : $"buffer lease of {_bytes} bytes";

    private void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(nameof(BufferLease), "The lease's bytes were already returned.");
    }
}
