using System;
using System.Collections.Generic;

namespace XetPs.Reconstruction;

/// <summary>
/// A contiguous piece of memory a xorb load downloads and decodes into: <see cref="Length"/> bytes of
/// <see cref="Array"/> from <see cref="Offset"/> on. Rented from a <see cref="XorbBufferPool"/> and returned to it
/// exactly once, by its owner, when no reader can touch the bytes any more.
/// </summary>
internal readonly struct XorbBuffer
{
    internal XorbBuffer(byte[] array, int offset, int length, int slab)
    {
        Array = array;
        Offset = offset;
        Length = length;
        Slab = slab;
    }

    public byte[] Array { get; }

    public int Offset { get; }

    public int Length { get; }

    /// <summary>Index of the pool's slab the piece lies in; -1 for an array of its own (see <see cref="XorbBufferPool"/>).</summary>
    internal int Slab { get; }

    public int End => Offset + Length;

    public Span<byte> Span => new(Array, Offset, Length);

    /// <summary>A buffer that is a whole array of its own, not from a pool (specifications, a pool-less decode).</summary>
    public static XorbBuffer Of(byte[] array) => new(array, 0, array.Length, -1);
}

/// <summary>
/// The memory xorb loads download and decode into, carved out of a few large arrays (slabs) that live as long as the
/// session. Why slabs and not a pool of arrays: load sizes vary (xorb and segment edges cut ranges of every length),
/// so a pool of whole arrays keeps missing, allocates a fresh large-object array and drops another; on a machine
/// with plenty of memory the collector lets such garbage pile up to several times the live large-object heap before
/// a full collection, and the resident size grew with the file. Here a returned piece merges with its free
/// neighbours and any later load of any size can reuse the space, so after warm-up no load allocates at all, and the
/// pages a load writes were already faulted in by an earlier one (the page-fault and zeroing cost of fresh arrays
/// was most of the engine's page faults, in the socket receive copy).
///
/// Invariants: the slabs total at most <see cref="Limit"/> bytes (the registry sets it to the buffer plus a half:
/// every piece in use is charged to buffer permits, so the slabs need the buffer plus room for fragmentation);
/// a piece takes the lowest free space that fits (with slots, below), so the slabs' pages that were ever written
/// stay few when less is in use; pieces are rounded up to <see cref="Granularity"/>. <see cref="Rent"/> never waits: when no free space fits
/// (fragmentation beyond the headroom, or a piece larger than a slab) it allocates an array of its own, which is
/// dropped when returned (counted in <see cref="OwnArrays"/>). Thread-safe; no lock is held beyond a rent or return.
///
/// Slots, when the pool is given a slot size (the largest block a load can have): the first slab begins with up to
/// <see cref="MaxSlots"/> slots of that size. A piece of half a slot to a slot starts at the lowest slot boundary
/// where it fits; other pieces go first-fit after the slot area, and into the slot area only when there is no room
/// after it; failing all that, any piece is first-fit anywhere. Why: with first fit alone, small pieces held between
/// large ones (a xorb range kept for a later term) cut the free space of a 96 MiB slab into holes smaller than a 16
/// MiB load, and 2 of 5 runs of the 48.5 GB soak had 1-3 loads in arrays of their own (up to 47 MiB of large-object
/// garbage, peak RSS buffer + 154); with slots none in 4. Large pieces at slot boundaries leave whole slots behind.
/// </summary>
internal sealed class XorbBufferPool
{
    /// <summary>Pieces are whole pages, so neighbouring loads never share one.</summary>
    public const int Granularity = 4096;

    /// <summary>Largest slab: a slab is one array (at most 2 GiB), and loads are far smaller (a segment is under a
    /// quarter of the buffer).</summary>
    public const long MaxSlabBytes = 1L << 30;

    /// <summary>Most slots: one for each load a file keeps in flight, each at most a slot.</summary>
    public const int MaxSlots = FileReconstructor.LoadsInFlight;

    private readonly object _gate = new();
    private readonly List<Slab> _slabs = new();
    private readonly long _slabBytes;
    private readonly int _slotBytes;
    private long _reserved;
    private long _inUse;
    private long _ownArrays;
    private long _ownArrayBytes;

