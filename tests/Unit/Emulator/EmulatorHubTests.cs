using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using XetPs.Emulator;
using XetPs.Emulator.Store;

namespace XetPs.Tests.Emulator;

/// <summary>The emulator's Hub answers follow PROTOCOL.md §1: tree and pagination, resolve, tokens, revisions, auth.</summary>
public sealed class EmulatorHubTests : IClassFixture<EmulatorFixture>
{
    private readonly EmulatorFixture _f;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false });

    public EmulatorHubTests(EmulatorFixture fixture) => _f = fixture;

    private Uri Url(EmulatorServer server, string relative) => new(server.BaseUrl, relative);

    private static string? NextLink(HttpResponseMessage resp)
    {
        if (!resp.Headers.TryGetValues("Link", out var values)) return null;
        var m = Regex.Match(string.Join(",", values), "<(https?://[^>]+)>;\\s+rel=\"next\"");
        return m.Success ? m.Groups[1].Value : null;
    }

    [Fact]
    public async Task Tree_pages_follow_link_next_until_the_listing_ends()
    {
        await using var server = await _f.StartAnotherAsync(o => o.TreePageSize = 3);
        var paths = new List<string>();
        string? url = Url(server, "api/datasets/org/many/tree/main?recursive=true").ToString();
        int pages = 0;
        while (url is not null && pages < 20)
        {
            using var resp = await _http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
            var page = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
            Assert.InRange(page.Count, 1, 3);
            paths.AddRange(page.Select(e => e.GetProperty("path").GetString()!));
            url = NextLink(resp);
            pages++;
        }
        Assert.Null(url);
        var expected = new[] { "README.md", "files" }.Concat(Enumerable.Range(0, 10).Select(i => $"files/f{i:D5}" + (i % 2 == 0 ? ".txt" : ".bin"))).OrderBy(p => p, StringComparer.Ordinal);
        Assert.Equal(expected, paths);
        Assert.Equal(4, pages);
    }

    [Fact]
    public async Task Non_recursive_tree_lists_folders_and_xet_entries_carry_lfs_and_xet_hash()
    {
        var json = await _http.GetStringAsync(Url(_f.Server, "api/models/org/formats/tree/main"));
        var entries = JsonDocument.Parse(json).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("path").GetString()!);
        Assert.Equal("directory", entries["text"].GetProperty("type").GetString());
        Assert.Equal("directory", entries["schemes"].GetProperty("type").GetString());
        Assert.False(entries.ContainsKey("text/corpus.txt"));
        var random = entries["random.bin"];
        var stored = _f.File(_f.Main, "random.bin");
        Assert.Equal(stored.XetHash, random.GetProperty("xetHash").GetString());
        Assert.Equal(stored.Sha256, random.GetProperty("lfs").GetProperty("oid").GetString());
        Assert.Equal(700_000, random.GetProperty("size").GetInt64());
        Assert.False(entries["small.json"].TryGetProperty("xetHash", out _));
        var sub = JsonDocument.Parse(await _http.GetStringAsync(Url(_f.Server, "api/models/org/formats/tree/main/schemes"))).RootElement;
        Assert.Equal(3, sub.GetArrayLength());
    }

    [Fact]
    public async Task Resolve_of_a_xet_file_carries_the_xet_headers_and_redirects()
    {
        using var req = new HttpRequestMessage(HttpMethod.Head, Url(_f.Server, "org/formats/resolve/main/floats.bin"));
        using var resp = await _http.SendAsync(req);
        var stored = _f.File(_f.Main, "floats.bin");
        Assert.Equal(HttpStatusCode.Found, resp.StatusCode);
        Assert.Equal(stored.XetHash, resp.Headers.GetValues("X-Xet-Hash").Single());
        Assert.Equal("700000", resp.Headers.GetValues("X-Linked-Size").Single());
        Assert.Equal($"\"{stored.Sha256}\"", resp.Headers.GetValues("X-Linked-Etag").Single());
        // As on the Hub, the sha256 is only in X-Linked-Etag: the redirect's own ETag is another (sha1-like) value.
        Assert.Equal($"\"{stored.GitOid}\"", resp.Headers.ETag!.Tag);
        Assert.Equal(_f.Main.Id, resp.Headers.GetValues("X-Repo-Commit").Single());
        string link = string.Join(",", resp.Headers.GetValues("Link"));
        Assert.Matches($"<{Regex.Escape(_f.Server.BaseUrl.ToString())}api/models/org/formats/xet-read-token/{_f.Main.Id}>; rel=\"xet-auth\"", link);
        Assert.Contains("rel=\"xet-reconstruction-info\"", link);
        // Following the redirect gives the file (the LFS-compatible bridge).
        byte[] body = await _http.GetByteArrayAsync(resp.Headers.Location!);
        Assert.Equal(_f.Content["floats.bin"], body);
    }

    [Fact]
    public async Task Resolve_with_the_xet_fileinfo_accept_answers_json()
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, Url(_f.Server, "org/formats/resolve/main/dedup.bin"));
        req.Headers.TryAddWithoutValidation("Accept", "application/vnd.xet-fileinfo+json, */*");
        req.Headers.Range = new RangeHeaderValue(0, 0);
        using var resp = await _http.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("application/vnd.xet-fileinfo+json", resp.Content.Headers.ContentType!.MediaType);
        var json = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(_f.File(_f.Main, "dedup.bin").XetHash, json.GetProperty("hash").GetString());
        Assert.Equal(3_000_000, json.GetProperty("size").GetInt64());
        Assert.Contains("xet-read-token", json.GetProperty("refreshUrl").GetString());
        Assert.True(resp.Headers.Contains("X-Xet-Hash"));
    }

    [Fact]
    public async Task Resolve_of_a_plain_file_answers_200_with_the_body_and_a_git_etag()
    {
        using var resp = await _http.GetAsync(Url(_f.Server, "org/formats/resolve/main/small.json"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal(_f.Content["small.json"], await resp.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{_f.File(_f.Main, "small.json").GitOid}\"", resp.Headers.ETag!.Tag);
        Assert.False(resp.Headers.Contains("X-Xet-Hash"));
    }

    [Fact]
    public async Task Dataset_repos_resolve_under_the_datasets_prefix()
    {
        using var resp = await _http.GetAsync(Url(_f.Server, "datasets/org/many/resolve/main/README.md"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        Assert.Equal("many", await resp.Content.ReadAsStringAsync());
        using var asModel = await _http.GetAsync(Url(_f.Server, "org/many/resolve/main/README.md"));
        Assert.Equal(HttpStatusCode.Unauthorized, asModel.StatusCode);
    }

    [Fact]
    public async Task Space_repos_list_and_resolve_under_the_spaces_prefix()
    {
        await _f.Server.Store.CommitAsync(XetPs.Hub.RepoId.Parse("spaces/org/demo-space"), "main", new[] { RepoFile.FromText("app.py", "print('space')\n") });

        using var resolved = await _http.GetAsync(Url(_f.Server, "spaces/org/demo-space/resolve/main/app.py"));
        var tree = JsonDocument.Parse(await _http.GetStringAsync(Url(_f.Server, "api/spaces/org/demo-space/tree/main"))).RootElement;
        using var asModel = await _http.GetAsync(Url(_f.Server, "org/demo-space/resolve/main/app.py"));

        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
        Assert.Equal("print('space')\n", await resolved.Content.ReadAsStringAsync());
        Assert.Equal(new[] { "app.py" }, tree.EnumerateArray().Select(e => e.GetProperty("path").GetString()));
        // Like the Hub, a name the caller cannot see in that namespace answers 401 rather than revealing anything.
        Assert.Equal(HttpStatusCode.Unauthorized, asModel.StatusCode);
    }

    [Fact]
    public async Task Missing_path_and_revision_are_404_with_error_codes()
    {
        using var path = await _http.GetAsync(Url(_f.Server, "org/formats/resolve/main/nope.bin"));
        Assert.Equal(HttpStatusCode.NotFound, path.StatusCode);
        Assert.Equal("EntryNotFound", path.Headers.GetValues("X-Error-Code").Single());
        using var rev = await _http.GetAsync(Url(_f.Server, "api/models/org/formats/tree/nobranch"));
        Assert.Equal(HttpStatusCode.NotFound, rev.StatusCode);
        Assert.Equal("RevisionNotFound", rev.Headers.GetValues("X-Error-Code").Single());
    }

    [Fact]
    public async Task Branches_and_commit_ids_resolve_to_their_own_content()
    {
        Assert.Equal(_f.Main.Id, _f.Dev.Parent);
        Assert.NotEqual(_f.Main.Id, _f.Dev.Id);
        string main = JsonDocument.Parse(await _http.GetStringAsync(Url(_f.Server, "api/models/org/formats/revision/main"))).RootElement.GetProperty("sha").GetString()!;
        Assert.Equal(_f.Main.Id, main);
        using var dev = new HttpRequestMessage(HttpMethod.Head, Url(_f.Server, "org/formats/resolve/dev/floats.bin"));
        using var byId = new HttpRequestMessage(HttpMethod.Head, Url(_f.Server, $"org/formats/resolve/{_f.Main.Id}/floats.bin"));
        using var devResp = await _http.SendAsync(dev);
        using var idResp = await _http.SendAsync(byId);
        Assert.Equal(_f.File(_f.Dev, "floats.bin").XetHash, devResp.Headers.GetValues("X-Xet-Hash").Single());
        Assert.Equal(_f.File(_f.Main, "floats.bin").XetHash, idResp.Headers.GetValues("X-Xet-Hash").Single());
        Assert.NotEqual(devResp.Headers.GetValues("X-Xet-Hash").Single(), idResp.Headers.GetValues("X-Xet-Hash").Single());
        Assert.Equal(_f.Dev.Id, devResp.Headers.GetValues("X-Repo-Commit").Single());
    }

    [Fact]
    public async Task Private_repos_need_an_accepted_hub_token()
    {
        var url = Url(_f.Server, "api/models/org/private/tree/main");
        using var anonymous = await _http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, url);
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "hf_not_a_token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(wrong)).StatusCode);
        using var good = new HttpRequestMessage(HttpMethod.Get, url);
        good.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmulatorOptions.DefaultHubToken);
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(good)).StatusCode);

        using var reader = new IndependentReader(_f.Server.BaseUrl, EmulatorOptions.DefaultHubToken);
        var (token, cas, _) = await reader.GetTokenAsync("models/org/private", "main");
        var file = _f.Server.Store.Resolve(EmulatorFixture.Private, "main")!.Files.Single();
        Assert.Equal(_f.Content["private:secret.bin"], await reader.ReadAsync(cas, token, file.XetHash!));
    }

    [Fact]
    public async Task Xet_read_token_answers_json_and_the_x_xet_headers()
    {
        using var resp = await _http.GetAsync(Url(_f.Server, "api/models/org/formats/xet-read-token/main"));
        Assert.Equal(HttpStatusCode.OK, resp.StatusCode);
        var json = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(_f.Server.CasUrl.ToString(), json.GetProperty("casUrl").GetString());
        Assert.Equal(json.GetProperty("accessToken").GetString(), resp.Headers.GetValues("X-Xet-Access-Token").Single());
        Assert.Equal(json.GetProperty("exp").GetInt64().ToString(), resp.Headers.GetValues("X-Xet-Token-Expiration").Single());
        Assert.Equal(_f.Server.CasUrl.ToString(), resp.Headers.GetValues("X-Xet-Cas-Url").Single());
        Assert.True(json.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Committing_the_same_tree_again_keeps_the_head_and_stores_no_new_chunks()
    {
        int chunks = _f.Server.Store.ChunkCount;
        var again = await _f.Server.Store.CommitAsync(EmulatorFixture.Formats, "dev",
            new[] { RepoFile.FromBytes("floats.bin", _f.Content["dev:floats.bin"]) });
        Assert.Equal(_f.Dev.Id, again.Id);
        Assert.Equal(chunks, _f.Server.Store.ChunkCount);
    }

    [Fact]
    public async Task Paths_info_answers_the_entries_of_the_given_paths()
    {
        using var json = new StringContent("{\"paths\": [\"random.bin\", \"text\", \"nope.bin\"], \"expand\": true}", System.Text.Encoding.UTF8, "application/json");
        using var resp = await _http.PostAsync(Url(_f.Server, "api/models/org/formats/paths-info/main"), json);
        var entries = JsonDocument.Parse(await resp.Content.ReadAsStringAsync()).RootElement.EnumerateArray().ToList();
        Assert.Equal(new[] { "random.bin", "text" }, entries.Select(e => e.GetProperty("path").GetString()));
        Assert.Equal(_f.File(_f.Main, "random.bin").XetHash, entries[0].GetProperty("xetHash").GetString());
        Assert.Equal(_f.Main.Id, entries[0].GetProperty("lastCommit").GetProperty("id").GetString());
        using var form = new FormUrlEncodedContent(new[] { KeyValuePair.Create("paths", "small.json"), KeyValuePair.Create("expand", "false") });
        using var formResp = await _http.PostAsync(Url(_f.Server, "api/models/org/formats/paths-info/main"), form);
        Assert.Equal("small.json", JsonDocument.Parse(await formResp.Content.ReadAsStringAsync()).RootElement[0].GetProperty("path").GetString());
    }

    [Fact]
    public async Task Request_log_records_route_status_range_and_bytes()
    {
        await using var server = await _f.StartAnotherAsync();
        using var req = new HttpRequestMessage(HttpMethod.Get, Url(server, "org/formats/resolve/main/small.json"));
        req.Headers.Range = new RangeHeaderValue(2, 5);
        using var resp = await _http.SendAsync(req);
        Assert.Equal(HttpStatusCode.PartialContent, resp.StatusCode);
        var entry = await server.Log.WaitForAsync(e => e.Route == EmulatorRoute.Resolve);
        Assert.Single(server.Log.For(EmulatorRoute.Resolve));
        Assert.Equal(("GET", "/org/formats/resolve/main/small.json", "bytes=2-5", 206, 4L, (string?)null, false),
                     (entry.Method, entry.Path, entry.Range, entry.Status, entry.BytesSent, entry.Fault, entry.Aborted));
    }
}
