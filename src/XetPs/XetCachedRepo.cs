using System;
using System.Linq;
using XetPs.Cache;

namespace XetPs;

/// <summary>
/// One repository of the Hugging Face cache, as Get-XetCache writes it (huggingface_hub's <c>CachedRepoInfo</c>).
/// Property names bind to Remove-XetCache by property name (Repo, RepoType), so piping one removes the repository.
/// Invariant, as for <see cref="XetFileEntry"/>: only strings, numbers, dates and this module's own types.
/// </summary>
public sealed class XetCachedRepo
{
    internal XetCachedRepo(CachedRepo repo, string cacheDirectory)
    {
        Repo = repo.Repo.Name;
        RepoType = XetFileEntry.ToModule(repo.Repo.Type);
        Path = repo.FolderPath;
        Size = repo.Size;
        FileCount = repo.FileCount;
        Revisions = repo.Revisions.Select(r => new XetCachedRevision(repo, r, cacheDirectory)).ToArray();
        Refs = repo.Refs.ToArray();
        LastAccessed = repo.LastAccessed.UtcDateTime.ToLocalTime();
        LastModified = repo.LastModified.UtcDateTime.ToLocalTime();
        CacheDirectory = cacheDirectory;
    }

    /// <summary>"org/name".</summary>
    public string Repo { get; }

    public XetRepoType RepoType { get; }

    /// <summary>The repository's folder in the cache (models--org--name).</summary>
    public string Path { get; }

    /// <summary>Bytes on disk: each blob once, however many revisions link it.</summary>
    public long Size { get; }

    /// <summary>Distinct files (blobs) of the repository.</summary>
    public int FileCount { get; }

    public XetCachedRevision[] Revisions { get; }

    /// <summary>The refs (branch and tag names, refs/pr/N) the cache recorded.</summary>
    public string[] Refs { get; }

    /// <summary>The latest access time of its blobs (as the file system keeps it).</summary>
    public DateTime LastAccessed { get; }

    public DateTime LastModified { get; }

    /// <summary>The cache this repository is in.</summary>
    public string CacheDirectory { get; }

    public override string ToString() => Repo;
}

/// <summary>One snapshot of a cached repository; binds to Remove-XetCache by Repo, RepoType and Commit (its -Revision).</summary>
public sealed class XetCachedRevision
{
    internal XetCachedRevision(CachedRepo repo, CachedRevision revision, string cacheDirectory)
    {
        Repo = repo.Repo.Name;
        RepoType = XetFileEntry.ToModule(repo.Repo.Type);
        Commit = revision.Commit;
        Refs = revision.Refs.ToArray();
        Size = revision.Size;
        FileCount = revision.Files.Count;
        Files = revision.Files.Select(f => new XetCachedFile(f)).ToArray();
        LastModified = revision.LastModified.UtcDateTime.ToLocalTime();
        Path = revision.SnapshotPath;
        CacheDirectory = cacheDirectory;
    }

    public string Repo { get; }

    public XetRepoType RepoType { get; }

    /// <summary>The commit id (the snapshot folder's name).</summary>
    public string Commit { get; }

    public string[] Refs { get; }

    /// <summary>Bytes of the blobs this revision links (blobs shared with other revisions counted here too).</summary>
    public long Size { get; }

    public int FileCount { get; }

    public XetCachedFile[] Files { get; }

    public DateTime LastModified { get; }

    /// <summary>The snapshot folder (snapshots/&lt;commit&gt;).</summary>
    public string Path { get; }

    public string CacheDirectory { get; }

    public override string ToString() => Commit;
}

/// <summary>One file of a cached revision.</summary>
public sealed class XetCachedFile
{
    internal XetCachedFile(CachedFile file)
    {
        Path = file.Path;
        Size = file.Size;
        SnapshotPath = file.SnapshotPath;
        BlobPath = file.BlobPath;
        LastAccessed = file.LastAccessed.UtcDateTime.ToLocalTime();
        LastModified = file.LastModified.UtcDateTime.ToLocalTime();
    }

    /// <summary>The repo-relative path, '/'-separated.</summary>
    public string Path { get; }

    public long Size { get; }

    /// <summary>What a library opens (snapshots/&lt;commit&gt;/&lt;path&gt;).</summary>
    public string SnapshotPath { get; }

    /// <summary>The blob it links to (the snapshot path itself where the cache has no symlinks).</summary>
    public string BlobPath { get; }

    public DateTime LastAccessed { get; }

    public DateTime LastModified { get; }

    public override string ToString() => Path;
}

/// <summary>A partial blob an interrupted download left in the cache (blobs/*.incomplete).</summary>
public sealed class XetCachedIncompleteFile
{
    internal XetCachedIncompleteFile(CachedIncompleteFile file, DateTime now)
    {
        Repo = file.Repo?.Name;
        RepoType = file.Repo is { } repo ? XetFileEntry.ToModule(repo.Type) : null;
        Path = file.FilePath;
        Size = file.Size;
        LastModified = file.LastModified.UtcDateTime.ToLocalTime();
        Age = now - file.LastModified.UtcDateTime;
    }

    public string? Repo { get; }

    public XetRepoType? RepoType { get; }

    public string Path { get; }

    /// <summary>Bytes written so far.</summary>
    public long Size { get; }

    public DateTime LastModified { get; }

    /// <summary>How long since it was last written: a download still running writes it often.</summary>
    public TimeSpan Age { get; }

    public override string ToString() => Path;
}
