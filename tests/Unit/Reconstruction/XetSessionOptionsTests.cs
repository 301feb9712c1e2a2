using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using XetPs.Reconstruction;

namespace XetPs.Tests.Reconstruction;

public class XetSessionOptionsTests
{
    [Fact]
    public void Defaults_suit_a_laptop()
    {
        var options = XetSessionOptions.FromEnvironment(new Hashtable());

        Assert.Equal(new Uri("https://huggingface.co"), options.Endpoint);
        Assert.Equal(512L << 20, options.BufferSize);
        Assert.Equal(64, options.CasConcurrency);
        Assert.Equal(4, options.MaxFilesInFlight);
        Assert.True(options.Verify);
        Assert.True(options.DirectWrites);
        Assert.Equal(4L << 30, options.DirectWriteMinimum);
        Assert.Null(options.HubToken);
        Assert.Equal(TimeSpan.FromSeconds(60), options.ReadTimeout);
        Assert.Equal(10, options.LowSpeedLimit);
        Assert.Equal(TimeSpan.FromMinutes(5), options.StallTimeout);
    }

    [Fact]
    public void Reads_the_hf_and_hf_xet_names()
    {
        var options = XetSessionOptions.FromEnvironment(new Hashtable
        {
            ["HF_ENDPOINT"] = "http://127.0.0.1:9999/",
            ["HF_TOKEN"] = "hf_secret",
            ["HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE"] = "64mb",
            ["HF_XET_NUM_CONCURRENT_RANGE_GETS"] = "16",
            ["HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS"] = "2",
            ["HF_XET_CLIENT_RETRY_MAX_ATTEMPTS"] = "3",
            ["HF_XET_CLIENT_RETRY_BASE_DELAY"] = "250ms",
            ["HF_XET_CLIENT_RETRY_MAX_DURATION"] = "6min",
            ["HF_XET_CLIENT_READ_TIMEOUT"] = "45s",
            ["XETPS_STALL_TIMEOUT"] = "90",
            ["XETPS_LOW_SPEED_LIMIT"] = "1kb",
            ["XETPS_VERIFY"] = "0",
            ["XETPS_DIRECT_WRITES"] = "0",
            ["XETPS_DIRECT_WRITE_MINIMUM"] = "2gib",
        });

        Assert.Equal(new Uri("http://127.0.0.1:9999"), options.Endpoint);
        Assert.Equal("hf_secret", options.HubToken);
        Assert.Equal(64L * 1000 * 1000, options.BufferSize);
        Assert.Equal(16, options.CasConcurrency);
        Assert.Equal(2, options.MaxFilesInFlight);
        Assert.Equal(3, options.MaxRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.RetryBaseDelay);
        Assert.Equal(TimeSpan.FromMinutes(6), options.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(45), options.ReadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), options.StallTimeout);
        Assert.Equal(1000, options.LowSpeedLimit);
        Assert.False(options.Verify);
        Assert.False(options.DirectWrites);
        Assert.Equal(2L << 30, options.DirectWriteMinimum);
    }

    [Fact]
    public void The_newer_concurrency_name_wins_over_the_older_one()
    {
        var options = XetSessionOptions.FromEnvironment(new Hashtable
        {
            ["HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY"] = "8",
            ["HF_XET_NUM_CONCURRENT_RANGE_GETS"] = "16",
        });

        Assert.Equal(8, options.CasConcurrency);
    }

    [Fact]
    public void The_token_comes_from_hf_token_path_then_hf_home_then_the_user_cache()
    {
        var home = Path.Combine(Path.GetTempPath(), "xetps-home-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(home, ".cache", "huggingface"));
            File.WriteAllText(Path.Combine(home, ".cache", "huggingface", "token"), "hf_from_user_cache\n");
            Directory.CreateDirectory(Path.Combine(home, "hfhome"));
            File.WriteAllText(Path.Combine(home, "hfhome", "token"), "hf_from_hf_home");
            File.WriteAllText(Path.Combine(home, "explicit"), "  hf_from_path  ");

            Assert.Equal("hf_from_user_cache", XetSessionOptions.FromEnvironment(new Hashtable { ["HOME"] = home }).HubToken);
            Assert.Equal("hf_from_hf_home", XetSessionOptions.FromEnvironment(new Hashtable { ["HOME"] = home, ["HF_HOME"] = Path.Combine(home, "hfhome") }).HubToken);
            Assert.Equal("hf_from_path", XetSessionOptions.FromEnvironment(new Hashtable
            {
                ["HOME"] = home,
                ["HF_HOME"] = Path.Combine(home, "hfhome"),
                ["HF_TOKEN_PATH"] = Path.Combine(home, "explicit"),
            }).HubToken);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void The_token_file_is_found_where_huggingface_hub_puts_it_under_xdg_cache_home_and_tilde()
    {
        var home = Path.Combine(Path.GetTempPath(), "xetps-home-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(Path.Combine(home, "xdg", "huggingface"));
            File.WriteAllText(Path.Combine(home, "xdg", "huggingface", "token"), "hf_from_xdg");
            Directory.CreateDirectory(Path.Combine(home, "hfhome"));
            File.WriteAllText(Path.Combine(home, "hfhome", "token"), "hf_from_hf_home");
            File.WriteAllText(Path.Combine(home, "mine"), "hf_from_tilde_path");
            var homeKey = OperatingSystem.IsWindows() ? "USERPROFILE" : "HOME";

            Assert.Equal("hf_from_xdg", XetSessionOptions.FromEnvironment(new Hashtable
            { [homeKey] = home, ["XDG_CACHE_HOME"] = Path.Combine(home, "xdg") }).HubToken);
            Assert.Equal("hf_from_hf_home", XetSessionOptions.FromEnvironment(new Hashtable
            { [homeKey] = home, ["XDG_CACHE_HOME"] = Path.Combine(home, "xdg"), ["HF_HOME"] = "~/hfhome" }).HubToken);
            Assert.Equal("hf_from_tilde_path", XetSessionOptions.FromEnvironment(new Hashtable
            { [homeKey] = home, ["HF_TOKEN_PATH"] = "~/mine" }).HubToken);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public void The_older_hugging_face_hub_token_variable_is_read_after_hf_token()
    {
        Assert.Equal("hf_older", XetSessionOptions.FromEnvironment(new Hashtable { ["HUGGING_FACE_HUB_TOKEN"] = "hf_older" }).HubToken);
        Assert.Equal("hf_newer", XetSessionOptions.FromEnvironment(new Hashtable
        { ["HUGGING_FACE_HUB_TOKEN"] = "hf_older", ["HF_TOKEN"] = "hf_newer" }).HubToken);
    }

    [Theory]
    [InlineData("HF_HUB_OFFLINE", "1", true)]
    [InlineData("HF_HUB_OFFLINE", "TRUE", true)]
    [InlineData("HF_HUB_OFFLINE", "yes", true)]
    [InlineData("TRANSFORMERS_OFFLINE", "1", true)]
    [InlineData("HF_HUB_OFFLINE", "0", false)]
    [InlineData("HF_HUB_OFFLINE", "false", false)]
    [InlineData("HF_HUB_OFFLINE", "", false)]
    public void Hf_hub_offline_takes_huggingface_hubs_truthy_values(string name, string value, bool offline)
    {
        Assert.Equal(offline, XetSessionOptions.FromEnvironment(new Hashtable { [name] = value }).Offline);
    }

    [Theory]
    [InlineData("HF_XET_RECONSTRUCTION_DOWNLOAD_BUFFER_SIZE", "lots")]
    [InlineData("HF_XET_CLIENT_READ_TIMEOUT", "soon")]
    [InlineData("HF_XET_DATA_MAX_CONCURRENT_FILE_DOWNLOADS", "four")]
    [InlineData("XETPS_VERIFY", "maybe")]
    [InlineData("XETPS_DIRECT_WRITES", "sometimes")]
    [InlineData("XETPS_DIRECT_WRITE_MINIMUM", "big")]
    [InlineData("XETPS_LOW_SPEED_LIMIT", "slow")]
    public void A_malformed_value_is_refused_naming_the_variable(string name, string value)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => XetSessionOptions.FromEnvironment(new Hashtable { [name] = value }));

        Assert.Contains(name, error.Message);
    }

    [Fact]
    public void Out_of_range_values_are_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => XetSessionOptions.FromEnvironment(new Hashtable
        {
            ["HF_XET_CLIENT_AC_MAX_DOWNLOAD_CONCURRENCY"] = "0",
        }));

        Assert.Equal("CasConcurrency", error.ParamName);
    }

    [Fact]
    public void A_low_speed_limit_past_a_gigabyte_per_second_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => XetSessionOptions.FromEnvironment(new Hashtable
        {
            ["XETPS_LOW_SPEED_LIMIT"] = "2gb",
        }));

        Assert.Equal("LowSpeedLimit", error.ParamName);
    }
}

