using System;
#if NET8_0_OR_GREATER
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
#endif

namespace XetPs.Format;

/// <summary>
/// The BG4 byte grouping of §3.3: <see cref="Split"/> gathers the bytes at indices ≡ g (mod 4) into group g and
/// concatenates groups 0..3 (the first <c>n % 4</c> groups are one byte longer); <see cref="Regroup"/> is its exact
/// inverse. Float-like data compresses better split, because each group holds one byte position of every value.
/// Invariant: <c>Regroup(Split(x)) == x</c> for every length, on every path (SSSE3 on net8.0, scalar elsewhere).
/// </summary>
public static class ByteGrouping4
{
    public static void Split(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        CheckLengths(source, destination);
        int n = source.Length, k = n >> 2, rem = n & 3;
        int o1 = k + (rem > 0 ? 1 : 0), o2 = o1 + k + (rem > 1 ? 1 : 0), o3 = o2 + k + (rem > 2 ? 1 : 0);
        int done = 0;
#if NET8_0_OR_GREATER
        if (Ssse3.IsSupported)
            done = SplitSsse3(source, destination, k, o1, o2, o3);
#endif
        SplitScalar(source, destination, done, k, rem, o1, o2, o3);
    }

    public static void Regroup(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        CheckLengths(source, destination);
        int n = source.Length, k = n >> 2, rem = n & 3;
        int o1 = k + (rem > 0 ? 1 : 0), o2 = o1 + k + (rem > 1 ? 1 : 0), o3 = o2 + k + (rem > 2 ? 1 : 0);
        int done = 0;
#if NET8_0_OR_GREATER
        if (Ssse3.IsSupported)
            done = RegroupSsse3(source, destination, k, o1, o2, o3);
#endif
        RegroupScalar(source, destination, done, k, rem, o1, o2, o3);
    }

    private static void CheckLengths(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length != source.Length)
            throw new ArgumentException(
                $"BG4 destination length {destination.Length} differs from source length {source.Length}.", nameof(destination));
    }

    /// <summary>Scalar split of the 4-byte groups from index <paramref name="from"/> on, then the 0-3 tail bytes.</summary>
    private static unsafe void SplitScalar(ReadOnlySpan<byte> source, Span<byte> destination, int from, int k, int rem,
                                           int o1, int o2, int o3)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            for (int i = from; i < k; i++)
            {
                byte* q = s + 4 * i;
                d[i] = q[0];
                d[o1 + i] = q[1];
                d[o2 + i] = q[2];
                d[o3 + i] = q[3];
            }
            byte* tail = s + 4 * k;
            if (rem > 0) d[k] = tail[0];
            if (rem > 1) d[o1 + k] = tail[1];
            if (rem > 2) d[o2 + k] = tail[2];
        }
    }

    private static unsafe void RegroupScalar(ReadOnlySpan<byte> source, Span<byte> destination, int from, int k, int rem,
                                             int o1, int o2, int o3)
    {
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            for (int i = from; i < k; i++)
            {
                byte* q = d + 4 * i;
                q[0] = s[i];
                q[1] = s[o1 + i];
                q[2] = s[o2 + i];
                q[3] = s[o3 + i];
            }
            byte* tail = d + 4 * k;
            if (rem > 0) tail[0] = s[k];
            if (rem > 1) tail[1] = s[o1 + k];
            if (rem > 2) tail[2] = s[o2 + k];
        }
    }

