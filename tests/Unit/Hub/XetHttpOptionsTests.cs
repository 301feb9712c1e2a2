using System;
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
}
