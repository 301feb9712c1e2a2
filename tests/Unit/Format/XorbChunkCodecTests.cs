using System;
using System.IO;
using System.Linq;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using XetPs.Format;

namespace XetPs.Tests.Format;

public class XorbChunkCodecTests
{
    private static byte[] Encode(byte[] raw, CompressionScheme scheme)
    {
        var buffer = new byte[XorbChunkCodec.MaxEncodedLength(raw.Length)];
        int n = XorbChunkCodec.Encode(raw, scheme, buffer);
        return buffer.AsSpan(0, n).ToArray();
    }

    private static byte[] Decode(byte[] chunk, out int consumed)
    {
        var header = XorbChunkHeader.Read(chunk);
        var output = new byte[header.UncompressedLength];
        int n = XorbChunkCodec.Decode(chunk, output, out consumed);
        Assert.Equal(output.Length, n);
        return output;
    }

    private static byte[] Chunk(CompressionScheme scheme, byte[] data, int uncompressed)
    {
        var chunk = new byte[XorbChunkHeader.Size + data.Length];
        new XorbChunkHeader(scheme, data.Length, uncompressed).Write(chunk);
        data.CopyTo(chunk, XorbChunkHeader.Size);
        return chunk;
    }

    /// <summary>An LZ4 frame made by K4os's own stream encoder, with the given frame options.</summary>
    private static byte[] K4osFrame(byte[] raw, bool chained, bool contentChecksum, bool blockChecksum, int blockSize = 65536)
    {
        var settings = new LZ4EncoderSettings
        {
            ChainBlocks = chained,
            ContentChecksum = contentChecksum,
            BlockChecksum = blockChecksum,
            BlockSize = blockSize,
        };
        using var output = new MemoryStream();
        using (var encoder = LZ4Stream.Encode(output, settings, leaveOpen: true))
            encoder.Write(raw, 0, raw.Length);
        return output.ToArray();
    }

    private static XorbFormatException DecodeFails(byte[] chunk, int destination = XorbChunkHeader.MaxUncompressedLength) =>
        Assert.Throws<XorbFormatException>(() => XorbChunkCodec.Decode(chunk, new byte[destination], out _));

    [Theory]
    [InlineData(CompressionScheme.None)]
    [InlineData(CompressionScheme.Lz4)]
    [InlineData(CompressionScheme.ByteGrouping4Lz4)]
    public void Every_scheme_round_trips_text_and_float_chunks(CompressionScheme scheme)
    {
        foreach (int n in new[] { 1, 17, 4099, 65536, 65537, 100_003, 131072 })
        {
            foreach (var raw in new[] { FormatTestData.TextLike(n, n), FormatTestData.FloatLike(n, n) })
            {
                byte[] chunk = Encode(raw, scheme);
                Assert.Equal(raw, Decode(chunk, out int consumed));
                Assert.Equal(chunk.Length, consumed);
            }
        }
    }

    [Fact]
    public void Compressible_chunks_keep_the_preferred_scheme_and_shrink()
    {
        var raw = FormatTestData.TextLike(65536, 1);
        var chunk = Encode(raw, CompressionScheme.Lz4);
        var header = XorbChunkHeader.Read(chunk);
        Assert.Equal(CompressionScheme.Lz4, header.Scheme);
        Assert.True(header.CompressedLength < raw.Length / 2);
        Assert.Equal(raw.Length, header.UncompressedLength);
        Assert.Equal(0x184D2204u, BitConverter.ToUInt32(chunk, XorbChunkHeader.Size));
    }

    [Theory]
    [InlineData(CompressionScheme.Lz4)]
    [InlineData(CompressionScheme.ByteGrouping4Lz4)]
    public void Incompressible_chunks_are_stored_as_None(CompressionScheme scheme)
    {
        var raw = FormatTestData.Random(70_000, 3);
        var chunk = Encode(raw, scheme);
        var header = XorbChunkHeader.Read(chunk);
        Assert.Equal(CompressionScheme.None, header.Scheme);
        Assert.Equal(raw.Length, header.CompressedLength);
        Assert.Equal(XorbChunkHeader.Size + raw.Length, chunk.Length);
        Assert.Equal(raw, Decode(chunk, out _));
    }

