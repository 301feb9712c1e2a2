using System;
using System.IO;
using System.Linq;
using System.Text;
using XetPs.Cas;
using XetPs.Format;

namespace XetPs.Tests.Cas;

/// <summary>The reconstruction answer, v2 and v1, read as hostile input (§2.2).</summary>
public class ReconstructionResponseTests
{
    private static readonly string A = new('a', 64);
    private static readonly string B = new('b', 64);

    private static FileReconstruction Parse(string json) =>
        ReconstructionResponse.Parse(Encoding.UTF8.GetBytes(json), "test server");

    private static string V2(string terms, string xorbs, long offset = 0) =>
        "{\"offset_into_first_range\":" + offset + ",\"terms\":[" + terms + "],\"xorbs\":{" + xorbs + "}}";

    private static string Term(string hash, int start, int end, long unpacked) =>
        "{\"hash\":\"" + hash + "\",\"unpacked_length\":" + unpacked + ",\"range\":" + Pair(start, end) + "}";

    private static string Pair(long start, long end) => "{\"start\":" + start + ",\"end\":" + end + "}";

    private static string Fetch(string url, params (int Cs, int Ce, long Bs, long Be)[] ranges) =>
        "{\"url\":\"" + url + "\",\"ranges\":[" +
        string.Join(",", ranges.Select(r => "{\"chunks\":" + Pair(r.Cs, r.Ce) + ",\"bytes\":" + Pair(r.Bs, r.Be) + "}")) + "]}";

    [Fact]
    public void A_v2_answer_is_read_with_terms_in_order_and_fetches_per_xorb()
    {
        var json = V2(Term(A, 0, 2, 1000) + "," + Term(B, 5, 6, 10) + "," + Term(A, 4, 5, 7),
            $"\"{A}\":[{Fetch("https://cdn.test/a?sig=1", (0, 2, 0, 99), (4, 5, 200, 250))}],\"{B}\":[{Fetch("https://cdn.test/b", (5, 6, 10, 30))}]",
            offset: 12);

        var r = Parse(json);

        Assert.Equal(12, r.OffsetIntoFirstRange);
        Assert.Equal(new[] { (A, 0, 2, 1000), (B, 5, 6, 10), (A, 4, 5, 7) },
            r.Terms.Select(t => (t.Xorb.ToString(), t.Chunks.Start, t.Chunks.End, t.UnpackedLength)));
        var a = Assert.Single(r.Xorbs[XetHash.Parse(A)]);
        Assert.Equal("https://cdn.test/a?sig=1", a.Url.AbsoluteUri);
        Assert.Equal(new[] { (0L, 99L), (200L, 250L) }, a.Ranges.Select(d => (d.ByteStart, d.ByteEndInclusive)));
        Assert.Equal(100 + 51, a.TotalLength);
    }

    [Fact]
    public void A_v1_answer_becomes_one_single_range_fetch_per_fetch_info_entry()
    {
        var json = "{\"offset_into_first_range\":0,\"terms\":[" + Term(A, 0, 2, 100) + "," + Term(A, 3, 4, 100) + "]," +
            "\"fetch_info\":{\"" + A + "\":[" +
            "{\"range\":" + Pair(0, 2) + ",\"url\":\"https://cdn.test/a1\",\"url_range\":" + Pair(0, 49) + "}," +
            "{\"range\":" + Pair(3, 4) + ",\"url\":\"https://cdn.test/a2\",\"url_range\":" + Pair(80, 99) + "}]}}";

        var r = Parse(json);

        var fetches = r.Xorbs[XetHash.Parse(A)];
        Assert.Equal(2, fetches.Count);
        Assert.All(fetches, f => Assert.Single(f.Ranges));
        Assert.Equal((3, 4, 80L, 99L), (fetches[1].Ranges[0].Chunks.Start, fetches[1].Ranges[0].Chunks.End, fetches[1].Ranges[0].ByteStart, fetches[1].Ranges[0].ByteEndInclusive));
    }

