using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using XetPs.Format;

namespace XetPs.Tests.Format;

public class XorbSerializationTests
{
    private static List<byte[]> Chunks(int count, int seed)
    {
        var random = new Random(seed);
        var chunks = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            int n = random.Next(1, 20_000);
            chunks.Add((i % 3) switch
            {
                0 => FormatTestData.TextLike(n, seed + i),
                1 => FormatTestData.FloatLike(n, seed + i),
                _ => FormatTestData.Random(n, seed + i),
            });
        }
        return chunks;
    }

    private static SerializedXorb Build(List<byte[]> chunks, uint nonce = 0)
    {
        var builder = new XorbBuilder(nonce);
        foreach (var chunk in chunks)
            Assert.True(builder.TryAdd(chunk, XorbChunkCodec.ChooseScheme(chunk)));
        var xorb = builder.Build();
        Assert.Equal(builder.SerializedLength, xorb.Bytes.Length);
        return xorb;
    }

    [Fact]
    public void Built_xorb_parses_back_to_the_same_chunks_and_offsets()
    {
        var chunks = Chunks(12, 1);
        var xorb = Build(chunks);
        var parsed = SerializedXorb.Parse(xorb.Bytes);
        Assert.Equal(xorb.Hash, parsed.Hash);
        Assert.Equal(chunks.Count, parsed.ChunkCount);
        Assert.Equal(xorb.ChunkDataLength, parsed.ChunkDataLength);
        Assert.Equal(xorb.ChunkBoundaryOffsets, parsed.ChunkBoundaryOffsets);
        Assert.Equal(xorb.UnpackedChunkOffsets, parsed.UnpackedChunkOffsets);
        Assert.Equal(xorb.ChunkHashes, parsed.ChunkHashes);

        // Walking the chunk bytes with the codec gives back every chunk.
        var output = new byte[XorbChunkHeader.MaxUncompressedLength];
        int offset = 0;
        for (int i = 0; i < chunks.Count; i++)
        {
            int n = XorbChunkCodec.Decode(parsed.Bytes.AsSpan(offset, parsed.ChunkDataLength - offset), output, out int consumed);
            Assert.Equal(chunks[i], output.AsSpan(0, n).ToArray());
            offset += consumed;
            Assert.Equal(parsed.ChunkBoundaryOffsets[i], (uint)offset);
            Assert.Equal(XetHashing.ChunkHash(chunks[i]), parsed.ChunkHashes[i]);
        }
        Assert.Equal(parsed.ChunkDataLength, offset);
    }

    [Fact]
    public void Xorb_hash_is_the_merkle_root_of_chunk_hashes_and_sizes()
    {
        var chunks = Chunks(20, 2);
        var nodes = chunks.Select(c => new MerkleNode(XetHashing.ChunkHash(c), (ulong)c.Length)).ToArray();
        Assert.Equal(XetHashing.XorbHash(nodes), Build(chunks).Hash);
    }

    [Fact]
    public void Footer_follows_the_V1_layout_field_by_field()
    {
        var chunks = Chunks(5, 3);
        var xorb = Build(chunks, nonce: 0xA1B2C3D4);
        int n = chunks.Count;
        var bytes = xorb.Bytes;
        uint infoLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
        Assert.Equal((uint)(92 + 40 * n), infoLength);
        Assert.Equal(xorb.ChunkDataLength, bytes.Length - 4 - (int)infoLength);

        var f = bytes.AsSpan(xorb.ChunkDataLength);
        Assert.Equal("XETBLOB", Encoding.ASCII.GetString(f.Slice(0, 7)));
        Assert.Equal(1, f[7]);
        Assert.Equal(xorb.Hash, new XetHash(f.Slice(8, 32)));
        Assert.Equal("XBLBHSH", Encoding.ASCII.GetString(f.Slice(40, 7)));
        Assert.Equal(0, f[47]);
        Assert.Equal((uint)n, BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(48)));
        for (int i = 0; i < n; i++)
            Assert.Equal(XetHashing.ChunkHash(chunks[i]), new XetHash(f.Slice(52 + 32 * i, 32)));
        int b = 52 + 32 * n;
        Assert.Equal("XBLBBND", Encoding.ASCII.GetString(f.Slice(b, 7)));
        Assert.Equal(1, f[b + 7]);
        Assert.Equal((uint)n, BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(b + 8)));
        uint unpacked = 0;
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(xorb.ChunkBoundaryOffsets[i], BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(b + 12 + 4 * i)));
            unpacked += (uint)chunks[i].Length;
            Assert.Equal(unpacked, BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(b + 12 + 4 * n + 4 * i)));
        }
        int t = b + 12 + 8 * n;
        Assert.Equal((uint)n, BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(t)));
        Assert.Equal((uint)(52 + 40 * n), BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(t + 4)));
        Assert.Equal((uint)(40 + 8 * n), BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(t + 8)));
        Assert.Equal(0xA1B2C3D4u, BinaryPrimitives.ReadUInt32LittleEndian(f.Slice(t + 12)));
        Assert.All(f.Slice(t + 16, 12).ToArray(), x => Assert.Equal(0, x));
        Assert.Equal((int)infoLength, t + 28);
        // The offsets from end land on the section idents.
        Assert.Equal(40, (int)infoLength - (52 + 40 * n));
        Assert.Equal(b, (int)infoLength - (40 + 8 * n));
    }

    [Fact]
    public void Nonce_does_not_change_the_xorb_hash()
    {
        var chunks = Chunks(3, 4);
        Assert.Equal(Build(chunks, 1).Hash, Build(chunks, 2).Hash);
    }

    [Fact]
    public void Chunk_count_limit_is_enforced()
    {
        var builder = new XorbBuilder();
        var chunk = new byte[] { 1, 2, 3 };
        for (int i = 0; i < XorbBuilder.MaxXorbChunks; i++)
            Assert.True(builder.TryAdd(chunk, CompressionScheme.None));
        Assert.False(builder.TryAdd(chunk, CompressionScheme.None));
        Assert.Equal(XorbBuilder.MaxXorbChunks, builder.ChunkCount);
        var xorb = builder.Build();
        Assert.Equal(XorbBuilder.MaxXorbChunks, SerializedXorb.Parse(xorb.Bytes).ChunkCount);
    }

    [Fact]
    public void Serialized_size_limit_is_enforced_and_a_refused_chunk_changes_nothing()
    {
        var builder = new XorbBuilder();
        var chunk = FormatTestData.Random(XorbChunkHeader.MaxUncompressedLength, 5);
        int added = 0;
        while (builder.TryAdd(chunk, CompressionScheme.Lz4))
            added++;
        Assert.Equal(511, added); // 512 incompressible 128 KiB chunks plus headers and footer pass 64 MiB
        long before = builder.SerializedLength;
        Assert.False(builder.TryAdd(chunk, CompressionScheme.None));
        Assert.Equal(before, builder.SerializedLength);
        Assert.True(before <= XorbBuilder.MaxXorbBytes);
        Assert.True(builder.TryAdd(new byte[100], CompressionScheme.None)); // a small chunk still fits
    }

    [Fact]
    public void Oversized_chunks_and_empty_xorbs_are_refused()
    {
        var builder = new XorbBuilder();
        Assert.Throws<ArgumentException>(() => builder.TryAdd(new byte[XorbChunkHeader.MaxUncompressedLength + 1], CompressionScheme.None));
        Assert.Throws<InvalidOperationException>(() => builder.Build());
    }

    [Fact]
    public void Parse_rejects_a_tampered_xorb_hash()
    {
        var xorb = Build(Chunks(4, 6));
        var bytes = (byte[])xorb.Bytes.Clone();
        bytes[xorb.ChunkDataLength + 8] ^= 1;
        Assert.Contains("hash", Assert.Throws<XorbFormatException>(() => SerializedXorb.Parse(bytes)).Message);
    }

    [Fact]
    public void Parse_rejects_a_chunk_that_does_not_match_its_hash()
    {
        var chunks = new List<byte[]> { FormatTestData.Random(5000, 1), FormatTestData.Random(5000, 2) };
        var xorb = Build(chunks);
        var bytes = (byte[])xorb.Bytes.Clone();
        bytes[XorbChunkHeader.Size + 10] ^= 1; // a stored (None) chunk: the bytes change, the hash does not
        Assert.Throws<XorbFormatException>(() => SerializedXorb.Parse(bytes));
    }

    [Fact]
    public void Parse_rejects_malformed_footers_without_crashing()
    {
        var xorb = Build(Chunks(3, 7));
        var random = new Random(8);
        Assert.Throws<XorbFormatException>(() => SerializedXorb.Parse(ReadOnlySpan<byte>.Empty));
        Assert.Throws<XorbFormatException>(() => SerializedXorb.Parse(xorb.Bytes.AsSpan(0, xorb.Bytes.Length - 1)));
        Assert.Throws<XorbFormatException>(() => SerializedXorb.Parse(xorb.Bytes.AsSpan(1)));
        for (int round = 0; round < 300; round++)
        {
            var bytes = (byte[])xorb.Bytes.Clone();
            int at = random.Next(xorb.ChunkDataLength, bytes.Length);
            byte flip = (byte)random.Next(1, 256);
            bytes[at] ^= flip;
            bool nonceByte = at >= bytes.Length - 4 - 16 && at < bytes.Length - 4;
            if (nonceByte)
                Assert.Equal(xorb.Hash, SerializedXorb.Parse(bytes).Hash); // the nonce is not validated
            else
                Assert.Throws<XorbFormatException>(() => SerializedXorb.Parse(bytes));
        }
    }
}
