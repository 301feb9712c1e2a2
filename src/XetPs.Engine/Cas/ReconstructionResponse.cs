using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using XetPs.Format;

namespace XetPs.Cas;

/// <summary>
/// Reads a reconstruction answer (§2.2), v2 (<c>xorbs</c>) or v1 (<c>fetch_info</c>, normalized to one single-range
/// fetch per entry), and checks it as hostile input before the pipeline spends anything on it. Forward-only
/// (Utf8JsonReader, no DOM). Invariants of the result: every hash parsed; every chunk range non-empty and bounded;
/// every term's unpacked length in <c>(0, 128 KiB * chunks]</c>; every byte range non-negative, ordered, disjoint
/// within its fetch and plausible for its chunk count; every term covered by one range of its xorb; the first-range
/// offset inside the first term. A document that ends early is a transient <see cref="IOException"/> (truncated);
/// anything else wrong is a <see cref="XetProtocolException"/> saying what.
/// </summary>
internal static class ReconstructionResponse
{
    /// <summary>Chunk indices beyond this are not plausible for a xorb (at most 64 MiB, 8192 chunks today).</summary>
    internal const int MaxChunkIndex = 1 << 20;

    /// <summary>The largest raw length one chunk can take in a xorb: header plus the largest compressed body.</summary>
    private const long MaxRawBytesPerChunk = XorbChunkHeader.Size + XorbChunkHeader.MaxCompressedLength;

    /// <summary>
    /// The body size accepted for a reconstruction of <paramref name="requestedLength"/> bytes: a fixed allowance plus
    /// a share proportional to the range (about 1 KiB of JSON per 128 KiB of file, many times what a real answer
    /// needs), so an enormous document is refused before it is read.
    /// </summary>
    internal static long MaxBodyBytes(long requestedLength) =>
        Math.Min(8L * 1024 * 1024 + requestedLength / 128, 512L * 1024 * 1024);

    public static FileReconstruction Parse(ReadOnlySpan<byte> json, string what)
    {
        var reader = new Utf8JsonReader(json, isFinalBlock: false, state: default);
        long offset = 0;
        var terms = new List<ReconstructionTerm>();
        var xorbs = new Dictionary<XetHash, List<XorbFetch>>();
        var sawTerms = false;

        Next(ref reader, what);
        Expect(ref reader, JsonTokenType.StartObject, "the answer", what);
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            var name = reader.GetString();
            Next(ref reader, what);
            switch (name)
            {
                case "offset_into_first_range":
                    offset = ReadLong(ref reader, "offset_into_first_range", what);
                    break;
                case "terms":
                    sawTerms = true;
                    ReadTerms(ref reader, terms, what);
                    break;
                case "xorbs":
                    ReadFetchMap(ref reader, xorbs, v1: false, what);
                    break;
                case "fetch_info":
                    ReadFetchMap(ref reader, xorbs, v1: true, what);
                    break;
                default:
                    SkipValue(ref reader, what);
                    break;
            }
        }

        if (!sawTerms) throw Bad(what, "has no 'terms'.");
        if (offset < 0) throw Bad(what, $"has a negative offset_into_first_range ({offset}).");
        if (terms.Count == 0 && offset != 0)
            throw Bad(what, $"has offset_into_first_range {offset} but no terms.");
        if (terms.Count > 0 && offset >= terms[0].UnpackedLength)
            throw Bad(what, $"has offset_into_first_range {offset}, beyond its first term of {terms[0].UnpackedLength} bytes.");

