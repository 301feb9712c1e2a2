using XetPs.Hub;

namespace XetPs.Cache;

/// <summary>One file to save into the Hugging Face cache: where it lives in the Hub, and which cache.</summary>
/// <param name="Repo">The repository.</param>
/// <param name="Revision">Branch, tag or commit; null means "main", whose ref the cache then records.</param>
/// <param name="Path">The repo-relative path, '/'-separated.</param>
/// <param name="Cache">The cache to fill.</param>
public sealed record CacheDownloadRequest(RepoId Repo, string? Revision, string Path, HubCache Cache)
{
    /// <summary>Known metadata (from a listing at a commit): saves a resolve call.</summary>
    public RepoEntry? Entry { get; init; }
}
