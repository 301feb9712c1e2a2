using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using XetPs.Bench.Integrity;
using XetPs.Cas;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Emulator.Store;
using XetPs.Format;
using XetPs.Hub;

namespace XetPs.Tests.Bench;

/// <summary>
/// Specifications of the integrity benchmark's fault proxy, against the emulator as origin: each answer fetched through
/// it is compared with the same request sent to the origin directly. The benchmark's verdict ("zero wrong files") means
/// something only if the proxy damages exactly what it claims: one byte of a xorb answer, nothing else.
/// </summary>
public sealed class CorruptingProxyTests : IAsyncLifetime
{
    private static readonly RepoId Repo = new(RepoType.Model, "bench/proxy-specs");
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private EmulatorServer _server = null!;
    private XorbFetch _fetch = null!;

    public async Task InitializeAsync()
    {
        _server = await EmulatorServer.StartAsync(new EmulatorOptions { XetMinSize = 1 << 20 });
        await _server.Store.CommitAsync(Repo, "main",
        [
            ScenarioData.IncompressibleFile("model.bin", 3 << 20, seed: 7),
            // Plain (under the Xet minimum), and larger than the proxy's 64 KiB buffer.
            ScenarioData.IncompressibleFile("plain.bin", 300_000, seed: 8),
        ]);
        using var transport = new XetHttpTransport();
        var hub = new HubClient(transport, _server.BaseUrl, null);
        var entry = (await hub.ResolveAsync(Repo, "main", "model.bin")).Entry;
        var cas = new CasClient(transport, new CasTokenProvider(hub, Repo, "main"));
        var plan = await cas.GetReconstructionAsync(XetHash.Parse(entry.XetHash!), 0, entry.Size - 1, default);
        _fetch = plan.Xorbs.Values.First().First();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>The whole first range of the fetch: one range, a plain 206 body.</summary>
    private string SingleRange => $"bytes={_fetch.Ranges[0].ByteStart}-{_fetch.Ranges[0].ByteEndInclusive}";

    /// <summary>Two pieces inside the signed range: a multipart/byteranges answer.</summary>
    private string TwoRanges
    {
        get
        {
            var start = _fetch.Ranges[0].ByteStart;
            return $"bytes={start}-{start + 99_999},{start + 200_000}-{start + 299_999}";
        }
    }

    private Uri PlainFile => new(_server.BaseUrl, $"{Repo.Name}/resolve/main/plain.bin");

    private static async Task<(HttpStatusCode Status, string? Type, byte[] Body)> GetAsync(Uri url, string? range, Uri? proxy)
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            Proxy = proxy is null ? null : new WebProxy(proxy),
            UseProxy = proxy is not null,
            AllowAutoRedirect = false,
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await client.SendAsync(request).WaitAsync(Bound);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsByteArrayAsync());
    }

    private static int DifferingBytes(byte[] a, byte[] b) => a.Zip(b).Count(p => p.First != p.Second);

    [Fact]
    public async Task At_rate_1_a_xorb_answer_differs_from_the_origin_in_exactly_one_byte()
    {
        await using var proxy = CorruptingProxy.Start(rate: 1.0, seed: 3);

        var direct = await GetAsync(_fetch.Url, SingleRange, proxy: null);
        var proxied = await GetAsync(_fetch.Url, SingleRange, proxy.Url);

        Assert.Equal(HttpStatusCode.PartialContent, proxied.Status);
        Assert.Equal(direct.Body.Length, proxied.Body.Length);
        Assert.Equal(1, DifferingBytes(direct.Body, proxied.Body));
        Assert.Equal((1, 1, 1), (proxy.Requests, proxy.XorbResponses, proxy.CorruptedResponses));
    }

    [Fact]
    public async Task At_rate_1_a_multipart_xorb_answer_differs_in_exactly_one_byte()
    {
        // The damaged byte may be a payload's or the multipart framing's: the answer keeps its length either way.
        await using var proxy = CorruptingProxy.Start(rate: 1.0, seed: 4);

        var direct = await GetAsync(_fetch.Url, TwoRanges, proxy: null);
        var proxied = await GetAsync(_fetch.Url, TwoRanges, proxy.Url);

        Assert.Equal("multipart/byteranges", direct.Type);
        Assert.Equal(direct.Body.Length, proxied.Body.Length);
        Assert.Equal(1, DifferingBytes(direct.Body, proxied.Body));
        Assert.Equal(1, proxy.CorruptedResponses);
    }

    [Fact]
    public async Task At_rate_1_an_answer_that_is_not_a_xorb_is_relayed_exactly()
    {
        await using var proxy = CorruptingProxy.Start(rate: 1.0);

        var direct = await GetAsync(PlainFile, null, proxy: null);
        var proxied = await GetAsync(PlainFile, null, proxy.Url);

        Assert.Equal(HttpStatusCode.OK, proxied.Status);
        Assert.Equal(300_000, proxied.Body.Length);
        Assert.Equal(direct.Body, proxied.Body);
        Assert.Equal((1, 0, 0), (proxy.Requests, proxy.XorbResponses, proxy.CorruptedResponses));
    }

    [Fact]
    public async Task At_rate_0_every_answer_is_relayed_exactly()
    {
        await using var proxy = CorruptingProxy.Start(rate: 0.0);

        foreach (var (url, range) in new[] { (_fetch.Url, SingleRange), (_fetch.Url, TwoRanges), (PlainFile, null) })
        {
            var direct = await GetAsync(url, range, proxy: null);
            var proxied = await GetAsync(url, range, proxy.Url);
            Assert.Equal(direct.Status, proxied.Status);
            Assert.Equal(direct.Body, proxied.Body);
        }
        Assert.Equal((3, 2, 0), (proxy.Requests, proxy.XorbResponses, proxy.CorruptedResponses));
    }

    [Fact]
    public async Task The_same_seed_damages_the_same_byte_of_the_same_request_the_same_way()
    {
        // A run can be repeated: the damage depends on the seed and the request, not on arrival order or the port.
        await using var first = CorruptingProxy.Start(rate: 1.0, seed: 11);
        await using var second = CorruptingProxy.Start(rate: 1.0, seed: 11);

        var a = await GetAsync(_fetch.Url, SingleRange, first.Url);
        var b = await GetAsync(_fetch.Url, SingleRange, second.Url);

        Assert.Equal(a.Body, b.Body);
    }
}