    [Fact]
    public void Empty_chunk_is_stored_as_None()
    {
        var chunk = Encode([], CompressionScheme.Lz4);
        Assert.Equal(XorbChunkHeader.Size, chunk.Length);
        Assert.Equal(CompressionScheme.None, XorbChunkHeader.Read(chunk).Scheme);
        Assert.Empty(Decode(chunk, out int consumed));
        Assert.Equal(XorbChunkHeader.Size, consumed);
    }

    [Fact]
    public void Our_frames_are_read_by_the_K4os_frame_decoder()
    {
        var raw = FormatTestData.TextLike(131072, 5);
        var chunk = Encode(raw, CompressionScheme.Lz4);
        using var decoder = LZ4Stream.Decode(new MemoryStream(chunk, XorbChunkHeader.Size, chunk.Length - XorbChunkHeader.Size));
        using var output = new MemoryStream();
        decoder.CopyTo(output);
        Assert.Equal(raw, output.ToArray());
    }

    [Theory]
    [InlineData(false, false, false, 65536)]
    [InlineData(true, false, false, 65536)]
    [InlineData(true, true, true, 65536)]
    [InlineData(false, true, false, 262144)]
    [InlineData(true, false, true, 4194304)]
    public void Frames_from_the_K4os_frame_encoder_decode(bool chained, bool contentChecksum, bool blockChecksum, int blockSize)
    {
        foreach (var raw in new[] { FormatTestData.TextLike(131072, 8), FormatTestData.FloatLike(99_999, 8) })
        {
            byte[] frame = K4osFrame(raw, chained, contentChecksum, blockChecksum, blockSize);
            Assert.Equal(raw, Decode(Chunk(CompressionScheme.Lz4, frame, raw.Length), out _));

            var grouped = new byte[raw.Length];
            ByteGrouping4.Split(raw, grouped);
            byte[] bg4Frame = K4osFrame(grouped, chained, contentChecksum, blockChecksum, blockSize);
            Assert.Equal(raw, Decode(Chunk(CompressionScheme.ByteGrouping4Lz4, bg4Frame, raw.Length), out _));
        }
    }

    /// <summary>Our frame for <paramref name="raw"/>, rewritten to declare <paramref name="declared"/> as its content size.</summary>
    private static byte[] FrameDeclaringContentSize(byte[] raw, ulong declared)
    {
        var chunk = Encode(raw, CompressionScheme.Lz4);
        var frame = chunk.AsSpan(XorbChunkHeader.Size).ToArray();
        var descriptor = new byte[10];
        descriptor[0] = (byte)(frame[4] | 0x08);
        descriptor[1] = frame[5];
        BitConverter.TryWriteBytes(descriptor.AsSpan(2), declared);
        byte hc = (byte)(XxHash32.Hash(descriptor) >> 8);
        return frame.Take(4).Concat(descriptor).Append(hc).Concat(frame.Skip(7)).ToArray();
    }

    [Fact]
    public void Frame_with_a_matching_content_size_decodes()
    {
        var raw = FormatTestData.TextLike(70_000, 6);
        Assert.Equal(raw, Decode(Chunk(CompressionScheme.Lz4, FrameDeclaringContentSize(raw, (ulong)raw.Length), raw.Length), out _));
    }

    [Fact]
    public void Frame_whose_content_size_disagrees_is_a_format_error()
    {
        var raw = FormatTestData.TextLike(70_000, 6);
        var chunk = Chunk(CompressionScheme.Lz4, FrameDeclaringContentSize(raw, (ulong)raw.Length + 1), raw.Length);
        Assert.Contains("declares", DecodeFails(chunk).Message);
    }