    /// <param name="limit">Most bytes of slabs to allocate (at least one granule).</param>
    /// <param name="maxSlabBytes">Largest slab (specifications use small slabs to exercise several).</param>
    /// <param name="slotBytes">The largest block a load can have (a quarter of the buffer), or 0 for no slots. The first
    /// slab gets as many slots (up to <see cref="MaxSlots"/>) as leave at least one slot's worth for smaller pieces.</param>
    public XorbBufferPool(long limit, long maxSlabBytes = MaxSlabBytes, long slotBytes = 0)
    {
        if (limit < Granularity) throw new ArgumentOutOfRangeException(nameof(limit), limit, "The pool needs at least one granule.");
        if (maxSlabBytes < Granularity || maxSlabBytes > MaxSlabBytes)
            throw new ArgumentOutOfRangeException(nameof(maxSlabBytes), maxSlabBytes, $"A slab holds {Granularity}..{MaxSlabBytes} bytes.");
        if (slotBytes < 0) throw new ArgumentOutOfRangeException(nameof(slotBytes), slotBytes, "A slot holds 0 or more bytes.");
        Limit = RoundDown(limit);
        _slabBytes = RoundDown(Math.Min(Limit, maxSlabBytes));
        _slotBytes = (int)Math.Min(RoundUp(slotBytes), _slabBytes);
    }

    /// <summary>Most bytes of slabs the pool allocates.</summary>
    public long Limit { get; }

    /// <summary>Bytes of slabs allocated so far (never more than <see cref="Limit"/>).</summary>
    public long Reserved
    {
        get { lock (_gate) return _reserved; }
    }

    /// <summary>Bytes of slab pieces rented and not yet returned.</summary>
    public long InUse
    {
        get { lock (_gate) return _inUse; }
    }

    /// <summary>Bytes of the slabs below the highest end ever rented: an upper bound of the slab pages ever written.</summary>
    public long Touched
    {
        get
        {
            lock (_gate)
            {
                long touched = 0;
                foreach (var slab in _slabs) touched += slab.HighWater;
                return touched;
            }
        }
    }

    /// <summary>Rents that found no room in the slabs and got an array of their own.</summary>
    public long OwnArrays
    {
        get { lock (_gate) return _ownArrays; }
    }

    /// <summary>Bytes of those arrays (garbage once returned: what the slabs are there to avoid).</summary>
    public long OwnArrayBytes
    {
        get { lock (_gate) return _ownArrayBytes; }
    }

    /// <summary>
    /// A piece of at least <paramref name="length"/> bytes (contents undefined): the lowest free space of a slab
    /// that fits, else a new slab while the limit allows, else an array of its own. Never waits.
    /// </summary>
    public XorbBuffer Rent(long length)
    {
        if (length < 0 || length > int.MaxValue - Granularity) throw new ArgumentOutOfRangeException(nameof(length), length, "A xorb buffer holds 0..2 GiB.");
        if (length == 0) return new XorbBuffer(System.Array.Empty<byte>(), 0, 0, -1);
        var size = (int)RoundUp(length);
        lock (_gate)
        {
            if (size <= _slabBytes)
            {
                for (var s = 0; s < _slabs.Count; s++)
                    if (_slabs[s].TryTake(size, out var offset)) return Taken(s, offset, size);
                if (_reserved < Limit && Math.Min(_slabBytes, Limit - _reserved) >= size)
                {
                    var array = AllocateSlab((int)Math.Min(_slabBytes, Limit - _reserved));
                    var slots = _slabs.Count == 0 && _slotBytes > 0 ? (int)Math.Min(MaxSlots, array.Length / _slotBytes - 1) : 0;
                    var slab = new Slab(array, _slotBytes, Math.Max(slots, 0));
                    _slabs.Add(slab);
                    _reserved += slab.Array.Length;
                    slab.TryTake(size, out var offset);
                    return Taken(_slabs.Count - 1, offset, size);
                }
            }
            _ownArrays++;
            _ownArrayBytes += size;
        }
        return new XorbBuffer(Allocate(size), 0, size, -1);
    }

    /// <summary>
    /// Gives a piece back (an array of its own is left to the collector). Returning a piece twice, or one this pool
    /// did not rent, throws: it would hand the same bytes to two loads.
    /// </summary>
    public void Return(XorbBuffer buffer)
    {
        if (buffer.Slab < 0 || buffer.Length == 0) return;
        lock (_gate)
        {
            if (buffer.Slab >= _slabs.Count || !ReferenceEquals(_slabs[buffer.Slab].Array, buffer.Array))
                throw new InvalidOperationException("A xorb buffer was returned to a pool that did not rent it.");
            _slabs[buffer.Slab].Give(buffer.Offset, buffer.Length);
            _inUse -= buffer.Length;
        }
    }

    /// <summary>Lengths are whole granules.</summary>
    internal static long RoundUp(long length) => (length + Granularity - 1) / Granularity * Granularity;

    private static long RoundDown(long length) => length / Granularity * Granularity;

    private XorbBuffer Taken(int slab, int offset, int size)
    {
        _inUse += size;
        return new XorbBuffer(_slabs[slab].Array, offset, size, slab);
    }

    private static byte[] Allocate(int size)
    {
#if NET8_0_OR_GREATER
        // Uninitialized: a slab's pages are faulted in only where loads write, so a slab larger than what is in use
        // costs address space, not resident memory.
        return GC.AllocateUninitializedArray<byte>(size);
#else
        return new byte[size];
#endif
    }

