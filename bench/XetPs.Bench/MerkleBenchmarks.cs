using System;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using XetPs.Format;

namespace XetPs.Bench;

/// <summary>
/// Micro-benchmark of the merkle build that end-to-end verification runs over every file: chunk hashes of a file of
/// <c>Length</c> bytes (64 KiB chunks) aggregated into the file hash, streaming (as the engine does) and in one batch.
/// The MB/s column is file bytes covered per second, so it reads against the download rate it must keep up with.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class MerkleBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn());
    }

    private MerkleNode[] _chunks = [];

    /// <summary>File bytes the chunk list stands for: 1 GiB is 16,384 chunks of 64 KiB.</summary>
    [Params(1L << 30)]
    public long Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var count = (int)(Length / GearChunker.TargetChunk);
        _chunks = new MerkleNode[count];
        var raw = new byte[XetHash.Size];
        var random = new Random(6);
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(raw);
            _chunks[i] = new MerkleNode(new XetHash(raw), GearChunker.TargetChunk);
        }
    }

    [Benchmark(Baseline = true, Description = "File hash, streaming MerkleHashBuilder")]
    public XetHash Streaming()
    {
        var builder = new MerkleHashBuilder();
        foreach (var chunk in _chunks) builder.Add(chunk.Hash, chunk.Size);
        return builder.FinishFileHash();
    }

    [Benchmark(Description = "File hash, batch XetHashing.FileHash")]
    public XetHash Batch() => XetHashing.FileHash(_chunks);
}
