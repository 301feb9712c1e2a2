using System;
using System.Runtime.CompilerServices;

namespace XetPs.Format;

/// <summary>
/// xxHash32 (seed 0 by default), the checksum the LZ4 frame format uses for its header byte and its optional block
/// and content checksums. Small enough to keep here rather than adding a package to the engine's dependencies.
/// </summary>
internal static class XxHash32
{
    private const uint P1 = 2654435761U, P2 = 2246822519U, P3 = 3266489917U, P4 = 668265263U, P5 = 374761393U;

    public static unsafe uint Hash(ReadOnlySpan<byte> data, uint seed = 0)
    {
        int n = data.Length;
        fixed (byte* start = data)
        {
            byte* p = start, end = start + n;
            uint h;
            if (n >= 16)
            {
                uint v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
                byte* limit = end - 16;
                do
                {
                    v1 = Round(v1, Unsafe.ReadUnaligned<uint>(p));
                    v2 = Round(v2, Unsafe.ReadUnaligned<uint>(p + 4));
                    v3 = Round(v3, Unsafe.ReadUnaligned<uint>(p + 8));
                    v4 = Round(v4, Unsafe.ReadUnaligned<uint>(p + 12));
                    p += 16;
                }
                while (p <= limit);
                h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
            }
            else
            {
                h = seed + P5;
            }
            h += (uint)n;
            while (p + 4 <= end)
            {
                h = Rotl(h + Unsafe.ReadUnaligned<uint>(p) * P3, 17) * P4;
                p += 4;
            }
            while (p < end)
            {
                h = Rotl(h + *p * P5, 11) * P1;
                p++;
            }
            h ^= h >> 15;
            h *= P2;
            h ^= h >> 13;
            h *= P3;
            h ^= h >> 16;
            return h;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Round(uint acc, uint lane) => Rotl(acc + lane * P2, 13) * P1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Rotl(uint x, int r) => (x << r) | (x >> (32 - r));
}
