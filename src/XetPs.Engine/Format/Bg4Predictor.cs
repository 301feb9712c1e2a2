using System;

namespace XetPs.Format;

/// <summary>
/// Predicts whether BG4 grouping helps LZ4 on a chunk, the way xet-core's <c>BG4Predictor</c> does
/// (xet_core_structures/src/xorb_object/compression_scheme.rs): histogram the popcount (0..8) of the bytes in each of
/// the 4 byte positions, and recommend BG4 when some position's histogram diverges from the pooled one by a
/// Kullback-Leibler divergence above 0.02 (the threshold xet-core fitted on model files). Float tensors have
/// exponent bytes with very different bit counts from mantissa bytes; text and code do not.
/// </summary>
internal static class Bg4Predictor
{
    private const double Threshold = 0.02;

    public static unsafe bool Recommends(ReadOnlySpan<byte> data)
    {
        // 4 positions x 9 popcount values.
        int* histograms = stackalloc int[36];
        new Span<int>(histograms, 36).Clear();
        fixed (byte* p = data)
        {
            int n = data.Length, i = 0;
            for (; i + 4 <= n; i += 4)
            {
                histograms[PopCount(p[i])]++;
                histograms[9 + PopCount(p[i + 1])]++;
                histograms[18 + PopCount(p[i + 2])]++;
                histograms[27 + PopCount(p[i + 3])]++;
            }
            for (; i < n; i++)
                histograms[(i & 3) * 9 + PopCount(p[i])]++;
        }

        // The pooled histogram starts every count at 1 so that no popcount has probability zero.
        Span<double> pooled = stackalloc double[9];
        double pooledTotal = 0; // as in xet-core: the sum of the real counts, without the smoothing ones
        Span<int> totals = stackalloc int[4];
        for (int j = 0; j < 9; j++)
            pooled[j] = 1;
        for (int g = 0; g < 4; g++)
        {
            for (int j = 0; j < 9; j++)
            {
                int c = histograms[g * 9 + j];
                pooled[j] += c;
                totals[g] += c;
                pooledTotal += c;
            }
        }

        double maxDivergence = 0;
        for (int g = 0; g < 4; g++)
        {
            if (totals[g] == 0)
                continue;
            double divergence = 0;
            for (int j = 0; j < 9; j++)
            {
                int c = histograms[g * 9 + j];
                if (c == 0)
                    continue; // p ln(p/q) -> 0 as p -> 0
                double p = (double)c / totals[g], q = pooled[j] / pooledTotal;
                divergence += p * Math.Log(p / q);
            }
            maxDivergence = Math.Max(maxDivergence, divergence);
        }
        return maxDivergence > Threshold;
    }

    private static int PopCount(byte b)
    {
#if NET8_0_OR_GREATER
        return System.Numerics.BitOperations.PopCount(b);
#else
        int v = b - ((b >> 1) & 0x55);
        v = (v & 0x33) + ((v >> 2) & 0x33);
        return (v + (v >> 4)) & 0x0F;
#endif
    }
}
