using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Faults;
using XetPs.Format;

namespace XetPs.Tests.Emulator;

/// <summary>Each fault knob produces its fault on the wire, and the request log shows it.</summary>
public sealed class EmulatorFaultTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _f;

    public EmulatorFaultTests(EmulatorFixture fixture) => _f = fixture;

    /// <summary>A server over the fixture's store, a reader, a CAS token, and the first URL entry of a file.</summary>
    private async Task<(EmulatorServer Server, IndependentReader Reader, IndependentReader.FetchEntry Entry, long Length)> XorbEntryAsync(string path = "random.bin")
    {
        var server = await _f.StartAnotherAsync();
        var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/formats", "main");
        var rec = await reader.GetReconstructionAsync(cas, token, _f.File(_f.Main, path).XetHash!, null);
        var entry = rec!.Fetches[0];
        return (server, reader, entry, entry.Ranges.Sum(r => r.ByteEnd - r.ByteStart + 1));
    }

    private static HttpRequestMessage XorbRequest(IndependentReader.FetchEntry entry)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, entry.Url);
        req.Headers.TryAddWithoutValidation("Range", "bytes=" + string.Join(",", entry.Ranges.Select(r => $"{r.ByteStart}-{r.ByteEnd}")));
        return req;
    }

    /// <summary>Reads a body until the connection ends, counting the bytes that arrived.</summary>
    private static async Task<(long Received, Exception? Error)> DrainAsync(HttpClient http, HttpRequestMessage req)
    {
        long received = 0;
        try
        {
            using var resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await resp.Content.ReadAsStreamAsync();
            byte[] buf = new byte[8192];
            int n;
            while ((n = await body.ReadAsync(buf)) > 0) received += n;
            return (received, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            return (received, ex);
        }
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task Status_fault_answers_its_status_with_retry_after_and_is_logged(int status)
    {
        var (server, reader, entry, _) = await XorbEntryAsync();
        await using var _s = server; using var _r = reader;
        string fault = $"xorb:status={status},retry-after=2";
        server.Faults.Add(fault);
        using var req = XorbRequest(entry);
        using var resp = await reader.Http.SendAsync(req);
        Assert.Equal(status, (int)resp.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), resp.Headers.RetryAfter!.Delta);
        var log = await server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Xorb && e.Fault is not null);
        Assert.Equal((status, fault), (log.Status, log.Fault));
    }

    [Fact]
    public async Task Rate_faults_are_deterministic_by_seed()
    {
        async Task<int[]> Run(int seed)
        {
            await using var server = await _f.StartAnotherAsync(o => o.FaultSeed = seed);
            server.Faults.Add(new FaultRule { Route = EmulatorRoute.Tree, Status = 500, Rate = 0.5 });
            using var http = new HttpClient();
            var statuses = new int[24];
            for (int i = 0; i < statuses.Length; i++)
                statuses[i] = (int)(await http.GetAsync(new Uri(server.BaseUrl, "api/models/org/formats/tree/main"))).StatusCode;
            return statuses;
        }
        var a = await Run(42);
        var b = await Run(42);
        var c = await Run(43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Contains(500, a);
        Assert.Contains(200, a);
    }

    [Fact]
    public async Task Skip_and_times_choose_which_requests_fail()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("token:status=429,skip=1,times=2");
        using var http = new HttpClient();
        var statuses = new int[5];
        for (int i = 0; i < 5; i++)
            statuses[i] = (int)(await http.GetAsync(new Uri(server.BaseUrl, "api/models/org/formats/xet-read-token/main"))).StatusCode;
        Assert.Equal(new[] { 200, 429, 429, 200, 200 }, statuses);
    }

    [Fact]
    public async Task A_path_filter_confines_a_fault_so_v2_fails_and_v1_serves()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("reconstruction:status=501,path=/v2/");
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/formats", "main");
        string id = _f.File(_f.Main, "floats.bin").XetHash!;
        var v2 = await Assert.ThrowsAsync<InvalidDataException>(() => reader.GetReconstructionAsync(cas, token, id, null));
        Assert.Contains("501", v2.Message);
        Assert.Equal(_f.Content["floats.bin"], await reader.ReadAsync(cas, token, id, v2: false));
    }

    [Fact]
    public async Task Reset_after_n_bytes_delivers_exactly_n_bytes_then_aborts()
    {
        var (server, reader, entry, length) = await XorbEntryAsync();
        await using var _s = server; using var _r = reader;
        Assert.True(length > 10_000);
        server.Faults.Add("xorb:reset-after=5000");
        var (received, error) = await DrainAsync(reader.Http, XorbRequest(entry));
        Assert.NotNull(error);
        Assert.Equal(5000, received);
        var log = await server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Xorb && e.Fault is not null);
        Assert.True(log.Aborted);
        Assert.Equal(5000, log.BytesSent);
    }

    [Fact]
    public async Task Truncated_body_is_shorter_than_its_content_length()
    {
        var (server, reader, entry, length) = await XorbEntryAsync();
        await using var _s = server; using var _r = reader;
        server.Faults.Add("xorb:truncate-after=1K");
        using var req = XorbRequest(entry);
        using var resp = await reader.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(length, resp.Content.Headers.ContentLength);
        var (received, error) = await DrainAsync(reader.Http, XorbRequest(entry));
        Assert.NotNull(error);
        Assert.Equal(1024, received);
    }

    [Fact]
    public async Task Corrupt_at_flips_exactly_one_byte_of_xorb_data()
    {
        var (server, reader, entry, _) = await XorbEntryAsync();
        await using var _s = server; using var _r = reader;
        byte[] clean = (await reader.FetchRangesAsync(entry))[0];
        server.Faults.Add("xorb:corrupt-at=100");
        byte[] dirty = (await reader.FetchRangesAsync(entry))[0];
        Assert.Equal(clean.Length, dirty.Length);
        Assert.Equal(new[] { 100 }, Enumerable.Range(0, clean.Length).Where(i => clean[i] != dirty[i]));
        Assert.Equal((byte)(clean[100] ^ 0xFF), dirty[100]);
    }

    [Fact]
    public async Task Stall_before_headers_outlasts_a_short_client_timeout()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("resolve:stall=3s,times=1");
        using var http = new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) };
        await Assert.ThrowsAsync<TaskCanceledException>(() => http.GetAsync(new Uri(server.BaseUrl, "org/formats/resolve/main/small.json")));
        using var patient = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await patient.GetAsync(new Uri(server.BaseUrl, "org/formats/resolve/main/small.json"))).StatusCode);
    }

    [Fact]
    public async Task Stall_after_n_bytes_stops_the_body_mid_way()
    {
        var (server, reader, entry, _) = await XorbEntryAsync();
        await using var _s = server; using var _r = reader;
        server.Faults.Add("xorb:stall-after=2000,stall=10s");
        using var req = XorbRequest(entry);
        using var resp = await reader.Http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead);
        await using var body = await resp.Content.ReadAsStreamAsync();
        byte[] buf = new byte[4096];
        long got = 0;
        using var cts = new System.Threading.CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
        try
        {
            int n;
            while ((n = await body.ReadAsync(buf, cts.Token)) > 0) got += n;
        }
        catch (OperationCanceledException) { }
        Assert.Equal(2000, got);
    }

    [Fact]
    public async Task Throughput_cap_paces_the_body()
    {
        var (server, reader, entry, length) = await XorbEntryAsync();
        await using var _s = server; using var _r = reader;
        long rate = Math.Max(1, length * 2); // the whole body takes at least half a second
        server.Faults.Add(new FaultRule { Route = EmulatorRoute.Xorb, ThroughputBytesPerSecond = rate });
        var clock = Stopwatch.StartNew();
        byte[] body = (await reader.FetchRangesAsync(entry))[0];
        Assert.Equal(length, body.Length);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.45), $"{length} bytes at {rate} B/s took {clock.Elapsed}");
        Assert.StartsWith("xorb:throughput=", (await server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Xorb && e.Fault is not null)).Fault);
    }

    [Fact]
    public async Task Latency_delays_the_answer()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("tree:latency=400ms");
        using var http = new HttpClient();
        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(server.BaseUrl, "api/models/org/formats/tree/main"))).StatusCode);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(380));
    }

    [Theory]
    [InlineData("dotdot", "..")]
    [InlineData("absolute", "/etc/")]
    [InlineData("device", "CON")]
    public async Task Hostile_tree_entries_are_served(string kind, string marker)
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add($"tree:hostile={kind}");
        using var http = new HttpClient();
        var json = JsonDocument.Parse(await http.GetStringAsync(new Uri(server.BaseUrl, "api/models/org/formats/tree/main"))).RootElement;
        Assert.Contains(json.EnumerateArray(), e => e.GetProperty("path").GetString()!.Contains(marker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lying_unpacked_length_breaks_the_readers_term_check()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("reconstruction:hostile=lying-length");
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/formats", "main");
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => reader.ReadAsync(cas, token, _f.File(_f.Main, "floats.bin").XetHash!));
        Assert.Contains("unpacked_length", ex.Message);
    }

    [Fact]
    public async Task Oversized_chunk_header_is_rejected_by_the_chunk_decoder()
    {
        var (server, reader, entry, _) = await XorbEntryAsync("text/corpus.txt");
        await using var _s = server; using var _r = reader;
        server.Faults.Add("xorb:hostile=chunk-header");
        byte[] body = (await reader.FetchRangesAsync(entry))[0];
        Assert.ThrowsAny<IOException>(() => XorbChunkCodec.Decode(body, new byte[XorbChunkHeader.MaxUncompressedLength], out _));
    }

    [Fact]
    public async Task An_oversized_fetch_claims_8200_chunks_over_real_signed_bytes()
    {
        await using var server = await _f.StartAnotherAsync();
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/formats", "main");
        var fileId = _f.File(_f.Main, "text/corpus.txt").XetHash!;
        var honest = (await reader.GetReconstructionAsync(cas, token, fileId, null))!;
        server.Faults.Add("reconstruction:hostile=huge-fetch");

        var hostile = (await reader.GetReconstructionAsync(cas, token, fileId, null))!;

        var term = hostile.Terms[0];
        Assert.Equal(FaultRule.OversizedFetchChunks, term.End - term.Start);
        Assert.Equal((long)FaultRule.OversizedFetchChunks * XorbChunkHeader.MaxUncompressedLength, term.UnpackedLength);
        var entry = hostile.Fetches.Single(e => e.Xorb == term.Xorb && e.Ranges.Any(r => r.ChunkStart <= term.Start && term.End <= r.ChunkEnd));
        var before = honest.Fetches.Single(e => e.Xorb == term.Xorb && e.Ranges[0].ChunkStart == entry.Ranges[0].ChunkStart);
        Assert.Equal(before.Ranges.Select(r => (r.ByteStart, r.ByteEnd)), entry.Ranges.Select(r => (r.ByteStart, r.ByteEnd)));
        var served = await reader.FetchRangesAsync(entry); // the URL still signs and serves those bytes
        Assert.Equal(entry.Ranges.Sum(r => r.ByteEnd - r.ByteStart + 1), served.Sum(b => (long)b.Length));
    }

    [Fact]
    public async Task Enormous_json_is_valid_json_of_tens_of_megabytes()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("reconstruction:hostile=huge-json");
        using var reader = new IndependentReader(server.BaseUrl);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/formats", "main");
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{cas}/v2/reconstructions/{_f.File(_f.Main, "random.bin").XetHash}");
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var resp = await reader.Http.SendAsync(req);
        byte[] body = await resp.Content.ReadAsByteArrayAsync();
        Assert.True(body.Length > 40 << 20);
        using var doc = JsonDocument.Parse(body);
        Assert.True(doc.RootElement.TryGetProperty("terms", out _));
    }

    [Fact]
    public async Task Enormous_tree_json_is_valid_and_keeps_the_real_entries()
    {
        await using var server = await _f.StartAnotherAsync();
        server.Faults.Add("tree:hostile=huge-json");
        using var http = new HttpClient();
        byte[] body = await http.GetByteArrayAsync(new Uri(server.BaseUrl, "api/models/org/formats/tree/main"));
        Assert.True(body.Length > 40 << 20);
        using var doc = JsonDocument.Parse(body);
        Assert.Contains(doc.RootElement.EnumerateArray(), e => e.GetProperty("path").GetString() == "random.bin");
    }

    [Fact]
    public void Fault_text_parses_and_bad_text_names_the_problem()
    {
        var rule = FaultRule.Parse("xorb:status=503,rate=0.3,retry-after=1");
        Assert.Equal((EmulatorRoute.Xorb, 503, 0.3, 1), (rule.Route, rule.Status!.Value, rule.Rate, rule.RetryAfterSeconds!.Value));
        Assert.Equal(rule, FaultRule.Parse(rule.ToString()));
        Assert.Contains("unknown route", Assert.Throws<FormatException>(() => FaultRule.Parse("nowhere:status=500")).Message);
        Assert.Contains("does nothing", Assert.Throws<FormatException>(() => FaultRule.Parse("tree:rate=0.5")).Message);
        Assert.Contains("stall", Assert.Throws<FormatException>(() => FaultRule.Parse("xorb:stall=abc")).Message);
    }
}
