using System;

namespace XetPs;

/// <summary>
/// A repo path that would write outside the destination root or name a device: <c>..</c>, an absolute or drive
/// path, an alternate data stream, a Windows-reserved name (CON, NUL, COM1...) or a segment ending in a dot or a
/// space. Raised before anything is written.
/// </summary>
public sealed class UnsafeRepoPathException : Exception
{
    public UnsafeRepoPathException(string repoPath, string reason)
        : base($"The repository path '{repoPath}' is unsafe to write: {reason}.")
    {
        RepoPath = repoPath;
    }

    /// <summary>The repo path refused.</summary>
    public string RepoPath { get; }
}