        var result = new Dictionary<XetHash, IReadOnlyList<XorbFetch>>(xorbs.Count);
        foreach (var pair in xorbs) result.Add(pair.Key, pair.Value);
        for (var i = 0; i < terms.Count; i++)
        {
            var term = terms[i];
            if (!IsCovered(term, result))
                throw Bad(what, $"has term {i} (xorb {term.Xorb}, chunks {term.Chunks}) with no fetch range covering it.");
        }
        return new FileReconstruction(offset, terms, result);
    }

    private static bool IsCovered(ReconstructionTerm term, Dictionary<XetHash, IReadOnlyList<XorbFetch>> xorbs)
    {
        if (!xorbs.TryGetValue(term.Xorb, out var fetches)) return false;
        foreach (var fetch in fetches)
            foreach (var range in fetch.Ranges)
                if (range.Chunks.Contains(term.Chunks)) return true;
        return false;
    }

    private static void ReadTerms(ref Utf8JsonReader reader, List<ReconstructionTerm> terms, string what)
    {
        Expect(ref reader, JsonTokenType.StartArray, "'terms'", what);
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndArray) return;
            var index = terms.Count;
            var label = $"term {index}";
            Expect(ref reader, JsonTokenType.StartObject, label, what);
            XetHash? hash = null;
            long? unpacked = null;
            ChunkRange? chunks = null;
            while (true)
            {
                Next(ref reader, what);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                var name = reader.GetString();
                Next(ref reader, what);
                switch (name)
                {
                    case "hash": hash = ReadHash(ref reader, label, what); break;
                    case "unpacked_length": unpacked = ReadLong(ref reader, label + " unpacked_length", what); break;
                    case "range": chunks = ReadChunkRange(ref reader, label + " range", what); break;
                    default: SkipValue(ref reader, what); break;
                }
            }
            if (hash is null || unpacked is null || chunks is null)
                throw Bad(what, $"has {label} without hash, unpacked_length or range.");
            var limit = (long)chunks.Value.Count * XorbChunkHeader.MaxUncompressedLength;
            if (unpacked.Value <= 0 || unpacked.Value > limit)
                throw Bad(what, $"has {label} (xorb {hash.Value}, chunks {chunks.Value}) claiming unpacked_length {unpacked.Value}: " +
                                $"{chunks.Value.Count} chunks hold between 1 and {limit} bytes.");
            // Before the cast below: thousands of chunks may hold more than int range, and a length that wrapped to a
            // negative one would pass every later check.
            if (unpacked.Value > int.MaxValue)
                throw Bad(what, $"has {label} (xorb {hash.Value}, chunks {chunks.Value}) claiming unpacked_length {unpacked.Value}, " +
                                $"more than one term can hold ({int.MaxValue} bytes).");
            terms.Add(new ReconstructionTerm(hash.Value, chunks.Value, (int)unpacked.Value));
        }
    }

    private static void ReadFetchMap(ref Utf8JsonReader reader, Dictionary<XetHash, List<XorbFetch>> xorbs, bool v1, string what)
    {
        var mapName = v1 ? "'fetch_info'" : "'xorbs'";
        Expect(ref reader, JsonTokenType.StartObject, mapName, what);
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndObject) return;
            var key = reader.GetString();
            if (!XetHash.TryParse(key, out var xorb))
                throw Bad(what, $"has a key of {mapName} that is not a xorb hash: '{Clip(key)}'.");
            if (xorbs.ContainsKey(xorb)) throw Bad(what, $"lists xorb {xorb} twice in {mapName}.");
            var fetches = new List<XorbFetch>();
            xorbs.Add(xorb, fetches);
            Next(ref reader, what);
            Expect(ref reader, JsonTokenType.StartArray, $"{mapName} of xorb {xorb}", what);
            while (true)
            {
                Next(ref reader, what);
                if (reader.TokenType == JsonTokenType.EndArray) break;
                var label = $"fetch {fetches.Count} of xorb {xorb}";
                fetches.Add(v1 ? ReadV1Entry(ref reader, xorb, label, what) : ReadV2Entry(ref reader, xorb, label, what));
            }
            if (fetches.Count == 0) throw Bad(what, $"lists xorb {xorb} with no fetch entry.");
        }
    }

    private static XorbFetch ReadV2Entry(ref Utf8JsonReader reader, XetHash xorb, string label, string what)
    {
        Expect(ref reader, JsonTokenType.StartObject, label, what);
        Uri? url = null;
        List<XorbRangeDescriptor>? ranges = null;
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            var name = reader.GetString();
            Next(ref reader, what);
            switch (name)
            {
                case "url": url = ReadUrl(ref reader, label, what); break;
                case "ranges":
                    Expect(ref reader, JsonTokenType.StartArray, label + " ranges", what);
                    ranges = new List<XorbRangeDescriptor>();
                    while (true)
                    {
                        Next(ref reader, what);
                        if (reader.TokenType == JsonTokenType.EndArray) break;
                        ranges.Add(ReadDescriptor(ref reader, $"{label} range {ranges.Count}", what));
                    }
                    break;
                default: SkipValue(ref reader, what); break;
            }
        }
        if (url is null || ranges is null || ranges.Count == 0)
            throw Bad(what, $"has {label} without a url or ranges.");
        for (var i = 1; i < ranges.Count; i++)
        {
            if (ranges[i].ByteStart <= ranges[i - 1].ByteEndInclusive || ranges[i].Chunks.Start < ranges[i - 1].Chunks.End)
                throw Bad(what, $"has {label} with ranges out of order or overlapping (range {i}).");
        }
        var fetch = new XorbFetch(xorb, url, ranges);
        // One fetch lands in one buffer, sized and sliced with ints: a total past int range is refused here, not cast.
        if (fetch.TotalLength > int.MaxValue)
            throw Bad(what, $"has {label} bringing {fetch.TotalLength} bytes in one request, more than {int.MaxValue}.");
        return fetch;
    }

    private static XorbFetch ReadV1Entry(ref Utf8JsonReader reader, XetHash xorb, string label, string what)
    {
        Expect(ref reader, JsonTokenType.StartObject, label, what);
        Uri? url = null;
        ChunkRange? chunks = null;
        (long Start, long End)? bytes = null;
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            var name = reader.GetString();
            Next(ref reader, what);
            switch (name)
            {
                case "url": url = ReadUrl(ref reader, label, what); break;
                case "range": chunks = ReadChunkRange(ref reader, label + " range", what); break;
                case "url_range": bytes = ReadPair(ref reader, label + " url_range", what); break;
                default: SkipValue(ref reader, what); break;
            }
        }
        if (url is null || chunks is null || bytes is null)
            throw Bad(what, $"has {label} without url, range or url_range.");
        var descriptor = MakeDescriptor(chunks.Value, bytes.Value.Start, bytes.Value.End, label, what);
        return new XorbFetch(xorb, url, new[] { descriptor });
    }

    private static XorbRangeDescriptor ReadDescriptor(ref Utf8JsonReader reader, string label, string what)
    {
        Expect(ref reader, JsonTokenType.StartObject, label, what);
        ChunkRange? chunks = null;
        (long Start, long End)? bytes = null;
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            var name = reader.GetString();
            Next(ref reader, what);
            switch (name)
            {
                case "chunks": chunks = ReadChunkRange(ref reader, label + " chunks", what); break;
                case "bytes": bytes = ReadPair(ref reader, label + " bytes", what); break;
                default: SkipValue(ref reader, what); break;
            }
        }
        if (chunks is null || bytes is null) throw Bad(what, $"has {label} without chunks or bytes.");
        return MakeDescriptor(chunks.Value, bytes.Value.Start, bytes.Value.End, label, what);
    }

    private static XorbRangeDescriptor MakeDescriptor(ChunkRange chunks, long start, long endInclusive, string label, string what)
    {
        if (start < 0 || endInclusive < start)
            throw Bad(what, $"has {label} with byte range {start}-{endInclusive} (end is inclusive and must not precede the start).");
        var length = endInclusive - start + 1;
        // Every chunk is at least its 8-byte header and at most header + 256 KiB: a range outside that cannot hold
        // these chunks, and trusting it would let the server size our buffers.
        var min = (long)chunks.Count * XorbChunkHeader.Size;
        var max = (long)chunks.Count * MaxRawBytesPerChunk;
        if (length < min || length > max)
            throw Bad(what, $"has {label} with {length} bytes for {chunks.Count} chunks (between {min} and {max} expected).");
        // Plausible for thousands of chunks, yet past what one buffer holds: refused here, before any cast to int.
        if (length > int.MaxValue)
            throw Bad(what, $"has {label} with {length} bytes in one range, more than {int.MaxValue}.");
        return new XorbRangeDescriptor(chunks, start, endInclusive);
    }

    private static ChunkRange ReadChunkRange(ref Utf8JsonReader reader, string label, string what)
    {
        var (start, end) = ReadPair(ref reader, label, what);
        if (start < 0 || end <= start || end > MaxChunkIndex)
            throw Bad(what, $"has {label} [{start}, {end}): a chunk range needs 0 <= start < end <= {MaxChunkIndex}.");
        return new ChunkRange((int)start, (int)end);
    }

    private static (long Start, long End) ReadPair(ref Utf8JsonReader reader, string label, string what)
    {
        Expect(ref reader, JsonTokenType.StartObject, label, what);
        long? start = null, end = null;
        while (true)
        {
            Next(ref reader, what);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            var name = reader.GetString();
            Next(ref reader, what);
            switch (name)
            {
                case "start": start = ReadLong(ref reader, label + " start", what); break;
                case "end": end = ReadLong(ref reader, label + " end", what); break;
                default: SkipValue(ref reader, what); break;
            }
        }
        if (start is null || end is null) throw Bad(what, $"has {label} without start or end.");
        return (start.Value, end.Value);
    }

    private static XetHash ReadHash(ref Utf8JsonReader reader, string label, string what)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (!XetHash.TryParse(text, out var hash))
            throw Bad(what, $"has {label} with a hash that is not 64 hex digits: '{Clip(text ?? reader.TokenType.ToString())}'.");
        return hash;
    }

    private static Uri ReadUrl(ref Utf8JsonReader reader, string label, string what)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (text is null || !Uri.TryCreate(text, UriKind.Absolute, out var url) ||
            (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
            throw Bad(what, $"has {label} whose url is not an absolute http(s) URL.");
        return url;
    }

    private static long ReadLong(ref Utf8JsonReader reader, string label, string what)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
            throw Bad(what, $"has {label} that is not an integer in range.");
        if (value < 0) throw Bad(what, $"has {label} that is negative ({value}).");
        return value;
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string label, string what)
    {
        if (reader.TokenType != type)
            throw Bad(what, $"has {label} as {reader.TokenType} where {type} was expected.");
    }

    private static void Next(ref Utf8JsonReader reader, string what)
    {
        bool more;
        try
        {
            more = reader.Read();
        }
        catch (JsonException ex)
        {
            throw new XetProtocolException($"The reconstruction answer from {what} is not valid JSON: {ex.Message}", ex);
        }
        // isFinalBlock is false so that a document cut short reads as "needs more data", not as a syntax error.
        if (!more) throw Truncated(what);
    }

    private static void SkipValue(ref Utf8JsonReader reader, string what)
    {
        bool complete;
        try
        {
            complete = reader.TrySkip();
        }
        catch (JsonException ex)
        {
            throw new XetProtocolException($"The reconstruction answer from {what} is not valid JSON: {ex.Message}", ex);
        }
        if (!complete) throw Truncated(what);
    }

    private static IOException Truncated(string what) =>
        new($"The reconstruction answer from {what} ended in the middle of the JSON document (truncated response).");

    private static XetProtocolException Bad(string what, string detail) =>
        new($"The reconstruction answer from {what} {detail}");

    private static string Clip(string? text) =>
        text is null ? "" : text.Length <= 80 ? text : text.Substring(0, 80) + "...";
}
