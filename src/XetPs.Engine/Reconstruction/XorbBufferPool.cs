using System;
using System.Collections.Generic;

namespace XetPs.Reconstruction;

/// <summary>
/// Reuses the large arrays xorb blocks are downloaded and decoded into. Without it every load allocates a fresh
/// large-object array and the process holds many dead ones until a full collection runs, so the resident size grows
/// far past the buffer. Invariants: an array is returned only by the owner that rented it and only when no reader can
/// touch it any more (a block's data is returned when the block has no claims); the pool keeps at most
/// <see cref="Capacity"/> bytes of free arrays, so resident memory stays near buffer + capacity.
/// </summary>
internal sealed class XorbBufferPool
{
    private readonly object _gate = new();
    private readonly List<byte[]> _free = new();
    private long _pooled;

    public XorbBufferPool(long capacity) => Capacity = capacity;

    public long Capacity { get; }

    /// <summary>Bytes of free arrays held.</summary>
    public long Pooled
    {
        get { lock (_gate) return _pooled; }
    }

    /// <summary>An array of at least <paramref name="length"/> bytes (contents undefined).</summary>
    public byte[] Rent(long length)
    {
        if (length < 0 || length > int.MaxValue - 4096) throw new ArgumentOutOfRangeException(nameof(length));
        if (length == 0) return Array.Empty<byte>();
        var slack = Math.Max(length / 8, 4096);
        lock (_gate)
        {
            var best = -1;
            for (var i = 0; i < _free.Count; i++)
            {
                var candidate = _free[i].Length;
                if (candidate >= length && candidate - length <= slack && (best < 0 || candidate < _free[best].Length)) best = i;
            }
            if (best >= 0)
            {
                var array = _free[best];
                _free.RemoveAt(best);
                _pooled -= array.Length;
                return array;
            }
        }
        var size = RoundUp(length);
#if NET8_0_OR_GREATER
        return GC.AllocateUninitializedArray<byte>((int)size);
#else
        return new byte[size];
#endif
    }

    /// <summary>Gives an array back; kept if it fits the pool, else left to the collector.</summary>
    public void Return(byte[]? array)
    {
        if (array is null || array.Length == 0) return;
        lock (_gate)
        {
            if (_pooled + array.Length > Capacity)
            {
                // Make room by dropping the smallest free arrays (large ones are the expensive ones to allocate).
                _free.Sort((a, b) => a.Length.CompareTo(b.Length));
                while (_free.Count > 0 && _pooled + array.Length > Capacity)
                {
                    _pooled -= _free[0].Length;
                    _free.RemoveAt(0);
                }
                if (_pooled + array.Length > Capacity) return;
            }
            _free.Add(array);
            _pooled += array.Length;
        }
    }

    /// <summary>Sizes are rounded (by at most 1/16) so that arrays of similar requests are interchangeable.</summary>
    internal static long RoundUp(long length)
    {
        long unit = 4096;
        while (unit * 16 * 2 <= length) unit *= 2;
        return (length + unit - 1) / unit * unit;
    }
}
