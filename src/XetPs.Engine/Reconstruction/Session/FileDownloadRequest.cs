using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>One file to download: where it lives in the Hub and where it goes on disk.</summary>
/// <param name="Repo">The repository.</param>
/// <param name="Revision">Branch, tag or commit; null means "main".</param>
/// <param name="Path">The repo-relative path, '/'-separated.</param>
/// <param name="DestinationPath">The full local path of the file to create.</param>
public sealed record FileDownloadRequest(RepoId Repo, string? Revision, string Path, string DestinationPath)
{
    /// <summary>Replace a different file already at <see cref="DestinationPath"/>; otherwise that is an error.</summary>
    public bool Overwrite { get; init; }

    /// <summary>Known metadata (from a listing): saves a resolve call.</summary>
    public RepoEntry? Entry { get; init; }
}
