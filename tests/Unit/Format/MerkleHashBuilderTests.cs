using System;
using System.Collections.Generic;
using System.Linq;
using XetPs.Format;

namespace XetPs.Tests.Format;

/// <summary>The streaming merkle builder gives exactly the batch xorb and file hashes.</summary>
public class MerkleHashBuilderTests
{
    private static MerkleNode[] RandomNodes(int count, int seed)
    {
        var rng = new Random(seed);
        var nodes = new MerkleNode[count];
        var raw = new byte[32];
        for (int i = 0; i < count; i++)
        {
            rng.NextBytes(raw);
            nodes[i] = new MerkleNode(new XetHash(raw), (ulong)rng.Next(0, 131073));
        }
        return nodes;
    }

    private static (XetHash Xorb, XetHash File) Stream(MerkleNode[] nodes)
    {
        var xorb = new MerkleHashBuilder();
        var file = new MerkleHashBuilder();
        foreach (var n in nodes) { xorb.Add(n.Hash, n.Size); file.Add(n.Hash, n.Size); }
        Assert.Equal(nodes.Length, xorb.Count);
        return (xorb.FinishXorbHash(), file.FinishFileHash());
    }

    public static IEnumerable<object[]> Sizes()
    {
        // Every size up to 40 (all small tree shapes), then seeded random sizes up to 3000.
        var rng = new Random(42);
        return Enumerable.Range(0, 41).Concat(Enumerable.Range(0, 30).Select(_ => rng.Next(41, 3001))).Concat(new[] { 3000 })
            .Select(n => new object[] { n });
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Streaming_equals_batch_on_random_node_lists(int count)
    {
        var nodes = RandomNodes(count, seed: 1000 + count);
        var (xorb, file) = Stream(nodes);
        Assert.Equal(XetHashing.XorbHash(nodes), xorb);
        Assert.Equal(XetHashing.FileHash(nodes), file);
    }

    [Theory]
    [InlineData(0UL)] // every node is a cut point: groups of 3
    [InlineData(1UL)] // no node is a cut point: groups of 9
    public void Streaming_equals_batch_when_cut_points_are_always_or_never_present(ulong lastWordResidue)
    {
        foreach (int count in new[] { 2, 3, 8, 9, 10, 11, 27, 81, 82, 730 })
        {
            var rng = new Random(count);
            var nodes = Enumerable.Range(0, count).Select(i =>
                new MerkleNode(XetHash.FromWords((ulong)rng.NextInt64(), (ulong)i, 7, ((ulong)rng.NextInt64() & ~3UL) | lastWordResidue), (ulong)i)).ToArray();
            var (xorb, file) = Stream(nodes);
            Assert.True(XetHashing.XorbHash(nodes) == xorb, $"xorb hash differs at {count} nodes");
            Assert.True(XetHashing.FileHash(nodes) == file, $"file hash differs at {count} nodes");
        }
    }

    [Theory]
    [MemberData(nameof(XetHashingTests.MerkleCases), MemberType = typeof(XetHashingTests))]
    public void Streaming_matches_xet_core_reference(int caseIndex)
    {
        var c = FormatVectors.Merkle.GetProperty("cases")[caseIndex];
        var nodes = c.GetProperty("nodes").EnumerateArray()
            .Select(n => new MerkleNode(XetHash.Parse(n.GetProperty("hash").GetString()!), n.GetProperty("size").GetUInt64())).ToArray();
        var (xorb, file) = Stream(nodes);
        Assert.Equal(c.GetProperty("xorbHash").GetString(), xorb.ToString());
        Assert.Equal(c.GetProperty("salted")[0].GetProperty("fileHash").GetString(), file.ToString());
    }

    [Fact]
    public void A_single_chunk_is_its_own_xorb_hash()
    {
        var node = RandomNodes(1, 5)[0];
        var builder = new MerkleHashBuilder();
        builder.Add(node.Hash, node.Size);
        Assert.Equal(node.Hash, builder.FinishXorbHash());
    }

    [Fact]
    public void Add_after_finish_is_rejected()
    {
        var builder = new MerkleHashBuilder();
        builder.Add(XetHash.Zero, 1);
        builder.FinishXorbHash();
        Assert.Throws<InvalidOperationException>(() => builder.Add(XetHash.Zero, 1));
        Assert.Throws<InvalidOperationException>(() => builder.FinishFileHash());
    }
}
