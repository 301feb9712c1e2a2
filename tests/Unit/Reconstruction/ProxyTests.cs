using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Scenario;
using XetPs.Reconstruction;
using XetPs.Tests.Hub;

namespace XetPs.Tests.Reconstruction;

/// <summary>Downloads through an HTTP proxy (<see cref="XetSessionOptions.Proxy"/>), a real one on loopback.</summary>
public class ProxyTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);
    private const string ModelPath = "weights/model.bin";
    private const string ProxyPassword = "pr0xy-s3cret";

    [Fact]
    public async Task Every_request_of_a_download_goes_through_the_proxy_given_and_the_file_is_byte_exact()
    {
        var file = ScenarioData.IncompressibleFile(ModelPath, 2 << 20, seed: 3);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var proxy = ForwardProxy.Start();
        var options = emulator.Options();
        options.Proxy = proxy.Url;
        await using var session = new XetSession(options);

        var result = await session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        var served = emulator.Server.Log.Entries;
        Assert.Equal(served.Count, proxy.Requests.Count);
        Assert.All(proxy.Requests, seen => Assert.Equal(emulator.Server.BaseUrl.Authority, seen.Target.Authority));
        foreach (var route in new[] { EmulatorRoute.Resolve, EmulatorRoute.Token, EmulatorRoute.Reconstruction, EmulatorRoute.Xorb })
            Assert.Contains(served, entry => entry.Route == route);
        // The presigned xorb URLs still get no Authorization through the proxy, and the proxy is sent no credentials.
        Assert.All(emulator.Server.Log.For(EmulatorRoute.Xorb), entry => Assert.False(entry.HadAuthorization));
        Assert.All(proxy.Requests, seen => Assert.Null(seen.ProxyAuthorization));
    }

    [Fact]
    public async Task A_proxy_that_asks_for_credentials_gets_the_ones_given_and_only_those()
    {
        var file = ScenarioData.IncompressibleFile(ModelPath, 1 << 20, seed: 4);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var proxy = ForwardProxy.Start("alice", ProxyPassword);
        var options = emulator.Options();
        options.Proxy = proxy.Url;
        options.ProxyCredential = new NetworkCredential("alice", ProxyPassword);
        await using var session = new XetSession(options);

        var result = await session.DownloadAsync(emulator.Request(ModelPath)).WaitAsync(Bound);

        Assert.Equal(EmulatorFixture.Content(file), File.ReadAllBytes(result.DestinationPath));
        Assert.Contains(proxy.Requests, seen => seen.Refused); // the challenge came first
        Assert.Equal(emulator.Server.Log.Entries.Count, proxy.Requests.Count(seen => !seen.Refused));
        Assert.All(proxy.Requests.Where(seen => seen.ProxyAuthorization is not null),
            seen => Assert.DoesNotContain(EmulatorOptions.DefaultHubToken, seen.ProxyAuthorization!));
    }

    [Fact]
    public async Task A_proxy_that_refuses_the_credentials_fails_the_file_at_once_with_its_407_and_nothing_lands()
    {
        var file = ScenarioData.IncompressibleFile(ModelPath, 1 << 20, seed: 5);
        await using var emulator = await EmulatorFixture.StartAsync(file);
        await using var proxy = ForwardProxy.Start("alice", "another-password");
        var options = emulator.Options();
        options.Proxy = proxy.Url;
        options.ProxyCredential = new NetworkCredential("alice", ProxyPassword);
        await using var session = new XetSession(options);
        var request = emulator.Request(ModelPath);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => session.DownloadAsync(request).WaitAsync(Bound));

        Assert.Equal(407, XetPs.Hub.XetHttpTransport.StatusOf(error));
        Assert.Contains("proxy", error.Message);
        Assert.Contains("407", error.Message);
        Assert.DoesNotContain(ProxyPassword, error.ToString());
        Assert.Empty(emulator.Server.Log.Entries); // nothing got past the proxy
        Assert.False(File.Exists(request.DestinationPath));
        // Not retried: a refused credential does not get better by asking again.
        Assert.True(proxy.Requests.Count <= 2, $"{proxy.Requests.Count} requests reached the proxy");
    }

    [Fact]
    public async Task A_tunnel_to_an_https_hub_that_the_proxy_refuses_fails_at_once_with_its_407()
    {
        // An https:// Hub is reached through a CONNECT tunnel; the proxy's 407 comes back on the CONNECT itself.
        await using var proxy = ForwardProxy.Start("alice", "another-password");
        var options = new XetSessionOptions
        {
            Endpoint = new Uri("https://hub.invalid/"),
            Proxy = proxy.Url,
            ProxyCredential = new NetworkCredential("alice", ProxyPassword),
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromMilliseconds(100),
        };
        await using var session = new XetSession(options);
        var root = Path.Combine(Path.GetTempPath(), "xetps-proxy-" + Guid.NewGuid().ToString("N"));
        var destination = Path.Combine(root, "model.bin");
        try
        {
            var request = new FileDownloadRequest(EmulatorFixture.Repo, "main", "model.bin", destination);

            var error = await Assert.ThrowsAsync<HttpRequestException>(() => session.DownloadAsync(request).WaitAsync(Bound));

            Assert.Equal(407, XetPs.Hub.XetHttpTransport.StatusOf(error));
            Assert.Contains("407", error.Message);
            Assert.DoesNotContain(ProxyPassword, error.ToString());
            Assert.All(proxy.Requests, seen => Assert.Equal(("CONNECT", "hub.invalid"), (seen.Method, seen.Target.Host)));
            Assert.True(proxy.Requests.Count <= 2, $"{proxy.Requests.Count} CONNECTs: a refused credential was retried");
            Assert.False(File.Exists(destination));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
