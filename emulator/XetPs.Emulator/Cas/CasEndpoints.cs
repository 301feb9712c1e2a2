using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using XetPs.Format;
using XetPs.Emulator.Faults;

using XetPs.Emulator.Store;


namespace XetPs.Emulator.Cas;

/// <summary>
/// The CAS of PROTOCOL.md §2: <c>/v2</c> and <c>/v1/reconstructions/{file_id}</c> (with Range, 416 past the end,
/// the empty-file answer), <c>HEAD /v1/files/{id}</c>, and the presigned xorb URLs that serve exactly their signed
/// byte ranges as one 206 body or <c>multipart/byteranges</c>. Reconstruction calls need an unexpired CAS token
/// scoped to a repo that holds the file; xorb URLs need no Authorization at all.
/// </summary>
internal sealed class CasEndpoints
{
    internal const string Boundary = "xetps_emulator_boundary";
    private readonly EmulatorServer _server;

    public CasEndpoints(EmulatorServer server) => _server = server;

    private async Task<FileRecord?> OpenAsync(HttpContext context, string fileId)
    {
        var verdict = _server.CasTokens.Check(context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null,
                                              _server.Clock.GetUtcNow(), out var claims);
        if (verdict != CasAccessTokens.Verdict.Valid)
        {
            string why = verdict switch
            {
                CasAccessTokens.Verdict.Missing => "Missing CAS access token",
                CasAccessTokens.Verdict.Expired => "CAS access token expired",
                _ => "Invalid CAS access token",
            };
            await HttpResults.WriteErrorAsync(context, 401, why).ConfigureAwait(false);
            return null;
        }
        if (fileId.Length != 64 || !XetHash.TryParse(fileId, out var hash))
        {
            await HttpResults.WriteErrorAsync(context, 400, $"'{fileId}' is not a file id (64 hex characters).").ConfigureAwait(false);
            return null;
        }
        var record = _server.Store.GetFileRecord(hash);
        if (record is null)
        {
            await HttpResults.WriteErrorAsync(context, 404, $"File {fileId} not found.").ConfigureAwait(false);
            return null;
        }
        if (!_server.Store.RepoHoldsFile(claims.Repo, hash))
        {
            await HttpResults.WriteErrorAsync(context, 403, $"The token's repo {claims.Repo} does not hold file {fileId}.").ConfigureAwait(false);
            return null;
        }
        return record;
    }

