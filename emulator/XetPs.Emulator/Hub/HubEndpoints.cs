using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using XetPs.Hub;
using XetPs.Emulator.Cas;

using XetPs.Emulator.Faults;

using XetPs.Emulator.Store;


namespace XetPs.Emulator.Hub;

/// <summary>
/// The Hub API of PROTOCOL.md §1: tree listing with <c>Link: rel="next"</c> pagination, resolve (HEAD and GET;
/// Xet files answer with the Xet headers and a redirect to a signed bridge, or with the xet-fileinfo JSON; plain
/// files answer 200 with the body), xet-read-token (JSON body and X-Xet-* headers) and repo info. Auth: a presented
/// Hub token must be accepted (else 401); private repos need one.
/// </summary>
internal sealed class HubEndpoints
{
    private const string FileInfoType = "application/vnd.xet-fileinfo+json";
    private readonly EmulatorServer _server;

    public HubEndpoints(EmulatorServer server) => _server = server;

    public static RepoId? RepoFromApi(string kind, string org, string name)
    {
        RepoType type = RepoId.KindOf(kind) ?? RepoType.Model;
        try { return new RepoId(type, org + "/" + name); }
        catch (ArgumentException) { return null; }
    }

    /// <summary>Auth and lookup shared by the Hub routes; writes the error answer and returns null on failure. With
    /// <paramref name="gate"/> (the routes that give a file's bytes), a gated repository's access is checked too.</summary>
    private async Task<RepoCommit?> OpenAsync(HttpContext context, RepoId repo, string revision, bool gate = false)
    {
        string? auth = context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null;
        bool authenticated = false;
        if (auth is not null)
        {
            string token = auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth.Substring(7).Trim() : "";
            if (!_server.Options.HubTokens.Contains(token))
            {
                await HttpResults.WriteErrorAsync(context, 401, "Invalid credentials in Authorization header").ConfigureAwait(false);
                return null;
            }
            authenticated = true;
        }
        if (!_server.Store.Exists(repo) || (_server.Store.IsPrivate(repo) && !authenticated))
        {
            // Like the Hub: without credentials a private repo looks exactly like a missing one.
            int status = authenticated ? 404 : 401;
            await HttpResults.WriteErrorAsync(context, status, "Repository not found", "RepoNotFound").ConfigureAwait(false);
            return null;
        }
        if (gate && _server.GrantedTokens(repo) is { } granted)
        {
            string token = auth is not null && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth.Substring(7).Trim() : "";
            if (!authenticated || !granted.Contains(token))
            {
                await HttpResults.WriteErrorAsync(context, authenticated ? 403 : 401,
                    $"Access to model {repo.Name} is restricted. You must have access to it and be authenticated to access it. Please log in.",
                    "GatedRepo").ConfigureAwait(false);
                return null;
            }
        }
        var commit = _server.Store.Resolve(repo, revision);
        if (commit is null)
        {
            await HttpResults.WriteErrorAsync(context, 404, $"Invalid rev id: {revision}", "RevisionNotFound").ConfigureAwait(false);
            return null;
        }
        return commit;
    }

