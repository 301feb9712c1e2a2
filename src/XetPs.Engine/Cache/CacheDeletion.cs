using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using XetPs.Hub;

namespace XetPs.Cache;

/// <summary>
/// What removing revisions from the cache deletes, planned as huggingface_hub's <c>delete_revisions</c> plans it: a
/// repository all of whose revisions go is deleted whole; otherwise each revision's snapshot folder and the refs that
/// name it go, and a blob goes only when no remaining snapshot links it. Partial blobs can be added (they belong to no
/// revision). Planned on one scan, so revisions removed together share the decision about the blobs they share.
/// </summary>
public sealed class CacheDeletion
{
    private readonly List<string> _repos = new(), _snapshots = new(), _refs = new(), _blobs = new(), _partials = new();

    private CacheDeletion()
    {
    }

    public IReadOnlyList<string> RepoFolders => _repos;
    public IReadOnlyList<string> Snapshots => _snapshots;
    public IReadOnlyList<string> Refs => _refs;
    public IReadOnlyList<string> Blobs => _blobs;
    public IReadOnlyList<string> Partials => _partials;

    /// <summary>Bytes the deletion frees (blob lengths, as the scan counts them).</summary>
    public long FreedBytes { get; private set; }

    /// <summary>
    /// Plans the removal of <paramref name="revisions"/> (repository and commit, as the scan found them) and of
    /// <paramref name="partials"/>. A revision the scan does not hold is ignored.
    /// </summary>
    public static CacheDeletion Plan(CacheScanResult scan, IEnumerable<(RepoId Repo, string Commit)> revisions,
        IEnumerable<CachedIncompleteFile>? partials = null)
    {
        if (scan is null) throw new ArgumentNullException(nameof(scan));
        var plan = new CacheDeletion();
        foreach (var group in revisions.GroupBy(r => r.Repo))
        {
            var repo = scan.Repos.FirstOrDefault(r => r.Repo == group.Key);
            if (repo is null) continue;
            var going = new HashSet<string>(group.Select(r => r.Commit), StringComparer.Ordinal);
            var removed = repo.Revisions.Where(r => going.Contains(r.Commit)).ToList();
            if (removed.Count == 0) continue;
            if (removed.Count == repo.Revisions.Count)
            {
                plan._repos.Add(repo.FolderPath);
                plan.FreedBytes += repo.Size;
                continue;
            }
            var kept = new HashSet<string>(repo.Revisions.Where(r => !going.Contains(r.Commit)).SelectMany(r => r.Files).Select(f => f.BlobPath),
                StringComparer.Ordinal);
            foreach (var revision in removed)
            {
                plan._snapshots.Add(revision.SnapshotPath);
                plan._refs.AddRange(revision.Refs.Select(r => Path.Combine(repo.FolderPath, "refs", r.Replace('/', Path.DirectorySeparatorChar))));
                foreach (var file in revision.Files)
                {
                    if (kept.Contains(file.BlobPath) || plan._blobs.Contains(file.BlobPath)) continue;
                    plan._blobs.Add(file.BlobPath);
                    plan.FreedBytes += file.Size;
                }
            }
        }
        foreach (var partial in partials ?? Array.Empty<CachedIncompleteFile>())
        {
            plan._partials.Add(partial.FilePath);
            plan.FreedBytes += partial.Size;
        }
        return plan;
    }

    /// <summary>
    /// Deletes what was planned: whole repositories, then blobs, snapshots and refs, then partial blobs. A path already
    /// gone is fine; the first one that cannot be deleted throws (the cause inside), leaving the rest for a rerun, which
    /// plans again from what is left.
    /// </summary>
    public void Execute()
    {
        foreach (var folder in _repos) DeleteFolder(folder);
        foreach (var blob in _blobs) DeleteFile(blob);
        foreach (var snapshot in _snapshots) DeleteFolder(snapshot);
        foreach (var reference in _refs) DeleteFile(reference);
        foreach (var partial in _partials) DeleteFile(partial);
    }

    private static void DeleteFolder(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true); // a symlink inside is removed, not followed
    }

    private static void DeleteFile(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // Gone already, with its folder.
        }
    }
}