#if NET8_0_OR_GREATER
    // The vector loops run over every byte of every BG4 chunk, so they are compiled optimized at once: left to
    // tiering they ran quick-jitted, then with PGO instrumentation, for much of a 1 GiB download (perf: Transpose not
    // inlined, and calls into the runtime from the loop).

    /// <summary>
    /// 64 source bytes per step: a byte shuffle turns each 16-byte block into four 4-byte lanes (one per group),
    /// then a 4x4 transpose of 32-bit lanes gives 16 consecutive bytes of each group. Returns the 4-byte groups done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int SplitSsse3(ReadOnlySpan<byte> source, Span<byte> destination, int k, int o1, int o2, int o3)
    {
        int steps = k >> 4;
        if (steps == 0)
            return 0;
        Vector128<byte> shuffle = Vector128.Create((byte)0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            for (int step = 0; step < steps; step++)
            {
                byte* q = s + 64 * step;
                Vector128<int> a = Ssse3.Shuffle(Sse2.LoadVector128(q), shuffle).AsInt32();
                Vector128<int> b = Ssse3.Shuffle(Sse2.LoadVector128(q + 16), shuffle).AsInt32();
                Vector128<int> c = Ssse3.Shuffle(Sse2.LoadVector128(q + 32), shuffle).AsInt32();
                Vector128<int> e = Ssse3.Shuffle(Sse2.LoadVector128(q + 48), shuffle).AsInt32();
                Transpose(a, b, c, e, out var g0, out var g1, out var g2, out var g3);
                int i = 16 * step;
                Sse2.Store((int*)(d + i), g0);
                Sse2.Store((int*)(d + o1 + i), g1);
                Sse2.Store((int*)(d + o2 + i), g2);
                Sse2.Store((int*)(d + o3 + i), g3);
            }
        }
        return steps << 4;
    }

    /// <summary>The inverse of <see cref="SplitSsse3"/>: the same transpose and byte shuffle are involutions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int RegroupSsse3(ReadOnlySpan<byte> source, Span<byte> destination, int k, int o1, int o2, int o3)
    {
        int steps = k >> 4;
        if (steps == 0)
            return 0;
        Vector128<byte> shuffle = Vector128.Create((byte)0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        fixed (byte* s = source)
        fixed (byte* d = destination)
        {
            for (int step = 0; step < steps; step++)
            {
                int i = 16 * step;
                Vector128<int> g0 = Sse2.LoadVector128((int*)(s + i));
                Vector128<int> g1 = Sse2.LoadVector128((int*)(s + o1 + i));
                Vector128<int> g2 = Sse2.LoadVector128((int*)(s + o2 + i));
                Vector128<int> g3 = Sse2.LoadVector128((int*)(s + o3 + i));
                Transpose(g0, g1, g2, g3, out var a, out var b, out var c, out var e);
                byte* q = d + 64 * step;
                Sse2.Store(q, Ssse3.Shuffle(a.AsByte(), shuffle));
                Sse2.Store(q + 16, Ssse3.Shuffle(b.AsByte(), shuffle));
                Sse2.Store(q + 32, Ssse3.Shuffle(c.AsByte(), shuffle));
                Sse2.Store(q + 48, Ssse3.Shuffle(e.AsByte(), shuffle));
            }
        }
        return steps << 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector128<int> a, Vector128<int> b, Vector128<int> c, Vector128<int> d,
                                  out Vector128<int> r0, out Vector128<int> r1, out Vector128<int> r2, out Vector128<int> r3)
    {
        Vector128<long> t0 = Sse2.UnpackLow(a, b).AsInt64();   // a0 b0 a1 b1
        Vector128<long> t1 = Sse2.UnpackHigh(a, b).AsInt64();  // a2 b2 a3 b3
        Vector128<long> t2 = Sse2.UnpackLow(c, d).AsInt64();   // c0 d0 c1 d1
        Vector128<long> t3 = Sse2.UnpackHigh(c, d).AsInt64();  // c2 d2 c3 d3
        r0 = Sse2.UnpackLow(t0, t2).AsInt32();                 // a0 b0 c0 d0
        r1 = Sse2.UnpackHigh(t0, t2).AsInt32();                // a1 b1 c1 d1
        r2 = Sse2.UnpackLow(t1, t3).AsInt32();
        r3 = Sse2.UnpackHigh(t1, t3).AsInt32();
    }
#endif

    /// <summary>Scalar split for every framework; the benchmark's and tests' reference for the vector path.</summary>
    internal static void SplitReference(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        CheckLengths(source, destination);
        int n = source.Length, k = n >> 2, rem = n & 3;
        int o1 = k + (rem > 0 ? 1 : 0), o2 = o1 + k + (rem > 1 ? 1 : 0), o3 = o2 + k + (rem > 2 ? 1 : 0);
        SplitScalar(source, destination, 0, k, rem, o1, o2, o3);
    }

    internal static void RegroupReference(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        CheckLengths(source, destination);
        int n = source.Length, k = n >> 2, rem = n & 3;
        int o1 = k + (rem > 0 ? 1 : 0), o2 = o1 + k + (rem > 1 ? 1 : 0), o3 = o2 + k + (rem > 2 ? 1 : 0);
        RegroupScalar(source, destination, 0, k, rem, o1, o2, o3);
    }
}
