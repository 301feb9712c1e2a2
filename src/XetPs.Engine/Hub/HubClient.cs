using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using XetPs.Format;

namespace XetPs.Hub;

/// <summary>
/// The Hub API a download needs (§1): tree listing with pagination, resolve (HEAD, no redirect followed), the
/// xet-read-token route, and plain downloads of non-Xet files. Shares one <see cref="XetHttpTransport"/>. Invariants:
/// the Hub token is sent only under the Hub endpoint (its origin and its path: never to a redirect target or a link
/// elsewhere, another host or another path of the endpoint's host); an https Hub's CAS and download URLs are https;
/// 401/403 become <see cref="XetAuthenticationException"/>, 404 <see cref="XetFileNotFoundException"/>, other
/// failures an <see cref="HttpRequestException"/> with the status; no message contains the token.
/// </summary>
public sealed class HubClient
{
    /// <summary>A tree page larger than this is refused (a real page of 1000 entries, expanded, is under 1 MiB).</summary>
    private const long MaxPageBytes = 16L * 1024 * 1024;

    /// <summary>Token answers are small (the spec bounds each field by 64 000 characters).</summary>
    private const long MaxTokenBytes = 256 * 1024;

    /// <summary>Bounds on loops driven by the server: pages of a listing, redirects of a download.</summary>
    private const int MaxPages = 100_000, MaxRedirects = 10;

    private readonly XetHttpTransport _http;
    private readonly string? _token;