    public async Task TreeAsync(HttpContext context, FaultRule? fault, RepoId repo, string revision, string path)
    {
        var commit = await OpenAsync(context, repo, revision).ConfigureAwait(false);
        if (commit is null) return;
        var query = context.Request.Query;
        bool recursive = IsTrue(query["recursive"]);
        bool expand = IsTrue(query["expand"]);
        string dir = path.Trim('/');
        var entries = TreeListing.List(commit, dir, recursive);
        if (entries is null)
        {
            await HttpResults.WriteErrorAsync(context, 404, $"Entry not found: {dir}", "EntryNotFound").ConfigureAwait(false);
            return;
        }
        int pageSize = _server.Options.TreePageSize;
        if (int.TryParse(query["limit"], NumberStyles.None, CultureInfo.InvariantCulture, out int limit) && limit > 0) pageSize = Math.Min(pageSize, limit);
        int offset = 0;
        string? cursor = query["cursor"];
        if (cursor is not null && !TreeListing.TryDecodeCursor(cursor, out offset))
        {
            await HttpResults.WriteErrorAsync(context, 400, $"Invalid cursor '{cursor}'.").ConfigureAwait(false);
            return;
        }
        var page = entries.Skip(offset).Take(pageSize).ToList();
        if (fault is { Hostile: HostileMetadata.DotDotPath or HostileMetadata.AbsolutePath or HostileMetadata.DevicePath })
            page = TreeListing.Hostile(page, commit, fault.Hostile);
        if (offset + pageSize < entries.Count)
        {
            var next = new StringBuilder(_server.Url($"api/{repo.ApiPath}/tree/{Uri.EscapeDataString(revision)}"));
            if (dir.Length > 0) next.Append('/').Append(string.Join('/', dir.Split('/').Select(Uri.EscapeDataString)));
            next.Append("?recursive=").Append(recursive ? "true" : "false").Append("&expand=").Append(expand ? "true" : "false");
            if (limit > 0) next.Append("&limit=").Append(limit.ToString(CultureInfo.InvariantCulture));
            next.Append("&cursor=").Append(TreeListing.EncodeCursor(offset + pageSize));
            context.Response.Headers.Append("Link", "<" + next + ">; rel=\"next\"");
        }
        if (fault?.Hostile == HostileMetadata.RepeatingNextLink)
        {
            var self = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
            context.Response.Headers["Link"] = "<" + _server.Url(self) + ">; rel=\"next\"";
        }
        byte[] json = TreeListing.ToJson(page, commit, expand);
        await HttpResults.WriteJsonAsync(context, json, "application/json; charset=utf-8", fault?.Hostile == HostileMetadata.EnormousJson).ConfigureAwait(false);
    }