    public async Task FileInfoAsync(HttpContext context, string fileId)
    {
        var record = await OpenAsync(context, fileId).ConfigureAwait(false);
        if (record is null) return;
        context.Response.StatusCode = 200;
        context.Response.ContentLength = record.Size;
        if (HttpMethods.IsGet(context.Request.Method))
            await _server.Store.CopyXetContentAsync(record, context.Response.Body, 0, record.Size, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>HEAD /v1/xorbs/default/{hash}: Content-Length = the stored xorb's size (§2.1); needs a CAS token.</summary>
    public async Task XorbInfoAsync(HttpContext context, string hashText)
    {
        var verdict = _server.CasTokens.Check(context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null,
                                              _server.Clock.GetUtcNow(), out _);
        if (verdict != CasAccessTokens.Verdict.Valid)
        {
            await HttpResults.WriteErrorAsync(context, 401, "Missing, invalid or expired CAS access token").ConfigureAwait(false);
            return;
        }
        if (!XetHash.TryParse(hashText, out var hash) || !_server.Store.Xorbs.Contains(hash))
        {
            await HttpResults.WriteErrorAsync(context, 404, $"No xorb {hashText}.").ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = 200;
        using (var bytes = _server.Store.Xorbs.Open(hash))
            context.Response.ContentLength = bytes.Length;
    }

    public async Task ReconstructionAsync(HttpContext context, FaultRule? fault, string fileId, bool v2)
    {
        var record = await OpenAsync(context, fileId).ConfigureAwait(false);
        if (record is null) return;
        context.Response.Headers["X-Request-Id"] = Guid.NewGuid().ToString("N");
        long start = 0, endExclusive = record.Size;
        string? rangeHeader = context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null;
        if (rangeHeader is not null)
        {
            if (!ByteRangeHeader.TryParse(rangeHeader, out var specs) || specs.Count != 1)
            {
                await HttpResults.WriteErrorAsync(context, 400, $"Range '{rangeHeader}' is not bytes=start-end.").ConfigureAwait(false);
                return;
            }
            var spec = specs[0];
            if (record.Size == 0 && (spec.Start ?? 0) == 0)
            {
                endExclusive = 0;
            }
            else
            {
                var r = ByteRangeHeader.Resolve(spec, record.Size);
                if (r is null)
                {
                    context.Response.Headers.ContentRange = "bytes */" + record.Size.ToString(CultureInfo.InvariantCulture);
                    await HttpResults.WriteErrorAsync(context, 416, $"Range {rangeHeader} starts past the end of the file ({record.Size} bytes).").ConfigureAwait(false);
                    return;
                }
                start = r.Value.Start;
                endExclusive = r.Value.End + 1;
            }
        }
        var plan = ReconstructionPlanner.Plan(record, _server.Store.Xorbs, start, endExclusive);
        if (fault?.Hostile == HostileMetadata.StraddlingChunk) ServeFirstChunkDifferently(plan);
        if (fault?.Hostile == HostileMetadata.OversizedFetch) plan = ReconstructionPlanner.WithOversizedFetch(plan, FaultRule.OversizedFetchChunks);
        byte[] json = v2 ? WriteV2(plan, fault) : WriteV1(plan, fault);
        await HttpResults.WriteJsonAsync(context, json, "application/json", fault?.Hostile == HostileMetadata.EnormousJson).ConfigureAwait(false);
    }

    /// <summary>
    /// A lie a client must catch: when the answer starts inside its first chunk, that chunk is served from a xorb of its
    /// own holding a copy with one byte changed (same length, so only the bytes tell), the rest of the term as before.
    /// </summary>
    private void ServeFirstChunkDifferently(ReconstructionPlan plan)
    {
        if (plan.OffsetIntoFirstRange == 0 || plan.Terms.Count == 0) return;
        var first = plan.Terms[0];
        var meta = _server.Store.Xorbs.Get(first.Xorb);
        var stored = new byte[meta.ByteEnd(first.Start + 1) - meta.ByteStart(first.Start)];
        using (var bytes = _server.Store.Xorbs.Open(first.Xorb))
            bytes.Read(stored, meta.ByteStart(first.Start));
        var chunk = new byte[meta.UnpackedLength(first.Start)];
        XorbChunkCodec.Decode(stored, chunk, out _);
        chunk[chunk.Length / 2] ^= 0x5A;
        var builder = new XorbBuilder();
        builder.TryAdd(chunk, CompressionScheme.None);
        var forged = _server.Store.Xorbs.Put(builder.Build());
        plan.Terms[0] = new PlannedTerm(forged.Hash, 0, 1, chunk.Length);
        if (first.End > first.Start + 1)
            plan.Terms.Insert(1, first with { Start = first.Start + 1, UnpackedLength = first.UnpackedLength - chunk.Length });
        plan.Xorbs.Add((forged.Hash, new List<PlannedRange> { new(0, 1, 0, forged.ByteEnd(1) - 1) }));
    }

    private string SignedUrl(XetHash xorb, IReadOnlyList<InclusiveRange> ranges)
    {
        string path = "/cas/xorb/default/" + xorb;
        return _server.Url(path) + _server.Signer.Sign(path, ranges, _server.Clock.GetUtcNow() + _server.Options.UrlLifetime);
    }

    private static void WriteTerms(Utf8JsonWriter w, ReconstructionPlan plan, FaultRule? fault)
    {
        int lie = fault?.Hostile == HostileMetadata.LyingUnpackedLength ? 1 : 0;
        w.WriteNumber("offset_into_first_range", plan.OffsetIntoFirstRange);
        w.WriteStartArray("terms");
        foreach (var t in plan.Terms)
        {
            w.WriteStartObject();
            w.WriteString("hash", t.Xorb.ToString());
            w.WriteNumber("unpacked_length", t.UnpackedLength + lie);
            WriteRange(w, "range", t.Start, t.End);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteRange(Utf8JsonWriter w, string name, long start, long end)
    {
        w.WriteStartObject(name);
        w.WriteNumber("start", start);
        w.WriteNumber("end", end);
        w.WriteEndObject();
    }

    private byte[] WriteV2(ReconstructionPlan plan, FaultRule? fault)
    {
        int maxRanges = Math.Max(1, _server.Options.MaxRangesPerUrl);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, HttpResults.JsonWriterOptions))
        {
            w.WriteStartObject();
            WriteTerms(w, plan, fault);
            w.WriteStartObject("xorbs");
            foreach (var (xorb, ranges) in plan.Xorbs)
            {
                w.WriteStartArray(xorb.ToString());
                for (int i = 0; i < ranges.Count; i += maxRanges)
                {
                    var group = ranges.Skip(i).Take(maxRanges).ToList();
                    w.WriteStartObject();
                    w.WriteString("url", SignedUrl(xorb, group.Select(r => new InclusiveRange(r.ByteStart, r.ByteEndInclusive)).ToList()));
                    w.WriteStartArray("ranges");
                    foreach (var r in group)
                    {
                        w.WriteStartObject();
                        WriteRange(w, "chunks", r.ChunkStart, r.ChunkEnd);
                        WriteRange(w, "bytes", r.ByteStart, r.ByteEndInclusive);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private byte[] WriteV1(ReconstructionPlan plan, FaultRule? fault)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, HttpResults.JsonWriterOptions))
        {
            w.WriteStartObject();
            WriteTerms(w, plan, fault);
            w.WriteStartObject("fetch_info");
            foreach (var (xorb, ranges) in plan.Xorbs)
            {
                w.WriteStartArray(xorb.ToString());
                foreach (var r in ranges)
                {
                    w.WriteStartObject();
                    WriteRange(w, "range", r.ChunkStart, r.ChunkEnd);
                    w.WriteString("url", SignedUrl(xorb, new[] { new InclusiveRange(r.ByteStart, r.ByteEndInclusive) }));
                    WriteRange(w, "url_range", r.ByteStart, r.ByteEndInclusive);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>A presigned xorb URL: 403 when the signature is bad, expired, or a requested byte lies outside the signed set.</summary>
    public async Task XorbAsync(HttpContext context, FaultRule? fault, string hashText)
    {
        var q = context.Request.Query;
        string path = "/cas/xorb/default/" + hashText;
        var verdict = _server.Signer.Check(path, q["X-Xet-Signed-Range"], q["Expires"], q["Signature"], _server.Clock.GetUtcNow(), out var signed);
        if (verdict != PresignedUrlSigner.Verdict.Valid)
        {
            await HttpResults.WriteErrorAsync(context, 403, verdict == PresignedUrlSigner.Verdict.Expired ? "Request has expired" : "Signature does not match").ConfigureAwait(false);
            return;
        }
        if (!XetHash.TryParse(hashText, out var hash) || !_server.Store.Xorbs.Contains(hash))
        {
            await HttpResults.WriteErrorAsync(context, 404, $"No xorb {hashText}.").ConfigureAwait(false);
            return;
        }
        var meta = _server.Store.Xorbs.Get(hash);
        string? rangeHeader = context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null;
        if (rangeHeader is null || !ByteRangeHeader.TryParse(rangeHeader, out var specs) || specs.Any(s => s.Start is null || s.End is null))
        {
            await HttpResults.WriteErrorAsync(context, 403, $"A presigned xorb URL serves only its signed ranges; send Range: {ByteRangeHeader.Format(signed)}.").ConfigureAwait(false);
            return;
        }
        var ranges = specs.Select(s => new InclusiveRange(s.Start!.Value, s.End!.Value)).ToList();
        var outside = ranges.FirstOrDefault(r => !signed.Any(g => g.Start <= r.Start && r.End <= g.End));
        if (ranges.Any(r => !signed.Any(g => g.Start <= r.Start && r.End <= g.End)))
        {
            await HttpResults.WriteErrorAsync(context, 403, $"Range {outside} is outside the signed ranges {ByteRangeHeader.Format(signed)}.").ConfigureAwait(false);
            return;
        }
        long total = meta.ChunkDataLength;
        var response = context.Response;
        response.StatusCode = 206;
        bool hostileHeader = fault?.Hostile == HostileMetadata.OversizedChunkHeader;
        // Synchronous reads: on Linux an "asynchronous" file read is a pread queued to the thread pool, one hop per
        // read, which cost this server more CPU than the bytes themselves; the store sits in the page cache.
        using var handle = _server.Store.Xorbs.Open(hash);
        if (ranges.Count == 1)
        {
            var r = ranges[0];
            response.ContentType = "application/octet-stream";
            response.Headers.ContentRange = $"bytes {r.Start}-{r.End}/{total}";
            response.ContentLength = r.Length;
            await CopyRangeAsync(handle, r, response.Body, hostileHeader, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        var parts = ranges.Select(r => (Range: r, Header: Encoding.ASCII.GetBytes(
            $"--{Boundary}\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes {r.Start}-{r.End}/{total}\r\n\r\n"))).ToList();
        byte[] crlf = "\r\n"u8.ToArray();
        byte[] closing = Encoding.ASCII.GetBytes($"--{Boundary}--\r\n");
        response.ContentType = "multipart/byteranges; boundary=" + Boundary;
        response.ContentLength = parts.Sum(p => p.Header.Length + p.Range.Length + crlf.Length) + closing.Length;
        foreach (var (r, header) in parts)
        {
            await response.Body.WriteAsync(header, context.RequestAborted).ConfigureAwait(false);
            await CopyRangeAsync(handle, r, response.Body, hostileHeader, context.RequestAborted).ConfigureAwait(false);
            await response.Body.WriteAsync(crlf, context.RequestAborted).ConfigureAwait(false);
        }
        await response.Body.WriteAsync(closing, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task CopyRangeAsync(XorbBytes handle, InclusiveRange range, Stream destination, bool hostileHeader, CancellationToken ct)
    {
        byte[] buf = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 18);
        try
        {
            long offset = range.Start, left = range.Length;
            bool first = true;
            while (left > 0)
            {
                int n = handle.Read(buf.AsSpan(0, (int)Math.Min(buf.Length, left)), offset);
                if (n == 0) throw new EndOfStreamException($"Xorb file ends before byte {offset}.");
                if (first && hostileHeader && n >= XorbChunkHeader.Size)
                {
                    // A chunk header claiming sizes past the limits (u24 max for both lengths), scheme kept.
                    buf[1] = buf[2] = buf[3] = 0xFF;
                    buf[5] = buf[6] = buf[7] = 0xFF;
                }
                first = false;
                await destination.WriteAsync(buf.AsMemory(0, n), ct).ConfigureAwait(false);
                offset += n;
                left -= n;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buf);
        }
    }
}
