using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using XetPs.Format;

namespace XetPs.Tests.Emulator;

/// <summary>
/// A small Xet download client written from shared/xet/PROTOCOL.md §0-§3 for the emulator's specifications, on
/// purpose independent of the engine: it uses only the Format decode (XorbChunkCodec) and plain HttpClient. It
/// follows the protocol literally: token -> reconstruction -> fetch each URL entry's ranges in one request
/// (multipart when several) -> decode chunks -> walk terms, check unpacked_length, skip offset_into_first_range,
/// truncate. Every inconsistency throws <see cref="InvalidDataException"/> naming it.
/// </summary>
internal sealed class IndependentReader : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
    private readonly Uri _hub;
    private readonly string? _hubToken;

    public IndependentReader(Uri hub, string? hubToken = null)
    {
        _hub = hub;
        _hubToken = hubToken;
    }

    public HttpClient Http => _http;

    public sealed record Term(string Xorb, int Start, int End, long UnpackedLength);
    public sealed record RangeDescriptor(int ChunkStart, int ChunkEnd, long ByteStart, long ByteEnd);
    public sealed record FetchEntry(string Xorb, string Url, IReadOnlyList<RangeDescriptor> Ranges);
    public sealed record Reconstruction(long OffsetIntoFirstRange, IReadOnlyList<Term> Terms, IReadOnlyList<FetchEntry> Fetches);

    /// <summary>§1.1: GET /api/{type}s/{repo}/xet-read-token/{rev} -> (accessToken, casUrl).</summary>
    public async Task<(string Token, string CasUrl, long Exp)> GetTokenAsync(string apiPath, string revision)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, new Uri(_hub, $"api/{apiPath}/xet-read-token/{Uri.EscapeDataString(revision)}"));
        if (_hubToken is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _hubToken);
        using var resp = await _http.SendAsync(req);
        if (resp.StatusCode != HttpStatusCode.OK) throw new InvalidDataException($"xet-read-token answered {(int)resp.StatusCode}.");
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsByteArrayAsync());
        return (doc.RootElement.GetProperty("accessToken").GetString()!, doc.RootElement.GetProperty("casUrl").GetString()!,
                doc.RootElement.GetProperty("exp").GetInt64());
    }

    /// <summary>§2.1-2.2: GET {cas}/v2|v1/reconstructions/{id} with an optional inclusive Range; v1 is normalized to v2 entries.</summary>
    public async Task<Reconstruction?> GetReconstructionAsync(string casUrl, string token, string fileId, (long Start, long End)? range, bool v2 = true)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{casUrl}/{(v2 ? "v2" : "v1")}/reconstructions/{fileId}");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (range is { } r) req.Headers.Range = new RangeHeaderValue(r.Start, r.End);
        using var resp = await _http.SendAsync(req);
        if (resp.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return null;
        if (resp.StatusCode != HttpStatusCode.OK) throw new InvalidDataException($"reconstruction answered {(int)resp.StatusCode}.");
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsByteArrayAsync());
        var root = doc.RootElement;
        var terms = root.GetProperty("terms").EnumerateArray().Select(t => new Term(
            t.GetProperty("hash").GetString()!, t.GetProperty("range").GetProperty("start").GetInt32(),
            t.GetProperty("range").GetProperty("end").GetInt32(), t.GetProperty("unpacked_length").GetInt64())).ToList();
        var fetches = new List<FetchEntry>();
        if (v2)
        {
            foreach (var x in root.GetProperty("xorbs").EnumerateObject())
                foreach (var e in x.Value.EnumerateArray())
                    fetches.Add(new FetchEntry(x.Name, e.GetProperty("url").GetString()!, e.GetProperty("ranges").EnumerateArray().Select(d => new RangeDescriptor(
                        d.GetProperty("chunks").GetProperty("start").GetInt32(), d.GetProperty("chunks").GetProperty("end").GetInt32(),
                        d.GetProperty("bytes").GetProperty("start").GetInt64(), d.GetProperty("bytes").GetProperty("end").GetInt64())).ToList()));
        }
        else
        {
            foreach (var x in root.GetProperty("fetch_info").EnumerateObject())
                foreach (var e in x.Value.EnumerateArray())
                    fetches.Add(new FetchEntry(x.Name, e.GetProperty("url").GetString()!, new[] { new RangeDescriptor(
                        e.GetProperty("range").GetProperty("start").GetInt32(), e.GetProperty("range").GetProperty("end").GetInt32(),
                        e.GetProperty("url_range").GetProperty("start").GetInt64(), e.GetProperty("url_range").GetProperty("end").GetInt64()) }));
        }
        return new Reconstruction(root.GetProperty("offset_into_first_range").GetInt64(), terms, fetches);
    }

    /// <summary>§2.4: one GET with all ranges of an entry, no Authorization; returns each range's bytes in descriptor order.</summary>
    public async Task<List<byte[]>> FetchRangesAsync(FetchEntry entry)
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, entry.Url);
        req.Headers.TryAddWithoutValidation("Range", "bytes=" + string.Join(",", entry.Ranges.Select(r => $"{r.ByteStart}-{r.ByteEnd}")));
        using var resp = await _http.SendAsync(req);
        if (resp.StatusCode != HttpStatusCode.PartialContent) throw new InvalidDataException($"xorb URL answered {(int)resp.StatusCode}.");
        byte[] body = await resp.Content.ReadAsByteArrayAsync();
        if (entry.Ranges.Count == 1)
        {
            if (body.Length != entry.Ranges[0].ByteEnd - entry.Ranges[0].ByteStart + 1) throw new InvalidDataException("Single range body has the wrong length.");
            return new List<byte[]> { body };
        }
        var mediaType = resp.Content.Headers.ContentType;
        if (mediaType?.MediaType != "multipart/byteranges") throw new InvalidDataException($"Several ranges came back as {mediaType}.");
        string boundary = mediaType.Parameters.First(p => p.Name == "boundary").Value!.Trim('"');
        var parts = ParseMultipart(body, boundary);
        var result = new List<byte[]>();
        foreach (var r in entry.Ranges)
        {
            var part = parts.FirstOrDefault(p => p.Start == r.ByteStart && p.End == r.ByteEnd);
            if (part.Data is null) throw new InvalidDataException($"No part for bytes {r.ByteStart}-{r.ByteEnd}.");
            result.Add(part.Data);
        }
        return result;
    }

    /// <summary>Parses multipart/byteranges: parts separated by CRLF--boundary, each with a Content-Range header.</summary>
    public static List<(long Start, long End, byte[] Data)> ParseMultipart(byte[] body, string boundary)
    {
        var parts = new List<(long, long, byte[])>();
        byte[] delim = Encoding.ASCII.GetBytes("--" + boundary);
        int pos = IndexOf(body, delim, 0);
        while (pos >= 0)
        {
            int after = pos + delim.Length;
            if (after + 2 <= body.Length && body[after] == '-' && body[after + 1] == '-') break;
            int headersEnd = IndexOf(body, "\r\n\r\n"u8.ToArray(), after);
            if (headersEnd < 0) throw new InvalidDataException("Multipart part without a header end.");
            string headers = Encoding.ASCII.GetString(body, after, headersEnd - after);
            string cr = headers.Split("\r\n").Select(h => h.Trim()).First(h => h.StartsWith("Content-Range:", StringComparison.OrdinalIgnoreCase));
            string spec = cr.Substring(cr.IndexOf("bytes", StringComparison.Ordinal) + 6);
            long start = long.Parse(spec.Substring(0, spec.IndexOf('-')));
            long end = long.Parse(spec.Substring(spec.IndexOf('-') + 1, spec.IndexOf('/') - spec.IndexOf('-') - 1));
            int dataStart = headersEnd + 4;
            int len = checked((int)(end - start + 1));
            parts.Add((start, end, body.AsSpan(dataStart, len).ToArray()));
            pos = IndexOf(body, delim, dataStart + len);
        }
        return parts;
    }

    private static int IndexOf(byte[] hay, byte[] needle, int from) => hay.AsSpan(from).IndexOf(needle) is int i and >= 0 ? from + i : -1;

    /// <summary>§0 steps 3-6: the bytes [start, end] (inclusive) of a file, or the whole file.</summary>
    public async Task<byte[]> ReadAsync(string casUrl, string token, string fileId, (long Start, long End)? range = null, bool v2 = true)
    {
        var rec = await GetReconstructionAsync(casUrl, token, fileId, range, v2)
                  ?? throw new InvalidDataException("416: range not satisfiable.");
        return await AssembleAsync(rec, range);
    }

    public async Task<byte[]> AssembleAsync(Reconstruction rec, (long Start, long End)? range)
    {
        var chunks = new Dictionary<(string, int), byte[]>();
        byte[] scratch = new byte[XorbChunkHeader.MaxUncompressedLength];
        foreach (var entry in rec.Fetches)
        {
            var bodies = await FetchRangesAsync(entry);
            for (int i = 0; i < entry.Ranges.Count; i++)
            {
                var d = entry.Ranges[i];
                int offset = 0;
                for (int c = d.ChunkStart; c < d.ChunkEnd; c++)
                {
                    int n = XorbChunkCodec.Decode(bodies[i].AsSpan(offset), scratch, out int consumed);
                    offset += consumed;
                    chunks[(entry.Xorb, c)] = scratch.AsSpan(0, n).ToArray();
                }
                if (offset != bodies[i].Length) throw new InvalidDataException($"Range {d.ByteStart}-{d.ByteEnd} holds bytes past chunk {d.ChunkEnd - 1}.");
            }
        }
        using var output = new MemoryStream();
        bool first = true;
        foreach (var t in rec.Terms)
        {
            long termLength = 0;
            var termBytes = new MemoryStream();
            for (int c = t.Start; c < t.End; c++)
            {
                if (!chunks.TryGetValue((t.Xorb, c), out var data)) throw new InvalidDataException($"No fetched range covers chunk {c} of xorb {t.Xorb}.");
                termBytes.Write(data);
                termLength += data.Length;
            }
            if (termLength != t.UnpackedLength) throw new InvalidDataException($"Term {t.Xorb}[{t.Start},{t.End}) is {termLength} bytes, unpacked_length says {t.UnpackedLength}.");
            var bytes = termBytes.ToArray();
            int skip = first ? checked((int)rec.OffsetIntoFirstRange) : 0;
            output.Write(bytes, skip, bytes.Length - skip);
            first = false;
        }
        byte[] all = output.ToArray();
        if (range is { } r && all.Length > r.End - r.Start + 1) Array.Resize(ref all, checked((int)(r.End - r.Start + 1)));
        return all;
    }

    public void Dispose() => _http.Dispose();
}
