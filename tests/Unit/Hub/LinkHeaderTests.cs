using System;
using System.Linq;
using System.Net.Http;
using XetPs.Hub;

namespace XetPs.Tests.Hub;

/// <summary>RFC 8288 Link headers as the Hub sends them (§1.3 xet-auth, §1.4 pagination).</summary>
public class LinkHeaderTests
{
    [Fact]
    public void The_hub_resolve_link_header_yields_each_relation()
    {
        const string value = "<http://hf-mirror.com/api/models/Qwen/Qwen3-0.6B/xet-read-token/6130ef31402718485ca4d80a6234f70d9a4cf362>; rel=\"xet-auth\", " +
                             "<https://cas-server.xethub.hf.co/reconstruction/6f87d3bf0223>; rel=\"xet-reconstruction-info\"";
        var links = LinkHeader.Parse(value).ToList();
        Assert.Equal(new[] { "xet-auth", "xet-reconstruction-info" }, links.Select(l => l.Rel));
        Assert.EndsWith("/xet-read-token/6130ef31402718485ca4d80a6234f70d9a4cf362", links[0].Target);
    }

    [Fact]
    public void A_next_link_with_commas_in_its_query_is_kept_whole()
    {
        using var response = new HttpResponseMessage { RequestMessage = new HttpRequestMessage(HttpMethod.Get, "https://hub.test/api/models/a/b/tree/main") };
        response.Headers.TryAddWithoutValidation("Link", "<https://hub.test/api/models/a/b/tree/main?recursive=true&cursor=a,b>; rel=\"next\"");
        Assert.Equal("https://hub.test/api/models/a/b/tree/main?recursive=true&cursor=a,b", LinkHeader.Find(response, "next")!.AbsoluteUri);
    }

    [Fact]
    public void A_relative_link_resolves_against_the_request()
    {
        using var response = new HttpResponseMessage { RequestMessage = new HttpRequestMessage(HttpMethod.Get, "https://hub.test/api/models/a/b/tree/main") };
        response.Headers.TryAddWithoutValidation("Link", "</api/models/a/b/tree/main?cursor=2>; rel=\"next\"");
        Assert.Equal("https://hub.test/api/models/a/b/tree/main?cursor=2", LinkHeader.Find(response, "next")!.AbsoluteUri);
    }

    [Fact]
    public void No_link_of_the_relation_gives_null()
    {
        using var response = new HttpResponseMessage();
        response.Headers.TryAddWithoutValidation("Link", "<https://hub.test/x>; rel=\"prev\"");
        Assert.Null(LinkHeader.Find(response, "next"));
    }

    [Theory]
    [InlineData("/org/new-name/resolve/main/a.bin", "https://hub.test/org/new-name/resolve/main/a.bin")]
    [InlineData("https://cdn.test/x?sig=1", "https://cdn.test/x?sig=1")]
    [InlineData("b.bin", "https://hub.test/org/name/resolve/main/b.bin")]
    public void A_redirect_target_resolves_against_the_current_url(string location, string expected)
    {
        var current = new Uri("https://hub.test/org/name/resolve/main/a.bin");
        Assert.Equal(expected, LinkHeader.Target(new Uri(location, UriKind.RelativeOrAbsolute), current)!.AbsoluteUri);
    }

    [Fact]
    public void A_redirect_to_another_scheme_is_refused()
    {
        Assert.Null(LinkHeader.Target(new Uri("ftp://cdn.test/x"), new Uri("https://hub.test/a")));
    }
}