    /// <summary>POST paths-info/{rev}: entries for the given paths (JSON <c>{"paths": [...], "expand": bool}</c> or a
    /// form with repeated <c>paths</c>); unknown paths are left out, like the Hub.</summary>
    public async Task PathsInfoAsync(HttpContext context, FaultRule? fault, RepoId repo, string revision)
    {
        var commit = await OpenAsync(context, repo, revision).ConfigureAwait(false);
        if (commit is null) return;
        var paths = new List<string>();
        bool expand = false;
        try
        {
            if (context.Request.HasFormContentType)
            {
                var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
                paths.AddRange(form["paths"].Where(p => p is not null).Select(p => p!));
                expand = IsTrue(form["expand"]);
            }
            else
            {
                using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
                paths.AddRange(doc.RootElement.GetProperty("paths").EnumerateArray().Select(p => p.GetString() ?? ""));
                expand = doc.RootElement.TryGetProperty("expand", out var e) && e.ValueKind == JsonValueKind.True;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or InvalidDataException)
        {
            await HttpResults.WriteErrorAsync(context, 400, $"paths-info needs {{\"paths\": [...]}}: {ex.Message}").ConfigureAwait(false);
            return;
        }
        var all = TreeListing.List(commit, "", recursive: true) ?? new List<TreeEntry>();
        var wanted = new HashSet<string>(paths.Select(p => p.Trim('/')), StringComparer.Ordinal);
        var entries = all.Where(e => wanted.Contains(e.Path)).ToList();
        if (fault is { Hostile: HostileMetadata.DotDotPath or HostileMetadata.AbsolutePath or HostileMetadata.DevicePath })
            entries = TreeListing.Hostile(entries, commit, fault.Hostile);
        byte[] json = TreeListing.ToJson(entries, commit, expand);
        await HttpResults.WriteJsonAsync(context, json, "application/json; charset=utf-8", fault?.Hostile == HostileMetadata.EnormousJson).ConfigureAwait(false);
    }

    public async Task TokenAsync(HttpContext context, RepoId repo, string revision)
    {
        var commit = await OpenAsync(context, repo, revision, gate: true).ConfigureAwait(false);
        if (commit is null) return;
        var expires = _server.Clock.GetUtcNow() + _server.Options.CasTokenLifetime;
        string token = _server.CasTokens.Issue(repo, expires);
        long exp = expires.ToUnixTimeSeconds();
        string casUrl = _server.CasUrl.ToString();
        context.Response.Headers["X-Xet-Access-Token"] = token;
        context.Response.Headers["X-Xet-Token-Expiration"] = exp.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers["X-Xet-Cas-Url"] = casUrl;
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["accessToken"] = token, ["exp"] = exp, ["casUrl"] = casUrl });
        await HttpResults.WriteNegotiatedAsync(context, body, "application/json; charset=utf-8").ConfigureAwait(false);
    }

    public async Task RepoInfoAsync(HttpContext context, RepoId repo, string revision)
    {
        var commit = await OpenAsync(context, repo, revision).ConfigureAwait(false);
        if (commit is null) return;
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["id"] = repo.Name,
            ["sha"] = commit.Id,
            ["private"] = _server.Store.IsPrivate(repo),
            ["lastModified"] = commit.Date.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            ["siblings"] = commit.Files.Select(f => new Dictionary<string, string> { ["rfilename"] = f.Path }).ToArray(),
        });
        await HttpResults.WriteNegotiatedAsync(context, body, "application/json; charset=utf-8").ConfigureAwait(false);
    }

    public async Task ResolveAsync(HttpContext context, FaultRule? fault, RepoId repo, string revision, string path)
    {
        var commit = await OpenAsync(context, repo, revision, gate: true).ConfigureAwait(false);
        if (commit is null) return;
        var file = commit.Files.FirstOrDefault(f => f.Path == path);
        if (file is null)
        {
            await HttpResults.WriteErrorAsync(context, 404, $"Entry not found: {path}", "EntryNotFound").ConfigureAwait(false);
            return;
        }
        var headers = context.Response.Headers;
        headers["X-Repo-Commit"] = commit.Id;
        if (!file.IsXet)
        {
            headers.ETag = "\"" + file.GitOid + "\"";
            // A plain git file is text the Hub compresses when asked: gzip goes to a client that offers it (a
            // HEAD then has no Content-Length, as from nginx), so a client must ask for identity to learn the size.
            if (HttpResults.AcceptsGzip(context) && context.Request.Headers.Range.Count == 0 && file.Size <= HttpResults.MaxGzipBody)
                await ServeGzipAsync(context, file).ConfigureAwait(false);
            else
                await ServeContentAsync(context, file).ConfigureAwait(false);
            return;
        }
        string tokenUrl = _server.Url($"api/{repo.ApiPath}/xet-read-token/{commit.Id}");
        string reconstructionUrl = _server.CasPath("v1/reconstructions/" + file.XetHash);
        headers["X-Xet-Hash"] = file.XetHash;
        headers["X-Linked-Size"] = file.Size.ToString(CultureInfo.InvariantCulture);
        headers["X-Linked-Etag"] = "\"" + file.Sha256 + "\"";
        // The redirect's own ETag is not the file's sha256 (the Hub puts that in X-Linked-Etag only, which is why
        // huggingface_hub and huggingface.js read X-Linked-Etag first); a sha1-like value, here the LFS pointer's git
        // blob id, so a client that names cache blobs by ETag alone gets them wrong here as it would on the Hub.
        headers.ETag = "\"" + file.GitOid + "\"";
        headers["X-Xet-Refresh-Route"] = tokenUrl;
        headers.Append("Link", $"<{tokenUrl}>; rel=\"xet-auth\", <{reconstructionUrl}>; rel=\"xet-reconstruction-info\"");
        string accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains(FileInfoType, StringComparison.OrdinalIgnoreCase))
        {
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
            {
                ["hash"] = file.XetHash!,
                ["refreshUrl"] = tokenUrl,
                ["reconstructionUrl"] = _server.CasPath("v2/reconstructions/" + file.XetHash),
                ["etag"] = file.Sha256,
                ["size"] = file.Size,
            });
            context.Response.StatusCode = 200;
            await HttpResults.WriteBytesAsync(context, body, FileInfoType).ConfigureAwait(false);
            return;
        }
        // Like the Hub: a redirect to the LFS-compatible bridge, which a Xet client must not follow.
        string bridgePath = "/cas/bridge/" + file.XetHash;
        var range = new List<InclusiveRange> { new(0, Math.Max(0, file.Size - 1)) };
        string query = _server.Signer.Sign(bridgePath, range, _server.Clock.GetUtcNow() + _server.Options.UrlLifetime);
        context.Response.StatusCode = 302;
        headers.Location = _server.Url(bridgePath) + query;
        context.Response.ContentLength = 0;
    }

    /// <summary>The bridge: the whole Xet file (or a single Range of it) under a signed URL, no Authorization needed.</summary>
    public async Task BridgeAsync(HttpContext context, string hash)
    {
        var q = context.Request.Query;
        var verdict = _server.Signer.Check("/cas/bridge/" + hash, q["X-Xet-Signed-Range"], q["Expires"], q["Signature"], _server.Clock.GetUtcNow(), out _);
        if (verdict != PresignedUrlSigner.Verdict.Valid)
        {
            await HttpResults.WriteErrorAsync(context, 403, verdict == PresignedUrlSigner.Verdict.Expired ? "Request has expired" : "Signature does not match").ConfigureAwait(false);
            return;
        }
        var record = Format.XetHash.TryParse(hash, out var h) ? _server.Store.GetFileRecord(h) : null;
        if (record is null)
        {
            await HttpResults.WriteErrorAsync(context, 404, $"No file {hash}.").ConfigureAwait(false);
            return;
        }
        context.Response.Headers.ETag = "\"" + record.Sha256 + "\"";
        await ServeContentAsync(context, new StoredFile(hash, record.Size, record.Sha256, "", hash)).ConfigureAwait(false);
    }

    /// <summary>200 with the whole body gzip-encoded; a HEAD gets the headers without a length.</summary>
    private async Task ServeGzipAsync(HttpContext context, StoredFile file)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/octet-stream";
        context.Response.Headers.ContentEncoding = "gzip";
        context.Response.Headers.Vary = "Accept-Encoding";
        if (HttpMethods.IsHead(context.Request.Method)) return;
        using var plain = new MemoryStream();
        await _server.Store.CopyContentAsync(file, plain, 0, file.Size, context.RequestAborted).ConfigureAwait(false);
        byte[] body = HttpResults.Gzip(plain.GetBuffer().AsSpan(0, (int)plain.Length));
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>200 with the whole body, or 206 for one satisfiable range, or 416.</summary>
    private async Task ServeContentAsync(HttpContext context, StoredFile file)
    {
        long start = 0, end = file.Size;
        context.Response.Headers.AcceptRanges = "bytes";
        string? rangeHeader = context.Request.Headers.Range.Count > 0 ? context.Request.Headers.Range.ToString() : null;
        if (rangeHeader is not null && ByteRangeHeader.TryParse(rangeHeader, out var specs) && specs.Count == 1)
        {
            var r = ByteRangeHeader.Resolve(specs[0], file.Size);
            if (r is null)
            {
                context.Response.Headers.ContentRange = "bytes */" + file.Size.ToString(CultureInfo.InvariantCulture);
                await HttpResults.WriteErrorAsync(context, 416, $"Range {rangeHeader} is past the end of {file.Size} bytes.").ConfigureAwait(false);
                return;
            }
            start = r.Value.Start;
            end = r.Value.End + 1;
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {r.Value.Start}-{r.Value.End}/{file.Size}";
        }
        else
        {
            context.Response.StatusCode = 200;
        }
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = end - start;
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await _server.Store.CopyContentAsync(file, context.Response.Body, start, end, context.RequestAborted).ConfigureAwait(false);
    }

    private static bool IsTrue(string? value) => value is not null && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));
}
