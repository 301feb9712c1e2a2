using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using XetPs.Cas;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Cas;

/// <summary>The multipart/byteranges reader (RFC 7233 §4.1, §2.4 of PROTOCOL.md): parts land at their descriptors.</summary>
public class MultipartByteRangesTests
{
    private const string Boundary = "xet_multipart_boundary";
    private static readonly byte[] Xorb = Enumerable.Range(0, 4096).Select(i => (byte)(i * 31 + 7)).ToArray();

    private static XorbFetch FetchOf(params (long Start, long End)[] ranges) =>
        new(XetHash.Zero, new Uri("https://cdn.test/x"),
            ranges.Select((r, i) => new XorbRangeDescriptor(new ChunkRange(i * 2, i * 2 + 1), r.Start, r.End)).ToArray());

    private static byte[] Body(params (long Start, long End)[] parts)
    {
        var s = new MemoryStream();
        void W(string t) { var b = Encoding.ASCII.GetBytes(t); s.Write(b, 0, b.Length); }
        W("preamble to ignore\r\n");
        foreach (var (start, end) in parts)
        {
            W($"--{Boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {start}-{end}/{Xorb.Length}\r\n\r\n");
            s.Write(Xorb, (int)start, (int)(end - start + 1));
            W("\r\n");
        }
        W($"--{Boundary}--\r\n");
        return s.ToArray();
    }

    private static async Task<byte[]> Read(XorbFetch fetch, byte[] body, int chunkSize = 7)
    {
        var destination = new byte[fetch.TotalLength];
        var inner = new TrickleStream(body, chunkSize);
        using var stream = new ReadTimeoutStream(inner, inner, TimeSpan.FromSeconds(30), "test");
        await MultipartByteRanges.ReadAsync(stream, Boundary, fetch, destination, "test", CancellationToken.None);
        return destination;
    }

    private static byte[] Expected(params (long Start, long End)[] ranges) =>
        ranges.SelectMany(r => Xorb.Skip((int)r.Start).Take((int)(r.End - r.Start + 1))).ToArray();

    [Fact]
    public async Task Parts_land_back_to_back_in_descriptor_order()
    {
        var ranges = new (long, long)[] { (0, 99), (500, 1023), (4000, 4095) };
        Assert.Equal(Expected(ranges), await Read(FetchOf(ranges), Body(ranges)));
    }

    [Fact]
    public async Task Parts_out_of_order_still_land_at_their_descriptors()
    {
        var ranges = new (long, long)[] { (0, 99), (500, 1023), (4000, 4095) };
        Assert.Equal(Expected(ranges), await Read(FetchOf(ranges), Body(ranges[2], ranges[0], ranges[1])));
    }

    [Fact]
    public async Task A_part_coalescing_adjacent_descriptors_fills_both()
    {
        var ranges = new (long, long)[] { (0, 99), (100, 199), (300, 399) };
        Assert.Equal(Expected(ranges), await Read(FetchOf(ranges), Body((0, 199), (300, 399)), chunkSize: 4096));
    }

    [Fact]
    public async Task A_part_whose_length_differs_from_its_descriptor_is_a_protocol_error()
    {
        var ranges = new (long, long)[] { (0, 99), (500, 1023) };
        var ex = await Assert.ThrowsAsync<XetProtocolException>(() => Read(FetchOf(ranges), Body((0, 98), (500, 1023))));
        Assert.Contains("does not match", ex.Message);
    }

    [Fact]
    public async Task A_missing_part_is_a_protocol_error()
    {
        var ranges = new (long, long)[] { (0, 99), (500, 1023) };
        var ex = await Assert.ThrowsAsync<XetProtocolException>(() => Read(FetchOf(ranges), Body((0, 99))));
        Assert.Contains("without the part for bytes 500-1023", ex.Message);
    }

    [Fact]
    public async Task A_part_sent_twice_is_a_protocol_error()
    {
        var ranges = new (long, long)[] { (0, 99), (500, 1023) };
        await Assert.ThrowsAsync<XetProtocolException>(() => Read(FetchOf(ranges), Body((0, 99), (0, 99), (500, 1023))));
    }

    [Fact]
    public async Task A_body_cut_inside_a_part_is_a_truncation()
    {
        var ranges = new (long, long)[] { (0, 99), (500, 1023) };
        var body = Body(ranges);
        var ex = await Assert.ThrowsAsync<IOException>(() => Read(FetchOf(ranges), body.Take(body.Length - 300).ToArray()));
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public async Task A_part_without_content_range_is_a_protocol_error()
    {
        var ranges = new (long, long)[] { (0, 9), (20, 29) };
        var body = Encoding.ASCII.GetBytes($"--{Boundary}\r\nContent-Type: application/octet-stream\r\n\r\n0123456789\r\n--{Boundary}--\r\n");
        var ex = await Assert.ThrowsAsync<XetProtocolException>(() => Read(FetchOf(ranges), body));
        Assert.Contains("without a Content-Range", ex.Message);
    }

    [Theory]
    [InlineData("bytes 0-99/4096", 0, 99)]
    [InlineData("bytes 5-5/*", 5, 5)]
    public void Content_range_values_are_read(string value, long from, long to)
    {
        Assert.True(MultipartByteRanges.TryParseContentRange(value, out var f, out var t));
        Assert.Equal((from, to), (f, t));
    }

    [Theory]
    [InlineData("bytes 9-5/10")]
    [InlineData("items 0-5/10")]
    [InlineData("bytes -5/10")]
    public void Impossible_content_ranges_are_refused(string value)
    {
        Assert.False(MultipartByteRanges.TryParseContentRange(value, out _, out _));
    }

    /// <summary>Hands out a body a few bytes per read, so part boundaries fall across reads.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunk), ct);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            base.ReadAsync(buffer.Slice(0, Math.Min(buffer.Length, chunk)), ct);
    }
}
