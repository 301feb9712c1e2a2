using System;
using System.Collections.Generic;
using System.Net.Http;

namespace XetPs.Hub;

/// <summary>
/// Reads RFC 8288 <c>Link</c> headers (<c>&lt;url&gt;; rel="next"</c>), as the Hub uses them for tree pagination and
/// for the xet-auth token route (§1.3, §1.4). Relative targets resolve against the request URL.
/// </summary>
internal static class LinkHeader
{
    /// <summary>The target of the first link with relation <paramref name="rel"/>, or null.</summary>
    public static Uri? Find(HttpResponseMessage response, string rel)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var value in values)
        {
            foreach (var (target, rels) in Parse(value))
            {
                foreach (var r in rels.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    if (!string.Equals(r, rel, StringComparison.OrdinalIgnoreCase)) continue;
                    var baseUrl = response.RequestMessage?.RequestUri;
                    // On Unix "/path" parses as an absolute file: URI, so only http(s) counts as absolute here.
                    if (Uri.TryCreate(target, UriKind.Absolute, out var absolute) && IsHttp(absolute)) return absolute;
                    if (baseUrl is not null && Uri.TryCreate(baseUrl, target, out var relative) && IsHttp(relative)) return relative;
                }
            }
        }
        return null;
    }

    /// <summary>
    /// A redirect target as an absolute http(s) URL: relative ones (including "/path", which .NET on Unix may have
    /// parsed as a file: URI) resolve against <paramref name="current"/>; null for any other scheme.
    /// </summary>
    public static Uri? Target(Uri location, Uri current)
    {
        Uri? target;
        if (location.IsAbsoluteUri && IsHttp(location)) target = location;
        else if (!Uri.TryCreate(current, location.OriginalString, out target)) target = null;
        return target is not null && IsHttp(target) ? target : null;
    }

    private static bool IsHttp(Uri url) => url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps;

    /// <summary>Splits one header value into (target, rel) pairs; tolerates commas inside the &lt;&gt; target.</summary>
    internal static IEnumerable<(string Target, string Rel)> Parse(string value)
    {
        var i = 0;
        while (i < value.Length)
        {
            var open = value.IndexOf('<', i);
            if (open < 0) yield break;
            var close = value.IndexOf('>', open + 1);
            if (close < 0) yield break;
            var target = value.Substring(open + 1, close - open - 1).Trim();
            var next = value.IndexOf('<', close + 1);
            var parameters = next < 0 ? value.Substring(close + 1) : value.Substring(close + 1, next - close - 1);
            var rel = "";
            foreach (var raw in parameters.Split(';'))
            {
                var p = raw.Trim().TrimEnd(',').Trim();
                if (!p.StartsWith("rel", StringComparison.OrdinalIgnoreCase)) continue;
                var eq = p.IndexOf('=');
                if (eq < 0 || p.Substring(0, eq).Trim().Length != 3) continue;
                rel = p.Substring(eq + 1).Trim().Trim('"');
            }
            yield return (target, rel);
            i = next < 0 ? value.Length : next;
        }
    }
}
