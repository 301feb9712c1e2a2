using System;
using System.Collections.Generic;
using System.Linq;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

/// <summary>Decoding a fetched xorb block: both paths (in place for stored chunks, a new buffer otherwise) and the
/// checks that run before decoded memory is allocated.</summary>
public class XorbDecodeTests
{
    private static (XorbFetch Fetch, byte[] Raw, List<byte[]> Chunks) Block(bool compress, int seed)
    {
        var random = new Random(seed);
        var chunks = new List<byte[]>();
        var raw = new List<byte>();
        var buffer = new byte[XorbChunkCodec.MaxEncodedLength(XorbChunkHeader.MaxUncompressedLength)];
        var starts = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            var chunk = new byte[random.Next(100, 5000)];
            if (compress) for (var k = 0; k < chunk.Length; k++) chunk[k] = (byte)(k / 50);
            else random.NextBytes(chunk);
            chunks.Add(chunk);
            starts.Add(raw.Count);
            var n = XorbChunkCodec.Encode(chunk, compress ? CompressionScheme.Lz4 : CompressionScheme.None, buffer);
            raw.AddRange(buffer.Take(n));
        }
        starts.Add(raw.Count);
        // Two ranges: chunks [0,2) and [3,6), fetched back to back.
        var r0 = new XorbRangeDescriptor(new ChunkRange(0, 2), starts[0], starts[2] - 1);
        var r1 = new XorbRangeDescriptor(new ChunkRange(3, 6), starts[3], starts[6] - 1);
        var bytes = raw.Take(starts[2]).Concat(raw.Skip(starts[3]).Take(starts[6] - starts[3])).ToArray();
        return (new XorbFetch(XetHash.Zero, new Uri("http://127.0.0.1/x"), new[] { r0, r1 }), bytes, chunks);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decodes_every_range_with_its_chunk_hashes(bool compress)
    {
        var (fetch, raw, chunks) = Block(compress, seed: 1);

        var ranges = XorbRegistry.Decode(fetch, raw, new Dictionary<ChunkRange, int>(), hash: true);

        var expected = new[] { chunks[0].Concat(chunks[1]).ToArray(), chunks[3].Concat(chunks[4]).Concat(chunks[5]).ToArray() };
        for (var r = 0; r < 2; r++)
        {
            Assert.Equal(expected[r], ranges[r].Data.AsSpan(ranges[r].DataOffset, ranges[r].Length).ToArray());
            Assert.Equal(XetHashing.ChunkHash(chunks[r == 0 ? 1 : 5]), ranges[r].ChunkHashes![^1]);
        }
        Assert.Equal(!compress, ReferenceEquals(ranges[0].Data, raw)); // stored chunks: compacted in place
    }

    [Fact]
    public void A_term_length_that_disagrees_with_the_chunk_headers_is_refused()
    {
        var (fetch, raw, chunks) = Block(compress: false, seed: 2);
        var lying = new Dictionary<ChunkRange, int> { [new ChunkRange(3, 5)] = chunks[3].Length + chunks[4].Length + 1 };

        var error = Assert.Throws<XetProtocolException>(() => XorbRegistry.Decode(fetch, raw, lying, hash: false));

        Assert.Contains("unpacked_length", error.Message);
    }

    [Fact]
    public void A_stored_chunk_whose_header_lengths_differ_is_a_format_error()
    {
        var (fetch, raw, _) = Block(compress: false, seed: 3);
        raw[5] = (byte)(raw[5] + 1); // uncompressed length of chunk 0 no longer equals its stored length

        Assert.Throws<XorbFormatException>(() => XorbRegistry.Decode(fetch, raw, new Dictionary<ChunkRange, int>(), hash: false));
    }

    [Fact]
    public void A_range_with_fewer_chunks_than_promised_is_refused()
    {
        var (fetch, raw, _) = Block(compress: true, seed: 4);
        var shrunk = fetch with { Ranges = new[] { fetch.Ranges[0] with { Chunks = new ChunkRange(0, 3) }, fetch.Ranges[1] } };

        Assert.Throws<XetProtocolException>(() => XorbRegistry.Decode(shrunk, raw, new Dictionary<ChunkRange, int>(), hash: false));
    }
}
