using System;
using System.Runtime.CompilerServices;
using System.Collections.Generic;

namespace XetPs.Format;

/// <summary>
/// Content-defined chunker of §4 (gearhash CDC): a rolling 64-bit gear hash over the bytes of the current chunk,
/// cut after the byte where <c>(h &amp; 0xFFFF000000000000) == 0</c> once the chunk holds at least
/// <see cref="MinChunk"/> bytes, or forced at exactly <see cref="MaxChunk"/> bytes.
/// Invariant: the boundaries depend only on the byte stream, never on how it is split into calls of
/// <see cref="NextBoundary"/> (the hash and the pending length are the whole state carried between calls).
/// </summary>
public sealed class GearChunker
{
    public const int MinChunk = 8192, TargetChunk = 65536, MaxChunk = 131072;

    /// <summary>(TARGET-1) shifted up to the top bits: 16 high one-bits (§4).</summary>
    private const ulong Mask = 0xFFFF_0000_0000_0000UL;

    /// <summary>The gear hash only depends on the last 64 bytes: each step shifts older contributions left by one.</summary>
    private const int HashWindow = 64;

    private ulong _hash;
    private long _pending;

    /// <summary>Bytes absorbed since the last boundary: at end of input, the length of the final chunk.</summary>
    public long PendingBytes => _pending;

    public void Reset()
    {
        _hash = 0;
        _pending = 0;
    }

    /// <summary>
    /// Scans <paramref name="data"/>, the continuation of everything fed before. Returns the number of bytes of
    /// <paramref name="data"/> that complete the current chunk (a boundary lies after <c>data[result-1]</c>), or -1
    /// when all of <paramref name="data"/> was absorbed with no boundary. After a boundary the caller feeds the rest.
    /// </summary>
    public unsafe int NextBoundary(ReadOnlySpan<byte> data)
    {
        int n = data.Length;
        if (n == 0)
            return -1;
        ulong h = _hash;
        long pending = _pending;
        int pos = 0;
        fixed (byte* p = data)
        fixed (ulong* table = GearTable.Values)
        {
            // Skip-ahead: bytes more than a hash window before the first testable position cannot change any test,
            // so they are not hashed. The stale hash bits they would have left are shifted out by the window.
            if (pending + HashWindow < MinChunk)
            {
                int skip = (int)Math.Min(MinChunk - pending - HashWindow - 1, n);
                pos += skip;
                pending += skip;
            }
            HashUntested(p, table, n, ref pos, ref pending, ref h);
            if (pos < n && ScanTested(p, table, n, ref pos, ref pending, ref h))
            {
                _hash = 0;
                _pending = 0;
                return pos;
            }
        }
        _hash = h;
        _pending = pending;
        return -1;
    }

    /// <summary>Hashes without testing until the chunk is one byte short of MinChunk: no cut is allowed before MIN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void HashUntested(byte* p, ulong* table, int n, ref int pos, ref long pending, ref ulong h)
    {
        long untested = MinChunk - 1 - pending;
        if (untested <= 0 || pos >= n) return;
        int end = pos + (int)Math.Min(untested, n - pos);
        pending += end - pos;
        while (pos + 4 <= end)
        {
            h = (h << 1) + table[p[pos]];
            h = (h << 1) + table[p[pos + 1]];
            h = (h << 1) + table[p[pos + 2]];
            h = (h << 1) + table[p[pos + 3]];
            pos += 4;
        }
        while (pos < end)
            h = (h << 1) + table[p[pos++]];
    }

    /// <summary>
    /// The tested region: every byte may end the chunk, and the forced cut lands at exactly MaxChunk bytes. Returns true
    /// with <paramref name="pos"/> just past the boundary, or false when the data ran out first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe bool ScanTested(byte* p, ulong* table, int n, ref int pos, ref long pending, ref ulong h)
    {
        int end = pos + (int)Math.Min(n - pos, MaxChunk - pending);
        int start = pos;
        while (pos + 4 <= end)
        {
            h = (h << 1) + table[p[pos]];
            if ((h & Mask) == 0) { pos += 1; return true; }
            h = (h << 1) + table[p[pos + 1]];
            if ((h & Mask) == 0) { pos += 2; return true; }
            h = (h << 1) + table[p[pos + 2]];
            if ((h & Mask) == 0) { pos += 3; return true; }
            h = (h << 1) + table[p[pos + 3]];
            pos += 4;
            if ((h & Mask) == 0) return true;
        }
        while (pos < end)
        {
            h = (h << 1) + table[p[pos++]];
            if ((h & Mask) == 0) return true;
        }
        pending += pos - start;
        return pending >= MaxChunk;
    }

    /// <summary>Chunk lengths of a whole buffer, in order; empty input gives no chunk.</summary>
    public static List<int> ChunkLengths(ReadOnlySpan<byte> data)
    {
        var lengths = new List<int>(data.Length / TargetChunk + 1);
        var chunker = new GearChunker();
        int offset = 0;
        while (offset < data.Length)
        {
            int cut = chunker.NextBoundary(data.Slice(offset));
            if (cut < 0)
                break;
            // Each call starts at a chunk start with all the rest of the data, so the cut is the chunk's length.
            lengths.Add(cut);
            offset += cut;
        }
        if (chunker.PendingBytes > 0)
            lengths.Add((int)chunker.PendingBytes);
        return lengths;
    }
}
