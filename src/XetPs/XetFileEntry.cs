using System;
using XetPs.Hub;

namespace XetPs;

/// <summary>The kind of Hub repository, as the cmdlets take and show it (tab-completes, case-insensitive).</summary>
public enum XetRepoType
{
    Model,
    Dataset,
    Space,
}

/// <summary>
/// One file of a Hub repository at a resolved commit: what Get-XetFileList writes. Property names are the parameter
/// names of Save-XetFile (Repo, RepoType, Revision, Path, Endpoint), so piping one into the other binds by property
/// name and downloads exactly what was listed, from the Hub it was listed from.
/// Invariant: holds only strings, numbers and this module's own enum, never an engine or third-party type, so
/// PowerShell's formatter and binder can read it from any load context.
/// </summary>
public sealed class XetFileEntry
{
    public XetFileEntry(string repo, XetRepoType repoType, string revision, string path, long size, string? xetHash,
                        string? sha256, bool isXet, string? gitOid, string endpoint)
    {
        Repo = repo;
        RepoType = repoType;
        Revision = revision;
        Path = path;
        Size = size;
        XetHash = xetHash;
        Sha256 = sha256;
        IsXet = isXet;
        GitOid = gitOid;
        Endpoint = endpoint;
    }

    /// <summary>"org/name".</summary>
    public string Repo { get; }

    public XetRepoType RepoType { get; }

    /// <summary>The resolved commit id, so a later Save-XetFile reads exactly the bytes that were listed.</summary>
    public string Revision { get; }

    /// <summary>The repo-relative path, '/'-separated.</summary>
    public string Path { get; }

    /// <summary>The file's size in bytes.</summary>
    public long Size { get; }

    /// <summary>The Xet file hash (64 hex), or null when the file is not stored in Xet.</summary>
    public string? XetHash { get; }

    /// <summary>The LFS sha256 (64 hex), when the Hub gives one.</summary>
    public string? Sha256 { get; }

    /// <summary>True when the file is rebuilt from Xet chunks; false for plain git files.</summary>
    public bool IsXet { get; }

    /// <summary>The git blob id, when the Hub gives one (plain files): what tells a plain file is up to date.</summary>
    public string? GitOid { get; }

    /// <summary>The Hub the file was listed from, so Save-XetFile downloads from the same one.</summary>
    public string Endpoint { get; }

    public override string ToString() => Path;

    internal static XetFileEntry From(RepoEntry entry, Uri endpoint) => new(
        entry.Repo.Name, ToModule(entry.Repo.Type), entry.Revision, entry.Path, entry.Size, entry.XetHash, entry.Sha256,
        entry.IsXet, entry.GitOid, endpoint.ToString().TrimEnd('/'));

    internal static XetRepoType ToModule(Hub.RepoType type) => type switch
    {
        Hub.RepoType.Dataset => XetRepoType.Dataset,
        Hub.RepoType.Space => XetRepoType.Space,
        _ => XetRepoType.Model,
    };

    internal static Hub.RepoType ToEngine(XetRepoType type) => type switch
    {
        XetRepoType.Dataset => Hub.RepoType.Dataset,
        XetRepoType.Space => Hub.RepoType.Space,
        _ => Hub.RepoType.Model,
    };
}