    public HubClient(XetHttpTransport transport, Uri endpoint, string? hubToken)
    {
        _http = transport ?? throw new ArgumentNullException(nameof(transport));
        if (endpoint is null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException("The Hub endpoint must be an absolute http(s) URL.", nameof(endpoint));
        // A trailing slash makes relative URLs append to the endpoint's path instead of replacing its last segment.
        Endpoint = endpoint.AbsoluteUri.EndsWith("/", StringComparison.Ordinal) ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
        _token = string.IsNullOrEmpty(hubToken) ? null : hubToken;
    }

    /// <summary>The Hub endpoint (with a trailing slash).</summary>
    public Uri Endpoint { get; }

    /// <summary>
    /// Lists the files under <paramref name="path"/> (the whole repository when null) at <paramref name="revision"/>
    /// (the default branch "main" when null), yielding entries as pages arrive. Directories are not yielded. A branch
    /// or tag is resolved to its commit first and the listing is taken at that commit, so a push between two pages
    /// cannot mix two snapshots; every entry carries that commit.
    /// </summary>
    public async IAsyncEnumerable<RepoEntry> ListTreeAsync(RepoId repo, string? revision, string? path, bool recursive,
        bool expand = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var rev = string.IsNullOrEmpty(revision) ? "main" : revision!;
        var commit = IsCommitId(rev) ? rev.ToLowerInvariant() : await ResolveRevisionAsync(repo, rev, cancellationToken).ConfigureAwait(false);
        var url = new Uri(Endpoint, $"api/{repo.ApiPath}/tree/{EscapeSegment(commit)}{PathSuffix(path)}" +
                                    $"?recursive={(recursive ? "true" : "false")}&expand={(expand ? "true" : "false")}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var page = 0; ; page++)
        {
            if (page >= MaxPages || !seen.Add(url.AbsoluteUri))
                throw new XetProtocolException($"The tree listing of {repo} at '{rev}' does not end (page {page}, a next link repeats or pages exceed {MaxPages}).");
            var pageUrl = url;
            var (entries, next) = await _http.ExecuteAsync($"tree listing of {repo}",
                ct => GetTreePageAsync(repo, rev, path, pageUrl, ct), cancellationToken).ConfigureAwait(false);
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return entry with { Revision = commit };
            }
            if (next is null) yield break;
            url = next;
        }
    }

    /// <summary>The commit id a branch, tag or commit names: GET /api/{type}s/{repo}/revision/{rev}, field "sha".</summary>
    public Task<string> ResolveRevisionAsync(RepoId repo, string? revision, CancellationToken cancellationToken = default)
    {
        var rev = string.IsNullOrEmpty(revision) ? "main" : revision!;
        var url = new Uri(Endpoint, $"api/{repo.ApiPath}/revision/{EscapeSegment(rev)}");
        var what = $"the Hub revision API for {repo} at '{rev}'";
        return _http.ExecuteAsync("revision of " + repo, async ct =>
        {
            using var response = await SendFollowingHubRedirectsAsync(url, XetHttpTransport.AcceptGzip, what, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw HubError(response, repo, rev, null, what);
            var body = await _http.ReadBoundedBodyAsync(response, MaxPageBytes, what, m => new XetProtocolException(m), ct).ConfigureAwait(false);
            using var doc = JsonBody.Parse(body, what);
            if (doc.RootElement.ValueKind == JsonValueKind.Object &&
                doc.RootElement.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String &&
                IsCommitId(sha.GetString()))
                return sha.GetString()!;
            throw new XetProtocolException($"The answer from {what} has no commit id ('sha').");
        }, cancellationToken);
    }

    /// <summary>
    /// Resolves one file (HEAD on /resolve/, redirects not followed, §1.3): a Xet file (X-Xet-Hash) with its token
    /// route, an LFS file with its Location, or a plain git file. Same-origin relative redirects (a renamed repo) are
    /// followed.
    /// </summary>
    public Task<HubFileInfo> ResolveAsync(RepoId repo, string? revision, string path, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(path)) throw new ArgumentException("A path inside the repository is required.", nameof(path));
        var rev = string.IsNullOrEmpty(revision) ? "main" : revision!;
        var start = ResolveUrl(repo, rev, path);
        var what = $"the Hub resolve of '{path}' in {repo} at '{rev}'";
        return _http.ExecuteAsync("resolve of " + path, async ct =>
        {
            var url = start;
            for (var hop = 0; hop <= MaxRedirects; hop++)
            {
                using var request = NewHubRequest(HttpMethod.Head, url);
                // identity only: a compressed answer would carry the compressed size (or none) as Content-Length,
                // and a plain git file's size is that header.
                request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
                using var response = await _http.SendAsync(request, what, ct).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                var xetHash = Header(response, "X-Xet-Hash");
                var location = response.Headers.Location is Uri l ? LinkHeader.Target(l, url) : null;
                if (status >= 300 && status < 400 && xetHash is null && location is not null && IsOnEndpoint(location) &&
                    Header(response, "X-Linked-Size") is null)
                {
                    url = location; // same origin, e.g. a renamed repository
                    continue;
                }
                if (status >= 400 || (status >= 300 && location is null && xetHash is null))
                    throw HubError(response, repo, rev, path, what);
                return Describe(response, repo, rev, path, url, what);
            }
            throw new XetProtocolException($"{what} redirected more than {MaxRedirects} times.");
        }, cancellationToken);
    }

    /// <summary>A CAS read token for a repository revision: GET /api/{type}s/{repo}/xet-read-token/{rev} (§1.1).</summary>
    public Task<CasAccessToken> GetXetReadTokenAsync(RepoId repo, string? revision, CancellationToken cancellationToken = default)
    {
        var rev = string.IsNullOrEmpty(revision) ? "main" : revision!;
        return GetXetTokenAsync(XetReadTokenUrl(repo, rev), repo, rev, cancellationToken);
    }

    /// <summary>The xet-read-token route of a repository revision on this endpoint.</summary>
    public Uri XetReadTokenUrl(RepoId repo, string revision) =>
        new(Endpoint, $"api/{repo.ApiPath}/xet-read-token/{EscapeSegment(revision)}");

    /// <summary>
    /// Calls a token route (a xet-auth link or <see cref="XetReadTokenUrl"/>). The JSON body is read first
    /// ({accessToken, exp, casUrl}); the X-Xet-* headers are the fallback older servers use.
    /// </summary>
    public Task<CasAccessToken> GetXetTokenAsync(Uri tokenRoute, RepoId repo, string? revision, CancellationToken cancellationToken = default)
    {
        var route = OnEndpoint(tokenRoute);
        var what = $"the Hub xet-read-token route for {repo}";
        return _http.ExecuteAsync("xet-read-token of " + repo, async ct =>
        {
            using var response = await SendFollowingHubRedirectsAsync(route, XetHttpTransport.AcceptGzip, what, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw HubError(response, repo, revision, null, what);
            var body = await _http.ReadBoundedBodyAsync(response, MaxTokenBytes, what, m => new XetProtocolException(m), ct).ConfigureAwait(false);
            string? token = null, casUrl = null;
            long? exp = null;
            if (body.Count > 0 && (response.Content.Headers.ContentType?.MediaType?.Contains("json") ?? true))
            {
                using var doc = JsonBody.Parse(body, what);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (doc.RootElement.TryGetProperty("accessToken", out var t) && t.ValueKind == JsonValueKind.String) token = t.GetString();
                    if (doc.RootElement.TryGetProperty("casUrl", out var c) && c.ValueKind == JsonValueKind.String) casUrl = c.GetString();
                    if (doc.RootElement.TryGetProperty("exp", out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v)) exp = v;
                }
            }
            token ??= Header(response, "X-Xet-Access-Token");
            casUrl ??= Header(response, "X-Xet-Cas-Url");
            if (exp is null && long.TryParse(Header(response, "X-Xet-Token-Expiration"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var hv)) exp = hv;
            if (string.IsNullOrEmpty(token) || exp is null || exp < 0 || exp > 253402300799 ||
                !Uri.TryCreate(casUrl, UriKind.Absolute, out var cas) || (cas.Scheme != Uri.UriSchemeHttp && cas.Scheme != Uri.UriSchemeHttps))
                throw new XetProtocolException($"The answer from {what} lacks a usable accessToken, exp or casUrl (neither the JSON body nor the X-Xet-* headers carry all three).");
            HttpsDowngrade.Refuse(route, cas, what);
            return new CasAccessToken(token!, cas, DateTimeOffset.FromUnixTimeSeconds(exp.Value));
        }, cancellationToken);
    }

    /// <summary>
    /// Opens a plain (git or LFS) file for download from <paramref name="offset"/> on: GET /resolve/, redirects
    /// followed by hand so the Hub token never reaches another host. Opening is retried; reading the body is the
    /// caller's (it resumes from what it has).
    /// </summary>
    public Task<PlainFileDownload> OpenDownloadAsync(RepoId repo, string revision, string path, long offset,
        CancellationToken cancellationToken = default)
    {
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "The offset must not be negative.");
        var start = ResolveUrl(repo, revision, path);
        var what = $"the download of '{path}' in {repo} at '{revision}'";
        return _http.ExecuteAsync("download of " + path, async ct =>
        {
            var url = start;
            for (var hop = 0; hop <= MaxRedirects; hop++)
            {
                var onHub = IsOnEndpoint(url);
                var request = onHub ? NewHubRequest(HttpMethod.Get, url) : new HttpRequestMessage(HttpMethod.Get, url);
                HttpResponseMessage? response = null;
                try
                {
                    if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
                    // The file's own bytes: a compressed answer would hide its length and shift every resume offset.
                    request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
                    response = await _http.SendAsync(request, what, ct).ConfigureAwait(false);
                    var status = (int)response.StatusCode;
                    if (status >= 300 && status < 400 && response.Headers.Location is Uri location)
                    {
                        var target = LinkHeader.Target(location, url) ?? throw new XetProtocolException($"{what} redirected to a non-http URL.");
                        HttpsDowngrade.Refuse(url, target, what);
                        url = target;
                        continue;
                    }
                    if (!response.IsSuccessStatusCode)
                        throw onHub ? HubError(response, repo, revision, path, what) : XetHttpTransport.StatusError(response, $"{what} ({url.Host})");
                    var download = await OpenBodyAsync(response, offset, what).ConfigureAwait(false);
                    response = null; // owned by the download now
                    return download;
                }
                finally
                {
                    response?.Dispose();
                    request.Dispose();
                }
            }
            throw new XetProtocolException($"{what} redirected more than {MaxRedirects} times.");
        }, cancellationToken);
    }

    private async Task<PlainFileDownload> OpenBodyAsync(HttpResponseMessage response, long offset, string what)
    {
        var length = response.Content.Headers.ContentLength;
        long served = 0;
        long? total = null;
        if (response.StatusCode == HttpStatusCode.PartialContent)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From is not long from || from != offset)
                throw new XetProtocolException($"{what} answered 206 for offset {offset} with Content-Range '{range}'.");
            served = from;
            total = range.Length;
        }
        else
        {
            total = length;
        }
        var body = await _http.OpenBodyAsync(response, what).ConfigureAwait(false);
        return new PlainFileDownload(body, served, length, total);
    }

    private async Task<(List<RepoEntry> Entries, Uri? Next)> GetTreePageAsync(RepoId repo, string rev, string? path,
        Uri url, CancellationToken ct)
    {
        var what = $"the Hub tree listing of {repo} at '{rev}'";
        using var response = await SendFollowingHubRedirectsAsync(url, request =>
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            XetHttpTransport.AcceptGzip(request);
        }, what, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode) throw HubError(response, repo, rev, path, what);
        var body = await _http.ReadBoundedBodyAsync(response, MaxPageBytes, what, m => new XetProtocolException(m), ct).ConfigureAwait(false);
        using var doc = JsonBody.Parse(body, what);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw new XetProtocolException($"The answer from {what} is not a JSON array.");
        var entries = new List<RepoEntry>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            var entry = ParseTreeEntry(item, repo, rev, what);
            if (entry is not null) entries.Add(entry);
        }
        // A next link on another origin (a mirror that writes the upstream's links) is moved onto our endpoint: the
        // listing goes on, and the Hub token never leaves the endpoint.
        var next = LinkHeader.Find(response, "next") is Uri link ? OnEndpoint(link) : null;
        return (entries, next);
    }

    private static RepoEntry? ParseTreeEntry(JsonElement item, RepoId repo, string rev, string what)
    {
        if (item.ValueKind != JsonValueKind.Object) throw new XetProtocolException($"The answer from {what} has an entry that is not an object.");
        if (!item.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "file")
            return null; // directories and unknown kinds hold no bytes to download
        var path = String(item, "path");
        if (string.IsNullOrEmpty(path)) throw new XetProtocolException($"The answer from {what} has a file without a path.");
        long size = Long(item, "size") ?? -1;
        string? sha256 = null;
        if (item.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
        {
            sha256 = String(lfs, "oid");
            size = Long(lfs, "size") ?? size;
        }
        if (size < 0) throw new XetProtocolException($"The answer from {what} gives '{path}' no valid size.");
        // A redacted hash (64 '*') or anything else not a hash means "not known here", not "not Xet forever".
        var xet = String(item, "xetHash");
        var isXet = XetHash.TryParse(xet, out _);
        return new RepoEntry(repo, rev, path!, size, isXet ? xet!.ToLowerInvariant() : null, sha256, isXet, String(item, "oid"));
    }

    private HubFileInfo Describe(HttpResponseMessage response, RepoId repo, string rev, string path, Uri url, string what)
    {
        var commit = Header(response, "X-Repo-Commit");
        var revision = IsCommitId(commit) ? commit! : rev;
        var xet = Header(response, "X-Xet-Hash");
        var isXet = XetHash.TryParse(xet, out _);
        if (xet is not null && !isXet)
            throw new XetProtocolException($"{what} answered an X-Xet-Hash that is not 64 hex digits.");
        var linkedSize = Header(response, "X-Linked-Size");
        long size;
        if (linkedSize is not null)
        {
            if (!long.TryParse(linkedSize, NumberStyles.None, CultureInfo.InvariantCulture, out size))
                throw new XetProtocolException($"{what} answered an X-Linked-Size that is not a size: '{Clip(linkedSize)}'.");
        }
        else if (response.Content.Headers.ContentLength is long contentLength && !isXet)
        {
            size = contentLength;
        }
        else
        {
            throw new XetProtocolException($"{what} gives no size (no X-Linked-Size, no Content-Length).");
        }
        var sha256 = Unquote(Header(response, "X-Linked-Etag"));
        var etag = Unquote(response.Headers.ETag?.Tag);
        Uri? auth = null;
        Uri? download = null;
        if (isXet)
        {
            var link = LinkHeader.Find(response, "xet-auth");
            if (link is null && Header(response, "X-Xet-Refresh-Route") is string route && Uri.TryCreate(Endpoint, route, out var fromRoute)) link = fromRoute;
            auth = link is null ? XetReadTokenUrl(repo, revision) : OnEndpoint(link);
        }
        else
        {
            download = response.StatusCode == HttpStatusCode.OK ? url :
                response.Headers.Location is Uri loc ? LinkHeader.Target(loc, url) ?? url : url;
        }
        var gitOid = sha256 is null ? etag : null; // a plain git file's ETag is its blob id
        var entry = new RepoEntry(repo, revision, path, size, isXet ? xet!.ToLowerInvariant() : null, sha256, isXet, gitOid);
        return new HubFileInfo(entry, auth, download);
    }

    /// <summary>
    /// Maps a Hub error status to the exception the caller sees, with the Hub's own explanation (X-Error-Message)
    /// where it gives one; never includes the token.
    /// </summary>
    private Exception HubError(HttpResponseMessage response, RepoId repo, string? revision, string? path, string what)
    {
        var status = (int)response.StatusCode;
        var code = Header(response, "X-Error-Code");
        var hubSays = HubMessage(response) is string said ? $" The Hub says: {said}" : "";
        var inner = XetHttpTransport.StatusError(response, what);
        var at = revision is null ? "" : $" at revision '{revision}'";
        if (code == "GatedRepo" && (status == 401 || status == 403))
        {
            var hint = _token is null
                ? "Request access on the repository's page, then pass a Hub token (or set HF_TOKEN)."
                : "The account of the Hub token given has not been granted access: request it on the repository's page.";
            return new XetAuthenticationException($"{repo} is a gated repository ({status}). {hint}{hubSays}", status, inner);
        }
        if (code == "RepoNotFound" && (status == 401 || status == 404))
        {
            var hint = _token is null
                ? "If it is private or gated, pass a Hub token that can read it."
                : "Check the name; if it is private, the Hub token given cannot read it.";
            return new XetFileNotFoundException(repo.ToString(), revision, path, code, $"Repository {repo} was not found ({status}). {hint}", inner);
        }
        if (status == 401 || status == 403)
        {
            if (HubMessage(response) is string disabled && disabled.IndexOf("disabled", StringComparison.OrdinalIgnoreCase) >= 0)
                return new XetAuthenticationException($"Access to {repo} is disabled on the Hub ({status}).{hubSays}", status, inner);
            var hint = _token is null
                ? "No Hub token was given: pass one (or set HF_TOKEN) for private or gated repositories."
                : "The Hub token given has no access to it: check that it is valid and that access to a gated repository was granted.";
            return new XetAuthenticationException($"The Hub refused access to {repo}{at} ({status}). {hint}{hubSays}", status, inner);
        }
        if (status == 404)
        {
            var message = code switch
            {
                "RevisionNotFound" => $"Revision '{revision}' was not found in {repo}.",
                "EntryNotFound" => $"'{path}' was not found in {repo}{at}.",
                _ when path is not null => $"'{path}' was not found in {repo}{at} (404{(code is null ? "" : ", " + code)}).{hubSays}",
                _ => $"{repo}{at} was not found (404{(code is null ? "" : ", " + code)}).{hubSays}",
            };
            return new XetFileNotFoundException(repo.ToString(), revision, path, code, message, inner);
        }
        // Other statuses keep their status and Retry-After (what the retries read), with the Hub's words added.
        return hubSays.Length == 0 ? inner : XetHttpTransport.StatusError(response, what, hubSays);
    }

    /// <summary>
    /// GETs a Hub API route, following redirects that stay on the endpoint: the Hub answers 307 with a path for a
    /// renamed repository, a legacy id without a namespace ("gpt2") and an id in the wrong case. A redirect to
    /// another origin is not followed (its answer is returned, and fails as a status). The token goes with every hop,
    /// all on the endpoint.
    /// </summary>
    private async Task<HttpResponseMessage> SendFollowingHubRedirectsAsync(Uri url, Action<HttpRequestMessage> prepare, string what,
        CancellationToken ct)
    {
        for (var hop = 0; ; hop++)
        {
            HttpResponseMessage response;
            using (var request = NewHubRequest(HttpMethod.Get, url))
            {
                prepare(request);
                response = await _http.SendAsync(request, what, ct).ConfigureAwait(false);
            }
            if (!IsRedirect(response) || response.Headers.Location is not Uri location ||
                LinkHeader.Target(location, url) is not Uri target || !IsOnEndpoint(target))
                return response;
            response.Dispose();
            if (hop >= MaxRedirects) throw new XetProtocolException($"{what} redirected more than {MaxRedirects} times.");
            url = target;
        }
    }

    private static bool IsRedirect(HttpResponseMessage response) =>
        (int)response.StatusCode is 301 or 302 or 303 or 307 or 308;

    private HttpRequestMessage NewHubRequest(HttpMethod method, Uri url)
    {
        var request = new HttpRequestMessage(method, url);
        if (_token is not null && IsOnEndpoint(url))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return request;
    }

    /// <summary>
    /// True for a URL under the endpoint: same scheme and authority, and a path under the endpoint's own (a mirror at
    /// <c>https://gw.example/hf</c> is <c>/hf/...</c>, not the rest of its origin, which may be anyone's). A path with
    /// an escaped dot is not under it: a server or gateway that decodes it could climb out of the prefix.
    /// </summary>
    private bool IsOnEndpoint(Uri url) =>
        url.IsAbsoluteUri && string.Equals(url.Scheme, Endpoint.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(url.Authority, Endpoint.Authority, StringComparison.OrdinalIgnoreCase) &&
        url.AbsolutePath.StartsWith(Endpoint.AbsolutePath, StringComparison.Ordinal) &&
        url.AbsolutePath.IndexOf("%2e", Endpoint.AbsolutePath.Length, StringComparison.OrdinalIgnoreCase) < 0;

    /// <summary>A Hub route given by the server, moved under our endpoint so the token never leaves it (for another
    /// host, or another path of its host).</summary>
    private Uri OnEndpoint(Uri route) =>
        !route.IsAbsoluteUri ? new Uri(Endpoint, route) : IsOnEndpoint(route) ? route : new Uri(Endpoint, route.PathAndQuery.TrimStart('/'));

    private Uri ResolveUrl(RepoId repo, string revision, string path) =>
        new(Endpoint, $"{repo.ResolvePrefix}/resolve/{EscapeSegment(revision)}/{EscapePath(path)}");

    private static string PathSuffix(string? path) =>
        string.IsNullOrEmpty(path?.Trim('/')) ? "" : "/" + EscapePath(path!.Trim('/'));

    /// <summary>One URL path segment: '/' in a revision (refs/pr/1) becomes %2F, as xet-core and huggingface_hub do.</summary>
    private static string EscapeSegment(string value) => Uri.EscapeDataString(value);

    /// <summary>A repo path: each segment escaped, the '/' between them kept.</summary>
    private static string EscapePath(string path) => string.Join("/", path.Split('/').Select(Uri.EscapeDataString));

    private static bool IsCommitId(string? value) =>
        value is { Length: 40 } && value.All(c => (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() :
        response.Content.Headers.TryGetValues(name, out var contentValues) ? contentValues.FirstOrDefault() : null;

    private static string? Unquote(string? value)
    {
        if (value is null) return null;
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value.Substring(2);
        return value.Trim('"');
    }

    private static string? String(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Long(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var v) ? v : null;

    /// <summary>The Hub's explanation of an error (X-Error-Message), printable and bounded, ending with a period.</summary>
    private static string? HubMessage(HttpResponseMessage response)
    {
        var text = Header(response, "X-Error-Message")?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        var printable = new string(text!.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        if (printable.Length > 300) printable = printable.Substring(0, 300) + "...";
        return printable.EndsWith(".", StringComparison.Ordinal) || printable.EndsWith("...", StringComparison.Ordinal) ? printable : printable + ".";
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text.Substring(0, 40) + "...";
}
