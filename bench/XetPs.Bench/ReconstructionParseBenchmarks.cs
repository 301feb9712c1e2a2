using System;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Bench;

/// <summary>
/// Micro-benchmark of reading a large v2 reconstruction answer (the JSON of a big file's segment: many terms over
/// many xorbs, one presigned URL each) into the engine's <see cref="FileReconstruction"/>, validation included.
/// <c>Length</c> is the JSON's size, so the MB/s column is JSON bytes parsed per second.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class ReconstructionParseBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn());
    }

    private const int ChunksPerTerm = 8, ChunkBytes = 65536;
    private byte[] _json = [];

    /// <summary>The JSON's size in bytes (about 16 MiB: some 90,000 terms over a quarter as many xorbs). The answer is
    /// built with as many terms as fit and padded with trailing whitespace to exactly this size.</summary>
    [Params(16L << 20)]
    public long Length { get; set; }

    public int Terms { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var perTerm = (double)Build(1000).Length / 1000;
        Terms = (int)(Length / perTerm);
        var json = Build(Terms);
        while (json.Length > Length) json = Build(Terms = Terms * 99 / 100);
        _json = new byte[Length];
        json.CopyTo(_json, 0);
        _json.AsSpan(json.Length).Fill((byte)' ');
    }

    [Benchmark(Description = "v2 reconstruction JSON -> FileReconstruction (validated)")]
    public int Parse() => ReconstructionResponse.Parse(_json, "benchmark").Terms.Count;

    /// <summary>A v2 answer shaped like the seed incident: term t reads chunks [0, 8) of xorb t mod X.</summary>
    internal static byte[] Build(int terms)
    {
        var xorbs = Math.Max(1, terms / 4);
        var hashes = new string[xorbs];
        var raw = new byte[XetHash.Size];
        var random = new Random(6);
        for (var i = 0; i < xorbs; i++)
        {
            random.NextBytes(raw);
            hashes[i] = new XetHash(raw).ToString();
        }
        var sb = new StringBuilder(terms * 160 + xorbs * 400);
        sb.Append("{\"offset_into_first_range\":0,\"terms\":[");
        for (var t = 0; t < terms; t++)
        {
            if (t > 0) sb.Append(',');
            sb.Append(CultureInfo.InvariantCulture,
                $"{{\"hash\":\"{hashes[t % xorbs]}\",\"unpacked_length\":{ChunksPerTerm * ChunkBytes},\"range\":{{\"start\":0,\"end\":{ChunksPerTerm}}}}}");
        }
        sb.Append("],\"xorbs\":{");
        for (var x = 0; x < xorbs; x++)
        {
            if (x > 0) sb.Append(',');
            var end = ChunksPerTerm * (ChunkBytes + XorbChunkHeader.Size) - 1;
            sb.Append(CultureInfo.InvariantCulture,
                $"\"{hashes[x]}\":[{{\"url\":\"http://127.0.0.1:8080/cas/xorb/default/{hashes[x]}?X-Xet-Signed-Range=bytes%3D0-{end}&Expires=1795526169&Signature=IjothrtqTV3bjPmgT92uIpS8HtqA_F0L50Sj-WkfWso\",\"ranges\":[{{\"chunks\":{{\"start\":0,\"end\":{ChunksPerTerm}}},\"bytes\":{{\"start\":0,\"end\":{end}}}}}]}}]");
        }
        sb.Append("}}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
