using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using XetPs.Hub;
using XetPs.Reconstruction;

namespace XetPs.Cache;

/// <summary>
/// The files of one snapshot of the Hugging Face cache, as a listing: what an offline Get-XetFileList writes. Each
/// entry carries the commit, the size of the file the snapshot entry stands for, and what the cache tells of its
/// identity: the blob's name (a sha256, or a git blob id) when the entry is a symlink, and the Xet hash when XetPs
/// recorded one for that blob. Broken symlinks (a blob deleted under them) are left out, as they hold no file.
/// </summary>
public static class CachedSnapshot
{
    /// <summary>
    /// The files of <paramref name="repo"/> at <paramref name="revision"/> (a commit, or a ref the cache holds) under
    /// <paramref name="folder"/> (the whole snapshot when null), sorted by path. Throws <see cref="XetOfflineException"/>
    /// when the cache holds no such revision.
    /// </summary>
    public static IReadOnlyList<RepoEntry> List(HubCache cache, RepoId repo, string? revision, string? folder, bool recursive)
    {
        if (cache is null) throw new ArgumentNullException(nameof(cache));
        var asked = revision ?? HubCache.DefaultRevision;
        var commit = cache.ResolveRevision(repo, asked);
        var snapshot = commit is null ? null : cache.SnapshotFolder(repo, commit);
        if (snapshot is null || !Directory.Exists(snapshot))
            throw new XetOfflineException(folder ?? "", $"the Hugging Face cache at '{cache.Root}' holds no snapshot of {repo} at '{asked}'");
        var start = string.IsNullOrEmpty(folder) ? snapshot : SafePath.Combine(snapshot, folder!);
        if (!Directory.Exists(start)) return Array.Empty<RepoEntry>();
        var entries = new List<RepoEntry>();
        foreach (var file in Directory.EnumerateFiles(start, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
        {
            var target = SnapshotLink.FinalTarget(file);
            if (target is null) continue;
            var repoPath = file.Substring(snapshot.Length + 1).Replace(Path.DirectorySeparatorChar, '/');
            var name = Path.GetFileName(target);
            var etag = HubCache.IsEtag(name) && Path.GetFileName(Path.GetDirectoryName(target)) == "blobs" ? name : null;
            var identity = etag is null ? null : new BlobRecord(cache.RecordPath(repo, etag)).Read()?.Identity;
            var xetHash = identity is not null && identity.StartsWith("xet:", StringComparison.Ordinal) ? identity.Substring(4) : null;
            var sha256 = etag is not null && HubCache.IsSha256(etag) ? etag : null;
            var gitOid = etag is not null && sha256 is null ? etag : null;
            entries.Add(new RepoEntry(repo, commit!, repoPath, new FileInfo(target).Length, xetHash, sha256, xetHash is not null, gitOid));
        }
        return entries.OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
    }
}
