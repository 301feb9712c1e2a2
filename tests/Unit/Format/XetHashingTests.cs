using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using XetPs.Format;

namespace XetPs.Tests.Format;

/// <summary>§5.2–§5.4: chunk, xorb, file and verification hashes against xet-core's reference values.</summary>
public class XetHashingTests
{
    public static IEnumerable<object[]> MerkleCases() =>
        Enumerable.Range(0, FormatVectors.Merkle.GetProperty("cases").GetArrayLength()).Select(i => new object[] { i });

    private static MerkleNode[] Nodes(JsonElement c) =>
        c.GetProperty("nodes").EnumerateArray()
            .Select(n => new MerkleNode(XetHash.Parse(n.GetProperty("hash").GetString()!), n.GetProperty("size").GetUInt64()))
            .ToArray();

    private static JsonElement Case(int index) => FormatVectors.Merkle.GetProperty("cases")[index];

    [Theory]
    [MemberData(nameof(MerkleCases))]
    public void Xorb_hash_matches_xet_core_reference(int caseIndex)
    {
        var c = Case(caseIndex);
        Assert.Equal(c.GetProperty("xorbHash").GetString(), XetHashing.XorbHash(Nodes(c)).ToString());
    }

    [Theory]
    [MemberData(nameof(MerkleCases))]
    public void File_hash_with_each_salt_matches_xet_core_reference(int caseIndex)
    {
        var c = Case(caseIndex);
        var nodes = Nodes(c);
        foreach (var salted in c.GetProperty("salted").EnumerateArray())
        {
            // Salts are written in the hash string form; the key is their raw bytes.
            var salt = XetHash.Parse(salted.GetProperty("salt").GetString()!).ToArray();
            Assert.Equal(salted.GetProperty("fileHash").GetString(), XetHashing.FileHashWithSalt(nodes, salt).ToString());
        }
    }

    [Theory]
    [MemberData(nameof(MerkleCases))]
    public void File_hash_is_the_zero_salt_case(int caseIndex)
    {
        var c = Case(caseIndex);
        var zeroSalted = c.GetProperty("salted").EnumerateArray().Single(s => s.GetProperty("salt").GetString() == new string('0', 64));
        Assert.Equal(zeroSalted.GetProperty("fileHash").GetString(), XetHashing.FileHash(Nodes(c)).ToString());
    }

    [Fact]
    public void The_reference_set_holds_all_18_xet_core_cases()
    {
        Assert.Equal(18, FormatVectors.Merkle.GetProperty("cases").GetArrayLength());
    }

    [Fact]
    public void Hundred_node_multi_level_vector_gives_the_published_hashes()
    {
        var c = FormatVectors.Merkle.GetProperty("cases").EnumerateArray().Single(x => x.GetProperty("nodes").GetArrayLength() == 100);
        var nodes = Nodes(c);
        Assert.Equal(858993459200UL, nodes[0].Size);
        Assert.Equal("c51247b5782028a5b8fd8191c855e46c02ba5923ceeed828b167614d47fb6686", XetHashing.XorbHash(nodes).ToString());
        Assert.Equal("4bacfd61a7f5401a3a55770234bf6ab0ce9a44446d81e9ce9977220fb9022406", XetHashing.FileHash(nodes).ToString());
    }

    [Fact]
    public void Salted_example_of_section_5_3()
    {
        var a = XetHash.Parse("cfc5d07f6f03c29bbf424132963fe08d19a37d5757aaf520bf08119f05cd56d6");
        var salt = XetHash.Parse("285371a6a3c8c4e561469c97766c46f0b9799bd8ea51a4ad27a082df8c28b7da").ToArray();
        Assert.Equal("6c18994ed5e6a223aeff68a6e386dbba7b3c25de076245dc77892b4ad49ac978",
            XetHashing.FileHashWithSalt(new[] { new MerkleNode(a, 100) }, salt).ToString());
    }

    [Fact]
    public void Empty_chunk_list_gives_zero_for_xorb_and_file_hash()
    {
        Assert.Equal(XetHash.Zero, XetHashing.XorbHash(ReadOnlySpan<MerkleNode>.Empty));
        Assert.Equal(XetHash.Zero, XetHashing.FileHash(ReadOnlySpan<MerkleNode>.Empty));
    }

    [Fact]
    public void Salt_must_be_32_bytes()
    {
        Assert.Throws<ArgumentException>(() => XetHashing.FileHashWithSalt(new[] { new MerkleNode(XetHash.Zero, 1) }, new byte[31]));
    }

    [Fact]
    public void Chunk_hash_of_empty_input()
    {
        Assert.Equal("e0f2cf784e7e5f10c34f84af150e9a5ff9664216debad915364d741049870f67", XetHashing.ChunkHash(ReadOnlySpan<byte>.Empty).ToString());
    }

    [Fact]
    public void Chunk_hash_of_hello_world()
    {
        Assert.Equal("4e39378b9d359f118190557a1f44130219a54e5fcfa07bd96cf50b466fe651b1", XetHashing.ChunkHash(Encoding.ASCII.GetBytes("hello world")).ToString());
    }

    [Fact]
    public void File_hash_of_hello_world_as_one_chunk()
    {
        var data = Encoding.ASCII.GetBytes("hello world");
        var nodes = new[] { new MerkleNode(XetHashing.ChunkHash(data), (ulong)data.Length) };
        Assert.Equal("f15edd43b7e85cfd25e2758ffe13b99fdd09dfa817e8d9f6548722a7a126db7f", XetHashing.FileHash(nodes).ToString());
    }

    [Fact]
    public void Verification_hash_of_the_hello_world_chunk()
    {
        var chunk = XetHashing.ChunkHash(Encoding.ASCII.GetBytes("hello world"));
        Assert.Equal("22ef2fdcff5cea306e42ad7e15ed8a0c5e789e7d2ec34658c10d2758946847da", XetHashing.VerificationRangeHash(new[] { chunk }).ToString());
    }

    [Fact]
    public void Verification_hash_concatenates_raw_chunk_hashes_in_order()
    {
        var rng = new Random(7);
        var hashes = Enumerable.Range(0, 200).Select(_ => { var b = new byte[32]; rng.NextBytes(b); return new XetHash(b); }).ToArray();
        var concat = hashes.SelectMany(h => h.ToArray()).ToArray();
        Assert.Equal(Blake3.KeyedHash(XetHashing.VerificationKey, concat), XetHashing.VerificationRangeHash(hashes));
    }
}
