using System.Text.RegularExpressions;
using XetPs.Hub;

namespace XetPs.Commands;

/// <summary>
/// The metadata piped in from Get-XetFileList (Size, IsXet and the hashes, bound by property name), as the engine's
/// entry: it saves a resolve call per file. Only when it pins a commit: a branch name may have moved since the
/// listing; and only with an identity (Xet hash, sha256 or git blob id), without which nothing tells an up-to-date file.
/// </summary>
internal static class PipedEntry
{
    private static readonly Regex CommitId = new("^[0-9a-f]{40}$", RegexOptions.CultureInvariant);

    public static RepoEntry? From(RepoId repo, string? revision, int pathCount, string repoPath, long? size, bool? isXet, string? xetHash,
        string? sha256, string? gitOid)
    {
        if (size is not { } known || isXet is not { } xet || revision is null || !CommitId.IsMatch(revision)) return null;
        if (pathCount != 1 || (xetHash is null && sha256 is null && gitOid is null)) return null;
        return new RepoEntry(repo, revision, repoPath, known, xetHash, sha256, xet, gitOid);
    }
}
