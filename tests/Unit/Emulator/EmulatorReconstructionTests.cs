using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Format;

namespace XetPs.Tests.Emulator;

/// <summary>The emulator's CAS answers follow PROTOCOL.md §2-3: an independent reader rebuilds files and ranges byte-exact.</summary>
public sealed class EmulatorReconstructionTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _f;

    public EmulatorReconstructionTests(EmulatorFixture fixture) => _f = fixture;

    private async Task<(IndependentReader Reader, string Token, string Cas)> ReaderAsync(string apiPath = "models/org/formats", string? hubToken = null)
    {
        var reader = new IndependentReader(_f.Server.BaseUrl, hubToken);
        var (token, cas, _) = await reader.GetTokenAsync(apiPath, "main");
        return (reader, token, cas);
    }

    [Theory]
    [InlineData("random.bin")]
    [InlineData("floats.bin")]
    [InlineData("text/corpus.txt")]
    [InlineData("dedup.bin")]
    [InlineData("schemes/none.bin")]
    [InlineData("schemes/lz4.txt")]
    [InlineData("schemes/bg4.bin")]
    public async Task Reader_rebuilds_whole_files_byte_exact_over_v2(string path)
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        byte[] got = await reader.ReadAsync(cas, token, _f.File(_f.Main, path).XetHash!);
        Assert.Equal(_f.Content[path], got);
    }

    [Theory]
    [InlineData("floats.bin")]
    [InlineData("dedup.bin")]
    public async Task Reader_rebuilds_whole_files_byte_exact_over_v1(string path)
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        byte[] got = await reader.ReadAsync(cas, token, _f.File(_f.Main, path).XetHash!, v2: false);
        Assert.Equal(_f.Content[path], got);
    }

    [Theory]
    [InlineData("schemes/none.bin", CompressionScheme.None)]
    [InlineData("schemes/lz4.txt", CompressionScheme.Lz4)]
    [InlineData("schemes/bg4.bin", CompressionScheme.ByteGrouping4Lz4)]
    [InlineData("floats.bin", CompressionScheme.ByteGrouping4Lz4)]
    [InlineData("text/corpus.txt", CompressionScheme.Lz4)]
    [InlineData("random.bin", CompressionScheme.None)]
    public async Task Chunks_on_the_wire_carry_the_expected_compression_scheme(string path, CompressionScheme expected)
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var rec = await reader.GetReconstructionAsync(cas, token, _f.File(_f.Main, path).XetHash!, null);
        var entry = rec!.Fetches[0];
        var body = (await reader.FetchRangesAsync(entry))[0];
        var header = XorbChunkHeader.Read(body);
        Assert.Equal(expected, header.Scheme);
    }

    [Fact]
    public async Task Random_ranges_starting_and_ending_inside_chunks_are_byte_exact()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var rng = new Random(1234);
        foreach (string path in new[] { "dedup.bin", "floats.bin", "schemes/lz4.txt" })
        {
            byte[] content = _f.Content[path];
            string id = _f.File(_f.Main, path).XetHash!;
            for (int i = 0; i < 6; i++)
            {
                long a = rng.NextInt64(0, content.Length), b = rng.NextInt64(a, content.Length);
                byte[] got = await reader.ReadAsync(cas, token, id, (a, b), v2: i % 2 == 0);
                Assert.Equal(content.AsSpan((int)a, (int)(b - a + 1)).ToArray(), got);
            }
        }
    }

    [Fact]
    public async Task A_range_past_the_end_is_clamped_and_a_start_past_the_end_is_416()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        byte[] content = _f.Content["random.bin"];
        string id = _f.File(_f.Main, "random.bin").XetHash!;
        byte[] tail = await reader.ReadAsync(cas, token, id, (content.Length - 10, content.Length + 5000));
        Assert.Equal(content.AsSpan(content.Length - 10).ToArray(), tail);
        Assert.Null(await reader.GetReconstructionAsync(cas, token, id, (content.Length, content.Length + 10)));
    }

    [Fact]
    public async Task An_empty_file_has_no_terms_and_no_xorbs()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var empty = _f.File(_f.Main, "empty.bin");
        Assert.True(empty.IsXet);
        var whole = await reader.GetReconstructionAsync(cas, token, empty.XetHash!, null);
        var ranged = await reader.GetReconstructionAsync(cas, token, empty.XetHash!, (0, 100));
        Assert.Empty(whole!.Terms);
        Assert.Empty(whole.Fetches);
        Assert.Empty(ranged!.Terms);
        Assert.Null(await reader.GetReconstructionAsync(cas, token, empty.XetHash!, (1, 100)));
    }

    [Fact]
    public async Task Dedup_heavy_file_reuses_chunks_and_merges_its_ranges_per_xorb()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var rec = await reader.GetReconstructionAsync(cas, token, _f.File(_f.Main, "dedup.bin").XetHash!, null);
        int termChunks = rec!.Terms.Sum(t => t.End - t.Start);
        int distinctChunks = rec.Terms.SelectMany(t => Enumerable.Range(t.Start, t.End - t.Start).Select(c => (t.Xorb, c))).Distinct().Count();
        Assert.True(distinctChunks * 2 < termChunks, $"{distinctChunks} distinct chunks for {termChunks} term chunks");
        foreach (var g in rec.Fetches.GroupBy(e => e.Xorb))
        {
            var ranges = g.SelectMany(e => e.Ranges).OrderBy(r => r.ChunkStart).ToList();
            for (int i = 1; i < ranges.Count; i++) Assert.True(ranges[i].ChunkStart > ranges[i - 1].ChunkEnd, "touching ranges must be merged");
        }
    }

    [Fact]
    public async Task Max_ranges_per_url_splits_a_xorb_into_several_entries()
    {
        await using var server = await _f.StartAnotherAsync(o => o.MaxRangesPerUrl = 1);
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/incident", "main");
        string id = _f.File(_f.IncidentCommit, "incident.bin").XetHash!;
        var rec = await reader.GetReconstructionAsync(cas, token, id, null);
        Assert.True(rec!.Fetches.All(e => e.Ranges.Count == 1));
        Assert.True(rec.Fetches.Count > rec.Fetches.Select(e => e.Xorb).Distinct().Count());
        byte[] got = await reader.AssembleAsync(rec, null);
        Assert.Equal(_f.File(_f.IncidentCommit, "incident.bin").Sha256, Convert.ToHexString(SHA256.HashData(got)).ToLowerInvariant());
    }

    [Fact]
    public async Task Seed_incident_has_2366_terms_over_932_xorbs_interleaved_and_rebuilds()
    {
        using var reader = new IndependentReader(_f.Server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/incident", "main");
        var file = _f.File(_f.IncidentCommit, "incident.bin");
        var rec = await reader.GetReconstructionAsync(cas, token, file.XetHash!, null);
        Assert.Equal(2366, rec!.Terms.Count);
        Assert.Equal(932, rec.Terms.Select(t => t.Xorb).Distinct().Count());
        // The same xorb range is used by terms far apart in the file.
        var repeated = rec.Terms.Select((t, i) => (t, i)).GroupBy(x => (x.t.Xorb, x.t.Start, x.t.End)).Where(g => g.Count() > 1).ToList();
        Assert.NotEmpty(repeated);
        Assert.All(repeated, g => Assert.True(g.Max(x => x.i) - g.Min(x => x.i) >= 932));
        Assert.Equal(EmulatorFixture.IncidentShape.ActualFileSize, file.Size);
        byte[] whole = await reader.AssembleAsync(rec, null);
        Assert.Equal(file.Sha256, Convert.ToHexString(SHA256.HashData(whole)).ToLowerInvariant());
        long a = file.Size / 3 + 17, b = 2 * file.Size / 3 + 5;
        byte[] part = await reader.ReadAsync(cas, token, file.XetHash!, (a, b));
        Assert.Equal(whole.AsSpan((int)a, (int)(b - a + 1)).ToArray(), part);
    }

    [Fact]
    public async Task Rebuilt_file_hash_equals_the_x_xet_hash()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var file = _f.File(_f.Main, "text/corpus.txt");
        var nodes = GearChunker.ChunkLengths(_f.Content[file.Path]).Aggregate((Offset: 0, List: new System.Collections.Generic.List<MerkleNode>()), (acc, len) =>
        {
            acc.List.Add(new MerkleNode(XetHashing.ChunkHash(_f.Content[file.Path].AsSpan(acc.Offset, len)), (ulong)len));
            return (acc.Offset + len, acc.List);
        }).List;
        Assert.Equal(file.XetHash, XetHashing.FileHash(nodes.ToArray()).ToString());
    }

    [Fact]
    public async Task Reconstruction_needs_an_unexpired_cas_token()
    {
        using var http = new HttpClient();
        string id = _f.File(_f.Main, "random.bin").XetHash!;
        var url = $"{_f.Server.CasUrl}/v2/reconstructions/{id}";
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(url)).StatusCode);
        using var bad = new HttpRequestMessage(HttpMethod.Get, url);
        bad.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmulatorOptions.DefaultHubToken);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(bad)).StatusCode);

        await using var server = await _f.StartAnotherAsync(o => o.CasTokenLifetime = TimeSpan.Zero);
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, exp) = await reader.GetTokenAsync("models/org/formats", "main");
        using var expired = new HttpRequestMessage(HttpMethod.Get, $"{cas}/v2/reconstructions/{id}");
        expired.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(expired)).StatusCode);
    }

    [Fact]
    public async Task Tokens_and_urls_expire_when_the_clock_passes_their_expiry()
    {
        await using var server = await _f.StartAnotherAsync(o => { o.CasTokenLifetime = TimeSpan.FromMinutes(5); o.UrlLifetime = TimeSpan.FromMinutes(1); });
        var clock = new ManualClock();
        server.Clock = clock;
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, exp) = await reader.GetTokenAsync("models/org/formats", "main");
        Assert.Equal(clock.Now.ToUnixTimeSeconds() + 300, exp);
        string id = _f.File(_f.Main, "random.bin").XetHash!;
        var rec = await reader.GetReconstructionAsync(cas, token, id, null);
        Assert.NotEmpty(await reader.FetchRangesAsync(rec!.Fetches[0]));

        clock.Advance(TimeSpan.FromMinutes(2));
        var urlExpired = await Assert.ThrowsAsync<InvalidDataException>(() => reader.FetchRangesAsync(rec.Fetches[0]));
        Assert.Contains("403", urlExpired.Message);
        var fresh = await reader.GetReconstructionAsync(cas, token, id, null);
        Assert.NotEmpty(await reader.FetchRangesAsync(fresh!.Fetches[0]));

        clock.Advance(TimeSpan.FromMinutes(4));
        var tokenExpired = await Assert.ThrowsAsync<InvalidDataException>(() => reader.GetReconstructionAsync(cas, token, id, null));
        Assert.Contains("401", tokenExpired.Message);
    }

    [Fact]
    public async Task A_cas_token_only_reads_files_of_its_repo()
    {
        using var reader = new IndependentReader(_f.Server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("datasets/org/many", "main");
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{cas}/v2/reconstructions/{_f.File(_f.Main, "random.bin").XetHash}");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.Http.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task Head_of_a_file_and_of_a_xorb_gives_their_sizes()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var file = _f.File(_f.Main, "floats.bin");
        var rec = await reader.GetReconstructionAsync(cas, token, file.XetHash!, null);
        async Task<long?> Head(string url)
        {
            using var req = new HttpRequestMessage(HttpMethod.Head, url);
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var resp = await reader.Http.SendAsync(req);
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            return resp.Content.Headers.ContentLength;
        }
        Assert.Equal(file.Size, await Head($"{cas}/v1/files/{file.XetHash}"));
        long xorbSize = (await Head($"{cas}/v1/xorbs/default/{rec!.Terms[0].Xorb}"))!.Value;
        Assert.True(xorbSize > rec.Fetches[0].Ranges.Max(r => r.ByteEnd), "the stored xorb holds its chunks and its footer");
    }

    [Fact]
    public async Task Malformed_file_id_is_400_and_unknown_is_404()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        foreach (var (id, status) in new[] { ("xyz", HttpStatusCode.BadRequest), (new string('a', 64), HttpStatusCode.NotFound) })
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, $"{cas}/v2/reconstructions/{id}");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            Assert.Equal(status, (await reader.Http.SendAsync(req)).StatusCode);
        }
    }

    [Fact]
    public async Task Presigned_urls_serve_only_their_signed_ranges_without_authorization()
    {
        var (reader, token, cas) = await ReaderAsync();
        using var _ = reader;
        var rec = await reader.GetReconstructionAsync(cas, token, _f.File(_f.Main, "dedup.bin").XetHash!, null);
        var entry = rec!.Fetches.First(e => e.Ranges.Count >= 1);
        var r = entry.Ranges[0];
        async Task<HttpStatusCode> Get(string url, string range)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, url);
            req.Headers.TryAddWithoutValidation("Range", range);
            using var resp = await reader.Http.SendAsync(req);
            return resp.StatusCode;
        }
        Assert.Equal(HttpStatusCode.PartialContent, await Get(entry.Url, $"bytes={r.ByteStart}-{r.ByteEnd}"));
        Assert.Equal(HttpStatusCode.Forbidden, await Get(entry.Url, $"bytes={r.ByteStart}-{r.ByteEnd + 1}"));
        Assert.Equal(HttpStatusCode.Forbidden, await Get(entry.Url.Replace("Signature=", "Signature=x"), $"bytes={r.ByteStart}-{r.ByteEnd}"));
        Assert.Equal(HttpStatusCode.Forbidden, await Get(entry.Url, ""));
        var served = await _f.Server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Xorb && e.Status == 206);
        Assert.False(served.HadAuthorization);
    }

    [Fact]
    public async Task Presigned_urls_expire()
    {
        await using var server = await _f.StartAnotherAsync(o => o.UrlLifetime = TimeSpan.Zero);
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/formats", "main");
        var rec = await reader.GetReconstructionAsync(cas, token, _f.File(_f.Main, "random.bin").XetHash!, null);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => reader.FetchRangesAsync(rec!.Fetches[0]));
        Assert.Contains("403", ex.Message);
    }

    [Fact]
    public async Task Several_ranges_come_back_as_multipart_byteranges_in_request_order()
    {
        await using var server = await _f.StartAnotherAsync();
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/incident", "main");
        var rec = await reader.GetReconstructionAsync(cas, token, _f.File(_f.IncidentCommit, "incident.bin").XetHash!, null);
        var entry = rec!.Fetches.First(e => e.Ranges.Count > 1);
        using var req = new HttpRequestMessage(HttpMethod.Get, entry.Url);
        req.Headers.TryAddWithoutValidation("Range", "bytes=" + string.Join(",", entry.Ranges.Select(r => $"{r.ByteStart}-{r.ByteEnd}")));
        using var resp = await reader.Http.SendAsync(req);
        Assert.Equal(HttpStatusCode.PartialContent, resp.StatusCode);
        Assert.Equal("multipart/byteranges", resp.Content.Headers.ContentType!.MediaType);
        var parts = IndependentReader.ParseMultipart(await resp.Content.ReadAsByteArrayAsync(), resp.Content.Headers.ContentType.Parameters.Single(p => p.Name == "boundary").Value!);
        Assert.Equal(entry.Ranges.Select(r => (r.ByteStart, r.ByteEnd)), parts.Select(p => (p.Start, p.End)));
    }
}
