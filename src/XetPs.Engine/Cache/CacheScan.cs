using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using XetPs.Hub;

namespace XetPs.Cache;

/// <summary>One file of a cached revision: its repo path, its snapshot entry and the blob (or file) it stands for.</summary>
public sealed record CachedFile(string Path, string SnapshotPath, string BlobPath, long Size, DateTimeOffset LastAccessed, DateTimeOffset LastModified);

/// <summary>One snapshot of a cached repository: its commit, the refs that name it, its files and their size on disk.</summary>
public sealed record CachedRevision(string Commit, string SnapshotPath, IReadOnlyList<string> Refs, IReadOnlyList<CachedFile> Files, long Size,
    DateTimeOffset LastModified);

/// <summary>
/// One repository of the cache. <see cref="Size"/> counts each blob once, however many revisions link it;
/// <see cref="FileCount"/> is the number of distinct blobs, as huggingface_hub's <c>nb_files</c>.
/// </summary>
public sealed record CachedRepo(RepoId Repo, string FolderPath, IReadOnlyList<CachedRevision> Revisions, long Size, int FileCount,
    DateTimeOffset LastAccessed, DateTimeOffset LastModified)
{
    /// <summary>Every ref of the repository (branch and tag names, <c>refs/pr/N</c>).</summary>
    public IReadOnlyList<string> Refs => Revisions.SelectMany(r => r.Refs).OrderBy(r => r, StringComparer.Ordinal).ToList();
}

/// <summary>A partial blob (<c>blobs/*.incomplete</c>) an interrupted download left, as huggingface_hub's scan reports them.</summary>
public sealed record CachedIncompleteFile(RepoId? Repo, string FilePath, long Size, DateTimeOffset LastModified);

/// <summary>What a scan found: the repositories, the partial blobs, and what could not be read as a cached repository.</summary>
public sealed record CacheScanResult(string Root, IReadOnlyList<CachedRepo> Repos, IReadOnlyList<CachedIncompleteFile> Incomplete,
    IReadOnlyList<string> Warnings)
{
    public long Size => Repos.Sum(r => r.Size);
}

/// <summary>
/// Reads the cache as huggingface_hub's <c>scan_cache_dir</c> does (and huggingface.js's <c>scanCacheDir</c>): every
/// folder of the root but <c>.locks</c> is a repository named <c>&lt;type&gt;s--org--name</c> with a
/// <c>snapshots/</c> folder; every file under a snapshot stands for the blob it resolves to; refs (nested for
/// <c>refs/pr/N</c>) name commits. Sizes are the blobs' lengths, each blob counted once per repository. What does not
/// read as a cached repository (a stray folder, a ref to a missing snapshot) is a warning, not an error, as there.
/// Read-only.
/// </summary>
public static class CacheScan
{
    private static readonly string[] Ignored = { ".DS_Store" };

    public static CacheScanResult Scan(HubCache cache)
    {
        if (cache is null) throw new ArgumentNullException(nameof(cache));
        var repos = new List<CachedRepo>();
        var warnings = new List<string>();
        var incomplete = new List<CachedIncompleteFile>();
        if (!Directory.Exists(cache.Root)) return new CacheScanResult(cache.Root, repos, incomplete, warnings);
        foreach (var entry in Directory.EnumerateFileSystemEntries(cache.Root).OrderBy(e => e, StringComparer.Ordinal))
        {
            var name = Path.GetFileName(entry);
            if (name == ".locks" || name == "CACHEDIR.TAG" || Ignored.Contains(name)) continue;
            try
            {
                var repo = ScanRepo(entry, name);
                repos.Add(repo);
                incomplete.AddRange(Partials(entry, repo.Repo));
            }
            catch (InvalidDataException e)
            {
                warnings.Add(e.Message);
                if (Directory.Exists(entry)) incomplete.AddRange(Partials(entry, null));
            }
        }
        return new CacheScanResult(cache.Root, repos, incomplete, warnings);
    }

    /// <summary>The repository a cache folder name stands for (<c>models--org--name</c>), or null.</summary>
    public static RepoId? RepoOf(string folderName)
    {
        var separator = folderName.IndexOf("--", StringComparison.Ordinal);
        if (separator <= 0) return null;
        RepoType? type = folderName.Substring(0, separator) switch
        {
            "models" => RepoType.Model,
            "datasets" => RepoType.Dataset,
            "spaces" => RepoType.Space,
            _ => null,
        };
        var name = folderName.Substring(separator + 2).Replace("--", "/");
        return type is null || name.Length == 0 ? null : new RepoId(type.Value, name);
    }

