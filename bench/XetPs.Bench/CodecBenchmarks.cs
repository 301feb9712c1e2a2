using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using K4os.Compression.LZ4.Streams;
using XetPs.Format;

namespace XetPs.Bench;

/// <summary>Inputs of the codec benchmarks: 64 KiB chunks of text-like and float-like data, encoded once.</summary>
internal sealed class CodecInputs
{
    public const int ChunkSize = 64 * 1024;

    public readonly byte[] Text = TextLike(ChunkSize, 1);
    public readonly byte[] Floats = FloatLike(ChunkSize, 2);
    public readonly byte[] TextLz4Chunk;
    public readonly byte[] FloatBg4Chunk;
    public readonly byte[] TextK4osFrame;
    public readonly byte[] FloatsGrouped = new byte[ChunkSize];
    public readonly byte[] Output = new byte[XorbChunkHeader.MaxUncompressedLength];
    public readonly byte[] ChunkerData;

    public CodecInputs()
    {
        TextLz4Chunk = Encode(Text, CompressionScheme.Lz4);
        FloatBg4Chunk = Encode(Floats, CompressionScheme.ByteGrouping4Lz4);
        if (XorbChunkHeader.Read(TextLz4Chunk).Scheme != CompressionScheme.Lz4 ||
            XorbChunkHeader.Read(FloatBg4Chunk).Scheme != CompressionScheme.ByteGrouping4Lz4)
            throw new InvalidOperationException("benchmark inputs did not compress; the comparison would be meaningless");
        using var ms = new MemoryStream();
        using (var encoder = LZ4Stream.Encode(ms, new LZ4EncoderSettings { ChainBlocks = false }, leaveOpen: true))
            encoder.Write(Text, 0, Text.Length);
        TextK4osFrame = ms.ToArray();
        ByteGrouping4.Split(Floats, FloatsGrouped);
        ChunkerData = new byte[16 << 20];
        new Random(3).NextBytes(ChunkerData);
    }

    private static byte[] Encode(byte[] raw, CompressionScheme scheme)
    {
        var buffer = new byte[XorbChunkCodec.MaxEncodedLength(raw.Length)];
        return buffer.AsSpan(0, XorbChunkCodec.Encode(raw, scheme, buffer)).ToArray();
    }

    public static byte[] TextLike(int n, int seed)
    {
        string[] words = ["tensor", "weight", "layer", "attention", "the", "of", "model", "{\"shape\":", "[4096,", "1024]},", "bias", "\n"];
        var random = new Random(seed);
        var data = new byte[n];
        int pos = 0;
        while (pos < n)
        {
            foreach (char c in words[random.Next(words.Length)])
                if (pos < n) data[pos++] = (byte)c;
            if (pos < n) data[pos++] = (byte)' ';
        }
        return data;
    }

    public static byte[] FloatLike(int n, int seed)
    {
        var random = new Random(seed);
        var data = new byte[n];
        for (int i = 0; i + 4 <= n; i += 4)
            BitConverter.TryWriteBytes(data.AsSpan(i), (float)((random.NextDouble() - 0.5) * 0.02));
        return data;
    }

    public int DecodeTextLz4() => XorbChunkCodec.Decode(TextLz4Chunk, Output, out _);

    public int DecodeFloatBg4() => XorbChunkCodec.Decode(FloatBg4Chunk, Output, out _);

    public int DecodeTextWithK4osStream()
    {
        using var decoder = LZ4Stream.Decode(new MemoryStream(TextK4osFrame, writable: false));
        int total = 0, n;
        while ((n = decoder.Read(Output, total, Output.Length - total)) > 0)
            total += n;
        return total;
    }

    public int RegroupVector()
    {
        ByteGrouping4.Regroup(FloatsGrouped, Output.AsSpan(0, ChunkSize));
        return ChunkSize;
    }

    public int RegroupScalar()
    {
        ByteGrouping4.RegroupReference(FloatsGrouped, Output.AsSpan(0, ChunkSize));
        return ChunkSize;
    }

    public int Chunk() => GearChunker.ChunkLengths(ChunkerData).Count;
}

[MemoryDiagnoser]
public class XorbChunkDecodeBenchmarks
{
    private readonly CodecInputs _inputs = new();

    [Benchmark(Baseline = true, Description = "LZ4 frame, text 64 KiB (K4os LZ4Stream)")]
    public int K4osStreamText() => _inputs.DecodeTextWithK4osStream();

    [Benchmark(Description = "LZ4 frame, text 64 KiB (XorbChunkCodec)")]
    public int Lz4Text() => _inputs.DecodeTextLz4();

    [Benchmark(Description = "BG4+LZ4 frame, floats 64 KiB (XorbChunkCodec)")]
    public int Bg4Floats() => _inputs.DecodeFloatBg4();
}

public class ByteGrouping4Benchmarks
{
    private readonly CodecInputs _inputs = new();

    [Benchmark(Baseline = true, Description = "BG4 regroup 64 KiB, scalar")]
    public int Scalar() => _inputs.RegroupScalar();

    [Benchmark(Description = "BG4 regroup 64 KiB, SSSE3")]
    public int Vector() => _inputs.RegroupVector();
}

public class GearChunkerBenchmarks
{
    private readonly CodecInputs _inputs = new();

    [Benchmark(Description = "Gear chunker, 16 MiB random")]
    public int Chunk() => _inputs.Chunk();
}

/// <summary>Quick MB/s figures of the format codecs, without BenchmarkDotNet's long runs.</summary>
public static class CodecThroughput
{
    [BenchCommand("codec-throughput", "MB/s of LZ4/BG4 chunk decode, BG4 regroup (vector vs scalar) and the gear chunker")]
    public static Task<int> Run(string[] args)
    {
        double seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 0.5;
        var inputs = new CodecInputs();
        Console.WriteLine($"each figure: best of 3 runs of {seconds:0.##} s, output bytes per second (1 MB = 10^6 B)");
        double k4os = Measure("LZ4 frame decode, text 64 KiB, K4os LZ4Stream", inputs.DecodeTextWithK4osStream, seconds);
        double lz4 = Measure("LZ4 frame decode, text 64 KiB, XorbChunkCodec", inputs.DecodeTextLz4, seconds);
        Console.WriteLine($"  -> XorbChunkCodec / K4os LZ4Stream = {lz4 / k4os:0.00}x");
        Measure("BG4+LZ4 decode, floats 64 KiB, XorbChunkCodec", inputs.DecodeFloatBg4, seconds);
        double scalar = Measure("BG4 regroup 64 KiB, scalar", inputs.RegroupScalar, seconds);
        double vector = Measure("BG4 regroup 64 KiB, SSSE3", inputs.RegroupVector, seconds);
        Console.WriteLine($"  -> vector / scalar = {vector / scalar:0.00}x");
        Measure("Gear chunker, 16 MiB random", () => { inputs.Chunk(); return inputs.ChunkerData.Length; }, seconds);
        return Task.FromResult(0);
    }

    private static double Measure(string name, Func<int> operation, double seconds)
    {
        for (int i = 0; i < 3; i++)
            operation(); // warm up (tiered JIT)
        double best = 0;
        for (int run = 0; run < 3; run++)
        {
            long bytes = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < seconds)
                bytes += operation();
            best = Math.Max(best, bytes / watch.Elapsed.TotalSeconds / 1e6);
        }
        Console.WriteLine($"{name,-50} {best,10:0} MB/s");
        return best;
    }
}
