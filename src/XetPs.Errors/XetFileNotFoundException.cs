using System;
using System.IO;

namespace XetPs;

/// <summary>
/// The Hub answered 404 for a repository, revision or path (X-Error-Code RepoNotFound, RevisionNotFound or
/// EntryNotFound). Names all three so the user sees which one to fix. A <see cref="FileNotFoundException"/> so
/// callers that catch the BCL type still see it.
/// </summary>
public sealed class XetFileNotFoundException : FileNotFoundException
{
    public XetFileNotFoundException(string repo, string? revision, string? path, string? errorCode, string message,
        Exception? innerException = null)
        : base(message, path, innerException)
    {
        Repo = repo;
        Revision = revision;
        RepoPath = path;
        ErrorCode = errorCode;
    }

    /// <summary>The repository as the Hub's URLs name it: "org/name", or "datasets/org/name", "spaces/org/name".</summary>
    public string Repo { get; }

    /// <summary>The revision asked for (branch, tag or commit), or null for the default branch.</summary>
    public string? Revision { get; }

    /// <summary>The repo-relative path asked for, or null when the repository or revision itself was missing.</summary>
    public string? RepoPath { get; }

    /// <summary>The Hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound), when it sent one.</summary>
    public string? ErrorCode { get; }
}
