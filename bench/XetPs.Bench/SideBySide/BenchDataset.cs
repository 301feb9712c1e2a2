using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Threading.Tasks;
using XetPs.Hub;

namespace XetPs.Bench.SideBySide;

/// <summary>One file a client must reproduce, with the size and sha256 the Hub lists for it.</summary>
public sealed record ExpectedFile(string Path, long Size, string Sha256);

/// <summary>
/// A data set of the side-by-side run: a repository of the emulator and the files a client downloads from it. A
/// <see cref="Path"/> names one file (a single-file data set, which curl can fetch); none means every file of the repo
/// (listed, then saved). The expected sizes and sha256 come from the Hub's own tree listing, so verification does not
/// depend on any client. Invariant: <see cref="Files"/> is what a client must write, byte for byte.
/// </summary>
public sealed record BenchDataset(string Name, RepoId Repo, string? Path, IReadOnlyList<ExpectedFile> Files,
                                  string Group)
{
    public long TotalBytes => Files.Sum(f => f.Size);
    public bool IsSingleFile => Path is not null;

    /// <summary>Lists the repository on the Hub (recursive tree, following <c>Link: rel="next"</c>) and keeps the
    /// file named by <paramref name="path"/>, or every file.</summary>
    public static async Task<BenchDataset> LoadAsync(HttpClient hub, Uri endpoint, string name, RepoId repo, string? path,
                                                     string group)
    {
        var files = new List<ExpectedFile>();
        Uri? page = new(endpoint, $"api/{repo.ApiPath}/tree/main?recursive=true");
        for (var pages = 0; page is not null; pages++)
        {
            if (pages > 100_000) throw new InvalidOperationException($"{repo.Name}: the tree listing does not end");
            using var response = await hub.GetAsync(page).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync().ConfigureAwait(false));
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                if (entry.GetProperty("type").GetString() != "file") continue;
                var entryPath = entry.GetProperty("path").GetString()!;
                if (path is not null && entryPath != path) continue;
                var size = entry.GetProperty("size").GetInt64();
                var sha256 = entry.TryGetProperty("lfs", out var lfs) ? lfs.GetProperty("oid").GetString() : null;
                if (sha256 is null)
                    throw new InvalidOperationException($"{repo.Name}/{entryPath}: the listing gives no lfs.oid (sha256) to verify against");
                files.Add(new ExpectedFile(entryPath, size, sha256));
            }
            page = NextLink(response, page);
        }
        if (files.Count == 0)
            throw new InvalidOperationException($"{repo.Name}: no file {(path is null ? "at all" : $"'{path}'")} in the listing");
        return new BenchDataset(name, repo, path, files, group);
    }

    private static Uri? NextLink(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var values)) return null;
        foreach (var value in values)
            foreach (var link in value.Split(','))
            {
                var parts = link.Split(';');
                if (parts.Length < 2 || !parts.Skip(1).Any(p => p.Trim() == "rel=\"next\"")) continue;
                var target = parts[0].Trim().TrimStart('<').TrimEnd('>');
                return new Uri(current, target);
            }
        return null;
    }
}
