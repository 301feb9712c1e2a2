using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using XetPs.Format;

namespace XetPs.Bench;

/// <summary>
/// Micro-benchmark of keyed BLAKE3 (the chunk hash) over a Xet-sized chunk (64 KiB) and a 1 MiB buffer, SIMD and
/// scalar paths. Throughput is reported as MB/s through the bytes-per-operation column.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class Blake3Benchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn());
    }

    private readonly byte[] _key = new byte[32];
    private byte[] _data = Array.Empty<byte>();
    private readonly byte[] _output = new byte[32];

    [Params(64 * 1024, 1024 * 1024)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _data = new byte[Length];
        rng.NextBytes(_data);
        rng.NextBytes(_key);
    }

    [Benchmark(Baseline = true)]
    public XetHash KeyedHash() => Blake3.KeyedHash(_key, _data);

    [Benchmark]
    public byte KeyedHashScalar()
    {
        Blake3.KeyedHash(_key, _data, _output, forceScalar: true);
        return _output[0];
    }
}
