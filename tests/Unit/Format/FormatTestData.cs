using System;
using System.IO;

namespace XetPs.Tests.Format;

/// <summary>Deterministic inputs shared by the format specifications.</summary>
internal static class FormatTestData
{
    /// <summary>xet-core's <c>create_random_data(n, seed)</c>: SplitMix64 words, little-endian, cut to n bytes (§4).</summary>
    public static byte[] SplitMix(int n, ulong seed)
    {
        var data = new byte[n];
        ulong state = seed;
        for (int i = 0; i < n; i += 8)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            for (int b = 0; b < 8 && i + b < n; b++)
                data[i + b] = (byte)(z >> (8 * b));
        }
        return data;
    }

    /// <summary>Text-like bytes: words from a small vocabulary, compressible as prose or JSON is.</summary>
    public static byte[] TextLike(int n, int seed)
    {
        string[] words = ["tensor", "weight", "layer", "attention", "the", "of", "model", "{\"shape\":", "[4096,", "1024]},", "bias", "\n"];
        var random = new Random(seed);
        var data = new byte[n];
        int pos = 0;
        while (pos < n)
        {
            string w = words[random.Next(words.Length)];
            for (int i = 0; i < w.Length && pos < n; i++)
                data[pos++] = (byte)w[i];
            if (pos < n)
                data[pos++] = (byte)' ';
        }
        return data;
    }

    /// <summary>Float-like bytes: little-endian float32 values of similar magnitude, as in model weights.</summary>
    public static byte[] FloatLike(int n, int seed)
    {
        var random = new Random(seed);
        var data = new byte[n];
        for (int i = 0; i + 4 <= n; i += 4)
            BitConverter.TryWriteBytes(data.AsSpan(i), (float)((random.NextDouble() - 0.5) * 0.02));
        for (int i = n & ~3; i < n; i++)
            data[i] = (byte)random.Next(256);
        return data;
    }

    public static byte[] Random(int n, int seed)
    {
        var data = new byte[n];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A ground-truth file of Format/vectors, copied beside the test assembly.</summary>
    public static string VectorFile(string name) => Path.Combine(AppContext.BaseDirectory, "Format", "vectors", name);
}