    private static CachedRepo ScanRepo(string folder, string name)
    {
        if (!Directory.Exists(folder)) throw new InvalidDataException($"Not a cached repository (a file): {folder}");
        var repo = RepoOf(name) ?? throw new InvalidDataException($"Not a cached repository (its name is not <type>s--org--name): {folder}");
        var snapshots = Path.Combine(folder, "snapshots");
        if (!Directory.Exists(snapshots)) throw new InvalidDataException($"No snapshots folder in the cached repository {folder}");

        var refsByCommit = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var refs = Path.Combine(folder, "refs");
        if (Directory.Exists(refs))
        {
            foreach (var file in Directory.EnumerateFiles(refs, "*", SearchOption.AllDirectories))
            {
                if (Ignored.Contains(Path.GetFileName(file))) continue;
                var commit = File.ReadAllText(file).Trim();
                var refName = file.Substring(refs.Length + 1).Replace(Path.DirectorySeparatorChar, '/');
                if (!refsByCommit.TryGetValue(commit, out var list)) refsByCommit[commit] = list = new List<string>();
                list.Add(refName);
            }
        }

        var blobs = new Dictionary<string, FileInfo>(StringComparer.Ordinal);
        var revisions = new List<CachedRevision>();
        foreach (var snapshot in Directory.EnumerateFileSystemEntries(snapshots).OrderBy(s => s, StringComparer.Ordinal))
        {
            var commit = Path.GetFileName(snapshot);
            if (Ignored.Contains(commit)) continue;
            if (!Directory.Exists(snapshot)) throw new InvalidDataException($"A file among the snapshots of {folder}: {snapshot}");
            var files = new List<CachedFile>();
            foreach (var file in Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                var target = SnapshotLink.FinalTarget(file) ?? throw new InvalidDataException($"A snapshot entry whose blob is missing: {file}");
                if (!blobs.TryGetValue(target, out var blob)) blobs[target] = blob = new FileInfo(target);
                files.Add(new CachedFile(file.Substring(snapshot.Length + 1).Replace(Path.DirectorySeparatorChar, '/'), file, target, blob.Length,
                    blob.LastAccessTimeUtc, blob.LastWriteTimeUtc));
            }
            var distinct = files.Select(f => f.BlobPath).Distinct(StringComparer.Ordinal).ToList();
            var lastModified = files.Count > 0 ? files.Max(f => f.LastModified) : new DirectoryInfo(snapshot).LastWriteTimeUtc;
            var revisionRefs = refsByCommit.TryGetValue(commit, out var named) ? named.OrderBy(r => r, StringComparer.Ordinal).ToList() : new List<string>();
            refsByCommit.Remove(commit);
            revisions.Add(new CachedRevision(commit, snapshot, revisionRefs, files, distinct.Sum(b => blobs[b].Length), lastModified));
        }
        if (refsByCommit.Count > 0)
            throw new InvalidDataException($"Refs of {folder} name commits that have no snapshot: " +
                                           string.Join(", ", refsByCommit.Select(p => $"{string.Join("/", p.Value)} -> {p.Key}")));
        var info = new DirectoryInfo(folder);
        return new CachedRepo(repo, folder, revisions, blobs.Values.Sum(b => b.Length), blobs.Count,
            blobs.Count > 0 ? blobs.Values.Max(b => b.LastAccessTimeUtc) : info.LastAccessTimeUtc,
            blobs.Count > 0 ? blobs.Values.Max(b => b.LastWriteTimeUtc) : info.LastWriteTimeUtc);
    }

    private static IEnumerable<CachedIncompleteFile> Partials(string folder, RepoId? repo)
    {
        var blobs = Path.Combine(folder, "blobs");
        if (!Directory.Exists(blobs)) yield break;
        foreach (var file in Directory.EnumerateFiles(blobs, "*.incomplete"))
        {
            var info = new FileInfo(file);
            yield return new CachedIncompleteFile(repo, file, info.Length, info.LastWriteTimeUtc);
        }
    }
}
