using System;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>HTTP options: sensible defaults, every bad value refused by name.</summary>
public class XetHttpOptionsTests
{
    [Fact]
    public void The_defaults_are_valid_and_bounded()
    {
        var options = new XetHttpOptions();
        options.Validate();
        Assert.Equal(5, options.MaxRetries);
        Assert.True(options.MaxRetryDelay >= options.RetryBaseDelay);
        Assert.True(options.ReadTimeout > TimeSpan.Zero);
    }

    [Theory]
    [InlineData(nameof(XetHttpOptions.MaxRetries))]
    [InlineData(nameof(XetHttpOptions.RetryBaseDelay))]
    [InlineData(nameof(XetHttpOptions.MaxRetryDelay))]
    [InlineData(nameof(XetHttpOptions.ReadTimeout))]
    [InlineData(nameof(XetHttpOptions.ConnectTimeout))]
    [InlineData(nameof(XetHttpOptions.MaxConnectionsPerServer))]
    [InlineData(nameof(XetHttpOptions.LowSpeedLimit))]
    public void A_bad_value_is_refused_naming_the_setting(string setting)
    {
        var options = new XetHttpOptions();
        switch (setting)
        {
            case nameof(XetHttpOptions.MaxRetries): options.MaxRetries = -1; break;
            case nameof(XetHttpOptions.RetryBaseDelay): options.RetryBaseDelay = TimeSpan.FromMilliseconds(-1); break;
            case nameof(XetHttpOptions.MaxRetryDelay): options.MaxRetryDelay = TimeSpan.FromMilliseconds(1); options.RetryBaseDelay = TimeSpan.FromSeconds(1); break;
            case nameof(XetHttpOptions.ReadTimeout): options.ReadTimeout = TimeSpan.Zero; break;
            case nameof(XetHttpOptions.ConnectTimeout): options.ConnectTimeout = TimeSpan.Zero; break;
            case nameof(XetHttpOptions.MaxConnectionsPerServer): options.MaxConnectionsPerServer = 0; break;
            case nameof(XetHttpOptions.LowSpeedLimit): options.LowSpeedLimit = -1; break;
        }
        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(setting, ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new XetHttpTransport(options));
    }

    [Fact]
    public void The_transport_keeps_its_own_copy_of_the_options()
    {
        var options = new XetHttpOptions { MaxRetries = 2 };
        using var http = new XetHttpTransport(options);
        options.MaxRetries = 9;
        Assert.Equal(2, http.Options.MaxRetries);
    }

    [Fact]
    public void An_injected_handler_that_follows_redirects_is_refused()
    {
        using var handler = new System.Net.Http.SocketsHttpHandler { AllowAutoRedirect = true };
        var ex = Assert.Throws<ArgumentException>(() => new XetHttpTransport(new XetHttpOptions { Handler = handler }));
        Assert.Contains("AllowAutoRedirect", ex.Message);
    }

    [Fact]
    public async Task An_injected_handler_is_used_and_left_to_its_owner()
    {
        await using var server = await XetPs.Emulator.EmulatorServer.StartAsync(new XetPs.Emulator.EmulatorOptions());
        using var handler = new System.Net.Http.SocketsHttpHandler { AllowAutoRedirect = false };
        using (var http = new XetHttpTransport(new XetHttpOptions { Handler = handler }))
        {
            var hub = new HubClient(http, server.BaseUrl, null);
            await Assert.ThrowsAsync<XetFileNotFoundException>(() => hub.ResolveAsync(new RepoId(RepoType.Model, "no/such"), "main", "x"));
        }
        // Still usable after the transport is gone: the transport did not dispose it.
        using var client = new System.Net.Http.HttpClient(handler, disposeHandler: false);
        using var response = await client.GetAsync(server.BaseUrl);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, response.StatusCode);
    }
}