public class XetSessionOptionsProxyTests
{
    [Theory]
    [InlineData("ftp://proxy.example:21")]
    [InlineData("socks5://proxy.example:1080")]
    public void A_proxy_that_is_not_http_or_https_is_refused_before_any_request(string proxy)
    {
        var options = new XetSessionOptions { Proxy = new Uri(proxy) };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("Proxy", error.ParamName);
        Assert.Contains(proxy.Split(':')[0], error.Message);
    }

    [Fact]
    public void A_proxy_url_carrying_a_password_is_refused_without_repeating_it()
    {
        var options = new XetSessionOptions { Proxy = new Uri("http://alice:pr0xy-s3cret@proxy.example:3128") };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("ProxyCredential", error.Message);
        Assert.DoesNotContain("pr0xy-s3cret", error.Message);
    }

    [Fact]
    public void A_socks_proxy_with_a_password_is_named_without_it()
    {
        var options = new XetSessionOptions { Proxy = new Uri("socks5://alice:pr0xy-s3cret@proxy.example:1080") };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("proxy.example", error.Message);
        Assert.DoesNotContain("pr0xy-s3cret", error.Message);
    }

    [Fact]
    public void Proxy_and_NoProxy_exclude_each_other()
    {
        var options = new XetSessionOptions { Proxy = new Uri("http://proxy.example:3128"), NoProxy = true };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("NoProxy", error.ParamName);
    }

    [Fact]
    public void Proxy_credentials_without_a_proxy_are_refused()
    {
        var options = new XetSessionOptions { ProxyCredential = new System.Net.NetworkCredential("alice", "pr0xy-s3cret") };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal("ProxyCredential", error.ParamName);
        Assert.DoesNotContain("pr0xy-s3cret", error.Message);
    }
}
