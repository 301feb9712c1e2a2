namespace XetPs.Hub;

/// <summary>
/// One file of a repository at a resolved commit, as the tree listing or a resolve call describes it (§1.3, §1.4).
/// Property names are the ones Save-XetFile binds by property name (Repo, Revision, Path).
/// </summary>
/// <param name="Repo">The repository.</param>
/// <param name="Revision">The resolved commit id (not the branch name), so a later download reads the same bytes.</param>
/// <param name="Path">The repo-relative path, '/'-separated.</param>
/// <param name="Size">The real file size in bytes (for Xet and LFS files, the LFS size, not the pointer's).</param>
/// <param name="XetHash">The Xet file id (§5.5 string form), or null for files not stored in Xet.</param>
/// <param name="Sha256">The LFS sha256 (hex), when the Hub gives one.</param>
/// <param name="IsXet">True when the file is rebuilt from Xet terms; false for plain git files.</param>
/// <param name="GitOid">The git blob id, when known.</param>
public sealed record RepoEntry(
    RepoId Repo,
    string Revision,
    string Path,
    long Size,
    string? XetHash,
    string? Sha256,
    bool IsXet,
    string? GitOid);