    private static byte[] AllocateSlab(int size)
    {
#if NET8_0_OR_GREATER
        // Pinned (never moved), so the kernel advice below stays about this array.
        var slab = GC.AllocateUninitializedArray<byte>(size, pinned: true);
        if (Environment.GetEnvironmentVariable("XETPS_NO_HUGEPAGES") is null) HugePages.Advise(slab);
        return slab;
#else
        return new byte[size];
#endif
    }

    /// <summary>
    /// One array and its free space: holes sorted by offset, never adjacent (merged on return). The first
    /// <c>slots</c> x <c>slotBytes</c> bytes are the slot area: a large piece starts at a slot boundary there.
    /// </summary>
    private sealed class Slab
    {
        private readonly List<(int Start, int Length)> _holes = new();
        private readonly int _slotBytes;
        private readonly int _slots;

        public Slab(byte[] array, int slotBytes = 0, int slots = 0)
        {
            Array = array;
            _slotBytes = slotBytes;
            _slots = slots;
            _holes.Add((0, array.Length));
        }

        public byte[] Array { get; }

        public int HighWater { get; private set; }

        /// <summary>
        /// A piece of half a slot to a slot takes the lowest free slot boundary it fits at; any other piece the lowest
        /// free space after the slot area; failing that, the lowest free space anywhere (first fit).
        /// </summary>
        public bool TryTake(int size, out int offset)
        {
            if (_slots > 0)
            {
                if (size <= _slotBytes && size >= _slotBytes / 2)
                {
                    for (var k = 0; k < _slots; k++)
                    {
                        var at = k * _slotBytes;
                        var i = HoleHolding(at, size);
                        if (i >= 0) return Take(i, at, size, out offset);
                    }
                }
                else
                {
                    var slotEnd = _slots * _slotBytes;
                    for (var i = 0; i < _holes.Count; i++)
                    {
                        var at = Math.Max(_holes[i].Start, slotEnd);
                        if (at + size <= _holes[i].Start + _holes[i].Length) return Take(i, at, size, out offset);
                    }
                }
            }
            for (var i = 0; i < _holes.Count; i++)
                if (_holes[i].Length >= size) return Take(i, _holes[i].Start, size, out offset);
            offset = -1;
            return false;
        }

        /// <summary>The hole that holds [<paramref name="at"/>, +<paramref name="size"/>) whole, or -1.</summary>
        private int HoleHolding(int at, int size)
        {
            for (var i = 0; i < _holes.Count && _holes[i].Start <= at; i++)
                if (at + size <= _holes[i].Start + _holes[i].Length) return i;
            return -1;
        }

        /// <summary>Takes [<paramref name="at"/>, +<paramref name="size"/>) out of hole <paramref name="i"/>, which holds it.</summary>
        private bool Take(int i, int at, int size, out int offset)
        {
            var (start, length) = _holes[i];
            var before = at - start;
            var after = start + length - (at + size);
            if (before > 0 && after > 0)
            {
                _holes[i] = (start, before);
                _holes.Insert(i + 1, (at + size, after));
            }
            else if (before > 0) _holes[i] = (start, before);
            else if (after > 0) _holes[i] = (at + size, after);
            else _holes.RemoveAt(i);
            HighWater = Math.Max(HighWater, at + size);
            offset = at;
            return true;
        }

        public void Give(int start, int length)
        {
            var end = start + length;
            // The first hole that starts after the piece; the piece must end before it and start after the one before.
            int lo = 0, hi = _holes.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (_holes[mid].Start <= start) lo = mid + 1;
                else hi = mid;
            }
            var next = lo;
            var previous = lo - 1;
            if (start < 0 || end > Array.Length
                || (next < _holes.Count && end > _holes[next].Start)
                || (previous >= 0 && _holes[previous].Start + _holes[previous].Length > start))
                throw new InvalidOperationException($"A xorb buffer ({length} bytes at {start}) was returned twice or overlaps free space.");
            var joinsPrevious = previous >= 0 && _holes[previous].Start + _holes[previous].Length == start;
            var joinsNext = next < _holes.Count && _holes[next].Start == end;
            if (joinsPrevious && joinsNext)
            {
                _holes[previous] = (_holes[previous].Start, _holes[next].Start + _holes[next].Length - _holes[previous].Start);
                _holes.RemoveAt(next);
            }
            else if (joinsPrevious)
            {
                _holes[previous] = (_holes[previous].Start, end - _holes[previous].Start);
            }
            else if (joinsNext)
            {
                _holes[next] = (start, _holes[next].Start + _holes[next].Length - start);
            }
            else
            {
                _holes.Insert(next, (start, length));
            }
        }
    }
}