    [Fact]
    public void XxHash32_agrees_with_K4os_xxHash()
    {
        for (int n = 0; n < 100; n++)
        {
            var data = FormatTestData.Random(n * 7, n);
            Assert.Equal(K4os.Hash.xxHash.XXH32.DigestOf(data, 0, data.Length), XxHash32.Hash(data));
        }
    }

    [Fact]
    public void Decode_writes_nothing_past_the_uncompressed_length()
    {
        var raw = FormatTestData.TextLike(1000, 2);
        var chunk = Encode(raw, CompressionScheme.ByteGrouping4Lz4);
        var output = Enumerable.Repeat((byte)0xEE, 2000).ToArray();
        Assert.Equal(1000, XorbChunkCodec.Decode(chunk, output, out _));
        Assert.All(output.Skip(1000), b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Decode_allocates_nothing_per_chunk()
    {
        var chunks = new[]
        {
            Encode(FormatTestData.TextLike(65536, 1), CompressionScheme.Lz4),
            Encode(FormatTestData.FloatLike(131072, 2), CompressionScheme.ByteGrouping4Lz4),
            Encode(FormatTestData.Random(1000, 3), CompressionScheme.None),
            Chunk(CompressionScheme.Lz4, K4osFrame(FormatTestData.TextLike(100_000, 4), true, true, true), 100_000),
        };
        var output = new byte[XorbChunkHeader.MaxUncompressedLength];
        foreach (var chunk in chunks)
            XorbChunkCodec.Decode(chunk, output, out _); // first use creates this thread's scratch buffer
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 20; round++)
            foreach (var chunk in chunks)
                XorbChunkCodec.Decode(chunk, output, out _);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Consecutive_chunks_are_walked_by_consumed()
    {
        var a = Encode(FormatTestData.TextLike(5000, 1), CompressionScheme.Lz4);
        var b = Encode(FormatTestData.FloatLike(6000, 2), CompressionScheme.ByteGrouping4Lz4);
        var both = a.Concat(b).ToArray();
        var output = new byte[XorbChunkHeader.MaxUncompressedLength];
        XorbChunkCodec.Decode(both, output, out int first);
        Assert.Equal(a.Length, first);
        Assert.Equal(6000, XorbChunkCodec.Decode(both.AsSpan(first), output, out int second));
        Assert.Equal(b.Length, second);
    }

    [Fact]
    public void Header_round_trips_its_fields_little_endian()
    {
        var bytes = new byte[8];
        new XorbChunkHeader(CompressionScheme.ByteGrouping4Lz4, 0x012345, 0x020000).Write(bytes);
        Assert.Equal(new byte[] { 0, 0x45, 0x23, 0x01, 2, 0x00, 0x00, 0x02 }, bytes);
        var header = XorbChunkHeader.Read(bytes);
        Assert.Equal(0, header.Version);
        Assert.Equal(CompressionScheme.ByteGrouping4Lz4, header.Scheme);
        Assert.Equal(0x012345, header.CompressedLength);
        Assert.Equal(0x020000, header.UncompressedLength);
    }

    [Fact]
    public void Header_constructor_refuses_values_that_cannot_be_serialized()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new XorbChunkHeader((CompressionScheme)99, 10, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new XorbChunkHeader(CompressionScheme.Lz4, XorbChunkHeader.MaxCompressedLength + 1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new XorbChunkHeader(CompressionScheme.Lz4, 10, XorbChunkHeader.MaxUncompressedLength + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new XorbChunkHeader(CompressionScheme.Lz4, -1, 10));
    }

    [Fact]
    public void Encode_refuses_Auto_and_oversized_chunks()
    {
        var buffer = new byte[XorbChunkCodec.MaxEncodedLength(XorbChunkHeader.MaxUncompressedLength)];
        Assert.Throws<ArgumentOutOfRangeException>(() => XorbChunkCodec.Encode(new byte[10], (CompressionScheme)99, buffer));
        Assert.Throws<ArgumentOutOfRangeException>(() => XorbChunkCodec.Encode(new byte[XorbChunkHeader.MaxUncompressedLength + 1], CompressionScheme.Lz4, buffer));
        Assert.Throws<ArgumentException>(() => XorbChunkCodec.Encode(new byte[1000], CompressionScheme.Lz4, new byte[1000]));
    }

    [Fact]
    public void Destination_smaller_than_the_chunk_is_a_caller_error()
    {
        var chunk = Encode(FormatTestData.TextLike(1000, 1), CompressionScheme.Lz4);
        Assert.Throws<ArgumentException>(() => XorbChunkCodec.Decode(chunk, new byte[999], out _));
    }

    [Fact]
    public void Truncated_header_is_a_format_error()
    {
        var chunk = Encode(FormatTestData.TextLike(100, 1), CompressionScheme.Lz4);
        for (int n = 0; n < XorbChunkHeader.Size; n++)
            Assert.Contains("header", DecodeFails(chunk.AsSpan(0, n).ToArray()).Message);
    }

    [Theory]
    [InlineData(CompressionScheme.None)]
    [InlineData(CompressionScheme.Lz4)]
    [InlineData(CompressionScheme.ByteGrouping4Lz4)]
    public void Truncated_data_is_a_format_error(CompressionScheme scheme)
    {
        var chunk = Encode(FormatTestData.TextLike(3000, 1), scheme);
        for (int n = XorbChunkHeader.Size; n < chunk.Length; n += 7)
            DecodeFails(chunk.AsSpan(0, n).ToArray());
    }

    [Fact]
    public void Nonzero_version_is_a_format_error()
    {
        var chunk = Encode(FormatTestData.TextLike(100, 1), CompressionScheme.Lz4);
        chunk[0] = 1;
        Assert.Contains("version", DecodeFails(chunk).Message);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(65)]
    [InlineData(99)]
    [InlineData(255)]
    public void Unknown_scheme_including_Auto_is_a_format_error(byte scheme)
    {
        var chunk = Encode(FormatTestData.TextLike(100, 1), CompressionScheme.None);
        chunk[4] = scheme;
        Assert.Contains("scheme", DecodeFails(chunk).Message);
    }

    [Fact]
    public void Compressed_length_past_256_KiB_is_a_format_error()
    {
        var chunk = new byte[8 + 262145];
        chunk[1] = 0x01; chunk[2] = 0x00; chunk[3] = 0x04; // 262145
        chunk[4] = (byte)CompressionScheme.Lz4;
        chunk[7] = 0x01; // 65536
        Assert.Contains("262144", DecodeFails(chunk).Message);
    }

    [Fact]
    public void Uncompressed_length_past_128_KiB_is_a_format_error()
    {
        var chunk = Chunk(CompressionScheme.None, new byte[16], 16);
        chunk[5] = 0x01; chunk[6] = 0x00; chunk[7] = 0x02; // 131073
        Assert.Contains("131072", DecodeFails(chunk).Message);
    }

    [Theory]
    [InlineData(CompressionScheme.Lz4, -1)]
    [InlineData(CompressionScheme.Lz4, 1)]
    [InlineData(CompressionScheme.ByteGrouping4Lz4, -1)]
    [InlineData(CompressionScheme.ByteGrouping4Lz4, 1)]
    public void Decoded_length_different_from_the_header_is_a_format_error(CompressionScheme scheme, int delta)
    {
        var raw = FormatTestData.TextLike(4000, 1);
        var chunk = Encode(raw, scheme);
        int wrong = raw.Length + delta;
        chunk[5] = (byte)wrong; chunk[6] = (byte)(wrong >> 8); chunk[7] = (byte)(wrong >> 16);
        DecodeFails(chunk);
    }

    [Fact]
    public void None_chunk_with_mismatched_lengths_is_a_format_error()
    {
        DecodeFails(Chunk(CompressionScheme.None, new byte[100], 99));
    }

    [Fact]
    public void Footer_where_a_header_belongs_is_a_format_error()
    {
        var footer = "XETBLOB\u0001"u8.ToArray().Concat(new byte[100]).ToArray();
        Assert.Contains("footer", DecodeFails(footer).Message);
    }

    [Fact]
    public void Bad_frame_magic_is_a_format_error()
    {
        var chunk = Encode(FormatTestData.TextLike(4000, 1), CompressionScheme.Lz4);
        chunk[8] ^= 0xFF;
        Assert.Contains("magic", DecodeFails(chunk).Message);
    }

    [Fact]
    public void Bad_header_checksum_is_a_format_error()
    {
        var chunk = Encode(FormatTestData.TextLike(4000, 1), CompressionScheme.Lz4);
        chunk[8 + 6] ^= 0x01;
        Assert.Contains("checksum", DecodeFails(chunk).Message);
    }

    [Fact]
    public void Content_checksum_mismatch_is_a_format_error()
    {
        var raw = FormatTestData.TextLike(50_000, 1);
        var frame = K4osFrame(raw, chained: false, contentChecksum: true, blockChecksum: false);
        frame[^1] ^= 0x10;
        Assert.Contains("checksum", DecodeFails(Chunk(CompressionScheme.Lz4, frame, raw.Length)).Message);
    }

    [Fact]
    public void Garbage_after_a_valid_frame_header_is_a_format_error_never_a_crash()
    {
        var raw = FormatTestData.TextLike(60_000, 4);
        var chunk = Encode(raw, CompressionScheme.Lz4);
        var random = new Random(99);
        var output = new byte[raw.Length];
        for (int round = 0; round < 500; round++)
        {
            var corrupt = (byte[])chunk.Clone();
            // Keep header and frame descriptor; scramble the block bytes at a few places.
            for (int k = 0; k < 1 + round % 8; k++)
                corrupt[random.Next(8 + 7, corrupt.Length)] = (byte)random.Next(256);
            try
            {
                XorbChunkCodec.Decode(corrupt, output, out _);
            }
            catch (XorbFormatException)
            {
            }
        }
        for (int round = 0; round < 200; round++)
        {
            var garbage = FormatTestData.Random(random.Next(0, 3000), round);
            var frame = new byte[] { 0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82 }.Concat(garbage).ToArray();
            Assert.ThrowsAny<XorbFormatException>(() =>
            {
                int n = XorbChunkCodec.Decode(Chunk(CompressionScheme.Lz4, frame, 4096), new byte[4096], out _);
                // Random bytes that happen to form a frame of exactly 4096 bytes are not a crash either.
                if (n == 4096) throw new XorbFormatException("decoded by chance");
            });
        }
    }

    [Fact]
    public void ChooseScheme_picks_BG4_for_floats_and_LZ4_for_text()
    {
        Assert.Equal(CompressionScheme.ByteGrouping4Lz4, XorbChunkCodec.ChooseScheme(FormatTestData.FloatLike(65536, 1)));
        Assert.Equal(CompressionScheme.Lz4, XorbChunkCodec.ChooseScheme(FormatTestData.TextLike(65536, 1)));
        Assert.Equal(CompressionScheme.Lz4, XorbChunkCodec.ChooseScheme(FormatTestData.Random(65536, 1)));
    }

    [Fact]
    public void BG4_shrinks_float_chunks_more_than_plain_LZ4()
    {
        var raw = FormatTestData.FloatLike(65536, 11);
        int lz4 = Encode(raw, CompressionScheme.Lz4).Length;
        int bg4 = Encode(raw, CompressionScheme.ByteGrouping4Lz4).Length;
        Assert.True(bg4 < lz4, $"bg4 {bg4} vs lz4 {lz4}");
    }
}
