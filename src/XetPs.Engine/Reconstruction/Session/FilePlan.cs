using XetPs.Hub;

namespace XetPs.Reconstruction;

/// <summary>Where a file stands against the Hub's revision, before a download.</summary>
public enum FileState
{
    /// <summary>The file is there and known to be the repo file: a download would transfer nothing.</summary>
    UpToDate,

    /// <summary>Nothing of the file is there.</summary>
    Missing,

    /// <summary>A different file is there (another version, or one changed since): a download would replace it.</summary>
    Changed,

    /// <summary>An interrupted download left part of the file: a download would resume after <see cref="FilePlan.BytesPresent"/>.</summary>
    Partial,

    /// <summary>A file of the right size is there, not yet checked against the repo file: a download would hash it, and
    /// transfer it only if the hash differs.</summary>
    Unverified,
}

/// <summary>
/// What a download of one file would do, found without changing anything on disk (no lock, no record written, no
/// hash computed). <see cref="BytesNeeded"/> is an upper bound of what it would write: the size, less what a resume
/// keeps; for an unverified file, what it would take if the hash check failed.
/// </summary>
/// <param name="Entry">The repo file (null offline when nothing on disk tells what it is).</param>
/// <param name="Path">The repo path.</param>
/// <param name="LocalPath">Where the file is or would be (in the cache, its snapshot path).</param>
/// <param name="State">Where it stands.</param>
/// <param name="Size">The file's size, when known.</param>
/// <param name="BytesPresent">Bytes an interrupted download left that a resume keeps (0 unless <see cref="FileState.Partial"/>).</param>
public sealed record FilePlan(RepoEntry? Entry, string Path, string LocalPath, FileState State, long? Size, long BytesPresent)
{
    /// <summary>Bytes of a changed file that a download would read from the copy an earlier download left (an older
    /// version: the chunks the two share) instead of fetching them; 0 when there is no such copy.</summary>
    public long BytesReusable { get; init; }

    public long? BytesNeeded => State == FileState.UpToDate ? 0 : Size is { } size ? System.Math.Max(0, size - BytesPresent - BytesReusable) : null;
}
