using System;
using XetPs.Cas;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>
/// The rule that an https Hub's CAS, presigned xorb URLs and download redirects stay https (loopback excepted).
/// Specified on the rule itself: the emulator speaks http only and no https server runs in these specs, so the call
/// sites (HubClient.GetXetTokenAsync for casUrl, CasClient for presigned URLs, HubClient.OpenDownloadAsync for
/// redirects) are exercised against the emulator only on the loopback side of the rule.
/// </summary>
public class HttpsDowngradeTests
{
    private static readonly Uri Hub = new("https://huggingface.co/api/models/org/name/xet-read-token/main");

    [Theory]
    [InlineData("http://cas.example/")]
    [InlineData("http://cdn.example/xorb/abc?X-Amz-Signature=secret")]
    [InlineData("http://10.0.0.5:8080/cas")]
    public void An_http_url_handed_out_over_https_is_refused_without_showing_its_query(string handedOut)
    {
        // Over plain http a CAS token or a signature would travel in the clear, and anyone on the path could change
        // the bytes.
        var ex = Assert.Throws<XetProtocolException>(() => HttpsDowngrade.Refuse(Hub, new Uri(handedOut), "the Hub xet-read-token route"));

        Assert.Contains("plain http URL", ex.Message);
        Assert.Contains(new Uri(handedOut).Host, ex.Message);
        Assert.DoesNotContain("secret", ex.Message);
    }

    [Theory]
    [InlineData("https://huggingface.co/", "https://cas-server.xethub.hf.co/")]
    [InlineData("http://127.0.0.1:8080/", "http://cas.example/")]       // an http Hub was the user's choice already
    [InlineData("https://gw.example/hf/", "http://127.0.0.1:41234/cas")] // loopback: the emulator, a local gateway
    [InlineData("https://gw.example/hf/", "http://localhost:41234/cas")]
    [InlineData("https://gw.example/hf/", "http://[::1]:41234/cas")]
    public void Https_to_https_an_http_hub_and_loopback_hosts_are_accepted(string trusted, string handedOut)
    {
        HttpsDowngrade.Refuse(new Uri(trusted), new Uri(handedOut), "the server");
        Assert.False(HttpsDowngrade.IsDowngrade(new Uri(trusted), new Uri(handedOut)));
    }
}
