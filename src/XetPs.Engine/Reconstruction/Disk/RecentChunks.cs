using XetPs.Format;

namespace XetPs.Reconstruction;

/// <summary>
/// The last chunks a file's writer wrote, by file offset, with their chunk hashes. A reconstruction answer may serve
/// again bytes the file already holds (a segment's first chunk straddles the segment boundary and was written by the
/// previous segment); those bytes are never written a second time, and the chunk served for them must be the chunk
/// written there, or CAS is describing the file two ways. Bounded: an honest answer re-serves a chunk or two, and a
/// chunk served again from further back is not checked, which costs nothing in correctness because it is not written.
/// </summary>
internal sealed class RecentChunks
{
    private const int Capacity = 256;

    private readonly long[] _starts = new long[Capacity];
    private readonly int[] _lengths = new int[Capacity];
    private readonly XetHash[] _hashes = new XetHash[Capacity];
    private int _count;
    private int _next;

    public void Add(long start, int length, XetHash hash)
    {
        _starts[_next] = start;
        _lengths[_next] = length;
        _hashes[_next] = hash;
        _next = (_next + 1) % Capacity;
        if (_count < Capacity) _count++;
    }

    /// <summary>Looks up the chunk written at <paramref name="start"/>, newest first (re-served chunks are the newest).</summary>
    public bool TryFind(long start, out int length, out XetHash hash)
    {
        for (var i = 1; i <= _count; i++)
        {
            var at = (_next - i + Capacity) % Capacity;
            if (_starts[at] == start)
            {
                length = _lengths[at];
                hash = _hashes[at];
                return true;
            }
            if (_starts[at] < start) break; // older entries start earlier still
        }
        length = 0;
        hash = default;
        return false;
    }

    /// <summary>The start of the oldest chunk remembered, or long.MaxValue when none is.</summary>
    public long OldestStart => _count == 0 ? long.MaxValue : _starts[(_next - _count + Capacity) % Capacity];
}
