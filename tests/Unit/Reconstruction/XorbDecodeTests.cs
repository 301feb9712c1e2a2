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

        var ranges = XorbDecoder.Decode(fetch, raw, new Dictionary<ChunkRange, int>(), hash: true, pool: null, rawOffset: 0, outputOffset: 0, out _);

        var expected = new[] { chunks[0].Concat(chunks[1]).ToArray(), chunks[3].Concat(chunks[4]).Concat(chunks[5]).ToArray() };
        for (var r = 0; r < 2; r++)
        {
            Assert.Equal(expected[r], ranges[r].Data.AsSpan(ranges[r].DataOffset, ranges[r].Length).ToArray());
            Assert.Equal(XetHashing.ChunkHash(chunks[r == 0 ? 1 : 5]), ranges[r].ChunkHashes![^1]);
        }
        Assert.Equal(!compress, ReferenceEquals(ranges[0].Data, raw)); // stored chunks: compacted in place
    }

    [Theory]
    [InlineData(CompressionScheme.Lz4)]
    [InlineData(CompressionScheme.ByteGrouping4Lz4)]
    [InlineData(CompressionScheme.None)]
    public void Compressed_ranges_decode_in_place_in_the_one_array_of_their_load(CompressionScheme scheme)
    {
        var random = new Random(9);
        var chunks = new List<byte[]>();
        var encoded = new List<byte>();
        var buffer = new byte[XorbChunkCodec.MaxEncodedLength(XorbChunkHeader.MaxUncompressedLength)];
        var starts = new List<int>();
        for (var i = 0; i < 8; i++)
        {
            var chunk = new byte[4 * random.Next(1000, 8000)];
            for (var k = 0; k < chunk.Length; k += 4)
                BitConverter.TryWriteBytes(chunk.AsSpan(k), (float)random.NextDouble());
            chunks.Add(chunk);
            starts.Add(encoded.Count);
            encoded.AddRange(buffer.Take(XorbChunkCodec.Encode(chunk, scheme, buffer)));
        }
        starts.Add(encoded.Count);
        var fetch = new XorbFetch(XetHash.Zero, new Uri("http://127.0.0.1/x"), new[]
        {
            new XorbRangeDescriptor(new ChunkRange(0, 3), starts[0], starts[3] - 1),
            new XorbRangeDescriptor(new ChunkRange(3, 8), starts[3], starts[8] - 1),
        });
        var decodedTotal = chunks.Sum(c => c.Length);
        // The load's array: the compressed bytes at its tail, as the registry downloads them.
        var array = new byte[XorbRegistry.LoadFootprint(encoded.Count, decodedTotal, chunks: 8)];
        var offset = array.Length - encoded.Count;
        encoded.CopyTo(array, offset);

        var ranges = XorbDecoder.Decode(fetch, array, new Dictionary<ChunkRange, int>(), hash: true, pool: null, rawOffset: offset, outputOffset: 0, out _);

        Assert.All(ranges, r => Assert.Same(array, r.Data)); // no array per range
        Assert.Equal(chunks.Take(3).SelectMany(c => c).ToArray(), array.AsSpan(ranges[0].DataOffset, ranges[0].Length).ToArray());
        Assert.Equal(chunks.Skip(3).SelectMany(c => c).ToArray(), array.AsSpan(ranges[1].DataOffset, ranges[1].Length).ToArray());
        Assert.Equal(XetHashing.ChunkHash(chunks[7]), ranges[1].ChunkHashes![^1]);
    }

    [Fact]
    public void An_lz4_range_without_room_before_its_bytes_is_decoded_into_an_array_of_its_own()
    {
        var (fetch, raw, chunks) = Block(compress: true, seed: 6);

        var ranges = XorbDecoder.Decode(fetch, raw, new Dictionary<ChunkRange, int>(), hash: false, pool: null, rawOffset: 0, outputOffset: 0, out _);

        Assert.NotSame(raw, ranges[0].Data); // decoding in place would overwrite frames not yet read
        Assert.Equal(chunks[3].Concat(chunks[4]).Concat(chunks[5]).ToArray(), ranges[1].Data.AsSpan(ranges[1].DataOffset, ranges[1].Length).ToArray());
    }

    [Fact]
    public void A_load_never_reserves_more_than_its_chunks_could_decode_to()
    {
        // A lying estimate (terms claiming huge unpacked lengths) is bounded by 128 KiB per chunk.
        var footprint = XorbRegistry.LoadFootprint(compressed: 1000, decodedEstimate: 1L << 40, chunks: 4);

        Assert.Equal(4L * XorbChunkHeader.MaxUncompressedLength + XorbRegistry.InPlaceSlack, footprint);
    }

    [Fact]
    public void A_term_length_that_disagrees_with_the_chunk_headers_is_refused()
    {
        var (fetch, raw, chunks) = Block(compress: false, seed: 2);
        var lying = new Dictionary<ChunkRange, int> { [new ChunkRange(3, 5)] = chunks[3].Length + chunks[4].Length + 1 };

        var error = Assert.Throws<XetProtocolException>(() => XorbDecoder.Decode(fetch, raw, lying, hash: false, pool: null, rawOffset: 0, outputOffset: 0, out _));

        Assert.Contains("unpacked_length", error.Message);
    }

    [Fact]
    public void A_stored_chunk_whose_header_lengths_differ_is_a_format_error()
    {
        var (fetch, raw, _) = Block(compress: false, seed: 3);
        raw[5] = (byte)(raw[5] + 1); // uncompressed length of chunk 0 no longer equals its stored length

        Assert.Throws<XorbFormatException>(() => XorbDecoder.Decode(fetch, raw, new Dictionary<ChunkRange, int>(), hash: false, pool: null, rawOffset: 0, outputOffset: 0, out _));
    }

    [Fact]
    public void A_range_with_fewer_chunks_than_promised_is_refused()
    {
        var (fetch, raw, _) = Block(compress: true, seed: 4);
        var shrunk = fetch with { Ranges = new[] { fetch.Ranges[0] with { Chunks = new ChunkRange(0, 3) }, fetch.Ranges[1] } };

        Assert.Throws<XetProtocolException>(() => XorbDecoder.Decode(shrunk, raw, new Dictionary<ChunkRange, int>(), hash: false, pool: null, rawOffset: 0, outputOffset: 0, out _));
    }
}