    [Fact]
    public void An_empty_file_answer_has_no_terms()
    {
        var r = Parse("""{"offset_into_first_range":0,"terms":[],"xorbs":{}}""");
        Assert.Empty(r.Terms);
        Assert.Empty(r.Xorbs);
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        var json = V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 1, 0, 20))}]").Replace("\"terms\"", "\"future\":{\"x\":[1,2,{\"y\":null}]},\"terms\"");
        Assert.Single(Parse(json).Terms);
    }

    [Theory]
    [InlineData("zz", "not 64 hex digits")]
    [InlineData("****************************************************************", "not 64 hex digits")]
    public void A_bad_term_hash_is_a_protocol_error(string hash, string expected)
    {
        var ex = Assert.Throws<XetProtocolException>(() => Parse(V2(Term(hash, 0, 1, 10), "")));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void A_bad_xorb_key_is_a_protocol_error()
    {
        var ex = Assert.Throws<XetProtocolException>(() => Parse(V2(Term(A, 0, 1, 10), $"\"nothex\":[{Fetch("https://cdn.test/a", (0, 1, 0, 20))}]")));
        Assert.Contains("not a xorb hash", ex.Message);
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(4, 2)]
    [InlineData(-1, 2)]
    [InlineData(0, 2000000)]
    public void A_chunk_range_that_is_empty_negative_or_huge_is_a_protocol_error(int start, int end)
    {
        var ex = Assert.Throws<XetProtocolException>(() => Parse(V2(Term(A, start, end, 10), "")));
        Assert.Contains("term 0 range", ex.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2 * 131072 + 1)]
    public void An_unpacked_length_outside_what_the_chunks_can_hold_is_a_protocol_error(long unpacked)
    {
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 2, unpacked), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 2, 0, 99))}]")));
        Assert.Contains("unpacked_length", ex.Message);
    }

    [Fact]
    public void An_unpacked_length_beyond_u32_is_a_protocol_error()
    {
        Assert.Throws<XetProtocolException>(() => Parse(V2(Term(A, 0, 1, 99999999999999), "")));
    }

    [Fact]
    public void An_unpacked_length_past_int_range_that_its_chunks_could_hold_is_a_protocol_error()
    {
        // 30,000 chunks may hold 3.9 GB, so the per-chunk bound let 3,000,000,000 through, and the cast to int made
        // it a negative length.
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 30_000, 3_000_000_000), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 30_000, 0, 3_000_000_000))}]")));
        Assert.Contains("more than one term can hold", ex.Message);
    }

    [Fact]
    public void A_fetch_past_int_range_is_a_protocol_error_before_any_cast()
    {
        // One fetch lands in one buffer sized and sliced with ints: two ranges of 1.5 GB each are plausible for their
        // 10,000 chunks each, but together past int range.
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 10_000, 0, 1_500_000_000), (10_000, 20_000, 1_500_000_001, 3_000_000_000))}]")));
        Assert.Contains("in one request", ex.Message);
    }

    [Fact]
    public void A_term_without_a_covering_fetch_range_is_a_protocol_error()
    {
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 3, 100), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 2, 0, 99))}]")));
        Assert.Contains("no fetch range covering it", ex.Message);
    }

    [Fact]
    public void A_term_whose_xorb_has_no_entry_is_a_protocol_error()
    {
        var ex = Assert.Throws<XetProtocolException>(() => Parse(V2(Term(A, 0, 1, 10), "")));
        Assert.Contains("no fetch range covering it", ex.Message);
    }

    [Theory]
    [InlineData(50, 49)]
    [InlineData(-5, 49)]
    public void A_byte_range_with_its_end_before_its_start_or_negative_is_a_protocol_error(long start, long end)
    {
        Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 1, start, end))}]")));
    }

    [Fact]
    public void A_byte_range_too_large_for_its_chunks_is_a_protocol_error()
    {
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 1, 0, 1L << 40))}]")));
        Assert.Contains("bytes for 1 chunks", ex.Message);
    }

    [Fact]
    public void Overlapping_ranges_in_one_fetch_are_a_protocol_error()
    {
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 1, 0, 50), (1, 2, 40, 90))}]")));
        Assert.Contains("overlapping", ex.Message);
    }

    [Fact]
    public void An_offset_beyond_the_first_term_is_a_protocol_error()
    {
        var ex = Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 1, 0, 20))}]", offset: 10)));
        Assert.Contains("offset_into_first_range", ex.Message);
    }

    [Fact]
    public void A_url_that_is_not_absolute_http_is_a_protocol_error()
    {
        Assert.Throws<XetProtocolException>(() =>
            Parse(V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("file:///etc/passwd", (0, 1, 0, 20))}]")));
    }

    [Fact]
    public void A_document_cut_short_is_a_truncation_not_a_protocol_error()
    {
        var json = V2(Term(A, 0, 1, 10), $"\"{A}\":[{Fetch("https://cdn.test/a", (0, 1, 0, 20))}]");
        var ex = Assert.Throws<IOException>(() => Parse(json.Substring(0, json.Length / 2)));
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Malformed_json_is_a_protocol_error()
    {
        Assert.Throws<XetProtocolException>(() => Parse("""{"terms":[}"""));
    }

    [Fact]
    public void The_accepted_body_size_grows_with_the_range_and_is_capped()
    {
        Assert.True(ReconstructionResponse.MaxBodyBytes(1) >= 1 << 20);
        Assert.True(ReconstructionResponse.MaxBodyBytes(10L << 30) > ReconstructionResponse.MaxBodyBytes(1L << 30));
        Assert.Equal(512L << 20, ReconstructionResponse.MaxBodyBytes(long.MaxValue / 2));
    }
}
